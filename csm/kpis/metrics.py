"""MRR movements, monthly KPIs and cohorts (DESIGN §4), pure: no ORM here. The nightly run
(csm.kpis.snapshots), the `kpis` command and the pages all go through these functions, so
there is one tested definition.

Movements for month M, per account, with s = E(a, M−1) and e = E(a, M) (month-end MRR):

- new: s = 0 < e and no earlier month had E > 0 → +e
- reactivation: s = 0 < e and an earlier month had E > 0 → +e
- expansion: 0 < s < e → +(e − s)
- contraction: 0 < e < s → +(s − e)
- churn: s > 0 = e → +s

So mrr_end = mrr_start + new + reactivation + expansion − contraction − churn, and joining and
leaving inside one month leaves no trace.

Output conventions (the `kpis --json` contract, DESIGN §5): money is a string with two places,
rates are numbers (0.05 = 5%) rounded half-up to six places, and None (JSON null) where a
denominator is 0. NPS is on its own −100..100 scale with one decimal (30.0 = NPS 30), not a rate.
Ratios are computed on exact sums and rounded once at the end: LTV divides the unrounded ARPA by
the unrounded mean churn rate, then rounds to cents.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from accounts.mrr import CENT, ZERO, Month, months_between

RATE_PLACES = Decimal("0.000001")
LTV_MONTHS = 6

NEW = "new"
REACTIVATION = "reactivation"
EXPANSION = "expansion"
CONTRACTION = "contraction"
CHURN = "churn"

# The contract's keys, in the order `kpis --json` prints them.
KPI_KEYS = (
    "month",
    "customers_start",
    "customers_end",
    "new_customers",
    "reactivated_customers",
    "churned_customers",
    "customer_churn_rate",
    "mrr_start",
    "mrr_end",
    "mrr_new",
    "mrr_expansion",
    "mrr_contraction",
    "mrr_churn",
    "mrr_reactivation",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
    "grr",
    "nrr",
    "quick_ratio",
    "arpa",
    "ltv",
    "nps",
)
# Money as decimal strings with 2 places: every MRR figure, ARPA and LTV.
MONEY_KEYS = frozenset(key for key in KPI_KEYS if key.startswith("mrr_")) | {"arpa", "ltv"}
RATE_KEYS = frozenset(
    {
        "customer_churn_rate",
        "gross_mrr_churn_rate",
        "net_mrr_churn_rate",
        "grr",
        "nrr",
        "quick_ratio",
    }
)


# --- Movements -----------------------------------------------------------------------------------


class MonthMovement(NamedTuple):
    """One account's month: s, e, and the movement between them ("" when unchanged)."""

    month: Month
    mrr_start: Decimal
    mrr_end: Decimal
    movement: str
    amount: Decimal


def classify(s: Decimal, e: Decimal, *, paid_before: bool) -> tuple[str, Decimal]:
    """The movement and its (positive) amount for month-end MRR s → e. `paid_before`: some
    month before the previous one had E > 0 (tells a reactivation from a new customer)."""
    if s == 0:
        if e > 0:
            return (REACTIVATION if paid_before else NEW), e
        return "", ZERO
    if e == 0:
        return CHURN, s
    if e > s:
        return EXPANSION, e - s
    if e < s:
        return CONTRACTION, s - e
    return "", ZERO


def classify_mrr_movements(
    series: Mapping[Month, Decimal],
    *,
    start: Decimal = ZERO,
    paid_before: bool = False,
) -> dict[Month, MonthMovement]:
    """Movements of one account for each month from the series' first month to its last.

    `series` maps months to month-end MRR E; months missing between the first and the last count
    as 0. `start` is E of the month before the first (0 when the series begins before the account
    ever paid) and `paid_before` says whether any month before that one had E > 0. Months where
    s and e are both 0 are left out: the account was not a customer then.
    """
    if not series:
        return {}
    months = list(months_between(min(series), max(series)))
    values = [series.get(month, ZERO) for month in months]
    return {
        movement.month: movement
        for movement in classify_months(months, values, start=start, paid_before=paid_before)
    }


def classify_months(
    months: Sequence[Month],
    values: Sequence[Decimal],
    *,
    start: Decimal = ZERO,
    paid_before: bool = False,
) -> list[MonthMovement]:
    """classify_mrr_movements for consecutive `months` with E given by `values` (the form the
    nightly's SQL returns, without building a dict per account)."""
    result = []
    previous = Decimal(start)
    earlier = paid_before  # some month before `previous`'s month had E > 0
    for month, current in zip(months, values, strict=True):
        if previous or current:
            movement, amount = classify(previous, current, paid_before=earlier)
            result.append(MonthMovement(month, previous, current, movement, amount))
            earlier = earlier or previous > 0
        previous = current
    return result


