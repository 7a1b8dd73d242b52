"""`{% risk_form "snooze" item as form %}`: the bound form the view passed for this item and
action (with its errors), or a blank one, so each row of "csm/risk.html" renders its forms from
one context. `{% risk_actions item as actions %}`: the row's snooze / reassign / resolve forms."""

from __future__ import annotations

from typing import Any

from django import template

from csm.workflow.models import RiskItem
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
