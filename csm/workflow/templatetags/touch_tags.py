"""`{% touch_form_for account as form %}`: the touch form a page passed for this account (with
its errors), or a blank one, so "csm/_touch_form.html" can be included on any page;
`{% touch_log_lazy account next %}`, its collapsed variant for lists; and `{{ day|days_away }}`,
a date counted in whole days from today."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext

from accounts.models import Account
from csm.workflow.forms import TouchForm

register = template.Library()


@register.simple_tag(takes_context=True)
def touch_form_for(context: template.Context, account: Account) -> TouchForm:
    form: Any = context.get("touch_form")
    if isinstance(form, TouchForm) and form.account.pk == account.pk:
        return form
    return TouchForm(account=account)


@register.simple_tag
def touch_log_lazy(account: Account, next_url: str | None) -> SafeString:
    """The collapsed "Log a touch" that lists show on every row: opening it loads the form (htmx);
    without JavaScript its link opens the touch page. In Python: it is on each row of Today and
    the queue, and the template's url, urlencode and translate nodes were most of its cost."""
    url = reverse("touches:log", args=[account.external_id])
    query = f"{url}?next={quote(str(next_url or ''), safe='/')}"
    log_a_touch, open_the_form = _lazy_words(get_language())
    return format_html(
        '<details class="touch-log" hx-get="{}" hx-trigger="toggle once" '
        'hx-target="find .lazy-form" hx-swap="innerHTML">\n'
        "  <summary>{}</summary>\n"
        '  <div class="lazy-form"><a href="{}">{}</a></div>\n</details>',
        query,
        log_a_touch,
        query,
        open_the_form,
    )


@lru_cache(maxsize=16)
def _lazy_words(language: str | None) -> tuple[str, str]:
    return gettext("Log a touch"), gettext("Open the form")


@register.filter
def days_away(day: date | None) -> str:
    """Say "in 9 days", "today" or "3 days ago" of a date, in whole days from today (Django's
    timeuntil counts from this moment and says "2 days, 9 hours" of a renewal date)."""
    if day is None:
        return ""
    days = (day - timezone.localdate()).days
    if days == 0:
        return gettext("today")
    if days > 0:
        return ngettext("in %(n)s day", "in %(n)s days", days) % {"n": days}
    return ngettext("%(n)s day ago", "%(n)s days ago", -days) % {"n": -days}
