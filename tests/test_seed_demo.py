"""seed_demo: a deterministic, believable demo book, written once."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Count, Q

from accounts.models import Account, Contact, Role, Subscription, User
from csm.demo.accounts import DEMO_CSM_EMAIL, DEMO_CSMS, DEMO_MANAGER_EMAIL, DEMO_PASSWORD
from csm.demo.seed import seed_demo
from csm.workflow.models import Touch
from health.models import HealthScore, UsageEvent

TODAY = date(2026, 3, 15)


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # The real hasher is slow on purpose; these tests check who logs in, not hash strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*, seed: int = 1, accounts: int = 120, months: int = 12) -> dict[str, int | bool]:
    # Two weeks of usage events keep these tests fast; tests/test_demo_usage.py covers the usage.
    return seed_demo(accounts=accounts, months=months, seed=seed, today=TODAY, usage_days=14)


def snapshot() -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The book as plain tuples in natural-key order, so database ids play no part."""
    accounts = list(
        Account.objects.order_by("external_id").values_list(
            "external_id",
            "name",
            "segment",
            "strategic",
            "owner__email",
            "contract_start",
            "renewal_date",
            "seats",
            "tier",
        )
    )
    subscriptions = list(
        Subscription.objects.order_by("subscription_id").values_list(
            "subscription_id",
            "account__external_id",
            "start_date",
            "end_date",
            "amount",
            "interval",
        )
    )
    contacts = list(
        Contact.objects.order_by("account__external_id", "email").values_list(
            "account__external_id", "name", "email", "role", "is_primary"
        )
    )
    return accounts, subscriptions, contacts


def subscriptions_by_account() -> dict[str, list[Subscription]]:
    by_account: dict[str, list[Subscription]] = defaultdict(list)
    for sub in Subscription.objects.select_related("account").order_by("start_date"):
        by_account[sub.account.external_id].append(sub)
    return by_account


def paying_on(subs: list[Subscription], day: date) -> bool:
    return any(
        s.mrr > 0 and s.start_date <= day and (s.end_date is None or day < s.end_date) for s in subs
    )


# --- Determinism -------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_book(db):
    seed(seed=7)
    first = snapshot()
    Account.objects.all().delete()

    seed(seed=7)

    assert snapshot() == first


def test_another_seed_gives_another_book(db):
    seed(seed=1)
    first_accounts, first_subscriptions, _ = snapshot()
    Account.objects.all().delete()

    seed(seed=2)

    accounts, subscriptions, _ = snapshot()
    assert accounts != first_accounts
    assert subscriptions != first_subscriptions


# --- Believability -----------------------------------------------------------------------------


def test_it_returns_what_it_wrote(db):
    counts = seed()

    assert counts == {
        "seeded": True,
        "users": 10,
        "accounts": 120,
        "contacts": Contact.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "usage_events": UsageEvent.objects.count(),
        "touches": Touch.objects.count(),
    }
    assert Account.objects.count() == 120
    assert counts["usage_events"] > 0
    assert counts["touches"] > 0


def test_it_creates_the_fixed_demo_cast_with_the_demo_password(db):
    seed()

    maya = User.objects.get(email=DEMO_CSM_EMAIL)
    sam = User.objects.get(email=DEMO_MANAGER_EMAIL)
    assert (maya.name, maya.role) == ("Maya Chen", Role.CSM)
    assert (sam.name, sam.role) == ("Sam Rivera", Role.MANAGER)
    assert maya.check_password(DEMO_PASSWORD)
    assert sam.check_password(DEMO_PASSWORD)
    assert User.objects.filter(role=Role.CSM).count() == 8
    assert User.objects.filter(role=Role.MANAGER).count() == 2


def test_every_csm_owns_accounts_and_a_few_are_unassigned(db):
    seed()

    for _, email in DEMO_CSMS:
        assert Account.objects.filter(owner__email=email).exists(), email
    assert Account.objects.filter(owner=None).count() < 12


def test_every_account_has_exactly_one_primary_contact_at_its_domain(db):
    seed()

    primaries = Account.objects.annotate(n=Count("contacts", filter=Q(contacts__is_primary=True)))
    assert set(primaries.values_list("n", flat=True)) == {1}
    for external_id, email in Contact.objects.values_list("account__external_id", "email"):
        domain = email.split("@")[1]
        assert external_id.startswith(domain.removesuffix(".example"))


