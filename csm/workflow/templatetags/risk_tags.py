"""`{% risk_form "snooze" item as form %}`: the bound form the view passed for this item and
action (with its errors), or a blank one, so each row of "csm/risk.html" renders its forms from
one context. `{% risk_actions item as actions %}`: the row's snooze / reassign / resolve forms.
`{% risk_labels as labels %}`: the row's column names, translated once per language.
`{% risk_reasons item as reasons %}`: the item's reasons in words as of today (reasons.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from csm.workflow.models import RiskItem
from csm.workflow.reasons import reason_rows
from csm.workflow.risk_forms import RiskAction, actions_for, blank_form, bound_form

register = template.Library()


@register.simple_tag(takes_context=True)
def risk_form(context: template.Context, action: str, item: RiskItem) -> Any:
    form = bound_form(context.get("risk_form"), action, item)
    return form if form is not None else blank_form(action, item, context.get("people") or [])


@register.simple_tag(takes_context=True)
def risk_actions(context: template.Context, item: RiskItem) -> list[RiskAction]:
    return actions_for(
        item,
        manager=context["user"].is_manager,
        inline=context.get("forms_inline", False),
        bound=context.get("risk_form"),
        people=context.get("people"),
    )


@register.simple_tag
def risk_labels() -> dict[str, str]:
    """The words every row repeats (each cell's column name for the phone layout, the link to an
    action's form): one tag per row instead of nine {% translate %} nodes, which were a fifth of
    rendering Today's at-risk rows."""
    return _labels(get_language())


@lru_cache(maxsize=16)
def _labels(language: str | None) -> dict[str, str]:
    return {
        "tier": _("Tier"),
        "health": _("Health"),
        "mrr": _("MRR"),
        "priority": _("Priority"),
        "why": _("Why"),
        "opened": pgettext("risk item, the day", "Opened"),
        "assignee": _("Assignee"),
        "save_play": _("Save play"),
        "open_form": _("Open the form"),
    }


@register.simple_tag
def risk_reasons(item: RiskItem) -> list[dict[str, Any]]:
    return reason_rows(item.shown_reasons, today=timezone.localdate(), opened_on=item.opened_on)
