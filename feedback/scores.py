"""Survey arithmetic (DESIGN §4), pure: no ORM, so pages, the `kpis` command and the health score
share one definition.

NPS (0–10): % promoters (9–10) − % detractors (0–6); passives (7–8) count in the denominator.
CSAT (1–5): % of answers 4–5. CES (1–7, "made it easy"): the mean, and % answering 5–7.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

# The score bands, named once: the pages, the grouped SQL counts and the detractor rule use them.
NPS_PROMOTER_MIN = 9  # 9–10
NPS_PASSIVE_MIN = 7  # 7–8; 0–6 is a detractor
NPS_DETRACTOR_MAX = NPS_PASSIVE_MIN - 1
LOW_SCORE_MAX = 2  # a CSAT (1–5) or CES (1–7) answer of 1–2 is a detractor too
CSAT_SATISFIED_MIN = 4
CES_EASY_MIN = 5


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def nps(scores: Iterable[int]) -> Decimal | None:
    """−100..100, one decimal; None with no answers."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= NPS_PROMOTER_MIN)
    detractors = sum(1 for s in values if s <= NPS_DETRACTOR_MAX)
    return nps_from_counts(promoters, detractors, len(values))


def nps_from_counts(promoters: int, detractors: int, n: int) -> Decimal | None:
    """NPS from counts (grouped SQL): each percentage rounded half-up to 0.1, then subtracted."""
    if not n:
        return None
    return _percent(promoters, n) - _percent(detractors, n)


def csat(scores: Iterable[int]) -> Decimal | None:
    """% of answers 4 or 5, one decimal; None with no answers."""
    values = list(scores)
    if not values:
        return None
    return _percent(sum(1 for s in values if s >= CSAT_SATISFIED_MIN), len(values))


def ces(scores: Iterable[int]) -> tuple[Decimal, Decimal] | None:
    """(mean to two decimals, % answering 5–7 to one decimal); None with no answers."""
    values = list(scores)
    if not values:
        return None
    mean = (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return mean, _percent(sum(1 for s in values if s >= CES_EASY_MIN), len(values))


def nps_group(score: int) -> str:
    """Whether an NPS answer is a promoter, a passive or a detractor."""
    if score >= NPS_PROMOTER_MIN:
        return "promoter"
    if score >= NPS_PASSIVE_MIN:
        return "passive"
    return "detractor"
