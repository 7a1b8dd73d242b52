"""The account page's milestone forms: complete (done or skipped), reopen, reschedule. Field ids
carry the milestone, so every milestone's forms fit on one page."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from csm.workflow.models import Milestone, MilestoneStatus

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _MilestoneForm(forms.Form):
    prefix_name = ""

    def __init__(self, *args: Any, milestone: Milestone, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.prefix_name}_{milestone.pk}_%s")
        super().__init__(*args, **kwargs)
        self.milestone = milestone


class CompleteForm(_MilestoneForm):
    prefix_name = "complete"

    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (MilestoneStatus.DONE.value, MilestoneStatus.DONE.label),
            (MilestoneStatus.SKIPPED.value, MilestoneStatus.SKIPPED.label),
        ],
        initial=MilestoneStatus.DONE,
    )
    on = forms.DateField(label=_("On"), required=False, widget=DATE_INPUT)
    note = forms.CharField(
        label=_("Completion note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_on(self) -> date:
        # Blank = today. The dates a completion may have are checked by complete_milestone.
        on: date | None = self.cleaned_data["on"]
        return timezone.localdate() if on is None else on

    def clean_note(self) -> str:
        return self.cleaned_data["note"].strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.milestone.status != MilestoneStatus.OPEN:
            raise forms.ValidationError(_("This milestone is already closed; reopen it first."))
        if cleaned.get("status") == MilestoneStatus.SKIPPED and not cleaned.get("note"):
            self.add_error("note", _("Say why it is skipped."))
        return cleaned


class ReopenForm(_MilestoneForm):
    prefix_name = "reopen"

    reason = forms.CharField(label=_("Why reopen"), required=False, max_length=2000)

    def clean_reason(self) -> str:
        return self.cleaned_data["reason"].strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.milestone.status == MilestoneStatus.OPEN:
            raise forms.ValidationError(_("This milestone is already open."))
        return cleaned


class RescheduleForm(_MilestoneForm):
    prefix_name = "reschedule"

    due_on = forms.DateField(label=_("New due date"), widget=DATE_INPUT)
    reason = forms.CharField(label=_("Reason"), max_length=2000)

    def __init__(self, *args: Any, milestone: Milestone, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"due_on": milestone.due_on})
        super().__init__(*args, milestone=milestone, **kwargs)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the date moves."))
        return reason

    def clean_due_on(self) -> date:
        due_on: date = self.cleaned_data["due_on"]
        if due_on == self.milestone.due_on:
            raise forms.ValidationError(_("That is the current due date."))
        # The dates a milestone may move to are checked by blueprints.reschedule.
        return due_on


FORMS: dict[str, type[_MilestoneForm]] = {
    "complete": CompleteForm,
    "reopen": ReopenForm,
    "reschedule": RescheduleForm,
}
