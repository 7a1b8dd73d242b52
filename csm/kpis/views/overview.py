"""The KPI overview and cohorts pages (DESIGN §4), read from what the nightly run stored:
KpiSnapshot rows for the overview, MrrMovement rows for the cohorts. Managers see everything and
may pick a CSM's book; a CSM sees their own book only. `?format=csv` exports the pages' tables.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.defaultfilters import floatformat
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import AuthenticatedHttpRequest
from accounts.models import Role, User
from accounts.mrr import Month
from accounts.scopes import SCOPE_ALL, owner_scope
from csm.kpis import metrics as kpi_rules
from csm.kpis.goals import goals_for_overview
from csm.kpis.models import KpiSnapshot
from csm.kpis.snapshots import cohort_table
from csm.lib.csv_export import csv_response
from csm.lib.numbers import money_text

TREND_MONTHS = 24
HEALTHY_MONTHLY_CHURN = 0.006  # ~7% a year (DESIGN §2)


# --- Scope ---------------------------------------------------------------------------------------


class ScopeForm(forms.Form):
    """A manager's choice of book: the whole team, or one CSM."""

    owner = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label=gettext_lazy("Book")
    )

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = people  # the template writes the picker's options from these
        # The people are already loaded: the choices come from them, not from another query.
        self.fields["owner"].choices = [("", _("Whole team"))] + [  # type: ignore[attr-defined]
            (p.pk, str(p)) for p in people
        ]


def _scope(request: AuthenticatedHttpRequest) -> tuple[str, User | None, ScopeForm | None]:
    """(scope key, the CSM whose book it is or None for everyone, the manager's form; its
    `people` are the CSMs to pick from).

    A CSM sees their own book; asking for anybody else's is refused (403). A manager's bad
    `owner` value is shown next to the picker and the whole team is shown instead."""
    user = request.user
    if not user.is_manager:
        asked = request.GET.get("owner", "")
        if asked and asked != str(user.pk):
            raise PermissionDenied("a CSM sees only their own book")
        return owner_scope(user.pk), user, None
    # list(): the CSMs fill the picker and validate the choice, from one query.
    people = list(User.objects.filter(is_active=True, role=Role.CSM))
    form = ScopeForm(request.GET or None, people=people)
    if form.is_bound and form.is_valid() and form.cleaned_data["owner"] is not None:
        owner = next(p for p in people if p.pk == form.cleaned_data["owner"])
        return owner_scope(owner.pk), owner, form
    return SCOPE_ALL, None, form


def _template(request: AuthenticatedHttpRequest, name: str, partial: str) -> str:
    if request.htmx and not request.htmx.boosted:
        return f"{name}#{partial}"
    return name


def _scope_slug(scope: str) -> str:
    return scope.replace(":", "-")


# --- Formatting ----------------------------------------------------------------------------------


def _money(symbol: str, value: str | Decimal | None, places: int = 0) -> str:
    if value is None:
        return "—"
    return money_text(value, symbol, places)


def _percent(rate: float | None, places: int = 1) -> str:
    if rate is None:
        return "—"
    return f"{floatformat(rate * 100, places)}%"


def _number(value: float | None, places: int = 2) -> str:
    return "—" if value is None else floatformat(value, places)


def _float(value: str | float | None) -> float | None:
    return None if value is None else float(value)


def _pct_points(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 3)


# --- Overview ------------------------------------------------------------------------------------


