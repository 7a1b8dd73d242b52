"""Forms of the CSM workflow: the account list's filters, logging a touch, editing usage tips."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, LifecycleStage, Segment, Tier, User
from csm.lib.forms import QuickSelect
from csm.workflow.models import TouchKind, TouchOutcome, UsageTip
from csm.workflow.touches import check_touch_dates
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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        due: date | None = cleaned.get("next_step_due")
        if due is not None and not cleaned.get("next_step"):
            self.add_error("next_step", _("Say what the next step is, or leave its date blank."))
        if "happened_at" in cleaned and "next_step_due" in cleaned:
            # The dates' bounds are the service's (touches.check_touch_dates), said here
            # next to their fields before anything is written.
            try:
                check_touch_dates(
                    happened_at=cleaned["happened_at"] or timezone.now(), next_step_due=due
                )
            except ValidationError as error:
                self.add_error(None, error)
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
