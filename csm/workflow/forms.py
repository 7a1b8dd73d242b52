"""Forms of the CSM workflow: the account list's filters, logging a touch, editing usage tips."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, LifecycleStage, Segment, Tier, User
from csm.lib.forms import QuickSelect
from csm.workflow.models import TouchKind, TouchOutcome, UsageTip
from health.models import Band

SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "mrr": ("mrr", "name", "pk"),
    "-mrr": ("-mrr", "name", "pk"),
    "renewal": ("renewal_date", "name", "pk"),
    "-renewal": ("-renewal_date", "name", "pk"),
    # Accounts without a score come last either way.
    "health": (F("health_score").asc(nulls_last=True), "name", "pk"),
    "-health": (F("health_score").desc(nulls_last=True), "name", "pk"),
}
BAND_CHOICES = [("", _("All bands")), *Band.choices, ("none", _("No score yet"))]


class AccountFilterForm(forms.Form):
    """The account list's filters, read from the query string."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    tier = forms.ChoiceField(
        label=_("Tier"), required=False, choices=[("", _("All tiers")), *Tier.choices]
    )
    segment = forms.ChoiceField(
        label=_("Segment"), required=False, choices=[("", _("All segments")), *Segment.choices]
    )
    stage = forms.ChoiceField(
        label=_("Lifecycle stage"),
        required=False,
        choices=[("", _("All stages")), *LifecycleStage.choices],
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False, widget=QuickSelect)
    band = forms.ChoiceField(label=_("Health"), required=False, choices=BAND_CHOICES)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("-mrr", _("MRR, highest first")),
            ("mrr", _("MRR, lowest first")),
            ("name", _("Name, A–Z")),
            ("-name", _("Name, Z–A")),
            ("renewal", _("Renewal, soonest first")),
            ("-renewal", _("Renewal, latest first")),
            ("health", _("Health, lowest first")),
            ("-health", _("Health, highest first")),
        ],
    )

    def __init__(self, *args: Any, owners: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", _("All owners")),
            ("me", _("My book")),
            ("none", _("Unassigned")),
            *[(str(u.pk), str(u)) for u in owners],
        ]

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or "-mrr"


# A touch logged a few minutes "ahead" is a clock difference, not a touch in the future.
CLOCK_SLACK = timedelta(minutes=5)


class TouchForm(forms.Form):
    """A call, meeting, email or note with an account. Automated touches come from the outbox,
    so that kind is not offered. Field ids carry the account, so several forms fit on one page."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k.value, k.label) for k in TouchKind if k != TouchKind.AUTOMATED],
        initial=TouchKind.CALL,
    )
    summary = forms.CharField(
        label=_("What happened"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "—"), *TouchOutcome.choices], required=False
    )
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)
    next_step_due = forms.DateField(
        label=_("Next step due"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    happened_at = forms.DateTimeField(
        label=_("When (blank = now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_touch_{account.pk}_%s")
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_happened_at(self) -> datetime | None:
        happened_at: datetime | None = self.cleaned_data["happened_at"]
        if happened_at is not None and happened_at > timezone.now() + CLOCK_SLACK:
            raise forms.ValidationError(_("A touch cannot be in the future."))
        return happened_at

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        due: date | None = cleaned.get("next_step_due")
        if due is not None and not cleaned.get("next_step"):
            self.add_error("next_step", _("Say what the next step is, or leave its date blank."))
        happened_at = cleaned.get("happened_at") or timezone.now()
        if due is not None and due < timezone.localdate(happened_at):
            self.add_error("next_step_due", _("The next step cannot be due before the touch."))
        return cleaned


class UsageTipForm(forms.ModelForm):
    class Meta:
        model = UsageTip
        fields = ["feature", "title", "body", "enabled"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The feature is the tip's identity (an event name); edit the words, not the feature.
            self.fields["feature"].disabled = True

    def clean_feature(self) -> str:
        return self.cleaned_data["feature"].strip()
