"""Churn analysis: logo and MRR churn by month against the healthy ~0.6% a month, and churns by
reason, voluntary or involuntary, competitor, tier, segment, lifecycle stage and CSM."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.access import AuthenticatedHttpRequest, book_q
from accounts.models import LifecycleStage, Segment, Tier, lifecycle_stage_at
from csm.kpis.forms import (
    PeriodForm,
)
from csm.kpis.goals import months_between
from csm.kpis.models import KpiSnapshot
from csm.kpis.views.common import (
    HEALTHY_MONTHLY_CHURN,
    cents,
    csv_tables,
    kpi_scope,
    month_label,
    pct_points,
    person_label,
    share,
    wants_csv,
)
from csm.lib.http import partial_template
from feedback.models import ChurnCategory, ChurnEvent, ChurnType

# --- Churn analysis -------------------------------------------------------------------------------


def _tier_at_churn() -> Case:
    """The tier the account had when it left: a manager's override, else the tier rule on the
    MRR it lost (its current tier is C, as it pays nothing now)."""
    return Case(
        When(~Q(account__tier_override=""), then=F("account__tier_override")),
        When(account__strategic=True, then=Value(Tier.A.value)),
        When(mrr_lost__gte=settings.TIER_A_MIN_MRR, then=Value(Tier.A.value)),
        When(mrr_lost__gte=settings.TIER_B_MIN_MRR, then=Value(Tier.B.value)),
        default=Value(Tier.C.value),
        output_field=CharField(),
    )


def churn_breakdowns(events: QuerySet[ChurnEvent]) -> dict[str, dict[str, Any]]:
    """Churned customers and MRR by each dimension: one grouped query per dimension (seven)."""
    not_recorded = _("Not recorded yet")
    dimensions: list[tuple[str, str, str, list[str], Any]] = [
        ("reason", _("Reason"), _("By reason"), ["category"], dict(ChurnCategory.choices)),
        (
            "type",
            _("Voluntary or involuntary"),
            _("Voluntary or involuntary"),
            ["churn_type"],
            dict(ChurnType.choices),
        ),
        ("competitor", _("Competitor"), _("By competitor"), ["competitor__name"], None),
        ("tier", _("Tier"), _("By tier at churn"), ["tier_at_churn"], None),
        ("segment", _("Segment"), _("By segment"), ["account__segment"], dict(Segment.choices)),
        (
            "stage",
            _("Lifecycle stage"),
            _("By lifecycle stage at churn"),
            ["stage"],
            dict(LifecycleStage.choices),
        ),
        (
            "csm",
            _("CSM"),
            _("By CSM (account owner)"),
            ["account__owner_id", "account__owner__name", "account__owner__email"],
            None,
        ),
    ]
    result = {}
    for key, title, heading, fields, labels in dimensions:
        rows = events
        if key == "stage":
            rows = rows.annotate(stage=lifecycle_stage_at("churned_on", "account__contract_start"))
        if key == "tier":
            rows = rows.annotate(tier_at_churn=_tier_at_churn())
        grouped = (
            rows.values(*fields)
            .annotate(customers=Count("pk"), mrr=Sum("mrr_lost"))
            .order_by("-mrr", "-customers", *fields)
        )
        table = []
        for row in grouped:
            value = row[fields[0]]
            if key == "csm":
                label = person_label(row["account__owner__name"], row["account__owner__email"])
            elif key == "competitor":
                label = value or _("None named")
            elif labels is not None:
                label = labels.get(value, value) if value else not_recorded
            else:
                label = value or not_recorded
            table.append(
                {
                    "key": "" if value is None else str(value),
                    "label": str(label),
                    "customers": row["customers"],
                    "mrr": cents(row["mrr"]),
                }
            )
        total_mrr = sum((r["mrr"] for r in table), Decimal("0"))
        for r in table:
            r["share"] = share(r["mrr"], total_mrr)
        result[key] = {"title": title, "heading": heading, "rows": table}
    return result


def _snapshot_series(scope: str, first: date, last: date) -> dict[date, dict[str, Any]]:
    return {
        s.month: s.values
        for s in KpiSnapshot.objects.filter(scope=scope, month__gte=first, month__lte=last).only(
            "month", "values"
        )
    }


@login_required
@require_GET
def churn_report(request: AuthenticatedHttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = PeriodForm(request.GET or None, today=today)
    start, end = form.period()
    events = ChurnEvent.objects.filter(
        book_q(request.user), churned_on__gte=start, churned_on__lte=end
    )
    tables = churn_breakdowns(events)
    totals = {
        "customers": sum(r["customers"] for r in tables["reason"]["rows"]),
        "mrr": sum((r["mrr"] for r in tables["reason"]["rows"]), Decimal("0")),
    }
    if wants_csv(request):
        return csv_tables(
            request,
            "churn",
            {
                key: (
                    [key, "label", "customers", "mrr_lost"],
                    [[r["key"], r["label"], r["customers"], r["mrr"]] for r in table["rows"]],
                )
                for key, table in tables.items()
            },
        )
    months = months_between(start, end)
    series = _snapshot_series(kpi_scope(request.user), months[0], months[-1])
    chart = {
        "labels": [month_label(m) for m in months],
        "values": [pct_points(series.get(m, {}).get("customer_churn_rate")) for m in months],
        "benchmark": float(HEALTHY_MONTHLY_CHURN * 100),
        "series_label": _("Logo churn rate"),
        "benchmark_label": _("Healthy churn ≈ 0.6% a month"),
        "above_label": _("above the benchmark"),
        "below_label": _("at or below it"),
    }
    rates = [v for v in chart["values"] if v is not None]
    context = {
        "form": form,
        "start": start,
        "end": end,
        "tables": tables,
        "totals": totals,
        "chart": chart,
        "months_with_rate": len(rates),
        "months_above": sum(1 for v in rates if v > chart["benchmark"]),
        "benchmark": HEALTHY_MONTHLY_CHURN,
        "query": request.GET.urlencode(),
        "nav": "kpis",
        "kpi_nav": "churn",
    }
    return TemplateResponse(
        request, partial_template(request, "kpis/churn.html", "report-body"), context
    )
