"""Demo usage: months of believable product events for the demo book (`manage.py seed_demo`).

Two halves, like csm.demo.accounts:

1. `plan_usage` is pure: from the planned book, one `random.Random(seed)` and `today` it draws
   every event of the `days` days before today (today itself is left out, so nothing lies in the
   future), the same events for the same seed and day whatever the database.
2. `seed_usage` writes them with bulk inserts.

The shape is chosen so the health measures (health.scoring) mean something:

- An account uses the product only on days it has a subscription, paid or free (start inclusive,
  end exclusive, as for MRR). Runs of back-to-back subscriptions count as one stretch as a
  customer; a reactivated account starts a new stretch.
- Each account has named users u1..uN@<its domain>, about seats × an adoption share (capped, so
  very large accounts show low seat utilisation): a few power users who are in most working days
  and use several features a session, and light users who drop in now and then. Weekends are
  quiet; sessions fall in working hours, installation time.
- Customers live today follow one of three archetypes: healthy (steady or slowly growing, broad
  feature use), lukewarm (fewer users, fewer features, steady) and declining (usage falling over
  the last 30–60 days, features narrowing, light users dropping off).
- Usage decline precedes churn, strongly but not always: most stretches that end fade out over
  the 45–60 days before their end, to between almost nothing and a quarter of their usual use;
  about one in eight ends abruptly (a budget cut, an acquisition) with no fade at all. Nothing
  happens from the end date on.
- New accounts ramp up over their 30 onboarding days (users join, features are discovered);
  reactivated accounts come back faster.
- Billing: payment_succeeded on every billing date of a paid subscription (monthly plans monthly,
  annual plans yearly). A few charges fail and succeed on a retry a few days later, more often
  for accounts heading to churn; for involuntary churn the card fails from three to six weeks
  before the subscription lapses, retried about weekly, and nothing succeeds after that.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from accounts.models import Segment
from accounts.mrr import MONTHS_PER_INTERVAL
from csm.demo.accounts import USAGE_DAYS, PlannedAccount, PlannedSubscription, add_months
from health.models import UsageEvent

BATCH_SIZE = 5000

# Feature events, in no particular order: each account adopts its own subset.
FEATURES = (
    "report_viewed", "dashboard_created", "export_csv", "integration_synced", "alert_configured",
    "api_call", "comment_added", "invite_sent", "search", "workflow_run", "data_imported",
    "template_used",
)  # fmt: skip

# --- The shape of the usage ------------------------------------------------------------------

HEALTHY, LUKEWARM, DECLINING = "healthy", "lukewarm", "declining"
# How customers live today use the product, by segment: basic accounts decline more often.
ARCHETYPE_WEIGHTS = {
    Segment.BASIC: {HEALTHY: 60, LUKEWARM: 18, DECLINING: 22},
    Segment.ADVANCED: {HEALTHY: 66, LUKEWARM: 16, DECLINING: 18},
    Segment.STRATEGIC: {HEALTHY: 72, LUKEWARM: 14, DECLINING: 14},
}
# Share of the seats that become named users.
ADOPTION_SHARE = {HEALTHY: (0.6, 0.95), LUKEWARM: (0.25, 0.5), DECLINING: (0.5, 0.85)}
# Seats when the account did not tell us, by segment.
TYPICAL_SEATS = {Segment.BASIC: (2, 12), Segment.ADVANCED: (10, 60), Segment.STRATEGIC: (40, 200)}
# Keeps the events table a reasonable size for SQLite: large accounts get a sample of their users.
MAX_USERS = 25
# Features adopted (out of FEATURES), by archetype and segment.
FEATURE_COUNT = {
    HEALTHY: {Segment.BASIC: (6, 9), Segment.ADVANCED: (8, 11), Segment.STRATEGIC: (9, 12)},
    LUKEWARM: {Segment.BASIC: (2, 4), Segment.ADVANCED: (3, 5), Segment.STRATEGIC: (3, 6)},
    DECLINING: {Segment.BASIC: (4, 7), Segment.ADVANCED: (5, 8), Segment.STRATEGIC: (6, 9)},
}
# About one user in ten is a power user (at least one per account).
POWER_USER_SHARE = 0.1
# Chance of a session on a working day at full usage.
POWER_USER_DAILY = (0.55, 0.85)
LIGHT_USER_DAILY = (0.03, 0.09)
LUKEWARM_FACTOR = 0.6
WEEKEND_FACTOR = 0.08
# Feature events in one session (0, 1, 2, ...), by kind of user.
POWER_SESSION_WEIGHTS = (20, 35, 25, 12, 8)
LIGHT_SESSION_WEIGHTS = (55, 35, 10)
# A healthy account's usage changes by up to this much (relative) over the window.
HEALTHY_GROWTH = (-0.05, 0.25)
# A declining account's usage falls over the last 30–60 days to this share of what it was.
DECLINE_DAYS = (30, 60)
DECLINE_FLOOR = (0.0, 0.3)
# Before a stretch ends, usage fades over 45–60 days to this share.
CHURN_DECLINE_DAYS = (45, 60)
CHURN_FLOOR = (0.02, 0.25)
# Share of stretches that end without any fade before it.
ABRUPT_CHURN_SHARE = 0.12
# Onboarding: usage starts at this share and reaches full over the ramp.
RAMP_FLOOR = 0.25
ONBOARDING_DAYS = 30
COMEBACK_RAMP_DAYS = 14

# Sessions start between 08:00 and 17:00; a session's events are 1–15 minutes apart.
WORKDAY_START = time(8)
SESSION_START_SPAN_S = 9 * 3600
STEP_S = (60, 900)

PAYMENT_FAILURE_RATE = {HEALTHY: 0.02, LUKEWARM: 0.05, DECLINING: 0.08}
# In the fading months before churn, charges fail more often.
CHURN_PAYMENT_FAILURE_RATE = 0.2
# Share of accounts whose churn is involuntary: the card fails until the subscription lapses.
INVOLUNTARY_CHURN_SHARE = 0.3
RETRY_DAYS = (1, 5)
# Involuntary churn: the first failed charge comes this many days before the lapse, and the card
# is retried every DUNNING_RETRY_DAYS until the day before it.
DUNNING_START_DAYS = (21, 42)
DUNNING_RETRY_DAYS = (5, 9)


class PlannedEvent(NamedTuple):
    account: str  # external_id
    user: str
    event: str
    at: datetime  # naive, in the installation's time zone
    properties: dict[str, Any] | None

    @property
    def day(self) -> date:
        return self.at.date()


@dataclass(frozen=True)
class _User:
    email: str
    daily: float
    power: bool
    joins: date


@dataclass(frozen=True)
class _Run:
    """One stretch as a customer: subscriptions back to back, end exclusive, None = ongoing."""

    start: date
    end: date | None
    first: bool


@dataclass(frozen=True)
class _Profile:
    archetype: str
    users: list[_User]
    features: list[str]  # most used first
    feature_cum_weights: list[float]
    growth_per_day: float
    decline_start: date
    decline_days: int
    decline_floor: float
    churn_decline_days: int
    churn_floor: float  # 1.0: this account's stretches end abruptly, without fading
    involuntary: bool


# --- The plan (pure) -------------------------------------------------------------------------


def plan_usage(
    book: list[PlannedAccount], *, seed: int, today: date, days: int = USAGE_DAYS
) -> list[PlannedEvent]:
    """Every demo event from `today - days` to yesterday, drawn from `random.Random(seed)`.

    Events come out account by account in book order, usage before billing.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    rng = random.Random(seed)
    first_day = today - timedelta(days=days)
    events: list[PlannedEvent] = []
    for planned in book:
        # One generator per account, seeded from the main one, so an account's events do not
        # depend on how many events the accounts before it drew.
        account_rng = random.Random(rng.getrandbits(64))
        events.extend(_plan_account(account_rng, planned, first_day=first_day, today=today))
    return events


