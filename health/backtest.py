"""The scorecard's backtest as pure code (issue 16; definitions in docs/definitions.md): how well
the stored health scores predicted churn, and which measure weights would have done better.
No ORM here: health.backtest_data loads the rows, the page, the `backtest` command and the tests
(on a public churn data set too) evaluate them here.

One row = one paying account on the first day of one month: its score then, its measure scores,
and whether it churned (MRR reached 0) in the HORIZON_DAYS after. Every measure of agreement is
the ROC AUC with a lower score counting as "predicts churn", so 0.5 is a coin and 1.0 perfect.

Suggested weights: an L2-regularised logistic regression of churn on the measure scores (0–100,
as fractions) over the older months (a time split: the most recent TEST_SHARE of the months are
held out); a measure's weight is its coefficient's size where a higher score means less churn, 0
where it does not, scaled to add up to 100. Both scorecards are then scored on the held-out
months the way the scorecard scores (weighted mean of the measures present, rounded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from csm.lib import stats
from health.scoring import GREEN, MEASURE_KEYS, RED, YELLOW, band_for, round_half_up, weighted_mean

HORIZON_DAYS = 90
# Below this many churns (or this many accounts that stayed) a measure of agreement is not shown:
# "too few churns to judge". Ten keeps the AUC's interval narrower than about ±0.2.
MIN_CHURNS = 10
# The most recent third of the months (at least one) is held out to test the suggested weights.
TEST_SHARE = 1 / 3
# scikit-learn's default strength: the penalty ‖β‖²/2 against the summed log-loss.
REGULARISATION_C = 1.0
WEIGHT_TOTAL = 100
BANDS = (RED, YELLOW, GREEN)
# Calibration rows: scores 0–9, 10–19, …, 90–100.
DECILES = tuple((low, low + 9 if low < 90 else 100) for low in range(0, 100, 10))


@dataclass(frozen=True)
class Row:
    account: str  # external_id
    month: date  # the first day of the month
    score: int
    churned: bool
    measures: Mapping[str, int]  # measure key → its 0–100 score that day (present measures)
    weights: Mapping[str, int] = field(default_factory=dict)  # the weights the score used
    tier: str = ""
    stage: str = ""


@dataclass(frozen=True)
class Agreement:
    """An AUC with its interval, or None when there are too few churns (or stayers) to judge."""

    rows: int
    churned: int
    auc: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Rate:
    label: str
    rows: int
    churned: int

    @property
    def rate(self) -> float | None:
        return self.churned / self.rows if self.rows else None

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else self.rate * 100


@dataclass(frozen=True)
class Suggestion:
    train_months: list[date]
    test_months: list[date]
    train: Agreement  # rows and churns the fit used (its AUC is the current scorecard's)
    test_rows: int
    test_churned: int
    keys: list[str]  # the measures the fit used (each present in some training row)
    coefficients: dict[str, float]
    weights: dict[str, int] | None  # None: no measure carries signal, or too few churns
    current_auc: float | None
    suggested_auc: float | None


@dataclass(frozen=True)
class Report:
    months: list[date]
    overall: Agreement
    bands: list[Rate]
    red_lift: float | None
    calibration: list[Rate]
    measures: dict[str, Agreement]
    tiers: dict[str, Agreement]
    stages: dict[str, Agreement]
    roc: list[tuple[float, float]]
    suggestion: Suggestion | None
    rows: list[Row]

    @property
    def churn_rate(self) -> float | None:
        return self.overall.churned / self.overall.rows if self.overall.rows else None

    @property
    def churn_percent(self) -> float | None:
        return None if self.churn_rate is None else self.churn_rate * 100


def agreement(values: Sequence[float], churned: Sequence[bool]) -> Agreement:
    """AUC of `values` where a lower value predicts churn, with DeLong's 95% interval."""
    positives = sum(churned)
    negatives = len(churned) - positives
    if positives < MIN_CHURNS or negatives < MIN_CHURNS:
        return Agreement(len(churned), positives, None, None, None)
    result = stats.delong([-v for v in values], churned)
    assert result is not None
    return Agreement(len(churned), positives, result.auc, result.low, result.high)


def _agreement_of(rows: Sequence[Row]) -> Agreement:
    return agreement([r.score for r in rows], [r.churned for r in rows])


def split_months(months: Sequence[date]) -> tuple[list[date], list[date]]:
    """(older months to fit on, recent months to test on); the test months are the most recent
    TEST_SHARE of them, at least one; ([], []) with fewer than two months."""
    ordered = sorted(months)
    if len(ordered) < 2:
        return [], []
    test = max(1, round(len(ordered) * TEST_SHARE))
    return ordered[:-test], ordered[-test:]


def evaluate(rows: Sequence[Row], *, months: Sequence[date] | None = None) -> Report:
    """Every figure of the backtest over `rows` (their months, unless given)."""
    months = sorted(months if months is not None else {r.month for r in rows})
    scores = [r.score for r in rows]
    churned = [r.churned for r in rows]
    overall = _agreement_of(rows)

    bands = [Rate(band, *_count([r for r in rows if band_for(r.score) == band])) for band in BANDS]
    average = overall.churned / overall.rows if overall.rows else None
    red = bands[0]
    red_lift = (
        red.rate / average if red.rate is not None and average else None  # average 0: undefined
    )
    calibration = [
        Rate(f"{low}–{high}", *_count([r for r in rows if low <= r.score <= high]))
        for low, high in DECILES
    ]
    measures = {}
    for key in MEASURE_KEYS:
        present = [r for r in rows if key in r.measures]
        measures[key] = agreement([r.measures[key] for r in present], [r.churned for r in present])
    tiers = {
        tier: _agreement_of([r for r in rows if r.tier == tier])
        for tier in sorted({r.tier for r in rows if r.tier})
    }
    stages = {
        stage: _agreement_of([r for r in rows if r.stage == stage])
        for stage in sorted({r.stage for r in rows if r.stage})
    }
    roc = stats.roc_curve([-s for s in scores], churned) if overall.auc is not None else []
    return Report(
        months=list(months),
        overall=overall,
        bands=bands,
        red_lift=red_lift,
        calibration=calibration,
        measures=measures,
        tiers=tiers,
        stages=stages,
        roc=roc,
        suggestion=suggest_weights(rows, months),
        rows=list(rows),
    )


