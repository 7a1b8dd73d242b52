"""The CSM scoreboard: each book's MRR, churn, expansion, saves and cadence kept (a CSM sees their
own row)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import (
    Count,
)
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import AuthenticatedHttpRequest
from accounts.models import Role, User
from accounts.scopes import owner_scope
from csm.kpis.forms import (
    MonthForm,
)
from csm.kpis.models import KpiSnapshot
from csm.kpis.views.common import month_label, pct_points, share, wants_csv
from csm.lib.csv_export import csv_response
from csm.lib.http import partial_template
from csm.workflow.models import Resolution, RiskItem
from csm.workflow.touches import cadence_counts
from health.models import NightlyRun

# --- CSM scoreboard -------------------------------------------------------------------------------


@login_required
@require_GET
def scoreboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One row per CSM: the book's paying customers and MRR at the month's end (last night for
    the current month), logo and MRR churn and expansion in the month, all from their
    "owner:<id>" KPI snapshot; saves in the month; cadence kept as the month's last nightly run
    counted it (counted live only for the current month before its first run). A CSM sees only
    their own row. Four queries whatever the number of CSMs or accounts."""
    today = timezone.localdate()
    user = request.user
    form = MonthForm(request.GET or None, today=today)
    month = form.value()
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)

    people = User.objects.filter(is_active=True, role=Role.CSM)
    if not user.is_manager:
        people = User.objects.filter(pk=user.pk)
    csms = list(people.order_by("name", "email"))  # list(): every figure below is keyed by them
    ids = [u.pk for u in csms]

    snapshots = {
        s.scope: s.values
        for s in KpiSnapshot.objects.filter(
            month=month, scope__in=[owner_scope(pk) for pk in ids]
        ).only("scope", "values")
    }
    saves = dict(
        RiskItem.objects.filter(
            assignee__in=ids,
            resolution=Resolution.SAVED,
            resolved_at__date__gte=month,
            resolved_at__date__lte=month_end,
        )
        .values_list("assignee")
        .annotate(n=Count("pk"))
        .values_list("assignee", "n")
        .order_by()
    )
    cadence_day, cadence = _scoreboard_cadence(month, month_end, today, ids)
    rows = []
    for csm in csms:
        snap = snapshots.get(owner_scope(csm.pk))
        kept = cadence.get(owner_scope(csm.pk), {})
        rows.append(
            {
                "csm": csm,
                "accounts": snap.get("customers_end") if snap else None,
                "mrr": Decimal(snap["mrr_end"]) if snap and snap.get("mrr_end") else None,
                "has_snapshot": snap is not None,
                "logo_churn": pct_points(snap.get("customer_churn_rate")) if snap else None,
                "churned_customers": snap.get("churned_customers") if snap else None,
                "customers_start": snap.get("customers_start") if snap else None,
                "mrr_churn_rate": pct_points(snap.get("gross_mrr_churn_rate")) if snap else None,
                "mrr_churn": Decimal(snap["mrr_churn"]) if snap and snap.get("mrr_churn") else None,
                "expansion": (
                    Decimal(snap["mrr_expansion"]) if snap and snap.get("mrr_expansion") else None
                ),
                "saves": saves.get(csm.pk, 0),
                "cadence_total": kept.get("total", 0),
                "cadence_kept": kept.get("kept", 0),
                "cadence_share": share(kept.get("kept", 0), kept.get("total", 0)),
            }
        )
    if wants_csv(request):
        return csv_response(
            f"scoreboard-{month_label(month)}",
            [
                "csm",
                "email",
                "customers",
                "book_mrr",
                "logo_churn_pct",
                "churned_customers",
                "customers_start",
                "gross_mrr_churn_pct",
                "mrr_churn",
                "expansion_mrr",
                "saves",
                "cadence_kept",
                "cadence_accounts",
                "cadence_kept_pct",
            ],
            [
                [
                    r["csm"].name,
                    r["csm"].email,
                    r["accounts"],
                    r["mrr"],
                    r["logo_churn"],
                    r["churned_customers"],
                    r["customers_start"],
                    r["mrr_churn_rate"],
                    r["mrr_churn"],
                    r["expansion"],
                    r["saves"],
                    r["cadence_kept"],
                    r["cadence_total"],
                    r["cadence_share"],
                ]
                for r in rows
            ],
        )
    context = {
        "form": form,
        "month": month,
        "rows": rows,
        "cadence_day": cadence_day,
        "query": request.GET.urlencode(),
        "nav": "kpis",
        "kpi_nav": "scoreboard",
    }
    return TemplateResponse(
        request, partial_template(request, "kpis/scoreboard.html", "report-body"), context
    )


def _scoreboard_cadence(
    month: date, month_end: date, today: date, owners: list[int]
) -> tuple[date | None, dict[str, dict[str, int]]]:
    """The day and the per-book cadence counts the scoreboard shows for `month`: those of the
    month's last nightly run; live for today when the month is the current one and no run has
    stored them yet; none for a past month without a run."""
    stored = (
        NightlyRun.objects.filter(day__gte=month, day__lte=month_end)
        .exclude(cadence_counts={})
        .order_by("-day")
        .values_list("day", "cadence_counts")
        .first()
    )
    if stored is not None:
        return stored
    if month <= today <= month_end:
        return today, cadence_counts(today, owners=owners)
    return None, {}