def _plan_account(
    rng: random.Random, planned: PlannedAccount, *, first_day: date, today: date
) -> Iterator[PlannedEvent]:
    runs = _runs(planned.subscriptions)
    profile = _draw_profile(rng, planned, runs, today=today)
    for run in runs:
        start = max(run.start, first_day)
        end = today if run.end is None else min(run.end, today)
        if start >= end:
            continue
        yield from _plan_sessions(rng, planned.external_id, profile, run, start, end, first_day)
    yield from _plan_billing(rng, planned, profile, runs, first_day=first_day, today=today)


def _runs(subscriptions: list[PlannedSubscription]) -> list[_Run]:
    """The account's stretches as a customer: overlapping or touching subscriptions merged."""
    runs: list[_Run] = []
    start: date | None = None
    end: date | None = None
    for sub in sorted(subscriptions, key=lambda s: s.start_date):
        if start is not None and (end is None or sub.start_date <= end):
            end = None if end is None or sub.end_date is None else max(end, sub.end_date)
            continue
        if start is not None:
            runs.append(_Run(start, end, first=not runs))
        start, end = sub.start_date, sub.end_date
    if start is not None:
        runs.append(_Run(start, end, first=not runs))
    return runs


def _draw_profile(
    rng: random.Random, planned: PlannedAccount, runs: list[_Run], *, today: date
) -> _Profile:
    segment = planned.segment
    weights = ARCHETYPE_WEIGHTS[segment]
    archetype = rng.choices(list(weights), weights=list(weights.values()))[0]

    seats = planned.seats or rng.randint(*TYPICAL_SEATS[segment])
    count = min(max(1, round(seats * rng.uniform(*ADOPTION_SHARE[archetype]))), MAX_USERS)
    powers = max(1, round(count * POWER_USER_SHARE))
    factor = LUKEWARM_FACTOR if archetype == LUKEWARM else 1.0
    domain = _domain(planned)
    contract_start = runs[0].start if runs else planned.contract_start
    users = []
    for number in range(1, count + 1):
        power = number <= powers
        # The first user signs up on day one; the others join during onboarding.
        joins = contract_start + timedelta(
            days=0 if number == 1 else rng.randint(0, ONBOARDING_DAYS)
        )
        daily = rng.uniform(*(POWER_USER_DAILY if power else LIGHT_USER_DAILY)) * factor
        users.append(_User(f"u{number}@{domain}", daily, power, joins))

    low, high = FEATURE_COUNT[archetype][segment]
    features = rng.sample(FEATURES, rng.randint(low, high))
    # A few features carry most of the use, the rest come up now and then.
    cum_weights = list(accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(features))))

    decline_days = rng.randint(*DECLINE_DAYS)
    return _Profile(
        archetype=archetype,
        users=users,
        features=features,
        feature_cum_weights=cum_weights,
        growth_per_day=rng.uniform(*HEALTHY_GROWTH) / USAGE_DAYS,
        decline_start=today - timedelta(days=decline_days),
        decline_days=decline_days,
        decline_floor=rng.uniform(*DECLINE_FLOOR),
        churn_decline_days=rng.randint(*CHURN_DECLINE_DAYS),
        churn_floor=1.0 if rng.random() < ABRUPT_CHURN_SHARE else rng.uniform(*CHURN_FLOOR),
        involuntary=rng.random() < INVOLUNTARY_CHURN_SHARE,
    )


