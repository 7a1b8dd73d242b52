"""csm.lib.stats against scikit-learn on the same data: the AUC, DeLong's interval against a
bootstrap of the same pairs, the ROC curve, and the regularised logistic regression."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from csm.lib import stats


def _pairs(n: int, seed: int, *, signal: float = 1.0, ties: bool = True):
    rng = random.Random(seed)
    labels = [rng.random() < 0.25 for _ in range(n)]
    values = [rng.gauss(signal if y else 0.0, 1.0) for y in labels]
    if ties:  # integer values, as health scores are: many ties
        values = [round(v * 3) for v in values]
    return values, labels


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("ties", [True, False])
def test_auc_matches_scikit_learn(seed, ties):
    values, labels = _pairs(400, seed, ties=ties)
    assert stats.roc_auc(values, labels) == pytest.approx(roc_auc_score(labels, values), abs=1e-12)


def test_auc_counts_ties_as_half():
    assert stats.roc_auc([1, 1], [True, False]) == 0.5
    assert stats.roc_auc([2, 1, 1], [True, True, False]) == 0.75


def test_auc_is_none_without_both_classes():
    assert stats.roc_auc([1, 2], [True, True]) is None
    assert stats.delong([], []) is None


def test_auc_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="length"):
        stats.delong([1, 2], [True])


def test_delong_interval_agrees_with_a_bootstrap_of_the_same_pairs():
    values, labels = _pairs(1500, 7, signal=0.8)
    result = stats.delong(values, labels)
    assert result is not None
    v, y = np.array(values), np.array(labels)
    rng = np.random.default_rng(11)
    aucs = []
    for _ in range(2000):
        sample = rng.integers(0, len(v), len(v))
        if y[sample].all() or not y[sample].any():
            continue
        aucs.append(roc_auc_score(y[sample], v[sample]))
    low, high = np.percentile(aucs, [2.5, 97.5])
    assert result.se == pytest.approx(np.std(aucs, ddof=1), rel=0.1)
    assert result.low == pytest.approx(low, abs=0.01)
    assert result.high == pytest.approx(high, abs=0.01)
    assert result.low < result.auc < result.high


def test_delong_standard_error_matches_the_textbook_formula():
    # Hanley & McNeil's worked example is not exact for DeLong; use the definition directly.
    values = [0.9, 0.8, 0.4, 0.7, 0.3, 0.2, 0.6]
    labels = [True, True, True, False, False, False, False]
    pos = [v for v, y in zip(values, labels, strict=True) if y]
    neg = [v for v, y in zip(values, labels, strict=True) if not y]

    def psi(a, b):
        return 1.0 if a > b else 0.5 if a == b else 0.0

    v10 = [np.mean([psi(p, q) for q in neg]) for p in pos]
    v01 = [np.mean([psi(p, q) for p in pos]) for q in neg]
    expected = np.sqrt(np.var(v10, ddof=1) / len(pos) + np.var(v01, ddof=1) / len(neg))
    result = stats.delong(values, labels)
    assert result.auc == pytest.approx(np.mean(v10))
    assert result.se == pytest.approx(expected)


def test_roc_curve_matches_scikit_learn():
    values, labels = _pairs(300, 5)
    fpr, tpr, _thresholds = sk_roc_curve(labels, values, drop_intermediate=False)
    ours = stats.roc_curve(values, labels)
    assert [p[0] for p in ours] == pytest.approx(list(fpr))
    assert [p[1] for p in ours] == pytest.approx(list(tpr))


@pytest.mark.parametrize("c", [0.1, 1.0, 10.0])
def test_logistic_regression_matches_scikit_learn(c):
    rng = random.Random(3)
    rows, labels = [], []
    for _ in range(800):
        row = [rng.random() for _ in range(4)]
        z = -1.0 - 2.5 * row[0] + 1.5 * row[1] + 0.2 * row[2]
        rows.append(row)
        labels.append(rng.random() < 1 / (1 + np.exp(-z)))
    ours = stats.fit_logistic(rows, labels, c=c)
    theirs = LogisticRegression(C=c, tol=1e-12, max_iter=10_000).fit(rows, labels)
    assert ours.intercept == pytest.approx(theirs.intercept_[0], abs=1e-5)
    assert list(ours.coefficients) == pytest.approx(list(theirs.coef_[0]), abs=1e-5)
    assert ours.probability(rows[0]) == pytest.approx(
        theirs.predict_proba([rows[0]])[0][1], abs=1e-6
    )


def test_logistic_regression_refuses_bad_input():
    with pytest.raises(ValueError, match="no rows"):
        stats.fit_logistic([], [])
    with pytest.raises(ValueError, match="positive"):
        stats.fit_logistic([[1.0]], [True], c=0)
    with pytest.raises(ValueError, match="length"):
        stats.fit_logistic([[1.0], [1.0, 2.0]], [True, False])


def test_solve_solves_a_small_system():
    assert stats.solve([[2, 1], [1, 3]], [3, 5]) == pytest.approx([0.8, 1.4])
    with pytest.raises(ValueError, match="singular"):
        stats.solve([[1, 2], [2, 4]], [1, 2])


def test_integer_shares_add_up_to_the_total():
    assert stats.integer_shares([1, 1, 1], 100) == [34, 33, 33]
    assert stats.integer_shares([3, 0, 1], 100) == [75, 0, 25]
    assert stats.integer_shares([0, 0], 100) == [0, 0]
    assert sum(stats.integer_shares([0.7, 0.2, 0.05, 0.05], 100)) == 100