def _count(rows: Sequence[Row]) -> tuple[int, int]:
    return len(rows), sum(1 for r in rows if r.churned)


# --- Suggested weights ----------------------------------------------------------------------------


def suggest_weights(rows: Sequence[Row], months: Sequence[date]) -> Suggestion | None:
    """Fit on the older months, test on the recent ones (see the module's docstring). None with
    fewer than two months."""
    train_months, test_months = split_months(months)
    if not test_months:
        return None
    train = [r for r in rows if r.month in set(train_months)]
    test = [r for r in rows if r.month in set(test_months)]
    train_agreement = _agreement_of(train)
    test_churned = sum(1 for r in test if r.churned)
    keys = [key for key in MEASURE_KEYS if any(key in r.measures for r in train)]
    enough = (
        train_agreement.auc is not None
        and test_churned >= MIN_CHURNS
        and len(test) - test_churned >= MIN_CHURNS
        and keys
    )
    if not enough:
        return Suggestion(
            train_months, test_months, train_agreement, len(test), test_churned, keys, {}, None,
            None, None,
        )  # fmt: skip
    fit = fit_measures(train, keys)
    coefficients = dict(zip(keys, fit.coefficients, strict=True))
    weights = weights_from_coefficients(coefficients)
    current_auc = suggested_auc = None
    if weights is not None:
        current_auc, suggested_auc = compare_on(test, weights)
    return Suggestion(
        train_months=train_months,
        test_months=test_months,
        train=train_agreement,
        test_rows=len(test),
        test_churned=test_churned,
        keys=keys,
        coefficients=coefficients,
        weights=weights,
        current_auc=current_auc,
        suggested_auc=suggested_auc,
    )


def fit_measures(rows: Sequence[Row], keys: Sequence[str]) -> stats.LogisticFit:
    """The logistic regression of churn on the measure scores as fractions (score / 100); a
    measure a row lacks takes the mean of the rows that have it."""
    means = {}
    for key in keys:
        present = [r.measures[key] for r in rows if key in r.measures]
        means[key] = sum(present) / len(present)
    matrix = [[r.measures.get(key, means[key]) / 100 for key in keys] for r in rows]
    return stats.fit_logistic(matrix, [r.churned for r in rows], c=REGULARISATION_C)


def weights_from_coefficients(coefficients: Mapping[str, float]) -> dict[str, int] | None:
    """Weights adding up to WEIGHT_TOTAL in proportion to −coefficient (a higher score, less
    churn), 0 for a measure whose higher score goes with more churn; every measure key appears.
    None when no measure gets a weight."""
    signal = {key: max(0.0, -coefficients.get(key, 0.0)) for key in MEASURE_KEYS}
    shares = stats.integer_shares(list(signal.values()), WEIGHT_TOTAL)
    if not any(shares):
        return None
    return dict(zip(signal, shares, strict=True))


def rescore(row: Row, weights: Mapping[str, int]) -> int | None:
    """The row's score under `weights` as the scorecard computes it: weighted mean of the measures
    present, rounded half up; None when none of them has a weight."""
    exact = weighted_mean((score, weights.get(key, 0)) for key, score in row.measures.items())
    return None if exact is None else round_half_up(exact)


def compare_on(
    rows: Sequence[Row], weights: Mapping[str, int]
) -> tuple[float | None, float | None]:
    """(AUC of the stored scores, AUC of the scores under `weights`) on the same rows: those the
    new weights can score."""
    pairs = [(r, rescore(r, weights)) for r in rows]
    kept = [(r, new) for r, new in pairs if new is not None]
    churned = [r.churned for r, _new in kept]
    current = agreement([r.score for r, _new in kept], churned).auc
    suggested = agreement([new for _r, new in kept if new is not None], churned).auc
    return current, suggested


# --- The `backtest --json` contract ---------------------------------------------------------------


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def report_json(report: Report, *, pairs: bool = False) -> dict[str, object]:
    """The `backtest --json` object (issue 16): rates rounded to 6 places, null where undefined."""
    overall = report.overall
    suggestion = report.suggestion
    payload: dict[str, object] = {
        "months": [month.strftime("%Y-%m") for month in report.months],
        "accounts": overall.rows,
        "churned": overall.churned,
        "auc": _rounded(overall.auc),
        "auc_ci": (
            [_rounded(overall.low), _rounded(overall.high)] if overall.auc is not None else None
        ),
        "bands": {
            rate.label: {
                "accounts": rate.rows,
                "churned": rate.churned,
                "rate": _rounded(rate.rate),
            }
            for rate in report.bands
        },
        "measures": [
            {"key": key, "auc": _rounded(agreement.auc)}
            for key, agreement in report.measures.items()
        ],
        "suggested_weights": suggestion.weights if suggestion and suggestion.weights else None,
        "current_auc_test": _rounded(suggestion.current_auc) if suggestion else None,
        "suggested_auc_test": _rounded(suggestion.suggested_auc) if suggestion else None,
    }
    if pairs:
        payload["pairs"] = [
            {
                "account": row.account,
                "month": row.month.strftime("%Y-%m"),
                "score": row.score,
                "churned": row.churned,
            }
            for row in report.rows
        ]
    return payload
