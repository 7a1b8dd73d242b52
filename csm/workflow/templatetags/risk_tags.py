"""`{% risk_form "snooze" item as form %}`: the bound form the view passed for this item and
action (with its errors), or a blank one, so each row of "csm/risk.html" renders its forms from
one context. `{% risk_actions item as actions %}`: the row's snooze / reassign / resolve forms.
`{% risk_labels as labels %}`: the row's column names, translated once per language.
`{% risk_reasons item as reasons %}`: the item's reasons in words as of today (reasons.py), and
`{% reason_list item %}` the same as a list."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
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
    """The row's actions; one without a form carries its collapsed <details> as `lazy`: opening
    it loads the form (htmx, `row` kept so the answer is the same row), and without JavaScript
    its link opens the item's page with all its forms. Built here rather than in the template:
    three of them on each row were a third of rendering the queue and Today's at-risk rows."""
    actions = actions_for(
        item,
        manager=context["user"].is_manager,
        inline=context.get("forms_inline", False),
        bound=context.get("risk_form"),
        people=context.get("people"),
    )
    if all(action.form is not None for action in actions):
        return actions
    item_url = reverse("risk:item", args=[item.pk])
    back = quote(str(context.get("next_url") or ""), safe="/")
    row = context.get("row") or ""
    fallback = f"{item_url}?next={back}"
    open_form = _labels(get_language())["open_form"]
    return [
        action
        if action.form is not None
        else replace(
            action,
            lazy=format_html(
                '<details hx-get="{}" hx-trigger="toggle once" hx-target="find .lazy-form" '
                'hx-swap="innerHTML"><summary>{}</summary>'
                '<div class="lazy-form"><a href="{}">{}</a></div></details>',
                f"{item_url}?action={action.name}&next={back}" + (f"&row={row}" if row else ""),
                action.label,
                fallback,
                open_form,
            ),
        )
        for action in actions
    ]


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
        "nightly": _("(changes with the nightly scores)"),
    }


@register.simple_tag
def risk_reasons(item: RiskItem) -> list[dict[str, Any]]:
    return reason_rows(item.shown_reasons, today=timezone.localdate(), opened_on=item.opened_on)


@register.simple_tag
def reason_list(item: RiskItem) -> SafeString:
    """The item's reasons as a list, each in words (as of today) with the rule's name as its
    title, and "changes with the nightly scores" on the score-based ones. On every row of the
    queue and Today, so built here rather than by an included template."""
    nightly = format_html(' <small class="muted">{}</small>', _labels(get_language())["nightly"])
    return format_html(
        '<ul class="reasons">{}</ul>',
        format_html_join(
            "",
            '<li title="{}">{}{}</li>',
            (
                (reason["label"], reason["text"], nightly if reason["nightly"] else "")
                for reason in risk_reasons(item)
            ),
        ),
    )
