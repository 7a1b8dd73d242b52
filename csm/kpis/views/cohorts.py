"""The cohorts page (docs/definitions.md): logo and revenue retention by first paid month, read
from the nightly run's cohort snapshot of the scope. `?format=csv` exports both tables.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import HttpResponse
from django.template.defaultfilters import floatformat
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from accounts.access import AuthenticatedHttpRequest
from accounts.mrr import Month
from accounts.scopes import SCOPE_ALL
from csm.kpis import metrics as kpi_rules
from csm.kpis.models import KpiSnapshot
from csm.kpis.snapshots import cohort_table
from csm.kpis.views.scope import book_scope, currency_symbol, format_money, owner_query, scope_slug
from csm.lib.csv_export import csv_response
from csm.lib.http import partial_template

# --- Cohorts -------------------------------------------------------------------------------------


def _shade(value: Decimal | None, *, revenue: bool) -> dict[str, Any] | None:
    """A cell's text and its shade class (static/csm/kpis.css): the higher the retention, the
    stronger the colour, in eleven steps whose text colour keeps WCAG AA contrast (4.5:1);
    revenue above 100% is green."""
    if value is None:
        return None
    ratio = float(value)
    step = round(max(0.0, min(ratio, 1.0)) * 10)
    return {
        "text": f"{floatformat(ratio * 100, 0)}%",
        "class": f"cell shade-{step}" + (" above" if revenue and ratio > 1 else ""),
    }


def _cells_html(cells: list[dict[str, Any] | None]) -> str:
    """A row's cells as HTML, built here: ~1,200 cells through the template loop cost more than
    the rest of the page. A future month is an empty cell."""
    future = mark_safe('<td class="cell future"></td>')  # a constant
    return format_html_join(
        "",
        "{}",
        (
            (
                future
                if cell is None
                else format_html('<td class="{}">{}</td>', cell["class"], cell["text"]),
            )
            for cell in cells
        ),
    )


def _cohort_row(month: Month, size: str, cells: list[dict[str, Any] | None]) -> dict[str, Any]:
    return {"month": str(month), "size": size, "cells": cells, "html": _cells_html(cells)}


@login_required
def cohort_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope, owner, form = book_scope(request)
    latest = (
        KpiSnapshot.objects.filter(scope=SCOPE_ALL)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    rows: list[kpi_rules.CohortRow] = []
    last = Month.of(latest) if latest else Month.of(timezone.localdate())
    if latest is not None:
        rows = cohort_table(last=last, owner_id=None if owner is None else owner.pk)
    width = max((len(row.cells) for row in rows), default=0)
    table = request.GET.get("table", "logo")
    if request.GET.get("format") == "csv":
        if table not in ("logo", "revenue"):
            table = "logo"
        header = ["cohort", "customers", "mrr"] + [str(k) for k in range(width)]
        out = []
        for row in rows:
            ratios = row.logo if table == "logo" else row.revenue
            out.append(
                [str(row.month), row.size, str(row.mrr)]
                + [None if r is None else f"{r:.6f}" for r in ratios]
            )
        return csv_response(f"cohorts-{table}-{scope_slug(scope)}", header, out)
    symbol = currency_symbol()
    context = {
        "nav": "kpis",
        "kpi_nav": "cohorts",
        "form": form,
        "people": form.people if form else [],
        "owner": owner,
        "scope": scope,
        "last": last,
        "columns": list(range(width)),
        "tables": [
            {
                "key": "logo",
                "title": _("Logo retention"),
                "note": _("share of the cohort's customers still paying"),
                "size_label": _("Customers"),
                "rows": [
                    _cohort_row(
                        row.month,
                        intcomma(row.size),
                        [_shade(r, revenue=False) for r in row.logo],
                    )
                    for row in rows
                ],
            },
            {
                "key": "revenue",
                "title": _("Revenue retention"),
                "note": _("the cohort's MRR ÷ its first month's MRR"),
                "size_label": _("First MRR"),
                "rows": [
                    _cohort_row(
                        row.month,
                        format_money(symbol, row.mrr),
                        [_shade(r, revenue=True) for r in row.revenue],
                    )
                    for row in rows
                ],
            },
        ],
        "query": owner_query(owner, form),
    }
    return TemplateResponse(
        request, partial_template(request, "kpis/cohorts.html", "kpi-body"), context
    )