# --- Monthly KPIs --------------------------------------------------------------------------------


@dataclass(slots=True)
class MonthTotals:
    """A month's movements summed over a set of accounts (a scope)."""

    month: Month
    customers_start: int = 0
    customers_end: int = 0
    new_customers: int = 0
    reactivated_customers: int = 0
    churned_customers: int = 0
    expanded_customers: int = 0
    contracted_customers: int = 0
    mrr_start: Decimal = ZERO
    mrr_end: Decimal = ZERO
    mrr_new: Decimal = ZERO
    mrr_expansion: Decimal = ZERO
    mrr_contraction: Decimal = ZERO
    mrr_churn: Decimal = ZERO
    mrr_reactivation: Decimal = ZERO

    def add(self, movement: MonthMovement) -> None:
        if movement.mrr_start > 0:
            self.customers_start += 1
            self.mrr_start += movement.mrr_start
        if movement.mrr_end > 0:
            self.customers_end += 1
            self.mrr_end += movement.mrr_end
        counted = _COUNTED_AS.get(movement.movement)
        if counted is not None:
            customers, mrr = counted
            setattr(self, customers, getattr(self, customers) + 1)
            setattr(self, mrr, getattr(self, mrr) + movement.amount)

    def merge(self, other: MonthTotals) -> None:
        """Add another scope's totals of the same month (e.g. each book into "all")."""
        for name in _TOTAL_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def customer_churn_rate(self) -> Decimal | None:
        return _ratio(Decimal(self.churned_customers), Decimal(self.customers_start))


_TOTAL_FIELDS = tuple(name for name in MonthTotals.__dataclass_fields__ if name != "month")
# Each movement's customer count and MRR sum in MonthTotals.
_COUNTED_AS = {
    NEW: ("new_customers", "mrr_new"),
    REACTIVATION: ("reactivated_customers", "mrr_reactivation"),
    EXPANSION: ("expanded_customers", "mrr_expansion"),
    CONTRACTION: ("contracted_customers", "mrr_contraction"),
    CHURN: ("churned_customers", "mrr_churn"),
}


def month_totals(month: Month, movements: Iterable[MonthMovement]) -> MonthTotals:
    """Sum the movements of `month` (movements of other months are ignored)."""
    totals = MonthTotals(month)
    for movement in movements:
        if movement.month == month:
            totals.add(movement)
    return totals


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if whole == 0 else part / whole


def _rate(value: Decimal | None) -> float | None:
    return None if value is None else float(value.quantize(RATE_PLACES, rounding=ROUND_HALF_UP))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def ltv_churn_rate(month: Month, previous: Iterable[MonthTotals]) -> Decimal | None:
    """Mean customer churn rate of the six months before `month` that had customers at their
    start; None when there is none."""
    window = {month.minus(n) for n in range(1, LTV_MONTHS + 1)}
    rates = [
        rate
        for totals in previous
        if totals.month in window and (rate := totals.customer_churn_rate) is not None
    ]
    if not rates:
        return None
    return sum(rates, Decimal(0)) / len(rates)


def monthly_kpis(
    totals: MonthTotals,
    *,
    previous: Sequence[MonthTotals] = (),
    nps: Decimal | None = None,
) -> dict[str, Any]:
    """The KPIs of DESIGN §4 for one month and scope, keyed and formatted as `kpis --json` prints
    them. `previous` holds the totals of earlier months (the six before feed LTV); `nps` is the
    month's NPS (feedback.scores.nps) or None when nobody answered."""
    t = totals
    start = t.mrr_start
    lost = t.mrr_churn + t.mrr_contraction
    arpa = _ratio(t.mrr_end, Decimal(t.customers_end))
    churn_for_ltv = ltv_churn_rate(t.month, previous)
    ltv = None if arpa is None or not churn_for_ltv else arpa / churn_for_ltv
    return {
        "month": str(t.month),
        "customers_start": t.customers_start,
        "customers_end": t.customers_end,
        "new_customers": t.new_customers,
        "reactivated_customers": t.reactivated_customers,
        "churned_customers": t.churned_customers,
        "customer_churn_rate": _rate(t.customer_churn_rate),
        "mrr_start": _money(t.mrr_start),
        "mrr_end": _money(t.mrr_end),
        "mrr_new": _money(t.mrr_new),
        "mrr_expansion": _money(t.mrr_expansion),
        "mrr_contraction": _money(t.mrr_contraction),
        "mrr_churn": _money(t.mrr_churn),
        "mrr_reactivation": _money(t.mrr_reactivation),
        "gross_mrr_churn_rate": _rate(_ratio(lost, start)),
        "net_mrr_churn_rate": _rate(_ratio(lost - t.mrr_expansion - t.mrr_reactivation, start)),
        "grr": _rate(_ratio(start - lost, start)),
        "nrr": _rate(_ratio(start - lost + t.mrr_expansion, start)),
        "quick_ratio": _rate(_ratio(t.mrr_new + t.mrr_expansion, lost)),
        "arpa": _money(arpa),
        "ltv": _money(ltv),
        "nps": None if nps is None else float(nps),
    }


