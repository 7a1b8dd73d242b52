"""Forms of the at-risk queue: its filters, the inline actions on an item, the save plays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django import forms
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Tier, User
from csm.lib.forms import QuickSelect
from csm.workflow import risk_actions
from csm.workflow.models import Resolution, RiskItem, RiskReason

SORTS = {
    "priority": (F("priority").desc(), "pk"),
    "mrr": (F("mrr").desc(), F("priority").desc(), "pk"),
    "opened": ("opened_on", F("priority").desc(), "pk"),
    "-opened": (F("opened_on").desc(), F("priority").desc(), "pk"),
}


class RiskFilterForm(forms.Form):
    """The queue's filters, read from the query string. A bad value drops only that filter."""

    who = forms.ChoiceField(label=_("Assigned to"), required=False, widget=QuickSelect)
    tier = forms.ChoiceField(
        label=_("Tier"),
        required=False,
        choices=[("", _("All tiers")), *Tier.choices],
        widget=QuickSelect,
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        choices=[("", _("All reasons")), *RiskReason.choices],
        widget=QuickSelect,
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("priority", _("Priority, highest first")),
            ("mrr", _("MRR, highest first")),
            ("opened", _("Opened, oldest first")),
            ("-opened", _("Opened, newest first")),
        ],
        widget=QuickSelect,
    )
    snoozed = forms.BooleanField(label=_("Show snoozed"), required=False)
    # Items whose rules stopped firing (cleared_on set): the ones to resolve in one go.
    cleared = forms.BooleanField(label=_("Rules no longer fire"), required=False)

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["who"].choices = [
            ("mine", _("Me")),
            ("all", _("Everybody")),
            ("none", _("Nobody")),
            *[(str(u.pk), str(u)) for u in people],
        ]


def _ids(item: RiskItem, action: str) -> str:
    # Several items' forms share a page: field ids carry the item and the action.
    return f"id_risk_{item.pk}_{action}_%s"


