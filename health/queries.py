"""Reads of health data that several views, the API and commands share."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import (
    CharField,
    Count,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.utils.translation import gettext as _

from accounts.models import Account
from health import scoring
from health.models import DailyUsage, HealthScore, UsageEvent

# "Failed payment in the last 30 days" (DESIGN §4 billing measure and risk rule).
FAILED_PAYMENT_DAYS = 30


def latest_score(account: Account, day: date | None = None) -> HealthScore | None:
    """The account's newest score (on or before `day` when given)."""
    scores = account.health_scores.select_related("override__created_by")
    if day is not None:
        scores = scores.filter(day__lte=day)
    return scores.order_by("-day").first()


def health_payload(score: HealthScore) -> dict[str, Any]:
    """The `health --json` and `GET /api/v1/accounts/<external_id>/health` body (DESIGN §5).

    `score` is the score in force (a manager's override when one applies); the measures are
    what the scorecard computed, and their contributions add up to the computed score.
    """
    return {
        "account": score.account.external_id,
        "date": score.day.isoformat(),
        "score": score.score,
        "band": score.band,
        "trend": {"1d": score.trend_1, "7d": score.trend_7, "30d": score.trend_30},
        "measures": [
            {
                "key": measure["key"],
                "raw": measure["raw"],
                "score": measure["score"],
                "weight": measure["weight"],
                "contribution": measure["contribution"],
            }
            for measure in score.measures
        ],
    }


def latest_scored_day() -> date | None:
    """The newest day with scores (the list shows every account's score of that day)."""
    return HealthScore.objects.order_by("-day").values_list("day", flat=True).first()


def with_health(rows: QuerySet[Any], day: date | None, account: str = "pk") -> QuerySet[Any]:
    """Annotate `health_score` and `health_band` of `day` (None without one) on accounts, or on
    rows of an account (`account="account_id"`: risk items), as subqueries on the (account, day)
    unique index, so a page of rows costs no extra query."""
    if day is None:
        return rows.annotate(
            health_score=Value(None, output_field=IntegerField()),
            health_band=Value(None, output_field=CharField()),
        )
    scores = HealthScore.objects.filter(account=OuterRef(account), day=day)
    return rows.annotate(
        health_score=Subquery(scores.values("score")[:1]),
        health_band=Subquery(scores.values("band")[:1]),
    )


def in_band(accounts: QuerySet[Account], day: date | None, band: str) -> QuerySet[Account]:
    """Accounts whose score of `day` is in `band`: a semi-join on the (day, band) index. (Filtering
    on with_health's subquery annotation let PostgreSQL scan that index once per account: 2 s for
    5,000 accounts.)"""
    if day is None:
        return accounts.none()
    return accounts.filter(
        pk__in=HealthScore.objects.filter(day=day, band=band).values("account_id")
    )


HISTORY_DAYS = 90


def not_enough_usage_yet(account: Account, score: HealthScore | None, today: date) -> bool:
    """The account page's "not enough data yet" for the usage measures: within the cold start
    (health.scoring.COLD_START_DAYS) and scored without any usage measure (or not scored)."""
    day = score.day if score is not None else today
    has_usage = score is not None and any(
        measure["key"] in scoring.USAGE_MEASURES for measure in score.measures
    )
    return scoring.in_cold_start(day, account.contract_start, ever_active=has_usage)


