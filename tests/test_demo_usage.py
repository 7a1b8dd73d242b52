"""Demo usage events: deterministic, only while subscribed, fading before churn, billed."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Subscription
from csm.demo.accounts import PlannedAccount, plan_demo_book
from csm.demo.seed import seed_demo
from csm.demo.usage import FEATURES, MAX_USERS, PlannedEvent, plan_usage
from health import scoring
from health.models import UsageEvent

TODAY = date(2026, 3, 15)
FIRST_DAY = TODAY - timedelta(days=180)
BILLING = set(UsageEvent.BILLING_EVENTS)


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # The real hasher is slow on purpose; these tests are about events, not logins.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def book(*, accounts: int = 40, months: int = 12, seed: int = 1) -> list[PlannedAccount]:
    return plan_demo_book(accounts=accounts, months=months, seed=seed, today=TODAY)


def subscribed(planned: PlannedAccount, day: date, *, paid: bool = False) -> bool:
    return any(
        s.start_date <= day
        and (s.end_date is None or day < s.end_date)
        and (s.amount > 0 or not paid)
        for s in planned.subscriptions
    )


def churn_days(planned: PlannedAccount) -> list[date]:
    """Days the account stopped having any subscription (it may have come back later)."""
    ends = {s.end_date for s in planned.subscriptions if s.end_date is not None}
    return sorted(end for end in ends if end <= TODAY and not subscribed(planned, end))


def by_account(events: list[PlannedEvent]) -> dict[str, list[PlannedEvent]]:
    grouped: dict[str, list[PlannedEvent]] = defaultdict(list)
    for event in events:
        grouped[event.account].append(event)
    return grouped


# --- The plan --------------------------------------------------------------------------------


def test_the_same_seed_and_day_give_the_same_events():
    planned = book()

    assert plan_usage(planned, seed=5, today=TODAY) == plan_usage(planned, seed=5, today=TODAY)
    assert plan_usage(planned, seed=5, today=TODAY) != plan_usage(planned, seed=6, today=TODAY)


def test_events_fall_in_the_window_in_working_hours():
    events = plan_usage(book(), seed=1, today=TODAY)

    assert min(e.day for e in events) >= FIRST_DAY
    assert max(e.day for e in events) == TODAY - timedelta(days=1)
    assert {e.at.hour for e in events} <= set(range(8, 19))


def test_accounts_use_the_product_only_while_subscribed():
    planned = book(accounts=120, months=24)
    events = by_account(plan_usage(planned, seed=1, today=TODAY))

    for account in planned:
        for event in events[account.external_id]:
            assert subscribed(account, event.day), (account.external_id, event)
    churned = [a for a in planned if churn_days(a) and not subscribed(a, TODAY)]
    assert churned
    for account in churned:
        last_end = churn_days(account)[-1]
        assert all(e.day < last_end for e in events[account.external_id])


def test_usage_fades_in_the_months_before_churn():
    # Accounts whose subscription ended in the window after at least 90 days as a customer.
    endings = [
        (account, end)
        for account in book(accounts=1000, months=12)
        for end in churn_days(account)
        if end - timedelta(days=90) >= FIRST_DAY
        and all(subscribed(account, end - timedelta(days=k)) for k in range(1, 91))
    ]
    assert len(endings) >= 10
    planned = [account for account, _ in endings]
    events = by_account(plan_usage(planned, seed=1, today=TODAY))

    last_30 = days_60_to_90 = 0
    for account, end in endings:
        for event in events[account.external_id]:
            if event.event in BILLING:
                continue
            before_end = (end - event.day).days
            if 1 <= before_end <= 30:
                last_30 += 1
            elif 60 < before_end <= 90:
                days_60_to_90 += 1
    assert last_30 < 0.4 * days_60_to_90


def test_new_accounts_ramp_up_during_onboarding():
    planned = [
        a
        for a in book(accounts=300, months=12)
        if FIRST_DAY <= a.contract_start <= TODAY - timedelta(days=60)
        and all(subscribed(a, a.contract_start + timedelta(days=k)) for k in range(60))
    ]
    events = plan_usage(planned, seed=1, today=TODAY)
    starts = {a.external_id: a.contract_start for a in planned}

    first_two_weeks = Counter(
        (e.day - starts[e.account]).days < 14 for e in events if e.event not in BILLING
    )
    weeks_5_and_6 = sum(
        28 <= (e.day - starts[e.account]).days < 42 for e in events if e.event not in BILLING
    )
    assert first_two_weeks[True] < 0.8 * weeks_5_and_6


def test_weekends_are_quiet():
    events = [e for e in plan_usage(book(), seed=1, today=TODAY) if e.event not in BILLING]

    per_day = Counter("weekend" if e.day.weekday() >= 5 else "weekday" for e in events)
    assert per_day["weekend"] / 2 < per_day["weekday"] / 5 / 4


def test_users_are_named_at_the_account_domain_and_fit_the_seats():
    planned = book(accounts=120)
    events = by_account(plan_usage(planned, seed=1, today=TODAY))

    for account in planned:
        domain = account.contacts[0].email.split("@")[1]
        users = {e.user for e in events[account.external_id] if e.event not in BILLING}
        assert all(re.fullmatch(rf"u\d+@{re.escape(domain)}", user) for user in users)
        assert len(users) <= min(account.seats or MAX_USERS, MAX_USERS)
    used = {e.event for es in events.values() for e in es}
    assert used == {UsageEvent.LOGIN, *FEATURES, *BILLING}


def test_paid_subscriptions_are_billed_and_some_payments_fail():
    planned = book(accounts=300, months=24)
    events = by_account(plan_usage(planned, seed=1, today=TODAY))

    failed = 0
    for account in planned:
        charges = [e for e in events[account.external_id] if e.event in BILLING]
        for charge in charges:
            assert subscribed(account, charge.day, paid=True), (account.external_id, charge)
            assert charge.user == ""
            assert Decimal(charge.properties["amount"]) > 0
        # Monthly and annual plans alike pay on the day they start.
        for sub in account.subscriptions:
            if sub.amount > 0 and FIRST_DAY <= sub.start_date < TODAY:
                assert any(c.day >= sub.start_date for c in charges), account.external_id
        failed += sum(c.event == UsageEvent.PAYMENT_FAILED for c in charges)
    payments = sum(e.event in BILLING for es in events.values() for e in es)
    assert 0 < failed < 0.15 * payments


def test_the_book_shows_all_three_health_bands():
    """A rough version of the nightly measures, for the accounts paying today."""
    planned = book(accounts=300, months=24)
    events = by_account(plan_usage(planned, seed=1, today=TODAY))
    window = TODAY - timedelta(days=30)

    bands: Counter[str] = Counter()
    for account in planned:
        if not subscribed(account, TODAY, paid=True):
            continue
        usage = [e for e in events[account.external_id] if e.event not in BILLING]
        recent = [e for e in usage if e.day >= window]
        before = [e for e in usage if window - timedelta(days=60) <= e.day < window]
        raw = {
            "active_days": Decimal(len({e.day for e in recent})),
            "usage_trend": (
                Decimal(round(len(recent) / 30 / (len(before) / 60) * 100 - 100))
                if before and account.contract_start <= window - timedelta(days=60)
                else None
            ),
            "feature_adoption": Decimal(len({e.event for e in recent} - {UsageEvent.LOGIN})),
            "days_since_active": Decimal(min((TODAY - max(e.day for e in usage)).days, 90))
            if usage
            else Decimal(90),
            "seat_utilisation": (
                Decimal(100 * len({e.user for e in recent}) // account.seats)
                if account.seats
                else None
            ),
            "billing": None,
            "sentiment": None,  # the usage demo alone: survey answers come from csm.demo.surveys
        }
        score = scoring.combine(
            (m.key, raw[m.key], m.weight, m.grid) for m in scoring.DEFAULT_MEASURES
        )
        assert score is not None
        bands[score.band] += 1

    live = sum(bands.values())
    assert bands[scoring.GREEN] > live / 2
    assert bands[scoring.YELLOW] > live / 10
    assert bands[scoring.RED] > 0


def test_the_plan_refuses_an_empty_window():
    with pytest.raises(ValueError, match="days must be at least 1"):
        plan_usage(book(), seed=1, today=TODAY, days=0)


# --- Writing it ------------------------------------------------------------------------------


def test_seeding_writes_the_planned_events_with_unique_ids(db):
    counts = seed_demo(accounts=40, months=12, seed=3, today=TODAY)

    planned = plan_usage(book(seed=3), seed=3, today=TODAY)
    assert counts["usage_events"] == len(planned) == UsageEvent.objects.count()
    ids = set(UsageEvent.objects.values_list("event_id", flat=True))
    assert ids == {f"demo-{n}" for n in range(1, len(planned) + 1)}
    assert UsageEvent.objects.filter(event=UsageEvent.PAYMENT_SUCCEEDED).exists()


def test_every_event_day_is_its_local_date(db, settings):
    # A zone with daylight saving changes inside the window.
    settings.TIME_ZONE = "America/Los_Angeles"
    seed_demo(accounts=40, months=12, seed=3, today=TODAY)

    for timestamp, day in UsageEvent.objects.values_list("timestamp", "day"):
        assert timezone.localdate(timestamp) == day
        assert 8 <= timezone.localtime(timestamp).hour <= 18
    assert UsageEvent.objects.filter(day__gte=TODAY).count() == 0


def test_stored_events_fall_on_days_with_a_subscription(db):
    seed_demo(accounts=40, months=12, seed=3, today=TODAY)

    subscriptions = defaultdict(list)
    for sub in Subscription.objects.all():
        subscriptions[sub.account_id].append(sub)
    rows = UsageEvent.objects.values_list("account_id", "day", "event")
    for account_id, day, event in rows:
        live = [
            s
            for s in subscriptions[account_id]
            if s.start_date <= day and (s.end_date is None or day < s.end_date)
        ]
        assert live, (account_id, day, event)
        if event in BILLING:
            assert any(s.amount > 0 for s in live), (account_id, day, event)
