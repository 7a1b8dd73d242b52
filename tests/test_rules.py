from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.rules import effective_tier, lifecycle_stage, tier_for

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("age_days", "stage"),
    [
        (0, "onboarding"),
        (29, "onboarding"),
        (30, "adoption"),
        (179, "adoption"),
        (180, "mature"),
        (900, "mature"),
    ],
)
def test_lifecycle_stage_follows_days_since_contract_start(age_days, stage):
    assert lifecycle_stage(TODAY - timedelta(days=age_days), TODAY) == stage


def tier(mrr, strategic=False):
    return tier_for(
        mrr=Decimal(mrr), strategic=strategic, a_min_mrr=Decimal(2000), b_min_mrr=Decimal(500)
    )


def test_tier_bands_by_mrr():
    assert tier("2000") == "A"
    assert tier("1999.99") == "B"
    assert tier("500") == "B"
    assert tier("499.99") == "C"
    assert tier("0") == "C"


def test_a_strategic_account_is_tier_a_whatever_it_pays():
    assert tier("10", strategic=True) == "A"


def test_a_manager_override_wins_over_the_rule():
    assert effective_tier(computed="C", override="A") == "A"
    assert effective_tier(computed="B", override="") == "B"