def _domain(planned: PlannedAccount) -> str:
    if planned.contacts:
        return planned.contacts[0].email.rsplit("@", 1)[1]
    return f"{planned.external_id.rsplit('-', 1)[0]}.example"


def _level(profile: _Profile, run: _Run, day: date, first_day: date) -> float:
    """How much the account uses the product on `day`, against its usual (1.0)."""
    level = 1.0
    since = (day - run.start).days
    ramp = ONBOARDING_DAYS if run.first else COMEBACK_RAMP_DAYS
    if since < ramp:
        level *= RAMP_FLOOR + (1 - RAMP_FLOOR) * since / ramp
    if run.end is not None:
        left = (run.end - day).days
        if left < profile.churn_decline_days:
            share = left / profile.churn_decline_days
            level *= profile.churn_floor + (1 - profile.churn_floor) * share**1.5
    elif profile.archetype == DECLINING and day > profile.decline_start:
        done = (day - profile.decline_start).days / profile.decline_days
        level *= 1 - (1 - profile.decline_floor) * done
    elif profile.archetype == HEALTHY:
        level *= 1 + profile.growth_per_day * (day - first_day).days
    return level


def _plan_sessions(
    rng: random.Random,
    account: str,
    profile: _Profile,
    run: _Run,
    start: date,
    end: date,
    first_day: date,
) -> Iterator[PlannedEvent]:
    """Logins and feature events from `start` up to `end` (exclusive)."""
    features = profile.features
    day = start
    while day < end:
        level = _level(profile, run, day, first_day)
        chance = level * (WEEKEND_FACTOR if day.weekday() >= 5 else 1.0)
        # Fading accounts use fewer features; onboarding accounts are still discovering them.
        breadth = max(1, round(len(features) * min(1.0, 0.35 + 0.65 * level)))
        cum_weights = profile.feature_cum_weights[:breadth]
        morning = datetime.combine(day, WORKDAY_START)
        for user in profile.users:
            if user.joins > day or rng.random() >= user.daily * chance:
                continue
            at = morning + timedelta(seconds=rng.randrange(SESSION_START_SPAN_S))
            yield PlannedEvent(account, user.email, UsageEvent.LOGIN, at, None)
            weights = POWER_SESSION_WEIGHTS if user.power else LIGHT_SESSION_WEIGHTS
            uses = rng.choices(range(len(weights)), weights=weights)[0]
            for _ in range(uses):
                at += timedelta(seconds=rng.randint(*STEP_S))
                feature = features[bisect(cum_weights, rng.random() * cum_weights[-1])]
                yield PlannedEvent(account, user.email, feature, at, None)
        day += timedelta(days=1)


