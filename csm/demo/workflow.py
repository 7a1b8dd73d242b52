"""Demo touches for seed_demo: a believable history of CSM work, so the demo's Today page and
at-risk queue show what a real book shows (most accounts on cadence, some slipping).

Tier A and B customers get a call, meeting or email about every 7 or 14 days (with a few days'
jitter) over the last 120 days; about one in five has slipped and not been touched for a while.
Tier C customers get the automated usage-tips email every 14 days, each at its own phase, so a
few are due on any given night. Deterministic for a seed and day.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import Account, Subscription, Tier, active_on
from csm.lib.bulk import update_rows
from csm.workflow.models import Resolution, RiskItem, Touch, TouchKind, TouchOutcome
from csm.workflow.touches import cadence_days, refresh_last_touches

HISTORY_DAYS = 120
SLIPPING_SHARE = 0.2
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
    """Write the demo touches of today's customers; returns how many."""
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

    for account_id, tier, contract_start, owner_id in customers:
        first = max(contract_start, today - timedelta(days=HISTORY_DAYS))
        if tier == Tier.C:
            day = first + timedelta(days=rng.randrange(TIPS_EVERY_DAYS))
            while day < today:
                touches.append(
                    Touch(
                        account_id=account_id,
                        kind=TouchKind.AUTOMATED,
                        happened_at=at(day),
                        summary="Usage tips email sent.",
                    )
                )
                day += timedelta(days=TIPS_EVERY_DAYS)
            continue
        cadence = cadence_days(tier)
        stop = today
        if rng.random() < SLIPPING_SHARE:
            stop = today - timedelta(days=cadence + rng.randrange(3, 20))
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
    Touch.objects.bulk_create(touches, batch_size=2000)
    refresh_last_touches(Account.objects.filter(pk__in=customers.values("pk")))
    return len(touches)


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
