"""The backtest's rows from the database (health.backtest evaluates them): each paying account's
stored score on the first day of each month, and whether a churn followed within the horizon.

A churn is a ChurnEvent (feedback.churn: recorded when an account's MRR reaches 0, or marked by
its CSM) whose MRR has reached 0 (`mrr_lost > 0`), dated by its `churned_on`. A month counts once
its HORIZON_DAYS have passed by the latest scored day, so every churn in it is known.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from datetime import date, timedelta

from django.core.cache import cache
from django.db.models import Count, Max

from accounts import rules
from accounts.models import Account
from feedback.models import ChurnEvent
from health.backtest import HORIZON_DAYS, Report, Row, evaluate
from health.models import HealthScore, NightlyRun
from health.queries import latest_scored_day
from health.scorecard import load_scorecard

DEFAULT_MONTHS = 12
MAX_MONTHS = 120


log = logging.getLogger(__name__)

# A cached report is dropped after a day even if nothing it depends on changed.
CACHE_SECONDS = 24 * 3600


def backtest_months(months: int = DEFAULT_MONTHS, *, last_day: date | None = None) -> list[date]:
    """The first days of the `months` most recent months that have scores on their first day and
    whose horizon has passed by `last_day` (default: the latest scored day); oldest first."""
    if last_day is None:
        last_day = latest_scored_day()
        if last_day is None:
            return []
    newest = last_day - timedelta(days=HORIZON_DAYS)
    candidates = []
    month = newest.replace(day=1)
    for _ in range(months):
        candidates.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    # One query on the (day, band) index: which of those first days have scores.
    scored = set(
        HealthScore.objects.filter(day__in=candidates).values_list("day", flat=True).distinct()
    )
    return sorted(day for day in candidates if day in scored)


def load_rows(months: list[date]) -> list[Row]:
    """The rows of `months`: the scorecard's own score (a manager's override left out), paying
    accounts only (MRR > 0 that day). Tier is the account's today; stage is the one that day.
    Two queries, plus one per month for who was paying."""
    if not months:
        return []
    paying: dict[date, set[int]] = {
        month: set(Account.objects.with_mrr(month).filter(mrr__gt=0).values_list("pk", flat=True))
        for month in months
    }
    churns: dict[int, list[date]] = defaultdict(list)
    for account_id, day in ChurnEvent.objects.filter(
        churned_on__gt=months[0],
        churned_on__lte=months[-1] + timedelta(days=HORIZON_DAYS),
        mrr_lost__gt=0,
    ).values_list("account_id", "churned_on"):
        churns[account_id].append(day)
    rows = []
    scores = (
        HealthScore.objects.filter(day__in=months, computed_score__isnull=False)
        .order_by("day", "account__external_id")
        .values_list(
            "account_id",
            "day",
            "computed_score",
            "measures",
            "account__external_id",
            "account__tier",
            "account__contract_start",
        )
    )
    for account_id, day, score, measures, external_id, tier, contract_start in scores:
        if account_id not in paying[day]:
            continue
        horizon = day + timedelta(days=HORIZON_DAYS)
        rows.append(
            Row(
                account=external_id,
                month=day,
                score=score,
                churned=any(day < churned_on <= horizon for churned_on in churns[account_id]),
                measures={m["key"]: m["score"] for m in measures},
                weights={m["key"]: m["weight"] for m in measures},
                tier=tier,
                stage=rules.lifecycle_stage(contract_start, day),
            )
        )
    return rows


def run_backtest(months: int = DEFAULT_MONTHS) -> Report:
    """The backtest of the `months` most recent complete months (the command; the page goes
    through `cached_backtest`)."""
    chosen = backtest_months(months)
    return evaluate(load_rows(chosen), months=chosen)


def _inputs_fingerprint(months: int) -> str:
    """What the backtest depends on, in a few small queries: the scores (a nightly run writes
    them; the newest row's id), the churns (the nightly records them, a CSM may mark one) and the
    scorecard in force (the current weights the suggestion is compared with)."""
    last_run = NightlyRun.objects.aggregate(at=Max("finished_at"))["at"]
    last_score = HealthScore.objects.aggregate(last=Max("pk"))["last"]
    churns = ChurnEvent.objects.aggregate(n=Count("pk"), last=Max("pk"))
    scorecard = load_scorecard()
    digest = hashlib.sha256(
        repr((months, last_run, last_score, churns["n"], churns["last"], scorecard)).encode()
    ).hexdigest()
    return digest[:32]


def cached_backtest(months: int = DEFAULT_MONTHS) -> Report:
    """`run_backtest`, kept in the cache until a nightly run, a churn or a scorecard change makes
    it stale: at 50,000 accounts a year of account-months takes tens of seconds to evaluate, and
    the page is read far more often than its inputs change. A cache outage only costs the
    recomputation."""
    key = f"backtest:{_inputs_fingerprint(months)}"
    try:
        report = cache.get(key)
    except Exception:  # the cache is down: compute it, as without a cache
        log.warning("backtest cache unavailable", exc_info=True)
        return run_backtest(months)
    if report is None:
        report = run_backtest(months)
        try:
            cache.set(key, report, timeout=CACHE_SECONDS)
        except Exception:
            log.warning("backtest cache unavailable", exc_info=True)
    return report
