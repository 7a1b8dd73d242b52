"""`{{ mrr|money }}`, `{{ amount|money:2 }}`, `{{ share|percent:1 }}` and `{{ n|thousands }}`:
the pages' money, percentages and counts; money and percentages formatted by csm.lib.numbers (one
definition, also used by the views that build text). None shows as "—"."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings

from csm.lib.numbers import money_text, percent_text

register = template.Library()

MISSING = "—"


@register.filter
def money(value: Decimal | float | int | str | None, places: int = 0) -> str:
    if value is None or value == "":
        return MISSING
    try:
        return money_text(value, settings.CURRENCY_SYMBOL, int(places))
    except (InvalidOperation, ValueError, TypeError):
        return MISSING


@register.filter
def percent(value: Decimal | float | int | str | None, places: int = 1) -> str:
    if value is None or value == "":
        return MISSING
    try:
        return percent_text(value, int(places))
    except (InvalidOperation, ValueError, TypeError):
        return MISSING


@register.filter
def thousands(value: Decimal | float | int | str | None) -> str:
    """A whole number with thousands separators ("12,480"), rounded half up; "—" for None."""
    if value is None or value == "":
        return MISSING
    try:
        return money_text(value, "", 0)
    except (InvalidOperation, ValueError, TypeError):
        return MISSING