class SnoozeForm(forms.Form):
    until = forms.DateField(
        label=_("Snooze until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=risk_actions.NOTE_MAX_CHARS)

    def __init__(self, *args: Any, item: RiskItem, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", _ids(item, "snooze"))
        kwargs.setdefault("initial", {"until": timezone.localdate() + timedelta(days=7)})
        super().__init__(*args, **kwargs)
        self.item = item


class ReassignForm(forms.Form):
    """Whom to give the item to, typed or picked from the page's one `<datalist id="people">` of
    CSMs and managers (a <select> per row would repeat every person on every row: 150 CSMs × 50
    rows made the managers' queue 670 kB and seconds to render). Accepts an email, a user id or a
    name that only one person has; risk_actions.reassign checks the person is active."""

    assignee = forms.CharField(
        label=_("Assign to"),
        max_length=254,
        widget=forms.TextInput(attrs={"list": "people", "placeholder": _("email or name")}),
    )

    def __init__(self, *args: Any, item: RiskItem, people: list[User], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", _ids(item, "reassign"))
        super().__init__(*args, **kwargs)
        self.item = item
        self.people = people

    def clean_assignee(self) -> User:
        return person_named(self.people, self.cleaned_data["assignee"])


def person_named(people: list[User], value: str) -> User:
    """The person of `people` with this email or id, or the only one with this name; else a
    ValidationError naming the value."""
    value = value.strip()
    for person in people:
        if value.lower() == person.email.lower() or value == str(person.pk):
            return person
    # A name works too when exactly one person has it.
    named = [p for p in people if p.name and p.name.casefold() == value.casefold()]
    if len(named) == 1:
        return named[0]
    raise forms.ValidationError(
        _("No active CSM or manager has the email or name %(value)s.") % {"value": value}
    )


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(label=_("Resolve as"), choices=Resolution.choices)
    note = forms.CharField(
        label=_("Note"),
        max_length=risk_actions.NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why (a note is required).")},
    )

    def __init__(self, *args: Any, item: RiskItem, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", _ids(item, "resolve"))
        super().__init__(*args, **kwargs)
        self.item = item


# Items one bulk action may take: a page of the queue, with room for a larger page one day.
BULK_MAX_ITEMS = 100


class BulkForm(forms.Form):
    """One action on several items of the queue: the rows ticked (`items`), or every row shown
    (`all_shown`, which works without JavaScript: the page lists the shown rows in `shown`).
    Reassigning is the managers'; the view checks each item as the single actions do."""

    action = forms.ChoiceField(
        label=_("With the selected items"),
        choices=[("resolve", _("Resolve")), ("snooze", _("Snooze")), ("reassign", _("Reassign"))],
        widget=QuickSelect(attrs={"data-bulk-action": ""}),
    )
    items = forms.TypedMultipleChoiceField(coerce=int, required=False)
    shown = forms.TypedMultipleChoiceField(coerce=int, required=False)
    all_shown = forms.BooleanField(label=_("Select all shown"), required=False)
    resolution = forms.ChoiceField(
        label=_("Resolve as"),
        required=False,
        choices=[("", "—"), *Resolution.choices],
        widget=QuickSelect,
    )
    until = forms.DateField(
        label=_("Snooze until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    assignee = forms.CharField(
        label=_("Assign to"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"list": "people", "placeholder": _("email or name")}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=risk_actions.NOTE_MAX_CHARS,
        widget=forms.TextInput(attrs={"placeholder": _("why (required to resolve)")}),
    )

    def __init__(self, *args: Any, people: list[User], manager: bool, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_bulk_%s")
        kwargs.setdefault("initial", {"until": timezone.localdate() + timedelta(days=7)})
        super().__init__(*args, **kwargs)
        self.people = people
        if not manager:
            self.fields["action"].choices = [
                choice for choice in self.fields["action"].choices if choice[0] != "reassign"
            ]
        # Any id is accepted here; the view reads the items and names those it cannot act on.
        for name in ("items", "shown"):
            self.fields[name].valid_value = lambda value: True  # type: ignore[method-assign]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = cleaned.get("shown") if cleaned.get("all_shown") else cleaned.get("items")
        ids = sorted(set(chosen or []))
        if not ids:
            raise forms.ValidationError(_("Tick at least one item."))
        if len(ids) > BULK_MAX_ITEMS:
            raise forms.ValidationError(_("At most %(n)s items at once.") % {"n": BULK_MAX_ITEMS})
        cleaned["ids"] = ids
        action = cleaned.get("action")
        if action == "resolve":
            if not cleaned.get("resolution"):
                self.add_error("resolution", _("Choose saved, churned or not a risk."))
            if not (cleaned.get("note") or "").strip():
                self.add_error("note", _("Say why (a note is required)."))
        elif action == "snooze" and not cleaned.get("until"):
            self.add_error("until", _("Snooze until a day after today."))
        elif action == "reassign":
            try:
                cleaned["assignee"] = person_named(self.people, cleaned.get("assignee") or "")
            except forms.ValidationError as error:
                self.add_error("assignee", error)
        return cleaned


FORMS: dict[str, type[forms.Form]] = {
    "snooze": SnoozeForm,
    "reassign": ReassignForm,
    "resolve": ResolveForm,
}


class SavePlaysForm(forms.Form):
    """One textarea per risk reason, one step per line: "words | days until due"."""

    def __init__(self, *args: Any, steps: dict[str, list[Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for reason in RiskReason:
            self.fields[reason.value] = forms.CharField(
                label=reason.label,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=risk_actions.format_steps(steps.get(reason.value, [])),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for reason in RiskReason:
            if reason.value in cleaned:
                try:
                    cleaned[reason.value] = risk_actions.parse_steps(cleaned[reason.value])
                except forms.ValidationError as error:
                    self.add_error(reason.value, error)
        return cleaned


# --- The queue row's actions ---------------------------------------------------------------------

# The row's actions, in order; reassigning is the managers'.
ACTIONS = {"snooze": _("Snooze"), "reassign": _("Reassign"), "resolve": _("Resolve")}


@lru_cache(maxsize=16)
def _action_labels(language: str | None) -> dict[str, str]:
    """The actions' words in `language` (each row shows them: translated once, not per row)."""
    return {name: str(label) for name, label in ACTIONS.items()}


@dataclass(frozen=True)
class RiskAction:
    name: str
    label: str
    url: str  # where the form posts; "" when there is no form yet
    # The form to render now, or None: the row then loads it when the user opens the action.
    form: Any
    # Without a form: the action's collapsed <details> that loads it (risk_tags.risk_actions).
    lazy: str = ""


def bound_form(form: Any, action: str, item: RiskItem) -> Any:
    """`form` when it is this item's form for `action` (a view passed it back with errors)."""
    if type(form) is FORMS[action] and form.item.pk == item.pk:
        return form
    return None


def blank_form(action: str, item: RiskItem, people: list[Any]) -> Any:
    if FORMS[action] is ReassignForm:
        return ReassignForm(item=item, people=people)
    return FORMS[action](item=item)


def actions_for(
    item: RiskItem,
    *,
    manager: bool,
    inline: bool,
    bound: Any = None,
    people: list[Any] | None = None,
    only: str = "",
) -> list[RiskAction]:
    """The actions a user may take on `item` (`only` one of them). A queue row renders a form
    only when it came back with errors (`bound`): four forms on each of 25 rows were most of the
    page's time, so the others load when opened. `inline` renders them all, as on the item's
    own page and in the lazy load."""
    actions = []
    labels = _action_labels(get_language())
    for name in ACTIONS:
        if (name == "reassign" and not manager) or (only and name != only):
            continue
        form = bound_form(bound, name, item)
        if form is None and inline:
            form = blank_form(name, item, people or [])
        # The form's URL only when the form is rendered (reverse() is not free on 25 rows).
        url = reverse(f"risk:{name}", args=[item.pk]) if form is not None else ""
        actions.append(RiskAction(name, labels[name], url, form))
    return actions
