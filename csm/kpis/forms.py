"""Forms of the KPI report pages, goals and experiments. A scope is one select whose values read
"all", "tier:A", "segment:basic" or "csm:<user id>"; `clean_scope` returns (kind, value)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, ScopeKind, Segment, Tier, User
from csm.kpis.experiments import MIN_GROUP_TO_JUDGE, check_new_experiment
from csm.kpis.goals import METRICS, TARGET_RANGES, Metric, default_direction, month_start
from csm.kpis.models import Goal
from csm.workflow.models import Experiment

DATE = {"type": "date"}
MONTH_FORMAT = "%Y-%m"
MAX_GROUP = 100_000


def plain_decimal(value: Decimal) -> Decimal:
    """`value` without trailing zeros and without an exponent, as a person writes it: 5000 (not
    5E+3 nor 5000.000000), 800, 0.6."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def scope_choices(people: list[User]) -> list[tuple[Any, Any]]:
    return [
        ("all", ScopeKind.ALL.label),
        (_("Tier"), [(f"tier:{value}", label) for value, label in Tier.choices]),
        (_("Segment"), [(f"segment:{value}", label) for value, label in Segment.choices]),
        (_("CSM's book"), [(f"csm:{u.pk}", str(u)) for u in people]),
    ]


def people_for_scopes() -> list[User]:
    """CSMs (and managers who own accounts do not matter here: scopes are CSMs' books)."""
    return list(User.objects.filter(is_active=True, role=Role.CSM).order_by("name", "email"))


class ScopeMixin:
    """Turns the "scope" select into the model's scope_kind and scope_value."""

    fields: dict[str, Any]
    cleaned_data: dict[str, Any]

    def _set_scope_choices(self, people: list[User], instance: Any) -> None:
        self.fields["scope"].choices = scope_choices(people)
        if instance is not None and instance.pk:
            kind, value = instance.scope_kind, instance.scope_value
            self.fields["scope"].initial = "all" if kind == ScopeKind.ALL else f"{kind}:{value}"

    def clean_scope(self) -> tuple[str, str]:
        raw = self.cleaned_data["scope"]
        kind, _sep, value = raw.partition(":")
        return kind, value


def _range_message(metric: Metric, low: Decimal | None, high: Decimal | None) -> str:
    unit = "%" if metric.unit == "rate" else ""
    if low is not None and high is not None:
        return _("%(metric)s runs from %(low)s%(unit)s to %(high)s%(unit)s.") % {
            "metric": metric.label,
            "low": low,
            "high": high,
            "unit": unit,
        }
    if low is not None:
        return _("%(metric)s cannot be below %(low)s%(unit)s.") % {
            "metric": metric.label,
            "low": low,
            "unit": unit,
        }
    return _("%(metric)s cannot be above %(high)s%(unit)s.") % {
        "metric": metric.label,
        "high": high,
        "unit": unit,
    }


