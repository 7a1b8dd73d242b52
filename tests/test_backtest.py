"""The scorecard's backtest (issue 16): the pure evaluation, the rows it reads from the database,
the `backtest` command's JSON and the page."""

from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone
from sklearn.metrics import roc_auc_score

from feedback.models import ChurnEvent
from health import backtest, backtest_data
from health.backtest import Row, evaluate, report_json, split_months
from health.backtest_data import backtest_months, load_rows
from health.models import MeasureSetting, NightlyRun
from health.scoring import MEASURE_KEYS
from tests.factories import AccountFactory, HealthScoreFactory, SubscriptionFactory

KEYS = {
    "months", "accounts", "churned", "auc", "auc_ci", "bands", "measures", "suggested_weights",
    "current_auc_test", "suggested_auc_test",
}  # fmt: skip


def synthetic_rows(*, months: int = 6, per_month: int = 200, seed: int = 1) -> list[Row]:
    """Accounts whose churn risk falls with their usage measure; sentiment is noise."""
    rng = random.Random(seed)
    rows = []
    for m in range(months):
        month = date(2026, 1 + m, 1)
        for n in range(per_month):
            usage = rng.randint(0, 100)
            noise = rng.randint(0, 100)
            churned = rng.random() < 0.35 * (1 - usage / 100) ** 2
            measures = {"active_days": usage, "sentiment": noise}
            rows.append(
                Row(
                    account=f"a{n}",
                    month=month,
                    score=round((usage + noise) / 2),
                    churned=churned,
                    measures=measures,
                    tier="ABC"[n % 3],
                    stage="mature",
                )
            )
    return rows


# --- The evaluation (pure) ------------------------------------------------------------------------


def test_the_auc_is_scikit_learns_on_the_negated_score():
    rows = synthetic_rows()
    report = evaluate(rows)
    expected = roc_auc_score([r.churned for r in rows], [-r.score for r in rows])
    assert report.overall.auc == pytest.approx(expected, abs=1e-12)
    assert report.overall.low < report.overall.auc < report.overall.high


def test_bands_calibration_and_lift_count_every_row():
    rows = synthetic_rows()
    report = evaluate(rows)
    assert sum(rate.rows for rate in report.bands) == len(rows)
    assert sum(rate.rows for rate in report.calibration) == len(rows)
    red = report.bands[0]
    assert red.label == "red"
    assert red.rows == sum(1 for r in rows if r.score <= 50)
    assert report.red_lift == pytest.approx(red.rate / report.churn_rate)


def test_a_measure_that_is_noise_has_an_auc_near_a_half():
    report = evaluate(synthetic_rows(months=9, per_month=400))
    assert report.measures["active_days"].low > 0.5
    assert abs(report.measures["sentiment"].auc - 0.5) < 0.05
    assert report.measures["billing"].auc is None  # never present


def test_too_few_churns_give_no_number():
    rows = [
        Row("a", date(2026, 1, 1), score, churned=i < 9, measures={"active_days": score})
        for i, score in enumerate(range(10, 100))
    ]
    report = evaluate(rows)
    assert report.overall.churned == 9
    assert report.overall.auc is None
    assert report.roc == []
    assert report_json(report)["auc"] is None
    assert report_json(report)["auc_ci"] is None


def test_the_split_holds_out_the_most_recent_third_of_the_months():
    months = [date(2026, m, 1) for m in range(1, 10)]
    train, test = split_months(list(reversed(months)))
    assert train == months[:6] and test == months[6:]
    assert split_months(months[:2]) == ([months[0]], [months[1]])
    assert split_months(months[:1]) == ([], [])


def test_suggested_weights_favour_the_measure_with_signal_and_beat_the_mix():
    report = evaluate(synthetic_rows(months=9, per_month=300))
    suggestion = report.suggestion
    assert suggestion.weights["active_days"] > 80
    assert sum(suggestion.weights.values()) == 100
    assert set(suggestion.weights) == set(MEASURE_KEYS)
    assert suggestion.suggested_auc > suggestion.current_auc
    # Fitted on the older months only.
    assert suggestion.train.rows == 6 * 300


def test_weights_come_from_negative_coefficients_only():
    weights = backtest.weights_from_coefficients(
        {"active_days": -3.0, "billing": -1.0, "sentiment": 2.0}
    )
    assert weights["active_days"] == 75 and weights["billing"] == 25 and weights["sentiment"] == 0
    assert backtest.weights_from_coefficients({"active_days": 1.0}) is None


def test_rescore_is_the_scorecards_weighted_mean_of_the_measures_present():
    row = Row("a", date(2026, 1, 1), 50, False, {"active_days": 80, "billing": 30})
    assert backtest.rescore(row, {"active_days": 3, "billing": 1, "sentiment": 50}) == 68  # 67.5 up
    assert backtest.rescore(row, {"sentiment": 10}) is None


def test_the_json_has_the_contracts_keys_and_rounds_to_six_places():
    report = evaluate(synthetic_rows())
    payload = report_json(report, pairs=True)
    assert set(payload) == KEYS | {"pairs"}
    assert set(report_json(report)) == KEYS
    assert payload["months"][0] == "2026-01"
    assert set(payload["bands"]) == {"red", "yellow", "green"}
    assert set(payload["bands"]["red"]) == {"accounts", "churned", "rate"}
    assert payload["auc"] == round(report.overall.auc, 6)
    assert [m["key"] for m in payload["measures"]] == list(MEASURE_KEYS)
    assert set(payload["pairs"][0]) == {"account", "month", "score", "churned"}
    assert len(payload["pairs"]) == payload["accounts"]
    # The pairs are exactly what the AUC was computed from.
    pairs = payload["pairs"]
    auc = roc_auc_score([p["churned"] for p in pairs], [-p["score"] for p in pairs])
    assert payload["auc"] == pytest.approx(auc, abs=1e-6)


# --- The rows from the database -------------------------------------------------------------------


def paying(account_external_id: str, **kwargs) -> object:
    account = AccountFactory(external_id=account_external_id, contract_start=date(2025, 1, 1))
    SubscriptionFactory(account=account, start_date=date(2025, 1, 1), **kwargs)
    return account


@pytest.mark.django_db
def test_rows_are_paying_accounts_scores_on_first_days_with_churn_in_the_90_days_after():
    stays = paying("stays")
    churns = paying("churns", end_date=date(2026, 4, 1))  # MRR 0 from 1 April: day 90 after 1 Jan
    late = paying("late", end_date=date(2026, 4, 2))  # day 91: not within the horizon
    free = AccountFactory(external_id="free")
    SubscriptionFactory(account=free, start_date=date(2025, 1, 1), amount=Decimal("0"))
    marked = paying("marked")  # a CSM marked it churned, but it still pays: MRR never reached 0
    for account in (stays, churns, late, free, marked):
        HealthScoreFactory(account=account, day=date(2026, 1, 1), score=60)
        HealthScoreFactory(account=account, day=date(2026, 1, 15), score=60)  # not a first day
    ChurnEvent.objects.create(account=churns, churned_on=date(2026, 4, 1), mrr_lost=100)
    ChurnEvent.objects.create(account=late, churned_on=date(2026, 4, 2), mrr_lost=100)
    ChurnEvent.objects.create(account=marked, churned_on=date(2026, 2, 1), mrr_lost=0)
    HealthScoreFactory(account=stays, day=date(2026, 4, 1), score=60)  # the latest scored day

    months = backtest_months(12)
    assert months == [date(2026, 1, 1)]
    rows = {row.account: row for row in load_rows(months)}
    assert set(rows) == {"stays", "churns", "late", "marked"}
    assert rows["churns"].churned
    assert not rows["late"].churned and not rows["stays"].churned and not rows["marked"].churned
    assert rows["stays"].measures == {"active_days": 60}
    assert rows["stays"].stage == "mature"