def health_card(account: Account) -> dict[str, Any] | None:
    """What the account page shows about health: the latest score with its measures explained
    against 30 days before, and the 90-day history. Three queries; None before the first score."""
    score = latest_score(account)
    if score is None:
        return None
    history = list(
        account.health_scores.filter(day__gt=score.day - timedelta(days=HISTORY_DAYS))
        .order_by("day")
        .values_list("day", "score", "measures")
    )
    month_ago = score.day - timedelta(days=30)
    was = {
        measure["key"]: measure["raw"]
        for day, _score, measures in history
        if day == month_ago
        for measure in measures
    }
    measures = []
    for measure in score.measures:
        definition = scoring.DEFAULTS_BY_KEY.get(measure["key"])
        measures.append(
            {
                **measure,
                "label": definition.label if definition else measure["key"],
                "description": definition.description if definition else "",
                "sentence": scoring.explain(
                    measure["key"], measure["raw"], was.get(measure["key"])
                ),
            }
        )
    measures.sort(key=lambda m: -m["contribution"])
    return {
        "score": score,
        "trends": [
            (_("1 day"), score.trend_1),
            (_("7 days"), score.trend_7),
            (_("30 days"), score.trend_30),
        ],
        "measures": measures,
        "chart": {
            "labels": [day.isoformat() for day, _score, _measures in history],
            "values": [value for _day, value, _measures in history],
        },
    }


# The latest events shown on the account page; `events --limit` allows up to MAX_EVENTS_LIMIT.
ACCOUNT_PAGE_EVENTS = 10
MAX_EVENTS_LIMIT = 1000


def latest_events(account: Account, *, limit: int) -> list[dict[str, Any]]:
    """The account's latest stored usage events, newest first: `[{"id", "event", "user",
    "timestamp"}]` with the timestamp a datetime (`events --json` prints it in ISO 8601, the
    account page in local time). Ordered by day first so the (account, day) index serves it."""
    rows = (
        UsageEvent.objects.filter(account=account)
        .order_by("-day", "-timestamp", "-event_id")
        .values_list("event_id", "event", "user", "timestamp")[:limit]
    )
    return [
        {"id": event_id, "event": event, "user": user, "timestamp": moment}
        for event_id, event, user, moment in rows
    ]


def usage_facts(
    day: date, account_ids: list[int] | None = None
) -> dict[int, tuple[date | None, int]]:
    """{account: (last day with product usage, failed payments in the FAILED_PAYMENT_DAYS up to
    `day`)} as of `day`, looking back INACTIVITY_HORIZON_DAYS (accounts without any row are
    absent: no usage, no failed payment). Rollups cover the days up to the last rolled-up one;
    later days are read from the raw events, so events ingested since the nightly count at once
    (the live risk evaluation), while the nightly, which just rolled its day up, reads rollups
    only. (An event arriving late for a rolled-up day counts from the next nightly on, as in the
    health score.) `account_ids` None: every account."""
    horizon = day - timedelta(days=scoring.INACTIVITY_HORIZON_DAYS - 1)
    payments_from = day - timedelta(days=FAILED_PAYMENT_DAYS - 1)
    rollups = DailyUsage.objects.filter(day__lte=day)
    rolled = rollups.aggregate(last=Max("day"))["last"]
    raw_after = rolled if rolled is not None else horizon - timedelta(days=1)
    rollups = rollups.filter(day__gte=horizon)
    events = UsageEvent.objects.filter(day__gt=raw_after, day__gte=horizon, day__lte=day)
    if account_ids is not None:
        rollups = rollups.filter(account_id__in=account_ids)
        events = events.filter(account_id__in=account_ids)
    facts: dict[int, tuple[date | None, int]] = {}
    in_payments = Q(day__gte=payments_from)
    for rows in (
        rollups.order_by()
        .values("account_id")
        .annotate(
            last=Max("day", filter=Q(events__gt=0)),
            failed=Sum("failed_payments", filter=in_payments),
        )
        .values_list("account_id", "last", "failed"),
        events.order_by()
        .values("account_id")
        .annotate(
            last=Max("day", filter=~Q(event__in=UsageEvent.BILLING_EVENTS)),
            failed=Count("pk", filter=in_payments & Q(event=UsageEvent.PAYMENT_FAILED)),
        )
        .values_list("account_id", "last", "failed"),
    ):
        for account_id, last, failed in rows:
            before_last, before_failed = facts.get(account_id, (None, 0))
            if before_last is not None and (last is None or before_last > last):
                last = before_last
            facts[account_id] = (last, before_failed + int(failed or 0))
    return facts
