"""`{% touch_form_for account as form %}`: the touch form a page passed for this account (with
its errors), or a blank one, so "csm/_touch_form.html" can be included on any page."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import Account
from csm.forms import TouchForm

register = template.Library()


@register.simple_tag(takes_context=True)
def touch_form_for(context: template.Context, account: Account) -> TouchForm:
    form: Any = context.get("touch_form")
    if isinstance(form, TouchForm) and form.account.pk == account.pk:
        return form
    return TouchForm(account=account)
