"""The KPI overview (docs/definitions.md), read from the KpiSnapshot rows the nightly run stored:
cards with definitions and counts, 24-month trend charts, MRR movements and goals. Managers see
everything and may pick a CSM's book; a CSM sees their own book. `?format=csv` exports the table.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import HttpResponse
from django.template.defaultfilters import floatformat
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from accounts.access import AuthenticatedHttpRequest
from accounts.mrr import Month
from csm.kpis import metrics as kpi_rules
from csm.kpis.goals import goals_for_overview
from csm.kpis.models import KpiSnapshot
from csm.kpis.views.common import pct_points
from csm.kpis.views.scope import (
    HEALTHY_MONTHLY_CHURN,
    TREND_MONTHS,
    as_float,
    book_scope,
    currency_symbol,
    format_money,
    number,
    owner_query,
    percent,
    scope_slug,
)
from csm.lib.csv_export import csv_response
from csm.lib.http import partial_template

# --- Overview ------------------------------------------------------------------------------------


def _cards(values: dict[str, Any], ltv_churn: Decimal | None, symbol: str) -> list[dict[str, str]]:
    """The headline numbers of one month, each with its definition and the counts behind it."""
    v = values
    money = lambda key: format_money(symbol, v[key])  # noqa: E731
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
            "value": percent(v["customer_churn_rate"]),
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
            "value": percent(v["gross_mrr_churn_rate"]),
            "detail": _("%(lost)s lost of %(start)s")
            % {"lost": format_money(symbol, lost), "start": money("mrr_start")},
            "definition": _("(Churned MRR + contraction) ÷ MRR at the start of the month."),
        },
        {
            "key": "net_churn",
            "label": _("Net MRR churn"),
            "value": percent(v["net_mrr_churn_rate"]),
            "detail": _("%(lost)s lost, %(won)s won back by expansion and reactivation")
            % {
                "lost": format_money(symbol, lost),
                "won": format_money(
                    symbol, Decimal(v["mrr_expansion"]) + Decimal(v["mrr_reactivation"])
                ),
            },
            "definition": _(
                "(Churned MRR + contraction − expansion − reactivation) ÷ MRR at the start of the "
                "month. Below 0 is good: the book grows without new customers."
            ),
        },
        {
            "key": "grr",
            "label": _("GRR"),
            "value": percent(v["grr"]),
            "detail": _("%(kept)s kept of %(start)s")
            % {
                "kept": format_money(symbol, Decimal(v["mrr_start"]) - lost),
                "start": money("mrr_start"),
            },
            "definition": _(
                "Gross revenue retention: (MRR at start − churn − contraction) ÷ MRR at start."
            ),
        },
        {
            "key": "nrr",
            "label": _("NRR"),
            "value": percent(v["nrr"]),
            "detail": _("expansion %(expansion)s") % {"expansion": money("mrr_expansion")},
            "definition": _(
                "Net revenue retention: (MRR at start − churn − contraction + expansion) ÷ MRR "
                "at start."
            ),
        },
        {
            "key": "quick_ratio",
            "label": _("Quick ratio"),
            "value": number(v["quick_ratio"]),
            "detail": _("%(won)s new and expansion vs %(lost)s lost")
            % {
                "won": format_money(symbol, Decimal(v["mrr_new"]) + Decimal(v["mrr_expansion"])),
                "lost": format_money(symbol, lost),
            },
            "definition": _(
                "(New MRR + expansion) ÷ (churned MRR + contraction). Above 4 is efficient growth."
            ),
        },
        {
            "key": "arpa",
            "label": _("ARPA"),
            "value": format_money(symbol, v["arpa"], 2),
            "detail": _("%(mrr)s ÷ %(customers)s customers")
            % {"mrr": money("mrr_end"), "customers": intcomma(v["customers_end"])},
            "definition": _("Average revenue per account: MRR at month end ÷ customers."),
        },
        {
            "key": "ltv",
            "label": _("LTV"),
            "value": format_money(symbol, v["ltv"]),
            "detail": (
                _("ARPA at %(churn)s mean monthly logo churn")
                % {"churn": percent(float(ltv_churn), 2)}
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
        f"{arrow(float(mrr))} {format_money(symbol, abs(mrr))}",
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
        (
            "churn",
            _("Churn rates"),
            # xgettext:no-python-format
            _("per month; dashed: the healthy ~0.6% logo churn"),
        ),
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

    def series(key: str, convert: Any = as_float) -> list[Any]:
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
                    "values": series("customer_churn_rate", pct_points),
                    "color": "#dc2626",
                },
                {
                    "label": _("Gross MRR churn"),
                    "values": series("gross_mrr_churn_rate", pct_points),
                    "color": "#f59e0b",
                },
                {
                    "label": _("Net MRR churn"),
                    "values": series("net_mrr_churn_rate", pct_points),
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
                {"label": _("NRR"), "values": series("nrr", pct_points), "color": "#2563eb"},
                {"label": _("GRR"), "values": series("grr", pct_points), "color": "#0f766e"},
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
    scope, owner, form = book_scope(request)
    # One query: the scope's latest snapshots, newest first, then put oldest first for the charts.
    snapshots = list(KpiSnapshot.objects.filter(scope=scope).order_by("-month")[:TREND_MONTHS])[
        ::-1
    ]
    if request.GET.get("format") == "csv":
        return csv_response(
            f"kpis-{scope_slug(scope)}",
            OVERVIEW_COLUMNS,
            [[s.values.get(key) for key in OVERVIEW_COLUMNS] for s in snapshots],
        )
    symbol = currency_symbol()
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
        "query": owner_query(owner, form),
        # Goals against their targets (csm/kpis/goals.py), for the book shown.
        "goals": goals_for_overview(owner),
    }
    return TemplateResponse(
        request, partial_template(request, "kpis/overview.html", "kpi-body"), context
    )


def _table_row(snapshot: KpiSnapshot, symbol: str) -> dict[str, Any]:
    v = snapshot.values
    return {
        "month": snapshot.month.strftime("%Y-%m"),
        "closed": snapshot.closed,
        "mrr": format_money(symbol, v["mrr_end"]),
        "customers": intcomma(v["customers_end"]),
        "new": format_money(symbol, v["mrr_new"]),
        "reactivation": format_money(symbol, v["mrr_reactivation"]),
        "expansion": format_money(symbol, v["mrr_expansion"]),
        "contraction": format_money(symbol, v["mrr_contraction"]),
        "churn": format_money(symbol, v["mrr_churn"]),
        "logo_churn": percent(v["customer_churn_rate"]),
        "churned": f"{v['churned_customers']}/{v['customers_start']}",
        "gross": percent(v["gross_mrr_churn_rate"]),
        "net": percent(v["net_mrr_churn_rate"]),
        "grr": percent(v["grr"]),
        "nrr": percent(v["nrr"]),
        "quick_ratio": number(v["quick_ratio"]),
        "arpa": format_money(symbol, v["arpa"]),
        "ltv": format_money(symbol, v["ltv"]),
        "nps": "—" if v["nps"] is None else floatformat(v["nps"], 0),
    }
