"""Demo churn records: every churn in the demo's subscription history gets its ChurnEvent (the
nightly backfill only covers the last days), and most get a believable reason, so the KPI churn
analysis and the feedback pages have something to show. `seed_demo` calls this after its nightly
run."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts import rules as account_rules
from accounts.models import Role, User
from feedback.churn import backfill_churn_events
from feedback.models import ChurnCategory, ChurnEvent, ChurnType, Competitor
from feedback.tagging import ensure_default_keyword_rules

DEMO_COMPETITORS = {
    "Retainly": ["Retain.ly", "Retainly.io"],
    "Gainwise": ["Gain Wise", "GW Suite"],
    "Vitalsuite": ["Vital Suite", "VitalSuite CS"],
}
INVOLUNTARY_SHARE = 0.2
# Recent churns are left for their owners to complete (the "churns to complete" list).
LEAVE_OPEN_DAYS = 30
LEAVE_OPEN_SHARE = 0.6

# Which causes dominate in each lifecycle stage (DESIGN §2): fit and onboarding early, service in
# adoption, value and competitors when mature.
STAGE_WEIGHTS: dict[str, dict[str, int]] = {
    account_rules.ONBOARDING: {
        ChurnCategory.ONBOARDING: 5,
        ChurnCategory.WRONG_FIT: 4,
        ChurnCategory.EXPERIENCE: 3,
        ChurnCategory.PRICE: 2,
        ChurnCategory.FUNCTIONALITY: 1,
    },
    account_rules.ADOPTION: {
        ChurnCategory.SUPPORT: 4,
        ChurnCategory.FUNCTIONALITY: 4,
        ChurnCategory.EXPERIENCE: 3,
        ChurnCategory.PRICE: 3,
        ChurnCategory.COMPETITOR: 2,
        ChurnCategory.ONBOARDING: 1,
    },
    account_rules.MATURE: {
        ChurnCategory.PRICE: 5,
        ChurnCategory.COMPETITOR: 4,
        ChurnCategory.NO_UPDATES: 3,
        ChurnCategory.FUNCTIONALITY: 2,
        ChurnCategory.SUPPORT: 1,
        ChurnCategory.OTHER: 1,
    },
}
NOTES: dict[str, list[str]] = {
    ChurnCategory.PRICE: [
        "Budget cut for next year; could not justify the cost.",
        "Said the price went up faster than the value.",
    ],
    ChurnCategory.EXPERIENCE: [
        "Team found the dashboards confusing and stopped logging in.",
        "Too many clicks for daily work, per their ops lead.",
    ],
    ChurnCategory.SUPPORT: [
        "Two escalations answered late; lost trust in support.",
        "Felt they never had a named contact after onboarding.",
    ],
    ChurnCategory.FUNCTIONALITY: [
        "Needed a Salesforce integration we do not have.",
        "Reports too slow on their data volume.",
    ],
    ChurnCategory.COMPETITOR: [
        "Moved to {competitor}: bundled with their CRM.",
        "{competitor} offered a year at half price.",
    ],
    ChurnCategory.WRONG_FIT: [
        "Small team; needed a spreadsheet, not a platform.",
        "Bought for a project that was cancelled.",
    ],
    ChurnCategory.NO_UPDATES: ["Said nothing new shipped for what they asked for in a year."],
    ChurnCategory.ONBOARDING: [
        "Never finished the setup; the champion left in week three.",
        "Data import stalled; first report never delivered.",
    ],
    ChurnCategory.OTHER: ["Company acquired; the parent uses another tool."],
}
INVOLUNTARY_NOTES = [
    "Card expired; three payment reminders unanswered.",
    "Payment failed twice; finance never updated the card.",
]


def ensure_demo_competitors() -> list[Competitor]:
    competitors = []
    for name, aliases in DEMO_COMPETITORS.items():
        competitor, _created = Competitor.objects.get_or_create(
            name=name, defaults={"aliases": "\n".join(aliases)}
        )
        competitors.append(competitor)
    return competitors


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def seed_churn_records(*, seed: int = 1, today: date | None = None) -> dict[str, int]:
    """1. Competitors and default keyword rules; 2. a ChurnEvent for every churn in the history
    (backfill_churn_events, which agrees with the nightly step); 3. reasons for most churns:
    categories weighted by the lifecycle stage at the churn, ~20% involuntary, competitors among
    the three demo ones, completed by the owner a few days after; recent ones partly left open.
    (The survey demo, csm.demo.surveys, tags the comments.)"""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    competitors = ensure_demo_competitors()
    ensure_default_keyword_rules()
    backfill = backfill_churn_events(until=today)
    manager = User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk").first()
    tz = timezone.get_current_timezone()

    events = ChurnEvent.objects.filter(completed_at__isnull=True).select_related("account")
    completed = [
        event
        for event in events.order_by("churned_on", "pk")
        if not (
            event.churned_on > today - timedelta(days=LEAVE_OPEN_DAYS)
            and rng.random() < LEAVE_OPEN_SHARE
        )
    ]
    # Exactly the share, not a coin per churn: a small demo still shows ~20% involuntary.
    involuntary = set(rng.sample(range(len(completed)), round(len(completed) * INVOLUNTARY_SHARE)))
    for index, event in enumerate(completed):
        stage = account_rules.lifecycle_stage(event.account.contract_start, event.churned_on)
        if index in involuntary:
            event.churn_type = ChurnType.INVOLUNTARY
            event.category = rng.choice([ChurnCategory.PRICE, ChurnCategory.OTHER])
            event.note = rng.choice(INVOLUNTARY_NOTES)
            event.competitor = None
        else:
            event.churn_type = ChurnType.VOLUNTARY
            event.category = _pick(rng, STAGE_WEIGHTS[stage])
            event.competitor = (
                rng.choices(competitors, weights=[5, 3, 2])[0]
                if event.category == ChurnCategory.COMPETITOR
                or (event.category == ChurnCategory.PRICE and rng.random() < 0.3)
                else None
            )
            event.note = rng.choice(NOTES[event.category]).format(
                competitor=event.competitor.name if event.competitor else ""
            )
        done_on = min(event.churned_on + timedelta(days=rng.randint(1, 10)), today)
        event.completed_at = datetime.combine(done_on, time(10, rng.randint(0, 59)), tzinfo=tz)
        event.completed_by_id = event.account.owner_id or (manager.pk if manager else None)
    ChurnEvent.objects.bulk_update(
        completed,
        ["category", "churn_type", "competitor", "note", "completed_at", "completed_by"],
        batch_size=500,
    )
    return {"churns_backfilled": backfill["churns_created"], "churns_completed": len(completed)}
