"""The scorecard in force: health.scoring's default measures overlaid with the managers' settings
(MeasureSetting, WeightOverride). The nightly run reads it with load_scorecard(); the managers'
scorecard page edits it with save_scorecard()."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from accounts.audit import record_changes
from accounts.models import LifecycleStage, Tier, User
from health.models import MeasureSetting, WeightOverride
from health.scoring import (
    DEFAULT_MEASURES,
    DEFAULTS_BY_KEY,
    Grid,
    GridError,
    MeasureDef,
    Scorecard,
    check_grid,
)

log = logging.getLogger(__name__)

# The weight columns the page edits: one per tier and one per lifecycle stage, as (tier, stage)
# with "" for "any". Rows for a tier *in* a stage are honoured by Scorecard.weight_for but are
# not edited here (nor touched).
WEIGHT_COLUMNS: tuple[tuple[str, str], ...] = (
    *((tier, "") for tier in Tier.values),
    *(("", stage) for stage in LifecycleStage.values),
)


def load_scorecard() -> Scorecard:
    """The scorecard in force, in two queries. A stored grid that is not usable (edited by hand
    in the admin, say) falls back to the default grid with a warning rather than stopping the
    nightly run; settings of measures that no longer exist are ignored."""
    rows = {row.key: row for row in MeasureSetting.objects.filter(key__in=DEFAULTS_BY_KEY)}
    measures = tuple(_overlay(default, rows.get(default.key)) for default in DEFAULT_MEASURES)
    weight_overrides = {
        (row.key, row.tier, row.stage): row.weight
        for row in WeightOverride.objects.filter(key__in=DEFAULTS_BY_KEY)
    }
    return Scorecard(measures=measures, weight_overrides=weight_overrides)


def _overlay(default: MeasureDef, row: MeasureSetting | None) -> MeasureDef:
    if row is None:
        return default
    try:
        grid = check_grid(row.grid)
    except (GridError, TypeError):
        log.warning("scorecard: measure %s has an unusable stored grid; using the default", row.key)
        grid = default.grid
    return dataclasses.replace(default, enabled=row.enabled, weight=row.weight, grid=grid)


# --- Grids as text --------------------------------------------------------------------------------


def grid_to_text(grid: Grid) -> str:
    """`0:0, 1:20, 4:40`: how the page shows a grid (lower bound:score, rising bounds)."""
    return ", ".join(f"{_bound_text(bound)}:{score}" for bound, score in grid)


def grid_from_text(text: str) -> Grid:
    """The grid a manager typed as `bound:score, bound:score, …`, or GridError."""
    rows = [[part.strip() for part in item.split(":")] for item in text.split(",") if item.strip()]
    return check_grid(rows)


def _bound_text(bound: Decimal) -> str:
    if bound == bound.to_integral_value():
        return str(int(bound))
    return format(bound.normalize(), "f")


def _grid_to_json(grid: Grid) -> list[list[int | float]]:
    # Whole bounds as JSON integers; fractional ones as floats, whose shortest repr reads back
    # through check_grid (Decimal(str(x))) as the same decimal.
    return [
        [int(bound) if bound == bound.to_integral_value() else float(bound), score]
        for bound, score in grid
    ]


# --- Saving ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureInput:
    """What the page sets for one measure; `weights` maps each WEIGHT_COLUMNS entry to a weight,
    or None to use the measure's own."""

    key: str
    enabled: bool
    weight: int
    grid: Grid
    weights: Mapping[tuple[str, str], int | None]


def proposed_scorecard(current: Scorecard, measures: Sequence[MeasureInput]) -> Scorecard:
    """The scorecard `measures` would make of `current`, unsaved: what the page previews and
    checks before save_scorecard stores it. Weights for a tier within a stage (not edited on
    the page) are kept."""
    by_key = {new.key: new for new in measures}
    overlaid = tuple(
        dataclasses.replace(
            measure,
            enabled=by_key[measure.key].enabled,
            weight=by_key[measure.key].weight,
            grid=by_key[measure.key].grid,
        )
        if measure.key in by_key
        else measure
        for measure in current.measures
    )
    weight_overrides = {
        (key, tier, stage): weight
        for (key, tier, stage), weight in current.weight_overrides.items()
        if tier and stage
    }
    for new in measures:
        for (tier, stage), weight in new.weights.items():
            if weight is not None:
                weight_overrides[(new.key, tier, stage)] = weight
    return Scorecard(measures=overlaid, weight_overrides=weight_overrides)


def unweighted_tiers(scorecard: Scorecard) -> dict[str, list[str]]:
    """Tiers whose accounts would get no score: for each such tier, the lifecycle stages in which
    every measure in use weighs 0 (Scorecard.weight_for, as the nightly applies it)."""
    found: dict[str, list[str]] = {}
    for tier in Tier.values:
        for stage in LifecycleStage.values:
            if not any(
                scorecard.weight_for(measure, tier, stage) > 0
                for measure in scorecard.measures
                if measure.enabled
            ):
                found.setdefault(tier, []).append(stage)
    return found


def _column_label(tier: str, stage: str) -> str:
    return f"tier {tier}" if tier else f"stage {stage}"


@transaction.atomic
def save_scorecard(
    *, measures: Sequence[MeasureInput], actor: User | None, reason: str = ""
) -> int:
    """Store what differs from the scorecard in force and audit each change (account=None).
    Returns the number of changed values."""
    current = load_scorecard()
    current_by_key = {measure.key: measure for measure in current.measures}
    rows = {row.key: row for row in MeasureSetting.objects.filter(key__in=DEFAULTS_BY_KEY)}
    overrides = {
        (row.key, row.tier, row.stage): row
        for row in WeightOverride.objects.filter(Q(tier="") | Q(stage=""), key__in=DEFAULTS_BY_KEY)
    }
    changed = 0
    for new in measures:
        old = current_by_key[new.key]
        changes = {
            "enabled": (old.enabled, new.enabled),
            "weight": (old.weight, new.weight),
            "grid": (grid_to_text(old.grid), grid_to_text(new.grid)),
        }
        changes = {name: values for name, values in changes.items() if values[0] != values[1]}
        if changes:
            row = rows.get(new.key) or MeasureSetting(key=new.key)
            row.enabled, row.weight, row.grid = new.enabled, new.weight, _grid_to_json(new.grid)
            row.updated_by = actor
            row.save()
            record_changes(
                actor=actor, obj=row, action="scorecard.measure", changes=changes, reason=reason
            )
            changed += len(changes)

        for (tier, stage), weight in new.weights.items():
            override = overrides.get((new.key, tier, stage))
            old_weight = override.weight if override else None
            if old_weight == weight:
                continue
            if override is None:
                override = WeightOverride(key=new.key, tier=tier, stage=stage)
            # Recorded before a delete, while the row still has its id.
            record_changes(
                actor=actor,
                obj=override if override.pk else MeasureSetting(key=new.key),
                action="scorecard.weight",
                changes={f"{new.key} weight, {_column_label(tier, stage)}": (old_weight, weight)},
                reason=reason,
            )
            if weight is None:
                override.delete()
            else:
                override.weight = weight
                override.save()
            changed += 1
    return changed
