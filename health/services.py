"""Nightly health work, set-based: roll raw usage events up per account and day, score every
customer's health for a day, and drop raw events past their retention. Each function reads and
writes whole days with a handful of statements, whatever the number of accounts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accounts import rules
from accounts.audit import record_changes
from accounts.models import Account, Subscription, User, active_on
from accounts.scopes import SCOPE_ALL, owner_scope
from csm.lib.bulk import insert_rows
from feedback.models import Response, SurveyKind
from health import scoring
from health.models import DailyUsage, HealthOverride, HealthScore, UsageEvent
from health.scorecard import load_scorecard
from health.signals import health_overridden

T = TypeVar("T")

# --- Rollups --------------------------------------------------------------------------------------


def roll_up_usage(*, first_day: date, last_day: date) -> int:
    """Rebuild the DailyUsage rows of [first_day, last_day] from the raw events; one INSERT …
    SELECT … GROUP BY. Returns the number of rows written."""
    events = UsageEvent._meta.db_table
    rollups = DailyUsage._meta.db_table
    quote = connection.ops.quote_name
    user = quote("user")
    usage = "event NOT IN (%(failed)s, %(succeeded)s)"  # UsageEvent.BILLING_EVENTS
    sql = f"""
        INSERT INTO {quote(rollups)} (account_id, day, events, active_users, active_features,
                                      logins, billing_events, failed_payments, last_seen)
        SELECT account_id, day,
               SUM(CASE WHEN {usage} THEN 1 ELSE 0 END),
               COUNT(DISTINCT CASE WHEN {usage} AND {user} <> '' THEN {user} END),
               COUNT(DISTINCT CASE WHEN {usage} AND event <> %(login)s THEN event END),
               SUM(CASE WHEN event = %(login)s THEN 1 ELSE 0 END),
               SUM(CASE WHEN {usage} THEN 0 ELSE 1 END),
               SUM(CASE WHEN event = %(failed)s THEN 1 ELSE 0 END),
               MAX(CASE WHEN {usage} THEN timestamp END)
          FROM {quote(events)}
         WHERE day >= %(first_day)s AND day <= %(last_day)s
         GROUP BY account_id, day
    """
    params = {
        "failed": UsageEvent.PAYMENT_FAILED,
        "succeeded": UsageEvent.PAYMENT_SUCCEEDED,
        "login": UsageEvent.LOGIN,
        "first_day": first_day,
        "last_day": last_day,
    }
    with transaction.atomic():
        DailyUsage.objects.filter(day__gte=first_day, day__lte=last_day).delete()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount


def delete_expired_events(*, day: date) -> int:
    """Drop raw events older than the retention period; their rollups stay."""
    cutoff = day - timedelta(days=settings.HEALTH_EVENT_RETENTION_DAYS)
    # No signals or relations point at events, so Django deletes with one DELETE statement.
    deleted, _by_model = UsageEvent.objects.filter(day__lt=cutoff).delete()
    return deleted


# --- Raw measure values ---------------------------------------------------------------------------


def scored_accounts(day: date) -> list[tuple[int, str, date, int | None]]:
    """(id, tier, contract_start, seats) of every customer on `day`: an account with a
    subscription active that day (free plans included)."""
    active = Subscription.objects.filter(active_on(day), account=OuterRef("pk"))
    return list(
        Account.objects.filter(Exists(active))
        .order_by()
        .values_list("id", "tier", "contract_start", "seats")
    )


def raw_values(
    day: date, accounts: Iterable[tuple[int, str, date, int | None]]
) -> dict[int, dict[str, Decimal | None]]:
    """Every account's raw measure values on `day`: two aggregate queries for all accounts."""
    window_start = day - timedelta(days=scoring.WINDOW_DAYS - 1)
    horizon_start = day - timedelta(days=scoring.INACTIVITY_HORIZON_DAYS - 1)
    in_window = Q(day__gte=window_start)
    rollups = {
        row["account_id"]: row
        for row in DailyUsage.objects.filter(day__gte=horizon_start, day__lte=day)
        .order_by()
        .values("account_id")
        .annotate(
            active_days=Count("id", filter=in_window & Q(events__gt=0)),
            events_window=Sum("events", filter=in_window),
            events_before=Sum("events", filter=~in_window),
            last_active=Max("day", filter=Q(events__gt=0)),
            failed_payments=Sum("failed_payments", filter=in_window),
            billing_events=Sum("billing_events"),
        )
    }
    # Distinct users and features over 30 days cannot be summed from daily rows: read the events.
    distinct = {
        row["account_id"]: row
        for row in _without_index_scans(
            UsageEvent.objects.filter(day__gte=window_start, day__lte=day)
            .exclude(event__in=UsageEvent.BILLING_EVENTS)
            .order_by()
            .values("account_id")
            .annotate(
                users=Count("user", distinct=True, filter=~Q(user="")),
                features=Count("event", distinct=True, filter=~Q(event=UsageEvent.LOGIN)),
            )
        )
    }
    sentiment = _latest_sentiment(day)
    values: dict[int, dict[str, Decimal | None]] = {}
    for account_id, _tier, contract_start, seats in accounts:
        usage = rollups.get(account_id, {})
        users_features = distinct.get(account_id, {})
        users = users_features.get("users", 0)
        last_active = usage.get("last_active")
        # A new account without usage yet: its usage measures have no value (not enough data
        # yet). The rollups read reach INACTIVITY_HORIZON_DAYS back, far before such a contract
        # start, so "none in them" is "none ever" for it.
        if scoring.in_cold_start(day, contract_start, ever_active=last_active is not None):
            values[account_id] = dict.fromkeys(scoring.USAGE_MEASURES, None) | {
                "billing": _billing(usage),
                "sentiment": sentiment.get(account_id),
            }
            continue
        values[account_id] = {
            "active_days": Decimal(usage.get("active_days", 0)),
            "usage_trend": _usage_trend(day, contract_start, usage),
            "feature_adoption": Decimal(users_features.get("features", 0)),
            "days_since_active": Decimal(
                (day - last_active).days if last_active else scoring.INACTIVITY_HORIZON_DAYS
            ),
            "seat_utilisation": (
                Decimal(scoring.round_half_up(Decimal(users * 100) / seats)) if seats else None
            ),
            "billing": _billing(usage),
            "sentiment": sentiment.get(account_id),
        }
    return values


