"""The demo tells the truth (issue 16): its usage decline, failed payments, detractor answers and
missed touches precede churn with a real but imperfect strength, so a backtest of its default-size
book finds a signal (an AUC whose interval excludes 0.5) and suggested weights that do better on
the held-out months. The 90-day nightly backfill is skipped: the backtest reads only the history
days' scores, and the churn records are backfilled from the subscriptions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from csm.demo.history import HISTORY_MONTHS, history_days, score_history, usage_days_needed
from csm.demo.seed import seed_demo
from csm.demo.surveys import seed_survey_history
from feedback.churn import backfill_churn_events
from health.backtest import evaluate, report_json
from health.backtest_data import backtest_months, load_rows

TODAY = date(2026, 12, 2)
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_history_days_are_first_days_before_the_nightly_window():
    days = history_days(YESTERDAY)
    assert len(days) == HISTORY_MONTHS
    assert all(day.day == 1 for day in days)
    assert days[-1] == date(2026, 9, 1)  # the window starts on 3 September
    assert usage_days_needed(TODAY) == (TODAY - date(2025, 12, 1)).days + 90


def test_the_demos_backtest_finds_a_real_but_imperfect_signal(db):
    seed_demo(accounts=500, months=24, seed=1, today=TODAY, usage_days=usage_days_needed(TODAY))
    seed_survey_history(seed=1, today=TODAY)
    score_history(yesterday=YESTERDAY)
    backfill_churn_events(until=YESTERDAY)

    months = backtest_months(12, last_day=YESTERDAY)
    assert len(months) == HISTORY_MONTHS
    payload = report_json(evaluate(load_rows(months), months=months))

    assert payload["churned"] >= 50
    low, high = payload["auc_ci"]
    assert 0.5 < low < payload["auc"] < high < 0.95  # real, and far from certain
    rates = {band: figures["rate"] for band, figures in payload["bands"].items()}
    assert rates["red"] > rates["yellow"] > rates["green"] > 0
    assert payload["suggested_auc_test"] > payload["current_auc_test"]
