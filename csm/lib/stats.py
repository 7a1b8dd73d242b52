"""Statistics the health-score backtest needs, as pure Python (no ORM, no numpy): the ROC AUC with
DeLong's confidence interval, the ROC curve, and an L2-regularised logistic regression.

The inputs are at most a few tens of thousands of (value, label) pairs and eight columns, which
plain Python handles in well under a second; numpy would add a compiled dependency to the app for
no visible gain. tests/test_stats.py checks every function against scikit-learn on the same data.

Convention (scikit-learn's): a higher `value` means "more likely positive". The health score runs
the other way (a lower score should mean churn), so the backtest passes the negated score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# The two-sided 95% point of the standard normal distribution.
Z_95 = 1.959963984540054


def midranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n of `values`, ties sharing the mean of the ranks they span."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        rank = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = rank
        start = end + 1
    return ranks


@dataclass(frozen=True)
class Auc:
    """An AUC with its DeLong standard error and 95% interval (clipped to 0..1)."""

    auc: float
    se: float
    low: float
    high: float
    positives: int
    negatives: int


def roc_auc(values: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The probability that a positive's value is above a negative's, ties counting half
    (the Mann-Whitney U over m·n). None when either class is empty."""
    result = delong(values, labels)
    return None if result is None else result.auc


def delong(values: Sequence[float], labels: Sequence[bool]) -> Auc | None:
    """The AUC and its DeLong (1988) variance by the midrank algorithm of Sun and Xu (2014):
    V10 of each positive = share of negatives below it (ties half), V01 of each negative = share
    of positives above it; var = s²(V10)/m + s²(V01)/n. None when either class is empty; with a
    single member in a class its variance term is 0."""
    if len(values) != len(labels):
        raise ValueError("values and labels differ in length")
    positives = [v for v, y in zip(values, labels, strict=True) if y]
    negatives = [v for v, y in zip(values, labels, strict=True) if not y]
    m, n = len(positives), len(negatives)
    if not m or not n:
        return None
    overall = midranks(positives + negatives)
    within_pos = midranks(positives)
    within_neg = midranks(negatives)
    v10 = [(overall[i] - within_pos[i]) / n for i in range(m)]
    v01 = [1 - (overall[m + j] - within_neg[j]) / m for j in range(n)]
    auc = sum(v10) / m
    variance = _sample_variance(v10) / m + _sample_variance(v01) / n
    se = math.sqrt(max(variance, 0.0))
    return Auc(
        auc=auc,
        se=se,
        low=max(0.0, auc - Z_95 * se),
        high=min(1.0, auc + Z_95 * se),
        positives=m,
        negatives=n,
    )


def _sample_variance(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        return 0.0
    mean = sum(xs) / len(xs)
    return sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)


def roc_curve(values: Sequence[float], labels: Sequence[bool]) -> list[tuple[float, float]]:
    """(false positive rate, true positive rate) at every distinct threshold, from (0, 0) to
    (1, 1): flagging every pair whose value is at least the threshold."""
    m = sum(1 for y in labels if y)
    n = len(labels) - m
    if not m or not n:
        return []
    pairs = sorted(zip(values, labels, strict=True), key=lambda pair: -pair[0])
    points = [(0.0, 0.0)]
    tp = fp = 0
    for index, (value, label) in enumerate(pairs):
        if label:
            tp += 1
        else:
            fp += 1
        if index + 1 == len(pairs) or pairs[index + 1][0] != value:
            points.append((fp / n, tp / m))
    return points


# --- Logistic regression --------------------------------------------------------------------------


@dataclass(frozen=True)
class LogisticFit:
    intercept: float
    coefficients: tuple[float, ...]
    iterations: int

    def linear(self, row: Sequence[float]) -> float:
        return self.intercept + sum(c * x for c, x in zip(self.coefficients, row, strict=True))

    def probability(self, row: Sequence[float]) -> float:
        return _sigmoid(self.linear(row))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def fit_logistic(
    rows: Sequence[Sequence[float]],
    labels: Sequence[bool],
    *,
    c: float = 1.0,
    tolerance: float = 1e-10,
    max_iterations: int = 100,
) -> LogisticFit:
    """Minimise Σ log-loss + ‖β‖² / (2c) (the intercept not penalised), scikit-learn's
    `LogisticRegression(C=c)` objective, by Newton's method: each step solves
    (XᵀWX + I/c) δ = gradient, with W the diagonal p(1 − p). The objective is strictly convex,
    so the steps converge; stops when no coefficient moves by more than `tolerance`."""
    if len(rows) != len(labels):
        raise ValueError("rows and labels differ in length")
    if not rows:
        raise ValueError("no rows to fit")
    if c <= 0:
        raise ValueError("c must be positive")
    width = len(rows[0]) + 1  # the intercept first
    design = [(1.0, *map(float, row)) for row in rows]
    if any(len(row) != width for row in design):
        raise ValueError("rows differ in length")
    ys = [1.0 if y else 0.0 for y in labels]
    beta = [0.0] * width
    penalty = [0.0] + [1 / c] * (width - 1)
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        gradient = [penalty[k] * beta[k] for k in range(width)]
        hessian = [[0.0] * width for _ in range(width)]
        for y, x in zip(ys, design, strict=True):
            p = _sigmoid(sum(b * v for b, v in zip(beta, x, strict=True)))
            residual = p - y
            w = p * (1 - p)
            for a in range(width):
                gradient[a] += residual * x[a]
                wa = w * x[a]
                row = hessian[a]
                for b in range(a + 1):
                    row[b] += wa * x[b]
        for a in range(width):
            hessian[a][a] += penalty[a]
            for b in range(a):
                hessian[b][a] = hessian[a][b]
        step = solve(hessian, gradient)
        beta = [b - s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < tolerance:
            break
    return LogisticFit(intercept=beta[0], coefficients=tuple(beta[1:]), iterations=iterations)


def solve(matrix: Sequence[Sequence[float]], vector: Sequence[float]) -> list[float]:
    """x with matrix · x = vector, by Gaussian elimination with partial pivoting."""
    size = len(vector)
    a = [[*map(float, row), float(vector[i])] for i, row in enumerate(matrix)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-300:
            raise ValueError("singular matrix")
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, size):
            factor = a[r][col] / a[col][col]
            if factor:
                for k in range(col, size + 1):
                    a[r][k] -= factor * a[col][k]
    x = [0.0] * size
    for r in range(size - 1, -1, -1):
        x[r] = (a[r][size] - sum(a[r][k] * x[k] for k in range(r + 1, size))) / a[r][r]
    return x


def integer_shares(values: Sequence[float], total: int) -> list[int]:
    """Non-negative `values` as whole numbers that add up to `total`, in proportion (largest
    remainder; ties go to the earlier value). All zeros when the values add up to 0."""
    whole = sum(values)
    if whole <= 0:
        return [0] * len(values)
    exact = [v / whole * total for v in values]
    shares = [math.floor(x) for x in exact]
    left = total - sum(shares)
    by_remainder = sorted(range(len(values)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares
