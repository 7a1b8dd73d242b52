"""The Today page's team table, rendered in Python: 150 CSMs' rows through the template engine
were a fifth of a manager's Today (each cell a node, each number localised)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def per_csm_rows(rows: list[dict[str, Any]]) -> SafeString:
    """The <tr> of each person (today_for's `per_csm`): name (marked when inactive), open risk
    items, overdue tasks, overdue milestones; the Unassigned row in italics."""
    inactive = format_html(' <small class="muted">{}</small>', _("(inactive)"))
    unassigned = format_html("<em>{}</em>", _("Unassigned"))
    return format_html_join(
        "",
        '<tr{}><td>{}</td><td class="num">{}</td>'
        '<td class="num">{}</td><td class="num">{}</td></tr>',
        (
            (
                "" if row["user"] else SafeString(' class="unassigned"'),
                format_html("{}{}", row["user"], "" if row["user"].is_active else inactive)
                if row["user"]
                else unassigned,
                row["risks"],
                row["tasks"],
                row["overdue"],
            )
            for row in rows
        ),
    )