@pytest.mark.django_db
def test_a_month_whose_90_days_have_not_passed_is_left_out():
    account = paying("a")
    HealthScoreFactory(account=account, day=date(2026, 1, 1))
    HealthScoreFactory(account=account, day=date(2026, 3, 31))
    assert backtest_months(12) == []
    HealthScoreFactory(account=account, day=date(2026, 4, 1))
    assert backtest_months(12) == [date(2026, 1, 1)]


# --- The command and the page ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_prints_the_contract_json():
    account = paying("a")
    HealthScoreFactory(account=account, day=date(2026, 1, 1))
    HealthScoreFactory(account=account, day=date(2026, 4, 1))
    out = StringIO()
    call_command("backtest", "--json", "--pairs", stdout=out)
    payload = json.loads(out.getvalue())
    assert set(payload) == KEYS | {"pairs"}
    assert payload["months"] == ["2026-01"]
    assert payload["pairs"] == [{"account": "a", "month": "2026-01", "score": 80, "churned": False}]
    assert payload["auc"] is None  # one account: too few churns to judge


@pytest.mark.django_db
def test_the_command_refuses_a_bad_month_count():
    with pytest.raises(CommandError, match="--months"):
        call_command("backtest", "--months", "0", stdout=StringIO())


@pytest.mark.django_db
def test_the_command_says_when_there_is_no_month_yet():
    out = StringIO()
    call_command("backtest", stdout=out)
    assert "No month to backtest yet" in out.getvalue()


def test_the_page_is_for_managers(alice_client):
    assert alice_client.get("/settings/scorecard/backtest/").status_code == 403


def test_the_page_shows_its_empty_state(maggie_client):
    response = maggie_client.get("/settings/scorecard/backtest/")
    assert response.status_code == 200
    assert "No month to backtest yet" in response.content.decode()


def test_the_scorecard_links_to_the_backtest(maggie_client):
    assert (
        "/settings/scorecard/backtest/"
        in maggie_client.get("/settings/scorecard/").content.decode()
    )


def test_a_link_opens_the_scorecard_form_with_weights_filled_in_and_saves_nothing(maggie_client):
    response = maggie_client.get(
        "/settings/scorecard/?active_days-weight=42&billing-weight=7&reason=From+the+backtest"
    )
    form = response.context["form"]
    assert str(form["active_days-weight"].value()) == "42"
    assert str(form["billing-weight"].value()) == "7"
    assert str(form["usage_trend-weight"].value()) == "15"  # untouched: the scorecard's
    assert form["reason"].value() == "From the backtest"
    assert "preview" in response.context  # the change's impact is shown before any save
    assert not MeasureSetting.objects.exists()


def test_a_bad_weight_in_the_link_is_a_field_error_and_saves_nothing(maggie_client):
    response = maggie_client.get("/settings/scorecard/?active_days-weight=500")
    assert response.status_code == 200
    assert response.context["form"].errors["active_days-weight"]
    assert "preview" not in response.context
    assert not MeasureSetting.objects.exists()


@pytest.mark.django_db
def test_the_page_reuses_its_report_until_a_churn_or_a_nightly_run_changes_the_inputs(
    monkeypatch, settings
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()  # the page tests above left their reports
    account = paying("a")
    HealthScoreFactory(account=account, day=date(2026, 1, 1))
    HealthScoreFactory(account=account, day=date(2026, 4, 1))
    runs = []
    real = backtest_data.run_backtest
    monkeypatch.setattr(
        backtest_data, "run_backtest", lambda months: runs.append(1) or real(months)
    )
    first = backtest_data.cached_backtest()
    assert backtest_data.cached_backtest().months == first.months and len(runs) == 1
    ChurnEvent.objects.create(account=paying("b"), churned_on=date(2026, 2, 1), mrr_lost=10)
    backtest_data.cached_backtest()
    assert len(runs) == 2
    NightlyRun.objects.create(
        day=date(2026, 4, 1), started_at=timezone.now(), finished_at=timezone.now()
    )
    backtest_data.cached_backtest()
    assert len(runs) == 3