class GoalForm(ScopeMixin, forms.ModelForm):
    """Rates are entered in percent (0.6 for 0.6%) and stored as fractions (0.006)."""

    metric = forms.ChoiceField(label=_("Metric"))
    scope = forms.ChoiceField(label=_("Scope"))
    target = forms.DecimalField(
        label=_("Target"),
        max_digits=14,
        decimal_places=4,
        help_text=_(
            "rates in percent: 0.6 means 0.6% a month; ratios as numbers; money as amounts"
        ),
    )
    direction = forms.ChoiceField(
        label=_("Better when"),
        required=False,
        choices=[
            ("", _("The metric's usual direction")),
            ("at_most", _("Lower: met at or below the target")),
            ("at_least", _("Higher: met at or above the target")),
        ],
    )

    field_order = ["metric", "scope", "period_start", "period_end", "target", "direction", "note"]

    class Meta:
        model = Goal
        fields = ["metric", "period_start", "period_end", "target", "note"]
        widgets = {
            "period_start": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "period_end": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [(m.key, m.label) for m in METRICS.values()]
        self._set_scope_choices(people, self.instance)
        if self.instance.pk:
            metric = METRICS.get(self.instance.metric)
            target = self.instance.target
            if metric and metric.unit == "rate":
                target = target * 100
            self.initial["target"] = plain_decimal(target)
            if self.instance.at_most != default_direction(self.instance.metric):
                self.initial["direction"] = "at_most" if self.instance.at_most else "at_least"
        else:
            today = timezone.localdate()
            self.initial.setdefault("period_start", month_start(today))
            self.initial.setdefault(
                "period_end",
                (month_start(today) + timedelta(days=95)).replace(day=1) - timedelta(days=1),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The period's bounds are Goal.clean's (run after this, by the model form).
        metric = cleaned.get("metric")
        target = cleaned.get("target")
        if metric in METRICS and target is not None:
            low, high = TARGET_RANGES[metric]
            if (low is not None and target < low) or (high is not None and target > high):
                self.add_error("target", _range_message(METRICS[metric], low, high))
                return cleaned
            if METRICS[metric].unit == "rate":
                target = target / Decimal(100)
            if abs(target) >= Decimal("1e8"):
                self.add_error("target", _("The target is too large."))
            cleaned["target"] = target.quantize(Decimal("0.000001"))
        return cleaned

    def save(self, commit: bool = True) -> Goal:
        goal: Goal = super().save(commit=False)
        goal.scope_kind, goal.scope_value = self.cleaned_data["scope"]
        goal.target = self.cleaned_data["target"]
        direction = self.cleaned_data.get("direction")
        goal.at_most = default_direction(goal.metric) if not direction else direction == "at_most"
        if commit:
            goal.save()
        return goal


class ExperimentForm(ScopeMixin, forms.ModelForm):
    scope = forms.ChoiceField(label=_("Draw accounts from"))

    field_order = [
        "name",
        "play",
        "scope",
        "treatment_size",
        "control_size",
        "starts_on",
        "ends_on",
    ]

    class Meta:
        model = Experiment
        fields = ["name", "play", "treatment_size", "control_size", "starts_on", "ends_on"]
        widgets = {
            "play": forms.Textarea(attrs={"rows": 3}),
            "starts_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_scope_choices(people, self.instance)
        today = timezone.localdate()
        self.initial.setdefault("starts_on", today)
        self.initial.setdefault("ends_on", today + timedelta(days=90))
        for name in ("treatment_size", "control_size"):
            self.fields[name].min_value = 1
            self.fields[name].max_value = MAX_GROUP
            self.fields[name].widget.attrs.update(min=1, max=MAX_GROUP)
            self.fields[name].help_text = _(
                "At least %(n)s for the result to be judged; fewer can run, but the page will "
                "say it is too small to judge."
            ) % {"n": MIN_GROUP_TO_JUDGE}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        names = ("scope", "treatment_size", "control_size", "starts_on", "ends_on")
        if all(cleaned.get(name) is not None for name in names):
            scope_kind, scope_value = cleaned["scope"]
            try:
                check_new_experiment(
                    scope_kind=scope_kind,
                    scope_value=scope_value,
                    treatment_size=cleaned["treatment_size"],
                    control_size=cleaned["control_size"],
                    starts_on=cleaned["starts_on"],
                    ends_on=cleaned["ends_on"],
                )
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned

    def save(self, commit: bool = True) -> Experiment:
        experiment: Experiment = super().save(commit=False)
        experiment.scope_kind, experiment.scope_value = self.cleaned_data["scope"]
        if commit:
            experiment.save()
        return experiment


def last_full_month(today: date) -> date:
    return (month_start(today) - timedelta(days=1)).replace(day=1)


def _parse_month(value: str, field: str) -> date:
    try:
        parsed = timezone.datetime.strptime(value, MONTH_FORMAT).date()
    except ValueError:
        raise forms.ValidationError(
            _("%(field)s: enter a month as YYYY-MM.") % {"field": field}
        ) from None
    if parsed.year < 2000:
        raise forms.ValidationError(_("%(field)s: too early.") % {"field": field})
    return parsed


class PeriodForm(forms.Form):
    """A range of whole months, from the query string (YYYY-MM); default the last 12 months up to
    the current one. A bad value falls back to the default and says so next to the field."""

    start = forms.CharField(label=_("From month"), required=False)
    end = forms.CharField(label=_("To month"), required=False)

    def __init__(self, *args: Any, today: date, months: int = 12, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.default_end = month_start(today)
        first = self.default_end
        for _i in range(months - 1):
            first = (first - timedelta(days=1)).replace(day=1)
        self.default_start = first
        for name in ("start", "end"):
            self.fields[name].widget = forms.TextInput(
                attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"}
            )
        # Shown in the inputs when the query string leaves them out (or leaves them blank).
        defaults = {
            "start": self.default_start.strftime(MONTH_FORMAT),
            "end": self.default_end.strftime(MONTH_FORMAT),
        }
        for name, value in defaults.items():
            self.fields[name].initial = value
        if self.is_bound:
            self.data = self.data.copy()
            for name, value in defaults.items():
                if not self.data.get(name):
                    self.data[name] = value

    def clean_start(self) -> date:
        value = self.cleaned_data.get("start") or ""
        return _parse_month(value, str(_("From month"))) if value else self.default_start

    def clean_end(self) -> date:
        value = self.cleaned_data.get("end") or ""
        return _parse_month(value, str(_("To month"))) if value else self.default_end

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("To month: must not be before the from month."))
        return cleaned

    def period(self) -> tuple[date, date]:
        """(first day of the first month, last day of the last month), defaults for bad values."""
        data = self.cleaned_data if self.is_valid() else {}
        start = data.get("start") or self.default_start
        end = data.get("end") or self.default_end
        if end < start:
            start, end = self.default_start, self.default_end
        last_day = (end + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return start, last_day


class HealthPeriodForm(PeriodForm):
    """The health report's months, and the day of each week or month its band chart shows."""

    by = forms.CharField(
        label=_("Bands at"),
        required=False,
        initial="month",
        widget=forms.Select(
            choices=[("month", _("each month's end")), ("week", _("each week's end"))]
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound:  # the select shows the choice in force, a bad value as the default
            self.data["by"] = self.bands_at()

    def clean_by(self) -> str:
        return self.bands_at()

    def bands_at(self) -> str:
        """ "week" or "month"; anything else is the default, month."""
        return "week" if self.is_bound and self.data.get("by") == "week" else "month"


class MonthForm(forms.Form):
    """One month (YYYY-MM), default the last full month."""

    month = forms.CharField(label=_("Month"), required=False)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = last_full_month(today)
        self.fields["month"].widget = forms.TextInput(
            attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"}
        )
        self.fields["month"].initial = self.default.strftime(MONTH_FORMAT)
        if self.is_bound and not self.data.get("month"):
            self.data = self.data.copy()
            self.data["month"] = self.fields["month"].initial

    def clean_month(self) -> date:
        value = self.cleaned_data.get("month") or ""
        return _parse_month(value, str(_("Month"))) if value else self.default

    def value(self) -> date:
        return self.cleaned_data["month"] if self.is_valid() else self.default
