"""`{% milestone_form "complete" milestone as form %}`: the bound form the view passed for this
milestone and action (with its errors), or a blank one, so "csm/_blueprint.html" renders every
milestone's forms from one context; `|first_name` for the customer's page."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import User
from csm.workflow.blueprint_forms import FORMS
from csm.workflow.models import Milestone

register = template.Library()


@register.simple_tag(takes_context=True)
def milestone_form(context: template.Context, action: str, milestone: Milestone) -> Any:
    form: Any = context.get("milestone_form")
    form_class = FORMS[action]
    if type(form) is form_class and form.milestone.pk == milestone.pk:
        return form
    return form_class(milestone=milestone)


@register.filter
def first_name(user: User | None) -> str:
    """What the customer's page says about a CSM: the first name, never the email address."""
    if user is None or not user.name.strip():
        return ""
    return user.name.split()[0]
