"""The form for a task typed by hand on an account's page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from csm.workflow.task_list import TITLE_MAX_CHARS


class TaskForm(forms.Form):
    """What to do, for whom, by when. The service (task_list.add_task) checks the dates and the
    person again, so a bad value from anywhere gets the same field error."""

    title = forms.CharField(label=_("Task"), max_length=TITLE_MAX_CHARS)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    due_on = forms.DateField(
        label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, people: list[User], me: User, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_task_%s")
        kwargs.setdefault("initial", {"assignee": str(me.pk), "due_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.people = {str(person.pk): person for person in people}
        self.fields["assignee"].choices = [
            ("", _("Unassigned")),
            *((pk, str(person)) for pk, person in self.people.items()),
        ]

    def clean_assignee(self) -> User | None:
        value = self.cleaned_data.get("assignee") or ""
        return self.people.get(value)