def totals_by_scope(
    movements: Iterable[tuple[Hashable, MonthMovement]], *, everything: Hashable | None = None
) -> dict[Hashable, dict[Month, MonthTotals]]:
    """Sum movements into MonthTotals per scope and month; each movement comes with the scope it
    counts in (e.g. its owner's book). With `everything`, that key also gets the sum of all the
    scopes (e.g. "all")."""
    result: dict[Hashable, dict[Month, MonthTotals]] = {}
    for scope, movement in movements:
        by_month = result.get(scope)
        if by_month is None:
            by_month = result[scope] = {}
        totals = by_month.get(movement.month)
        if totals is None:
            totals = by_month[movement.month] = MonthTotals(movement.month)
        totals.add(movement)
    if everything is not None:
        combined: dict[Month, MonthTotals] = {}
        for by_month in result.values():
            for month, totals in by_month.items():
                combined.setdefault(month, MonthTotals(month)).merge(totals)
        result[everything] = combined
    return result


# --- Cohorts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortCell:
    """Month k of a cohort: accounts still paying and their MRR."""

    customers: int
    mrr: Decimal


@dataclass
class CohortRow:
    """A cohort (accounts whose first month with E > 0 is `month`) and its retention by months
    since; `logo[k]` and `revenue[k]` are None for months still in the future."""

    month: Month
    size: int
    mrr: Decimal
    cells: list[CohortCell | None] = field(default_factory=list)

    @property
    def logo(self) -> list[Decimal | None]:
        return [None if c is None else Decimal(c.customers) / self.size for c in self.cells]

    @property
    def revenue(self) -> list[Decimal | None]:
        return [None if c is None else _ratio(c.mrr, self.mrr) for c in self.cells]


def cohort_rows(cells: Mapping[tuple[Month, Month], CohortCell], *, last: Month) -> list[CohortRow]:
    """Cohort rows from per-(cohort month, month) cells (customers with E > 0 and their MRR, as
    SQL aggregates them). Every row runs to `last`; a month with nobody left is 0, not empty."""
    rows = []
    for cohort in sorted({c for c, _month in cells}):
        first = cells[(cohort, cohort)]
        row = CohortRow(month=cohort, size=first.customers, mrr=first.mrr)
        for month in months_between(cohort, last):
            row.cells.append(cells.get((cohort, month), CohortCell(0, ZERO)))
        rows.append(row)
    width = max((len(row.cells) for row in rows), default=0)
    for row in rows:
        row.cells.extend([None] * (width - len(row.cells)))  # the future: empty, not 0
    return rows


def cohort_table(
    series_by_account: Mapping[Hashable, Mapping[Month, Decimal]], *, last: Month | None = None
) -> list[CohortRow]:
    """Logo and revenue retention by first-paid month (DESIGN §4). Each series maps months to
    E(a, M) and must start early enough to contain the account's first month with E > 0;
    `last` is the latest month (default: the latest in any series)."""
    if last is None:
        last = max((max(s) for s in series_by_account.values() if s), default=None)
        if last is None:
            return []
    cells: dict[tuple[Month, Month], CohortCell] = {}
    for series in series_by_account.values():
        paid = sorted(month for month, value in series.items() if value > 0 and month <= last)
        if not paid:
            continue
        cohort = paid[0]
        for month in paid:
            cell = cells.get((cohort, month), CohortCell(0, ZERO))
            cells[(cohort, month)] = CohortCell(cell.customers + 1, cell.mrr + series[month])
    return cohort_rows(cells, last=last)