def _cards(values: dict[str, Any], ltv_churn: Decimal | None, symbol: str) -> list[dict[str, str]]:
    """The headline numbers of one month, each with its definition and the counts behind it."""
    v = values
    money = lambda key: _money(symbol, v[key])  # noqa: E731
    lost = Decimal(v["mrr_churn"]) + Decimal(v["mrr_contraction"])
    return [
        {
            "key": "mrr",
            "label": _("MRR"),
            "value": money("mrr_end"),
            "detail": _("%(start)s at the start of the month") % {"start": money("mrr_start")},
            "definition": _(
                "Monthly recurring revenue: the sum of active subscriptions' MRR (yearly plans "
                "÷ 12) at month end."
            ),
        },
        {
            "key": "customers",
            "label": _("Customers"),
            "value": intcomma(v["customers_end"]),
            "detail": _("+%(new)s new, +%(back)s back, −%(lost)s churned")
            % {
                "new": v["new_customers"],
                "back": v["reactivated_customers"],
                "lost": v["churned_customers"],
            },
            "definition": _("Accounts paying (MRR above 0) at month end."),
        },
        {
            "key": "logo_churn",
            "label": _("Logo churn"),
            "value": _percent(v["customer_churn_rate"]),
            "detail": _("%(churned)s of %(start)s customers")
            % {
                "churned": intcomma(v["churned_customers"]),
                "start": intcomma(v["customers_start"]),
            },
            "definition": _(
                "Customers whose MRR went to 0 this month ÷ customers at the start of the month. "
                "Healthy: about 0.6% a month."
            ),
        },
        {
            "key": "gross_churn",
            "label": _("Gross MRR churn"),
            "value": _percent(v["gross_mrr_churn_rate"]),
            "detail": _("%(lost)s lost of %(start)s")
            % {"lost": _money(symbol, lost), "start": money("mrr_start")},
            "definition": _("(Churned MRR + contraction) ÷ MRR at the start of the month."),
        },
        {
            "key": "net_churn",
            "label": _("Net MRR churn"),
            "value": _percent(v["net_mrr_churn_rate"]),
            "detail": _("%(lost)s lost, %(won)s won back by expansion and reactivation")
            % {
                "lost": _money(symbol, lost),
                "won": _money(symbol, Decimal(v["mrr_expansion"]) + Decimal(v["mrr_reactivation"])),
            },
            "definition": _(
                "(Churned MRR + contraction − expansion − reactivation) ÷ MRR at the start of the "
                "month. Below 0 is good: the book grows without new customers."
            ),
        },
        {
            "key": "grr",
            "label": _("GRR"),
            "value": _percent(v["grr"]),
            "detail": _("%(kept)s kept of %(start)s")
            % {
                "kept": _money(symbol, Decimal(v["mrr_start"]) - lost),
                "start": money("mrr_start"),
            },
            "definition": _(
                "Gross revenue retention: (MRR at start − churn − contraction) ÷ MRR at start."
            ),
        },
        {
            "key": "nrr",
            "label": _("NRR"),
            "value": _percent(v["nrr"]),
            "detail": _("expansion %(expansion)s") % {"expansion": money("mrr_expansion")},
            "definition": _(
                "Net revenue retention: (MRR at start − churn − contraction + expansion) ÷ MRR "
                "at start."
            ),
        },
        {
            "key": "quick_ratio",
            "label": _("Quick ratio"),
            "value": _number(v["quick_ratio"]),
            "detail": _("%(won)s new and expansion vs %(lost)s lost")
            % {
                "won": _money(symbol, Decimal(v["mrr_new"]) + Decimal(v["mrr_expansion"])),
                "lost": _money(symbol, lost),
            },
            "definition": _(
                "(New MRR + expansion) ÷ (churned MRR + contraction). Above 4 is efficient growth."
            ),
        },
        {
            "key": "arpa",
            "label": _("ARPA"),
            "value": _money(symbol, v["arpa"], 2),
            "detail": _("%(mrr)s ÷ %(customers)s customers")
            % {"mrr": money("mrr_end"), "customers": intcomma(v["customers_end"])},
            "definition": _("Average revenue per account: MRR at month end ÷ customers."),
        },
        {
            "key": "ltv",
            "label": _("LTV"),
            "value": _money(symbol, v["ltv"]),
            "detail": (
                _("ARPA at %(churn)s mean monthly logo churn")
                % {"churn": _percent(float(ltv_churn), 2)}
                if ltv_churn
                else _("no churn in the six months before: not defined")
            ),
            "definition": _(
                "Customer lifetime value: ARPA ÷ the mean logo churn rate of the six months "
                "before (those that had customers)."
            ),
        },
        {
            "key": "nps",
            "label": _("NPS"),
            "value": "—" if v["nps"] is None else floatformat(v["nps"], 0),
            "detail": _("survey answers given this month")
            if v["nps"] is not None
            else _("no NPS answers this month"),
            "definition": _(
                "Net promoter score, −100 to 100: % promoters (9–10) − % detractors (0–6)."
            ),
        },
    ]


