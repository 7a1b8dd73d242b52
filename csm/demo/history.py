"""Demo health history for the backtest (issue 16): scores on the first day of each of the
HISTORY_MONTHS months before the nightly backfill's window, so `backtest` and its page have
months whose 90 days have passed. Only the health steps run for those days (roll-ups and
scores), not the whole nightly: no risk items, emails or snapshots are made for them."""

from __future__ import annotations

from datetime import date, timedelta

from csm.demo.accounts import USAGE_DAYS
from health import scoring
from health.queries import HISTORY_DAYS
from health.services import recompute_health_scores, roll_up_usage

HISTORY_MONTHS = 10


def history_days(yesterday: date) -> list[date]:
    """The first days of the HISTORY_MONTHS months before the nightly window (which ends on
    `yesterday` and spans HISTORY_DAYS), oldest first."""
    window_start = yesterday - timedelta(days=HISTORY_DAYS - 1)
    month = window_start.replace(day=1)
    if month == window_start:
        month = (month - timedelta(days=1)).replace(day=1)
    days = []
    for _ in range(HISTORY_MONTHS):
        days.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return sorted(days)


def usage_days_needed(today: date) -> int:
    """Days of usage events the demo plans: enough for the oldest history day's windows."""
    oldest = history_days(today - timedelta(days=1))[0]
    return max(USAGE_DAYS, (today - oldest).days + scoring.INACTIVITY_HORIZON_DAYS)


def score_history(*, yesterday: date) -> int:
    """Roll up the events before the nightly window and score each history day. Run before the
    nightly backfill, which deletes raw events past the retention. Returns the scores written."""
    days = history_days(yesterday)
    window_start = yesterday - timedelta(days=HISTORY_DAYS - 1)
    roll_up_usage(
        first_day=days[0] - timedelta(days=scoring.INACTIVITY_HORIZON_DAYS),
        last_day=window_start - timedelta(days=1),
    )
    return sum(recompute_health_scores(day=day) for day in days)
