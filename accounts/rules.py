"""Account classification rules (DESIGN §4), pure: lifecycle stage and tier."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

ONBOARDING = "onboarding"
ADOPTION = "adoption"
MATURE = "mature"
LIFECYCLE_STAGES = (ONBOARDING, ADOPTION, MATURE)
# onboarding < 30 days <= adoption < 180 days <= mature, counted from the contract start.
ADOPTION_STARTS_DAY = 30
MATURE_STARTS_DAY = 180

TIERS = ("A", "B", "C")


def lifecycle_stage(contract_start: date, today: date) -> str:
    age = (today - contract_start).days
    if age < ADOPTION_STARTS_DAY:
        return ONBOARDING
    if age < MATURE_STARTS_DAY:
        return ADOPTION
    return MATURE


def tier_for(*, mrr: Decimal, strategic: bool, a_min_mrr: Decimal, b_min_mrr: Decimal) -> str:
    """A for strategic accounts or MRR in the top band, B for the middle band, C otherwise."""
    if strategic or mrr >= a_min_mrr:
        return "A"
    if mrr >= b_min_mrr:
        return "B"
    return "C"


def effective_tier(*, computed: str, override: str) -> str:
    """A manager's override (with its reason) wins over the rule."""
    return override or computed