def _billing(usage: dict[str, Any]) -> Decimal | None:
    """Failed payments in the window, for accounts that send billing events."""
    return Decimal(usage.get("failed_payments") or 0) if usage.get("billing_events") else None


def _without_index_scans(queryset: QuerySet[Any, T]) -> list[T]:
    """The rows of `queryset`, planned without index scans on PostgreSQL. For the 30-day distinct
    counts the planner walks the (account, day) index to get rows already grouped, and fetches
    every event's heap page at random: 18 s for 3.5 million events at the reference scale, where
    a scan of the table and a sort take 5 s. (The events of an account are spread over every
    day's pages whatever the insert order, so the index walk is never the cheap plan.)"""
    if connection.vendor != "postgresql":
        return list(queryset)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_indexscan = off")
        try:
            return list(queryset)
        finally:
            cursor.execute("RESET enable_indexscan")


def _latest_sentiment(day: date) -> dict[int, Decimal]:
    """Each account's latest NPS or CSAT answer up to the end of `day`, within SENTIMENT_DAYS,
    on 0–100 (scoring.sentiment_value). One query over that window's answers, newest first."""
    zone = timezone.get_current_timezone()
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    start = end - timedelta(days=scoring.SENTIMENT_DAYS)
    latest: dict[int, Decimal] = {}
    rows = (
        Response.objects.filter(
            kind__in=[SurveyKind.NPS, SurveyKind.CSAT], answered_at__gte=start, answered_at__lt=end
        )
        .order_by("account_id", "-answered_at", "-pk")
        .values_list("account_id", "kind", "score")
    )
    for account_id, kind, score in rows:
        if account_id not in latest:
            value = scoring.sentiment_value(kind, score)
            if value is not None:
                latest[account_id] = value
    return latest


def _usage_trend(day: date, contract_start: date, usage: dict[str, Any]) -> Decimal | None:
    """Events per day in the window against the 60 days before, in whole per cent; none until the
    account has a full 90 days behind it, or when the 60 days before had no usage."""
    baseline_start = day - timedelta(days=scoring.INACTIVITY_HORIZON_DAYS - 1)
    before = usage.get("events_before") or 0
    if contract_start > baseline_start or not before:
        return None
    now = usage.get("events_window") or 0
    ratio = (Decimal(now) / scoring.WINDOW_DAYS) / (Decimal(before) / scoring.TREND_BASELINE_DAYS)
    return Decimal(scoring.round_half_up(ratio * 100 - 100))


# --- Scores ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringInputs:
    """What one day's scores are computed from, read once: the customers (id, tier, contract
    start, seats), their raw measure values, the scores 1, 7 and 30 days before (for the
    trends), and the managers' overrides in force."""

    day: date
    accounts: list[tuple[int, str, date, int | None]]
    raw: dict[int, dict[str, Decimal | None]]
    earlier: dict[tuple[int, int], int]
    overrides: dict[int, HealthOverride]


def scoring_inputs(day: date) -> ScoringInputs:
    accounts = scored_accounts(day)
    earlier_days = {
        day - timedelta(days=1): 1,
        day - timedelta(days=7): 7,
        day - timedelta(days=30): 30,
    }
    earlier: dict[tuple[int, int], int] = {
        (account_id, earlier_days[then]): score
        for account_id, then, score in HealthScore.objects.filter(
            day__in=list(earlier_days)
        ).values_list("account_id", "day", "score")
    }
    overrides = {
        override.account_id: override
        for override in HealthOverride.objects.active_on(day).order_by("created_at")
    }
    return ScoringInputs(day, accounts, raw_values(day, accounts), earlier, overrides)


