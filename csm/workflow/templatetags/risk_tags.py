"""`{% risk_form "snooze" item as form %}`: the bound form the view passed for this item and
action (with its errors), or a blank one, so each row of "csm/risk.html" renders its forms from
one context. `{% risk_actions item as actions %}`: the row's snooze / reassign / resolve forms.
`{% risk_reasons item as reasons %}`: the item's reasons in words as of today (reasons.py)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

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
def risk_reasons(item: RiskItem) -> list[dict[str, Any]]:
    return reason_rows(item.shown_reasons, today=timezone.localdate(), opened_on=item.opened_on)
