"""`{% risk_form "snooze" item as form %}`: the bound form the view passed for this item and
action (with its errors), or a blank one, so each row of "csm/queue.html" renders its forms from
one context."""

from __future__ import annotations

from typing import Any

from django import template

from csm.models import RiskItem
from csm.queue_forms import FORMS, ReassignForm

register = template.Library()


@register.simple_tag(takes_context=True)
def risk_form(context: template.Context, action: str, item: RiskItem) -> Any:
    form: Any = context.get("risk_form")
    form_class = FORMS[action]
    if type(form) is form_class and form.item.pk == item.pk:
        return form
    if form_class is ReassignForm:
        return ReassignForm(item=item, people=context.get("people") or [])
    return form_class(item=item)
