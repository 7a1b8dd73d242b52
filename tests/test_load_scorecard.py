"""load_scorecard(): defaults overlaid with managers' settings, as the nightly run reads them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from health.models import MeasureSetting, WeightOverride
from health.scorecard import grid_from_text, grid_to_text, load_scorecard
from health.scoring import DEFAULT_MEASURES, DEFAULTS_BY_KEY, GridError, Scorecard


@pytest.fixture(autouse=True)
def without_starting_weights(db):
    """Start from the bare defaults: the migration's onboarding weights are tested on their own."""
    WeightOverride.objects.all().delete()


def test_without_settings_it_is_the_default_scorecard(db, django_assert_num_queries):
    with django_assert_num_queries(2):  # measure settings, weight overrides
        scorecard = load_scorecard()
    assert scorecard == Scorecard(measures=DEFAULT_MEASURES, weight_overrides={})


def test_a_measure_setting_replaces_that_measures_enabled_flag_weight_and_grid(db):
    MeasureSetting.objects.create(key="billing", enabled=False, weight=3, grid=[[0, 90], [1.5, 10]])
    measures = {measure.key: measure for measure in load_scorecard().measures}
    billing = measures["billing"]
    assert (billing.enabled, billing.weight) == (False, 3)
    assert billing.grid == ((Decimal(0), 90), (Decimal("1.5"), 10))
    assert billing.label == DEFAULTS_BY_KEY["billing"].label  # labels are not stored
    assert measures["active_days"] == DEFAULTS_BY_KEY["active_days"]
    assert [measure.key for measure in load_scorecard().measures] == list(DEFAULTS_BY_KEY)


def test_weight_overrides_are_keyed_by_measure_tier_and_stage(db, django_assert_num_queries):
    WeightOverride.objects.create(key="billing", tier="A", weight=30)
    WeightOverride.objects.create(key="billing", stage="onboarding", weight=0)
    WeightOverride.objects.create(key="billing", tier="A", stage="mature", weight=50)
    MeasureSetting.objects.create(key="active_days", enabled=True, weight=10, grid=[[0, 50]])
    with django_assert_num_queries(2):
        scorecard = load_scorecard()
    assert scorecard.weight_overrides == {
        ("billing", "A", ""): 30,
        ("billing", "", "onboarding"): 0,
        ("billing", "A", "mature"): 50,
    }
    billing = DEFAULTS_BY_KEY["billing"]
    assert scorecard.weight_for(billing, "A", "mature") == 50
    assert scorecard.weight_for(billing, "A", "adoption") == 30
    assert scorecard.weight_for(billing, "B", "onboarding") == 0
    assert scorecard.weight_for(billing, "B", "adoption") == billing.weight


def test_the_loaded_scorecard_scores_with_the_stored_settings(db):
    # Only active days counts, with a grid that gives 50 from 0 days.
    for key in DEFAULTS_BY_KEY:
        if key != "active_days":
            MeasureSetting.objects.create(key=key, enabled=False, weight=1, grid=[[0, 0]])
    MeasureSetting.objects.create(key="active_days", enabled=True, weight=10, grid=[[0, 50]])
    raw = {key: Decimal(5) for key in DEFAULTS_BY_KEY}
    score = load_scorecard().score(raw, tier="C", stage="mature")
    assert score is not None and score.value == 50


def test_an_unusable_stored_grid_falls_back_to_the_default_grid(db, caplog):
    MeasureSetting.objects.create(key="billing", enabled=True, weight=7, grid=[[2, 0], [1, 50]])
    MeasureSetting.objects.create(key="active_days", enabled=True, weight=7, grid="junk")
    measures = {measure.key: measure for measure in load_scorecard().measures}
    assert measures["billing"].grid == DEFAULTS_BY_KEY["billing"].grid
    assert measures["billing"].weight == 7
    assert measures["active_days"].grid == DEFAULTS_BY_KEY["active_days"].grid
    assert "billing has an unusable stored grid" in caplog.text


def test_settings_of_unknown_measures_are_ignored(db):
    MeasureSetting.objects.create(key="retired", enabled=True, weight=50, grid=[[0, 0]])
    WeightOverride.objects.create(key="retired", tier="A", weight=50)
    assert load_scorecard() == Scorecard(measures=DEFAULT_MEASURES, weight_overrides={})


@pytest.mark.parametrize(
    "text", ["0:0, 1:20, 4:40", "-100:0, -0.5:25, 0:100", "0:100"], ids=["ints", "decimals", "one"]
)
def test_a_grid_reads_back_from_its_text(text):
    assert grid_to_text(grid_from_text(text)) == text


def test_grid_text_tolerates_spaces_and_a_trailing_comma():
    assert grid_from_text(" 0 : 0 ,1:20, ") == ((Decimal(0), 0), (Decimal(1), 20))
    with pytest.raises(GridError):
        grid_from_text("0:0:0")


def test_onboarding_accounts_start_with_their_own_weights(db):
    # Written by migration 0002 (the autouse fixture above removes them for the other tests).
    from importlib import import_module

    from django.apps import apps

    import_module("health.migrations.0002_onboarding_weights").add(apps, None)
    card = load_scorecard()
    active_days = next(m for m in card.measures if m.key == "active_days")
    assert card.weight_for(active_days, "B", "onboarding") == 10
    assert card.weight_for(active_days, "B", "mature") == active_days.weight
