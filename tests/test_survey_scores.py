from __future__ import annotations

from decimal import Decimal

from feedback.scores import ces, csat, nps, nps_group


def test_nps_counts_passives_in_the_denominator():
    # 5 promoters, 3 passives, 2 detractors: 50% − 20% = 30, not 5/7 − 2/7.
    assert nps([10, 10, 9, 9, 9, 8, 7, 7, 6, 0]) == Decimal("30.0")


def test_nps_runs_from_minus_100_to_100():
    assert nps([0, 3, 6]) == Decimal("-100.0")
    assert nps([9, 10]) == Decimal("100.0")
    assert nps([7, 8]) == Decimal("0.0")


def test_nps_of_no_answers_is_undefined():
    assert nps([]) is None
    assert csat([]) is None
    assert ces([]) is None


def test_nps_rounds_each_share_to_a_tenth():
    # 1 promoter of 3 = 33.3%, 1 detractor of 3 = 33.3% → 0.0
    assert nps([10, 8, 2]) == Decimal("0.0")
    # 2 of 3 promoters = 66.7%, no detractors
    assert nps([10, 9, 7]) == Decimal("66.7")


def test_csat_is_the_share_answering_4_or_5():
    assert csat([5, 4, 3, 2, 1]) == Decimal("40.0")
    assert csat([4]) == Decimal("100.0")


def test_ces_gives_the_mean_and_the_share_answering_5_to_7():
    assert ces([7, 5, 4, 1]) == (Decimal("4.25"), Decimal("50.0"))


def test_nps_groups():
    assert [nps_group(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
