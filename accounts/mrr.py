"""MRR arithmetic (DESIGN §4), pure: no ORM here, so the nightly job, the pages and the KPI code
all share one tested definition.

A subscription's MRR is its amount when billed monthly and amount / 12 when billed yearly, rounded
half-up to cents. It counts on day d when start_date <= d < end_date (end exclusive, no end =
ongoing). Month-end MRR is the MRR on the last day of the month.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple, Protocol

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MONTHLY = "month"
YEARLY = "year"
MONTHS_PER_INTERVAL = {MONTHLY: 1, YEARLY: 12}


def subscription_mrr(amount: Decimal, interval: str, interval_count: int = 1) -> Decimal:
    """Monthly recurring revenue of one amount billed every `interval_count` months or years
    (Stripe's `recurring.interval_count`: 3 months = quarterly), half-up to cents."""
    try:
        months = MONTHS_PER_INTERVAL[interval]
    except KeyError:
        raise ValueError(f"unknown billing interval {interval!r}") from None
    if interval_count < 1:
        raise ValueError(f"an interval count is at least 1, not {interval_count!r}")
    return (Decimal(amount) / (months * interval_count)).quantize(CENT, rounding=ROUND_HALF_UP)


class Terms(Protocol):
    """What MRR needs of a subscription; the Subscription model satisfies it."""

    start_date: date
    end_date: date | None
    mrr: Decimal


@dataclass(frozen=True)
class SubscriptionTerms:
    start_date: date
    end_date: date | None
    mrr: Decimal


def is_active(terms: Terms, day: date) -> bool:
    return terms.start_date <= day and (terms.end_date is None or day < terms.end_date)


def mrr_on(subscriptions: Iterable[Terms], day: date) -> Decimal:
    """An account's (or a whole book's) MRR on one day."""
    return sum((s.mrr for s in subscriptions if is_active(s, day)), ZERO)


class Month(NamedTuple):
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """'2026-03' → Month(2026, 3); ValueError on anything else."""
        try:
            year_s, month_s = text.split("-")
            month = cls(int(year_s), int(month_s))
        except ValueError:
            raise ValueError(f"{text!r} is not a month like 2026-03") from None
        if not 1 <= month.month <= 12 or len(year_s) != 4:
            raise ValueError(f"{text!r} is not a month like 2026-03")
        return month

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def minus(self, months: int) -> Month:
        index = self.year * 12 + (self.month - 1) - months
        return Month(index // 12, index % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def months_between(first: Month, last: Month) -> Iterator[Month]:
    """Every month from first to last, both included."""
    month = first
    while month <= last:
        yield month
        month = month.next()


def month_end_series(
    subscriptions: Iterable[Terms], first: Month, last: Month
) -> dict[Month, Decimal]:
    """Month-end MRR E(M) for each month from first to last (one account or a whole book)."""
    subs = list(subscriptions)
    return {month: mrr_on(subs, month.last_day) for month in months_between(first, last)}


def month_end_series_by_account(
    rows: Iterable[tuple[Hashable, Terms]], first: Month, last: Month
) -> dict[Hashable, dict[Month, Decimal]]:
    """E(a, M) for every account that has a subscription; rows are (account key, terms)."""
    by_account: dict[Hashable, list[Terms]] = defaultdict(list)
    for key, terms in rows:
        by_account[key].append(terms)
    return {key: month_end_series(subs, first, last) for key, subs in by_account.items()}
