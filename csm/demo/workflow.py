"""Demo touches for seed_demo: a believable history of CSM work, so the demo's Today page and
at-risk queue show what a real book shows (most accounts on cadence, some slipping).

Tier A and B customers get a call, meeting or email about every 7 or 14 days (with a few days'
jitter) over the last 120 days; about one in five has slipped and not been touched for a while.
Tier C customers get the automated usage-tips email every 14 days, each at its own phase, so a
few are due on any given night. Missed touches precede churn, often but not always: accounts that
churned in those 120 days were touched at the cadence of the tier they had before (by their MRR
then) until it slipped, for three in five of them, weeks before the end. Deterministic for a seed
and day.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from accounts import rules
from accounts.models import Account, Subscription, Tier, active_on
from csm.lib.bulk import update_rows
from csm.workflow.models import Resolution, RiskItem, Touch, TouchKind, TouchOutcome
from csm.workflow.touches import cadence_days, refresh_last_touches

HISTORY_DAYS = 120
SLIPPING_SHARE = 0.2
# Of the A and B accounts that churned in the history: how many slipped, and how long before the
# end their last touch was (beyond one cadence).
CHURN_SLIPPING_SHARE = 0.6
CHURN_SLIP_DAYS = (7, 45)
TIPS_EVERY_DAYS = 14
SUMMARIES = {
    TouchKind.CALL: (
        "Weekly check-in: usage steady, no open issues.",
        "Walked through the new reporting features.",
        "Discussed their rollout to a second team.",
        "Followed up on a support ticket; resolved.",
    ),
    TouchKind.MEETING: (
        "Online meeting: product updates and roadmap.",
        "Tailored training session for new users.",
        "Quarterly review of goals and results.",
    ),
    TouchKind.EMAIL: (
        "Sent the product update notes.",
        "Shared best practices for dashboards.",
    ),
}


def seed_touches(*, seed: int, today: date) -> int:
    """Write the demo touches of today's customers and of the accounts that churned in the
    history; returns how many."""
    rng = random.Random(seed * 7919 + 17)
    zone = timezone.get_current_timezone()
    customers = (
        Account.objects.filter(
            pk__in=Subscription.objects.filter(active_on(today)).values("account")
        )
        .order_by("pk")
        .values_list("pk", "tier", "contract_start", "owner_id")
    )
    touches: list[Touch] = []

    def at(day: date) -> datetime:
        return datetime.combine(day, time(rng.randrange(9, 17), rng.randrange(60)), tzinfo=zone)

    def touch_until(
        account_id: int, tier: str, contract_start: date, owner_id: int | None, end: date,
        slipping_share: float, slip_days: tuple[int, int],
    ) -> None:  # fmt: skip
        first = max(contract_start, today - timedelta(days=HISTORY_DAYS))
        if tier == Tier.C:
            day = first + timedelta(days=rng.randrange(TIPS_EVERY_DAYS))
            while day < end:
                touches.append(
                    Touch(
                        account_id=account_id,
                        kind=TouchKind.AUTOMATED,
                        happened_at=at(day),
                        summary="Usage tips email sent.",
                    )
                )
                day += timedelta(days=TIPS_EVERY_DAYS)
            return
        cadence = cadence_days(tier)
        stop = end
        if rng.random() < slipping_share:
            stop = end - timedelta(days=cadence + rng.randrange(*slip_days))
        day = first + timedelta(days=rng.randrange(1, cadence + 1))
        while day < stop:
            kind = rng.choice((TouchKind.CALL, TouchKind.CALL, TouchKind.MEETING, TouchKind.EMAIL))
            touches.append(
                Touch(
                    account_id=account_id,
                    kind=kind,
                    happened_at=at(day),
                    author_id=owner_id,
                    summary=rng.choice(SUMMARIES[kind]),
                    outcome=rng.choice((TouchOutcome.POSITIVE, TouchOutcome.NEUTRAL)),
                )
            )
            day += timedelta(days=cadence + rng.randrange(-2, 3))

    for account_id, tier, contract_start, owner_id in customers:
        touch_until(account_id, tier, contract_start, owner_id, today, SLIPPING_SHARE, (3, 20))
    churned = _recent_churns(today)
    for account_id, (tier, contract_start, owner_id, end) in sorted(churned.items()):
        touch_until(
            account_id, tier, contract_start, owner_id, end, CHURN_SLIPPING_SHARE, CHURN_SLIP_DAYS
        )
    Touch.objects.bulk_create(touches, batch_size=2000)
    refresh_last_touches(
        Account.objects.filter(pk__in=[*customers.values_list("pk", flat=True), *churned])
    )
    return len(touches)


def _recent_churns(today: date) -> dict[int, tuple[str, date, int | None, date]]:
    """Accounts not customers today whose last subscription ended in the last HISTORY_DAYS:
    id → (the tier their MRR the day before the end gave, contract start, owner, end)."""
    since = today - timedelta(days=HISTORY_DAYS)
    subs: dict[int, list[Subscription]] = {}
    for sub in Subscription.objects.exclude(
        account__in=Subscription.objects.filter(active_on(today)).values("account")
    ).select_related("account"):
        subs.setdefault(sub.account_id, []).append(sub)
    churned = {}
    for account_id, account_subs in subs.items():
        end = max((s.end_date for s in account_subs if s.end_date), default=None)
        if end is None or not since < end <= today:
            continue
        last_day = end - timedelta(days=1)
        mrr = sum(
            (
                s.mrr
                for s in account_subs
                if s.start_date <= last_day and (s.end_date is None or last_day < s.end_date)
            ),
            Decimal(0),
        )
        account = account_subs[0].account
        tier = rules.tier_for(
            mrr=mrr,
            strategic=account.strategic,
            a_min_mrr=settings.TIER_A_MIN_MRR,
            b_min_mrr=settings.TIER_B_MIN_MRR,
        )
        churned[account_id] = (tier, account.contract_start, account.owner_id, end)
    return churned


def simulate_risk_work(*, seed: int, today: date) -> int:
    """After the demo's 90-day backfill: the items whose rules stopped firing were worked by their
    CSMs; resolve most as saved, the rest as not a risk. Returns how many were resolved."""
    rng = random.Random(seed * 104729 + 3)
    zone = timezone.get_current_timezone()
    items = list(RiskItem.objects.open().filter(cleared_on__isnull=False).select_related("account"))
    for item in items:
        saved = rng.random() < 0.7
        item.resolution = Resolution.SAVED if saved else Resolution.NOT_A_RISK
        item.resolution_note = (
            "Outreach worked; usage back on track." if saved else "Seasonal dip, nothing to do."
        )
        item.resolved_at = datetime.combine(item.cleared_on, time(16), tzinfo=zone)
        item.resolved_by_id = item.assignee_id or item.account.owner_id
    update_rows(
        RiskItem,
        [(item, ["resolution", "resolution_note", "resolved_at", "resolved_by"]) for item in items],
    )
    return len(items)