def _with_changes(
    cards: list[dict[str, str]],
    current: dict[str, Any],
    previous: dict[str, Any] | None,
    symbol: str,
) -> list[dict[str, str]]:
    """Add the change since the month before to the cards where a manager reads a trend: MRR,
    customers, logo churn (down is good) and NRR."""
    if previous is None:
        return cards

    def arrow(delta: float) -> str:
        return "▲" if delta > 0 else "▼" if delta < 0 else "="

    changes: dict[str, tuple[str, str]] = {}
    mrr = Decimal(current["mrr_end"]) - Decimal(previous["mrr_end"])
    changes["mrr"] = (
        f"{arrow(float(mrr))} {_money(symbol, abs(mrr))}",
        "up" if mrr > 0 else "down" if mrr < 0 else "",
    )
    customers = current["customers_end"] - previous["customers_end"]
    changes["customers"] = (
        f"{arrow(customers)} {abs(customers)}",
        "up" if customers > 0 else "down" if customers < 0 else "",
    )
    for key, field in (("logo_churn", "customer_churn_rate"), ("nrr", "nrr")):
        now, before = current[field], previous[field]
        if now is None or before is None:
            continue
        points = round((now - before) * 100, 1)
        better = points < 0 if key == "logo_churn" else points > 0
        changes[key] = (
            _("%(arrow)s %(points)s pts") % {"arrow": arrow(points), "points": abs(points)},
            "" if points == 0 else "up" if better else "down",
        )
    for card in cards:
        if card["key"] in changes:
            card["change"], card["change_class"] = changes[card["key"]]
            card["change_title"] = _("change since the month before")
    return cards


def _chart_list(snapshots: list[KpiSnapshot]) -> list[dict[str, Any]]:
    """The overview's charts in the order shown: MRR and customers first (the trend at a
    glance), the movements behind them across the page, then the other trends two by two."""
    data = _charts(snapshots)
    titles = [
        ("mrr", _("MRR"), _("at month end")),
        ("customers", _("Customers"), _("paying at month end")),
        (
            "movements",
            _("MRR movements"),
            _(
                "gains above the line (new, reactivation, expansion), losses below (contraction, "
                "churn); the line is the net change"
            ),
        ),
        ("churn", _("Churn rates"), _("per month; dashed: the healthy ~0.6% logo churn")),
        ("retention", _("Revenue retention"), _("NRR and GRR per month")),
        ("quick_ratio", _("Quick ratio"), _("(new + expansion) ÷ (churn + contraction)")),
        ("arpa", _("ARPA"), _("MRR per customer")),
        ("ltv", _("LTV"), _("ARPA ÷ mean logo churn of the six months before")),
        ("nps", _("NPS"), _("answers given in the month, −100 to 100")),
    ]
    return [
        {
            # Nothing to draw (e.g. no NPS answers in 24 months): the page says so instead.
            "empty": all(
                value is None
                for dataset in data[key]["datasets"]
                if not dataset.get("dashed")
                for value in dataset["values"]
            ),
            "id": f"kpi-{key}",
            "title": title,
            "note": note,
            "data": data[key],
            "wide": key == "movements",
        }
        for key, title, note in titles
    ]


def _charts(snapshots: list[KpiSnapshot]) -> dict[str, Any]:
    """The trend charts' data (24 months), drawn by static/csm/charts.js."""
    labels = [s.month.strftime("%Y-%m") for s in snapshots]
    values = [s.values for s in snapshots]

    def series(key: str, convert: Any = _float) -> list[Any]:
        return [convert(v[key]) for v in values]

    def negative(key: str) -> list[float]:
        return [-float(v[key]) for v in values]

    return {
        "movements": {
            "labels": labels,
            "format": "money",
            "stacked": True,
            "datasets": [
                {"label": _("New"), "values": series("mrr_new"), "color": "#16a34a"},
                {
                    "label": _("Reactivation"),
                    "values": series("mrr_reactivation"),
                    "color": "#86efac",
                },
                {"label": _("Expansion"), "values": series("mrr_expansion"), "color": "#2563eb"},
                {
                    "label": _("Contraction"),
                    "values": negative("mrr_contraction"),
                    "color": "#f59e0b",
                },
                {"label": _("Churn"), "values": negative("mrr_churn"), "color": "#dc2626"},
            ],
            "line": {
                "label": _("Net change"),
                "values": [
                    float(
                        Decimal(v["mrr_new"])
                        + Decimal(v["mrr_reactivation"])
                        + Decimal(v["mrr_expansion"])
                        - Decimal(v["mrr_contraction"])
                        - Decimal(v["mrr_churn"])
                    )
                    for v in values
                ],
            },
        },
        "mrr": {
            "labels": labels,
            "format": "money",
            "datasets": [{"label": _("MRR"), "values": series("mrr_end"), "color": "#1d4ed8"}],
            "fill": True,
            "zero": True,
        },
        "customers": {
            "labels": labels,
            "format": "number",
            "datasets": [
                {"label": _("Customers"), "values": series("customers_end"), "color": "#0f766e"}
            ],
            "fill": True,
            "zero": True,
        },
        "churn": {
            "labels": labels,
            "format": "percent",
            "datasets": [
                {
                    "label": _("Logo churn"),
                    "values": series("customer_churn_rate", _pct_points),
                    "color": "#dc2626",
                },
                {
                    "label": _("Gross MRR churn"),
                    "values": series("gross_mrr_churn_rate", _pct_points),
                    "color": "#f59e0b",
                },
                {
                    "label": _("Net MRR churn"),
                    "values": series("net_mrr_churn_rate", _pct_points),
                    "color": "#7c3aed",
                },
                {
                    "label": _("Healthy logo churn (0.6%)"),
                    "values": [HEALTHY_MONTHLY_CHURN * 100] * len(values),
                    "color": "#16a34a",
                    "dashed": True,
                },
            ],
            "zero": True,
        },
        "retention": {
            "labels": labels,
            "format": "percent",
            "datasets": [
                {"label": _("NRR"), "values": series("nrr", _pct_points), "color": "#2563eb"},
                {"label": _("GRR"), "values": series("grr", _pct_points), "color": "#0f766e"},
                {
                    "label": _("100%"),
                    "values": [100] * len(values),
                    "color": "#9ca3af",
                    "dashed": True,
                },
            ],
        },
        "quick_ratio": {
            "labels": labels,
            "format": "number",
            "datasets": [
                {"label": _("Quick ratio"), "values": series("quick_ratio"), "color": "#0891b2"},
                {
                    "label": _("Efficient growth (4)"),
                    "values": [4] * len(values),
                    "color": "#9ca3af",
                    "dashed": True,
                },
            ],
            "zero": True,
        },
        "arpa": {
            "labels": labels,
            "format": "money",
            "datasets": [{"label": _("ARPA"), "values": series("arpa"), "color": "#9333ea"}],
        },
        "ltv": {
            "labels": labels,
            "format": "money",
            "datasets": [{"label": _("LTV"), "values": series("ltv"), "color": "#be185d"}],
            "zero": True,
        },
        "nps": {
            "labels": labels,
            "format": "number",
            "datasets": [{"label": _("NPS"), "values": series("nps"), "color": "#ea580c"}],
            "min": -100,
            "max": 100,
        },
    }


def _ltv_churn(snapshots: list[KpiSnapshot]) -> Decimal | None:
    """The mean logo churn rate LTV divides by, for the latest month (from the stored counts)."""
    if not snapshots:
        return None
    totals = [
        kpi_rules.MonthTotals(
            Month.of(s.month),
            customers_start=s.values["customers_start"],
            churned_customers=s.values["churned_customers"],
        )
        for s in snapshots
    ]
    return kpi_rules.ltv_churn_rate(totals[-1].month, totals[:-1])


OVERVIEW_COLUMNS = list(kpi_rules.KPI_KEYS)


@login_required
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope, owner, form = _scope(request)
    # One query: the scope's latest snapshots, newest first, then put oldest first for the charts.
    snapshots = list(KpiSnapshot.objects.filter(scope=scope).order_by("-month")[:TREND_MONTHS])[
        ::-1
    ]
    if request.GET.get("format") == "csv":
        return csv_response(
            f"kpis-{_scope_slug(scope)}",
            OVERVIEW_COLUMNS,
            [[s.values.get(key) for key in OVERVIEW_COLUMNS] for s in snapshots],
        )
    symbol = _currency_symbol()
    latest = snapshots[-1] if snapshots else None
    context: dict[str, Any] = {
        "nav": "kpis",
        "kpi_nav": "overview",
        "form": form,
        "people": form.people if form else [],
        "owner": owner,
        "scope": scope,
        "latest": latest,
        "month_to_date": latest is not None and not latest.closed,
        "cards": _with_changes(
            _cards(latest.values, _ltv_churn(snapshots), symbol),
            latest.values,
            snapshots[-2].values if len(snapshots) > 1 else None,
            symbol,
        )
        if latest
        else [],
        "charts": _chart_list(snapshots) if snapshots else [],
        "rows": [_table_row(s, symbol) for s in reversed(snapshots)],
        "query": _owner_query(owner, form),
        # Goals against their targets (csm/goals.py), for the book shown.
        "goals": goals_for_overview(owner),
    }
    return TemplateResponse(
        request, _template(request, "csm/kpi_overview.html", "kpi-body"), context
    )


def _currency_symbol() -> str:
    return settings.CURRENCY_SYMBOL


def _owner_query(owner: User | None, form: ScopeForm | None) -> str:
    return f"owner={owner.pk}" if owner is not None and form is not None else ""


def _table_row(snapshot: KpiSnapshot, symbol: str) -> dict[str, Any]:
    v = snapshot.values
    return {
        "month": snapshot.month.strftime("%Y-%m"),
        "closed": snapshot.closed,
        "mrr": _money(symbol, v["mrr_end"]),
        "customers": intcomma(v["customers_end"]),
        "new": _money(symbol, v["mrr_new"]),
        "reactivation": _money(symbol, v["mrr_reactivation"]),
        "expansion": _money(symbol, v["mrr_expansion"]),
        "contraction": _money(symbol, v["mrr_contraction"]),
        "churn": _money(symbol, v["mrr_churn"]),
        "logo_churn": _percent(v["customer_churn_rate"]),
        "churned": f"{v['churned_customers']}/{v['customers_start']}",
        "gross": _percent(v["gross_mrr_churn_rate"]),
        "net": _percent(v["net_mrr_churn_rate"]),
        "grr": _percent(v["grr"]),
        "nrr": _percent(v["nrr"]),
        "quick_ratio": _number(v["quick_ratio"]),
        "arpa": _money(symbol, v["arpa"]),
        "ltv": _money(symbol, v["ltv"]),
        "nps": "—" if v["nps"] is None else floatformat(v["nps"], 0),
    }


# --- Cohorts -------------------------------------------------------------------------------------


def _shade(value: Decimal | None, *, revenue: bool) -> dict[str, Any] | None:
    """A cell's text and its background: the higher the retention, the stronger the colour."""
    if value is None:
        return None
    ratio = float(value)
    strength = max(0.0, min(ratio, 1.0))
    colour = "37, 99, 235" if ratio <= 1 or not revenue else "22, 163, 74"
    return {
        "text": f"{floatformat(ratio * 100, 0)}%",
        "style": f"background: rgba({colour}, {0.08 + 0.72 * strength:.2f});"
        + (" color: #fff;" if strength > 0.6 else ""),
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
                else format_html(
                    '<td class="cell" style="{}">{}</td>', cell["style"], cell["text"]
                ),
            )
            for cell in cells
        ),
    )


def _cohort_row(month: Month, size: str, cells: list[dict[str, Any] | None]) -> dict[str, Any]:
    return {"month": str(month), "size": size, "cells": cells, "html": _cells_html(cells)}


@login_required
def cohort_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope, owner, form = _scope(request)
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
        header = [_("cohort"), _("customers"), _("mrr")] + [str(k) for k in range(width)]
        out = []
        for row in rows:
            ratios = row.logo if table == "logo" else row.revenue
            out.append(
                [str(row.month), row.size, str(row.mrr)]
                + [None if r is None else f"{r:.6f}" for r in ratios]
            )
        return csv_response(f"cohorts-{table}-{_scope_slug(scope)}", header, out)
    symbol = _currency_symbol()
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
                        _money(symbol, row.mrr),
                        [_shade(r, revenue=True) for r in row.revenue],
                    )
                    for row in rows
                ],
            },
        ],
        "query": _owner_query(owner, form),
    }
    return TemplateResponse(
        request, _template(request, "csm/kpi_cohorts.html", "kpi-body"), context
    )