def test_the_book_has_the_movements_a_real_book_has(db):
    seed(accounts=200, months=24)
    by_account = subscriptions_by_account()

    upgrades = downgrades = churned = reactivated = concurrent = 0
    for subs in by_account.values():
        for old in subs:
            for new in subs:
                if old.end_date == new.start_date and new.mrr > old.mrr > 0:
                    upgrades += 1
                elif old.end_date == new.start_date and 0 < new.mrr < old.mrr:
                    downgrades += 1
        gaps = [s.end_date for s in subs if s.end_date and not paying_on(subs, s.end_date)]
        if gaps and not paying_on(subs, TODAY):
            churned += 1
        if any(s.mrr > 0 and s.start_date > gap for gap in gaps for s in subs):
            reactivated += 1
        if any(paying_on([a for a in subs if a is not b], b.start_date) for b in subs if b.mrr):
            concurrent += 1  # an add-on next to the main plan

    assert upgrades > downgrades > 0
    assert churned > 0
    assert 0 < reactivated < churned
    assert concurrent > 0
    intervals = set(Subscription.objects.values_list("interval", flat=True))
    assert intervals == {"month", "year"}
    assert Subscription.objects.filter(amount=0).exists()  # free plans


def test_all_three_tiers_are_present_with_c_the_largest(db):
    seed()

    live = Account.objects.with_mrr(TODAY).filter(mrr__gt=0)
    tiers = dict(live.values_list("tier").annotate(n=Count("pk")).order_by())
    assert set(tiers) == {"A", "B", "C"}
    assert tiers["C"] > tiers["B"] > tiers["A"]


def test_nothing_starts_after_today_and_live_accounts_renew_in_the_future(db):
    seed()

    assert not Subscription.objects.filter(start_date__gt=TODAY).exists()
    assert not Account.objects.filter(contract_start__gt=TODAY).exists()
    live = Account.objects.with_mrr(TODAY).filter(mrr__gt=0)
    assert not live.filter(Q(renewal_date__lte=TODAY) | Q(renewal_date=None)).exists()


# --- The command -------------------------------------------------------------------------------


@time_machine.travel(datetime(2026, 3, 15, 12, tzinfo=UTC), tick=False)
def test_the_command_prints_the_counts_and_the_demo_logins(db):
    out = StringIO()

    call_command("seed_demo", "--accounts", "30", "--months", "6", stdout=out)

    assert Account.objects.count() == 30
    assert "30 accounts" in out.getvalue()
    # Seeded for 180 days; the nightly run then drops raw events past the 90-day retention.
    assert re.search(r"and \d+ usage events", out.getvalue())
    assert UsageEvent.objects.exists()
    # The demo has 90 days of health history, scored by the nightly pipeline, and before them
    # the first day of each of ten months (for the backtest).
    assert "nightly pipeline for the last 90 days" in out.getvalue()
    days = list(HealthScore.objects.dates("day", "day"))
    assert len([d for d in days if d > date(2026, 3, 14) - timedelta(days=90)]) == 90
    history = [d for d in days if d <= date(2026, 3, 14) - timedelta(days=90)]
    assert len(history) == 10 and all(d.day == 1 for d in history)
    assert "maya@demo.example (CSM) or sam@demo.example (manager), password: demo" in out.getvalue()


@time_machine.travel(datetime(2026, 3, 15, 12, tzinfo=UTC), tick=False)
def test_the_second_run_writes_nothing(db, django_assert_num_queries):
    call_command("seed_demo", "--accounts", "30", "--months", "6", stdout=StringIO())
    before = snapshot()
    out = StringIO()

    # One query asks whether there are accounts, one whether the demo logins exist to print them.
    with django_assert_num_queries(2):
        call_command("seed_demo", "--accounts", "50", "--seed", "9", stdout=out)

    assert "already has accounts" in out.getvalue()
    assert snapshot() == before


def test_the_function_refuses_a_database_with_accounts(db):
    seed(accounts=10)

    assert seed(accounts=10, seed=2)["seeded"] is False
    assert Account.objects.count() == 10


def test_existing_users_are_updated_not_duplicated(db):
    User.objects.create_user(DEMO_CSM_EMAIL, "old password", name="M. Chen", role=Role.MANAGER)

    seed(accounts=10)

    maya = User.objects.get(email=DEMO_CSM_EMAIL)
    assert (maya.name, maya.role) == ("Maya Chen", Role.CSM)
    assert maya.check_password(DEMO_PASSWORD)
    assert User.objects.filter(email__endswith="@demo.example").count() == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--accounts", "0"], "--accounts must be at least 1"),
        (["--months", "0"], "--months must be between 1 and 120"),
        (["--months", "121"], "--months must be between 1 and 120"),
    ],
)
def test_the_flags_are_validated(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", *args, stdout=StringIO())

    assert not Account.objects.exists()