def health_score_rows(inputs: ScoringInputs, scorecard: scoring.Scorecard) -> list[HealthScore]:
    """The day's HealthScore rows under `scorecard`, unsaved: the nightly writes them, the
    scorecard page's preview compares two scorecards' rows without writing."""
    day = inputs.day
    rows = []
    for account_id, tier, contract_start, _seats in inputs.accounts:
        result = scorecard.score(
            inputs.raw[account_id], tier=tier, stage=rules.lifecycle_stage(contract_start, day)
        )
        override = inputs.overrides.get(account_id)
        if result is None and override is None:
            continue
        computed = result.value if result else None
        score = override.score if override else computed
        assert score is not None
        rows.append(
            HealthScore(
                account_id=account_id,
                day=day,
                score=score,
                computed_score=computed,
                band=scoring.band_for(score),
                trend_1=scoring.trend(score, inputs.earlier.get((account_id, 1))),
                trend_7=scoring.trend(score, inputs.earlier.get((account_id, 7))),
                trend_30=scoring.trend(score, inputs.earlier.get((account_id, 30))),
                measures=[_measure_json(measure) for measure in result.measures] if result else [],
                override=override,
            )
        )
    return rows


def recompute_health_scores(*, day: date, scorecard: scoring.Scorecard | None = None) -> int:
    """Score every customer for `day` and replace that day's HealthScore rows. Idempotent: the
    same events, settings and overrides give the same rows. Returns the number of scores."""
    if scorecard is None:
        scorecard = load_scorecard()
    rows = health_score_rows(scoring_inputs(day), scorecard)
    with transaction.atomic():
        HealthScore.objects.filter(day=day).delete()
        insert_rows(HealthScore, rows)
    return len(rows)


def band_counts(day: date) -> dict[str, dict[str, int]]:
    """The scores of `day` per band, for "all" and for each owner's book ("owner:<id>"), from one
    grouped query; NightlyRun keeps them for the health report."""
    counts: dict[str, dict[str, int]] = {SCOPE_ALL: {}}
    rows = (
        HealthScore.objects.filter(day=day)
        .values_list("account__owner", "band")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for owner, band, n in rows:
        everybody = counts[SCOPE_ALL]
        everybody[band] = everybody.get(band, 0) + n
        if owner is not None:
            counts.setdefault(owner_scope(owner), {})[band] = n
    return counts


def _measure_json(measure: scoring.MeasureResult) -> dict[str, Any]:
    return {
        "key": measure.key,
        "raw": int(measure.raw) if measure.raw == measure.raw.to_integral() else float(measure.raw),
        "score": measure.score,
        "weight": measure.weight,
        "contribution": float(round(measure.contribution, 2)),
    }


# --- Overrides ------------------------------------------------------------------------------------


def override_health_score(
    *, actor: User, account: Account, score: int, reason: str, expires_on: date
) -> HealthOverride:
    """A manager sets an account's score until `expires_on` (audited); the latest computed score
    row takes it at once, later nightly runs keep applying it until it expires."""
    today = timezone.localdate()
    with transaction.atomic():
        override = HealthOverride.objects.create(
            account=account,
            score=score,
            reason=reason,
            starts_on=today,
            expires_on=expires_on,
            created_by=actor,
        )
        record_changes(
            actor=actor,
            obj=override,
            account=account,
            action="health score override",
            changes={"score": (None, score), "expires_on": (None, expires_on)},
            reason=reason,
        )
        latest = account.health_scores.order_by("-day").first()
        if latest is not None and latest.day >= today - timedelta(days=1):
            latest.score = score
            latest.band = scoring.band_for(score)
            latest.override = override
            latest.save(update_fields=["score", "band", "override"])
        health_overridden.send(sender=HealthOverride, account_id=account.pk)
    return override


def remove_health_override(*, actor: User, override: HealthOverride, reason: str = "") -> None:
    """End an override early (audited). The latest score row goes back to the computed score;
    the days the override was in force keep it in their history."""
    with transaction.atomic():
        override.revoked_at = timezone.now()
        override.save(update_fields=["revoked_at"])
        record_changes(
            actor=actor,
            obj=override,
            account=override.account,
            action="health score override removed",
            changes={"score": (override.score, None)},
            reason=reason,
        )
        recent = timezone.localdate() - timedelta(days=1)
        for row in HealthScore.objects.filter(
            override=override, computed_score__isnull=False, day__gte=recent
        ):
            row.score = row.computed_score
            row.band = scoring.band_for(row.score)
            row.override = None
            row.save(update_fields=["score", "band", "override"])
        health_overridden.send(sender=HealthOverride, account_id=override.account_id)