def _plan_billing(
    rng: random.Random,
    planned: PlannedAccount,
    profile: _Profile,
    runs: list[_Run],
    *,
    first_day: date,
    today: date,
) -> Iterator[PlannedEvent]:
    """Charges on the billing dates of paid subscriptions between first_day and yesterday."""
    account = planned.external_id
    charges: dict[date, Decimal] = {}
    for sub in planned.subscriptions:
        if sub.amount <= 0:
            continue
        months = MONTHS_PER_INTERVAL[sub.interval]
        number = 0
        billed = sub.start_date
        while billed < today and (sub.end_date is None or billed < sub.end_date):
            if billed >= first_day:
                charges[billed] = charges.get(billed, Decimal("0.00")) + sub.amount
            number += 1
            billed = add_months(sub.start_date, months * number)

    def charge(day: date, event: str, amount: Decimal) -> PlannedEvent:
        at = datetime.combine(day, WORKDAY_START) + timedelta(seconds=rng.randrange(3600))
        return PlannedEvent(account, "", event, at, {"amount": str(amount)})

    for run in runs:
        in_run = sorted(d for d in charges if d >= run.start and (run.end is None or d < run.end))
        # Involuntary churn: the card keeps failing in the weeks before the subscription lapses.
        dunning: list[date] = []
        lapsing = Decimal("0.00")
        if run.end is not None and profile.involuntary:
            lapsing = _paid_on(planned.subscriptions, run.end - timedelta(days=1))
            if lapsing:
                last_try = run.end - timedelta(days=1)
                day = run.end - timedelta(days=rng.randint(*DUNNING_START_DAYS))
                while day < last_try:
                    dunning.append(day)
                    day += timedelta(days=rng.randint(*DUNNING_RETRY_DAYS))
                dunning.append(last_try)
        for day in in_run:
            if dunning and day >= dunning[0]:
                break
            fading = run.end is not None and (run.end - day).days < profile.churn_decline_days
            rate = CHURN_PAYMENT_FAILURE_RATE if fading else PAYMENT_FAILURE_RATE[profile.archetype]
            if rng.random() >= rate:
                yield charge(day, UsageEvent.PAYMENT_SUCCEEDED, charges[day])
                continue
            yield charge(day, UsageEvent.PAYMENT_FAILED, charges[day])
            retry = day + timedelta(days=rng.randint(*RETRY_DAYS))
            if retry < today and (run.end is None or retry < run.end):
                yield charge(retry, UsageEvent.PAYMENT_SUCCEEDED, charges[day])
        for day in dunning:
            if max(first_day, run.start) <= day < today:
                yield charge(day, UsageEvent.PAYMENT_FAILED, lapsing)


def _paid_on(subscriptions: list[PlannedSubscription], day: date) -> Decimal:
    """What the account's paid subscriptions live on `day` charge per billing."""
    return sum(
        (
            s.amount
            for s in subscriptions
            if s.amount > 0 and s.start_date <= day and (s.end_date is None or day < s.end_date)
        ),
        Decimal("0.00"),
    )


# --- Writing it ------------------------------------------------------------------------------


def seed_usage(
    book: list[PlannedAccount],
    account_ids: Mapping[str, int],
    *,
    seed: int,
    today: date,
    days: int = USAGE_DAYS,
) -> int:
    """Bulk-insert the planned events for `book` (account ids keyed by external_id).

    Event ids are "demo-1", "demo-2", ... in plan order; timestamps are in the installation's
    time zone and `day` is their local date. Returns the number of events written.
    """
    zone = timezone.get_default_timezone()
    written = 0
    batch: list[UsageEvent] = []
    with transaction.atomic():
        for number, planned in enumerate(plan_usage(book, seed=seed, today=today, days=days), 1):
            batch.append(
                UsageEvent(
                    event_id=f"demo-{number}",
                    account_id=account_ids[planned.account],
                    user=planned.user,
                    event=planned.event,
                    timestamp=planned.at.replace(tzinfo=zone),
                    day=planned.at.date(),
                    properties=planned.properties,
                )
            )
            if len(batch) == BATCH_SIZE:
                UsageEvent.objects.bulk_create(batch, batch_size=BATCH_SIZE)
                written += len(batch)
                batch = []
        UsageEvent.objects.bulk_create(batch, batch_size=BATCH_SIZE)
    return written + len(batch)
