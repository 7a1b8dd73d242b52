"""Survey arithmetic (DESIGN §4), pure: no ORM, so pages, the `kpis` command and the health score
share one definition.

NPS (0–10): % promoters (9–10) − % detractors (0–6); passives (7–8) count in the denominator.
CSAT (1–5): % of answers 4–5. CES (1–7, "made it easy"): the mean, and % answering 5–7.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def nps(scores: Iterable[int]) -> Decimal | None:
    """−100..100, one decimal; None with no answers."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    return _percent(promoters, len(values)) - _percent(detractors, len(values))


def csat(scores: Iterable[int]) -> Decimal | None:
    """% of answers 4 or 5, one decimal; None with no answers."""
    values = list(scores)
    if not values:
        return None
    return _percent(sum(1 for s in values if s >= 4), len(values))


def ces(scores: Iterable[int]) -> tuple[Decimal, Decimal] | None:
    """(mean to two decimals, % answering 5–7 to one decimal); None with no answers."""
    values = list(scores)
    if not values:
        return None
    mean = (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return mean, _percent(sum(1 for s in values if s >= 5), len(values))


def nps_group(score: int) -> str:
    """Whether an NPS answer is a promoter, a passive or a detractor."""
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"
