from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, NamedTuple

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import LifecycleStage
from health.models import ApiScope
from health.scorecard import (
    WEIGHT_COLUMNS,
    MeasureInput,
    grid_from_text,
    grid_to_text,
    proposed_scorecard,
    unweighted_tiers,
)
from health.scoring import Grid, GridError, MeasureDef, Scorecard
from health.services_keys import MAX_NAME, clean_key_name

# Weights are relative, so any range works; 0–100 keeps the page readable.
MAX_WEIGHT = 100


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=MAX_NAME,
        help_text=_("What the key is for, e.g. “product backend”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=ApiScope.choices,
        initial=[ApiScope.INGEST],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Give a key only what its program needs."),
        error_messages={"required": _("Choose at least one scope.")},
    )

    def clean_name(self) -> str:
        try:
            return clean_key_name(self.cleaned_data["name"])
        except ValueError:
            raise forms.ValidationError(_("Give the key a name.")) from None


class GridField(forms.CharField):
    """`lower bound:score, …` text in, a checked Grid out."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return text  # "required" is reported by CharField
        try:
            return grid_from_text(text)
        except GridError as exc:
            raise forms.ValidationError(str(exc)) from None

    def prepare_value(self, value: Any) -> Any:
        return grid_to_text(value) if isinstance(value, tuple) else value


def _column_label(tier: str, stage: str) -> str:
    if tier:
        return str(_("Tier %(tier)s") % {"tier": tier})
    return str(LifecycleStage(stage).label)


class MeasureRow(NamedTuple):
    """One measure's fields, for the template."""

    measure: MeasureDef
    enabled: forms.BoundField
    weight: forms.BoundField
    grid: forms.BoundField
    weights: list[forms.BoundField]


