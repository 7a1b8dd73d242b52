"""The health score's arithmetic (DESIGN §4), on the pure functions in health/scoring.py."""

from __future__ import annotations

from decimal import Decimal

import pytest

from health import scoring
from health.scoring import GridError, MeasureDef, Scorecard, band_for, check_grid, combine, grid

ANY = scoring.grid((0, 0))


def entry(key: str, score: int, weight: int) -> tuple[str, Decimal, int, scoring.Grid]:
    """An entry whose grid gives `score` for the raw value 0."""
    return (key, Decimal(0), weight, scoring.grid((0, score)))


def test_gainsights_worked_example_scores_40():
    # Weights 20/15/22 with measure scores 47/59/21: (940 + 885 + 462) / 57 = 40.12 → 40.
    result = combine([entry("a", 47, 20), entry("b", 59, 15), entry("c", 21, 22)])
    assert result is not None
    assert result.exact == Decimal(2287) / 57
    assert result.value == 40
    assert result.band == "red"


def test_contributions_add_up_to_the_score():
    result = combine([entry("a", 47, 20), entry("b", 59, 15), entry("c", 21, 22)])
    assert result is not None
    assert sum(m.contribution for m in result.measures) == result.exact
    assert [m.contribution.quantize(Decimal("0.01")) for m in result.measures] == [
        Decimal("16.49"),
        Decimal("15.53"),
        Decimal("8.11"),
    ]


def test_a_measure_without_data_is_dropped_and_the_weights_renormalised():
    with_gap = combine(
        [entry("a", 80, 30), ("b", None, 50, ANY), entry("c", 40, 10)]  # b has no data
    )
    assert with_gap is not None
    assert [m.key for m in with_gap.measures] == ["a", "c"]
    assert with_gap.exact == Decimal(80 * 30 + 40 * 10) / 40  # 70, not (2400 + 400) / 90
    assert sum(m.contribution for m in with_gap.measures) == with_gap.exact


def test_a_weight_of_zero_leaves_a_measure_out():
    result = combine([entry("a", 100, 0), entry("b", 50, 10)])
    assert result is not None
    assert result.value == 50
    assert [m.key for m in result.measures] == ["b"]


def test_no_measure_with_data_means_no_score():
    assert combine([("a", None, 10, ANY)]) is None
    assert combine([]) is None


@pytest.mark.parametrize(
    ("score", "band"),
    [(0, "red"), (50, "red"), (51, "yellow"), (75, "yellow"), (76, "green"), (100, "green")],
)
def test_band_edges(score, band):
    assert band_for(score) == band


def test_the_band_follows_the_rounded_score():
    # 50.5 rounds half-up to 51: yellow, not red.
    result = combine([entry("a", 50, 1), entry("b", 51, 1)])
    assert result is not None
    assert result.exact == Decimal("50.5")
    assert (result.value, result.band) == (51, "yellow")


def test_a_grid_scores_the_row_of_the_highest_bound_reached():
    rows = grid((0, 0), (1, 20), (4, 40), (8, 60))
    assert [scoring.grid_score(rows, Decimal(v)) for v in (0, 1, 3, 4, 7, 8, 30)] == [
        0,
        20,
        20,
        40,
        40,
        60,
        60,
    ]
    # Below the first bound: the first row's score.
    assert scoring.grid_score(grid((-100, 0), (0, 100)), Decimal(-150)) == 0


def test_a_falling_grid_scores_lower_for_larger_values():
    days_since = scoring.DEFAULTS_BY_KEY["days_since_active"].grid
    assert [scoring.grid_score(days_since, Decimal(d)) for d in (0, 3, 10, 20, 90)] == [
        100,
        80,
        60,
        30,
        0,
    ]


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([], "at least one row"),
        ([[0, 10], [0, 20]], "row 2: lower bounds must rise"),
        ([[0, 101]], "row 1: a score is 0 to 100"),
        ([[0, -1]], "row 1: a score is 0 to 100"),
        ([["x", 10]], "row 1: not a number"),
        ([[0, 10, 3]], "row 1: give a lower bound and a score"),
        ([["NaN", 10]], "row 1: not a number"),
        ([[0, 10], [10**9 + 1, 20]], "row 2: a lower bound is from"),
        ([["-1000000000.5", 10]], "row 1: a lower bound is from"),
    ],
)
def test_a_bad_grid_is_refused_with_the_row_named(rows, problem):
    with pytest.raises(GridError, match=problem):
        check_grid(rows)


def test_grid_bounds_of_a_billion_either_way_are_accepted():
    assert check_grid([[-(10**9), 0], [10**9, 100]]) == (
        (Decimal(-(10**9)), 0),
        (Decimal(10**9), 100),
    )


def test_a_good_grid_is_parsed():
    assert check_grid([["-10", "0"], [0, 50], ["2.5", 100]]) == (
        (Decimal(-10), 0),
        (Decimal(0), 50),
        (Decimal("2.5"), 100),
    )


def test_the_most_specific_weight_wins():
    measure = MeasureDef("a", "A", "", grid((0, 0)), weight=10)
    card = Scorecard(
        measures=(measure,),
        weight_overrides={
            ("a", "A", ""): 20,
            ("a", "", "onboarding"): 30,
            ("a", "A", "mature"): 40,
        },
    )
    assert card.weight_for(measure, "A", "mature") == 40  # tier and stage
    assert card.weight_for(measure, "A", "adoption") == 20  # tier
    assert card.weight_for(measure, "B", "onboarding") == 30  # stage
    assert card.weight_for(measure, "B", "adoption") == 10  # the measure's own


def test_a_disabled_measure_is_not_scored():
    on = MeasureDef("on", "On", "", grid((0, 80)), weight=10)
    off = MeasureDef("off", "Off", "", grid((0, 0)), weight=10, enabled=False)
    result = Scorecard(measures=(on, off)).score(
        {"on": Decimal(1), "off": Decimal(1)}, tier="C", stage="mature"
    )
    assert result is not None
    assert result.value == 80


def test_the_trend_is_today_minus_then_and_unknown_without_a_score_then():
    assert scoring.trend(60, 75) == -15
    assert scoring.trend(60, None) is None


def test_explanations_read_in_plain_words():
    assert scoring.explain("active_days", 4, was=18) == "active on 4 of the last 30 days (was 18)"
    assert scoring.explain("active_days", 4, was=4) == "active on 4 of the last 30 days"
    assert scoring.explain("days_since_active", 90) == "no activity in the last 90 days"
    assert scoring.explain("days_since_active", 1) == "last active 1 day ago"
    assert scoring.explain("usage_trend", -60) == "events per day -60% against the 60 days before"
    assert scoring.explain("billing", 2) == "2 failed payments in the last 30 days"
    assert scoring.explain("feature_adoption", 1) == "used 1 feature in the last 30 days"