class ScorecardForm(forms.Form):
    """Every measure's enabled flag, weight and grid, and its weight per tier and per lifecycle
    stage (blank = the measure's weight). Valid only as a whole: one bad field saves nothing."""

    reason = forms.CharField(
        label=_("Why (kept in the audit trail)"), required=False, max_length=500
    )

    def __init__(self, *args: Any, scorecard: Scorecard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scorecard = scorecard
        self.measures = scorecard.measures
        # The scorecard the input would make (set by a valid clean()).
        self.proposed: Scorecard | None = None
        for measure in self.measures:
            key = measure.key
            self.fields[f"{key}-enabled"] = forms.BooleanField(
                label=_("Use %(measure)s") % {"measure": measure.label},
                required=False,
                initial=measure.enabled,
            )
            self.fields[self.measure_weight_name(key)] = forms.IntegerField(
                label=_("Weight of %(measure)s") % {"measure": measure.label},
                min_value=0,
                max_value=MAX_WEIGHT,
                initial=measure.weight,
                widget=forms.NumberInput(attrs={"class": "weight"}),
            )
            self.fields[f"{key}-grid"] = GridField(
                label=_("Grid of %(measure)s") % {"measure": measure.label},
                max_length=500,
                initial=measure.grid,
                widget=forms.TextInput(attrs={"class": "grid"}),
            )
            for tier, stage in WEIGHT_COLUMNS:
                self.fields[self.weight_name(key, tier, stage)] = forms.IntegerField(
                    label=_("Weight of %(measure)s, %(column)s")
                    % {"measure": measure.label, "column": _column_label(tier, stage)},
                    required=False,
                    min_value=0,
                    max_value=MAX_WEIGHT,
                    initial=scorecard.weight_overrides.get((key, tier, stage)),
                    widget=forms.NumberInput(
                        attrs={"class": "weight", "placeholder": str(measure.weight)}
                    ),
                )

        # The fields sit in table cells without their own <label>: name them for screen readers.
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", str(field.label))

    @classmethod
    def data_from(cls, scorecard: Scorecard, changes: Mapping[str, str]) -> dict[str, str]:
        """The form's data for `scorecard` as it stands, with `changes` (field name → value, as
        another page sends them in a query string: `active_days-weight=30&billing-tier-C=0`,
        `sentiment-enabled=false`) laid over it; names that are not fields are ignored."""
        data: dict[str, str] = {}
        names = {"reason"}
        for measure in scorecard.measures:
            key = measure.key
            names.update({f"{key}-enabled", f"{key}-weight", f"{key}-grid"})
            if measure.enabled:
                data[f"{key}-enabled"] = "on"
            data[f"{key}-weight"] = str(measure.weight)
            data[f"{key}-grid"] = grid_to_text(measure.grid)
            for tier, stage in WEIGHT_COLUMNS:
                name = cls.weight_name(key, tier, stage)
                names.add(name)
                weight = scorecard.weight_overrides.get((key, tier, stage))
                data[name] = "" if weight is None else str(weight)
        data.update({name: value for name, value in changes.items() if name in names})
        return data

    @staticmethod
    def measure_weight_name(key: str) -> str:
        return f"{key}-weight"

    @staticmethod
    def weight_name(key: str, tier: str, stage: str) -> str:
        return f"{key}-tier-{tier}" if tier else f"{key}-stage-{stage}"

    @staticmethod
    def column_labels() -> list[str]:
        return [_column_label(tier, stage) for tier, stage in WEIGHT_COLUMNS]

    def rows(self) -> list[MeasureRow]:
        return [
            MeasureRow(
                measure,
                self[f"{measure.key}-enabled"],
                self[f"{measure.key}-weight"],
                self[f"{measure.key}-grid"],
                [self[self.weight_name(measure.key, t, s)] for t, s in WEIGHT_COLUMNS],
            )
            for measure in self.measures
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if not any(
            cleaned[f"{m.key}-enabled"] and cleaned[f"{m.key}-weight"] for m in self.measures
        ):
            raise forms.ValidationError(
                _("Use at least one measure with a weight above 0, or no account gets a score.")
            )
        # A tier whose own weights are all 0 would lose its scores silently: refuse it, by name.
        proposed = proposed_scorecard(self.scorecard, self.measure_inputs())
        for tier, stages in unweighted_tiers(proposed).items():
            if len(stages) == len(LifecycleStage.values):
                message = _(
                    "Tier %(tier)s would have no measure with a weight above 0, so its accounts "
                    "would get no score. Give at least one measure in use a weight above 0 for "
                    "tier %(tier)s."
                ) % {"tier": tier}
            else:
                message = _(
                    "Tier %(tier)s would have no measure with a weight above 0 in the "
                    "%(stages)s stage, so those accounts would get no score."
                ) % {
                    "tier": tier,
                    "stages": ", ".join(str(LifecycleStage(stage).label) for stage in stages),
                }
            self.add_error(None, message)
        self.proposed = proposed
        return cleaned

    def measure_inputs(self) -> list[MeasureInput]:
        data = self.cleaned_data
        inputs = []
        for measure in self.measures:
            key = measure.key
            grid: Grid = data[f"{key}-grid"]
            inputs.append(
                MeasureInput(
                    key=key,
                    enabled=data[f"{key}-enabled"],
                    weight=data[f"{key}-weight"],
                    grid=grid,
                    weights={
                        (tier, stage): data[self.weight_name(key, tier, stage)]
                        for tier, stage in WEIGHT_COLUMNS
                    },
                )
            )
        return inputs


# The longest a manager's score stands before the scorecard takes over again.
MAX_OVERRIDE_DAYS = 365


class HealthOverrideForm(forms.Form):
    score = forms.IntegerField(label=_("Score"), min_value=0, max_value=100)
    expires_on = forms.DateField(
        label=_("Until (inclusive)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )

    def clean_expires_on(self) -> date:
        expires_on: date = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if expires_on < today:
            raise forms.ValidationError(_("Pick today or a later day."))
        if expires_on > today + timedelta(days=MAX_OVERRIDE_DAYS):
            raise forms.ValidationError(_("At most %(n)s days ahead.") % {"n": MAX_OVERRIDE_DAYS})
        return expires_on

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the score is overridden."))
        return reason
