"""Health and saves: the band mix over time (from the nightly run's stored counts), and risk items
opened, saved and churned, with the save rate per CSM."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import (
    Count,
    Q,
)
from django.db.models.functions import TruncMonth
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from accounts.access import AuthenticatedHttpRequest, book_q
from csm.kpis.forms import (
    HealthPeriodForm,
)
from csm.kpis.goals import months_between
from csm.kpis.views.common import (
    csv_tables,
    kpi_scope,
    month_label,
    person_label,
    share,
    wants_csv,
)
from csm.lib.http import partial_template
from csm.workflow.models import Resolution, RiskItem
from health.models import Band, HealthScore, NightlyRun
from health.queries import latest_scored_day

# --- Health and saves -----------------------------------------------------------------------------


def band_points(*, scored: list[date], first: date, last: date, by: str) -> list[date]:
    """Pure: the days the band chart shows: of the days with scores in the period, the last one
    of each week (Monday to Sunday) or month. Weeks or months without a score are left out."""
    latest_of: dict[date, date] = {}
    for day in sorted(d for d in scored if first <= d <= last):
        bucket = day - timedelta(days=day.weekday()) if by == "week" else day.replace(day=1)
        latest_of[bucket] = day
    return [latest_of[bucket] for bucket in sorted(latest_of)]


@login_required
@require_GET
def health_report(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Band mix over time, risk items opened / saved / churned per month, save rate per CSM."""
    today = timezone.localdate()
    user = request.user
    form = HealthPeriodForm(request.GET or None, today=today)
    start, end = form.period()
    by = form.bands_at()
    # Days with scores: those the nightly run completed (a small table, one row a day) and the
    # latest scored day; scanning the scores themselves for their days would read every row.
    latest = latest_scored_day()
    scored = list(
        NightlyRun.objects.filter(day__gte=start, day__lte=end).values_list("day", flat=True)
    )
    if latest is not None:
        scored.append(latest)
    points = band_points(scored=scored, first=start, last=end, by=by)
    # Each point's counts as its nightly run stored them (NightlyRun.band_counts, per book);
    # counted from the scores only for days without them (runs from before they were kept).
    bands: dict[date, dict[str, int]] = defaultdict(dict)
    scope = kpi_scope(user)
    stored = dict(
        NightlyRun.objects.filter(day__in=points)
        .exclude(band_counts={})
        .values_list("day", "band_counts")
    )
    for day, counts in stored.items():
        bands[day] = dict(counts.get(scope, {}))
    missing = [day for day in points if day not in stored]
    if missing:
        for row in (
            HealthScore.objects.filter(book_q(user), day__in=missing)
            .values("day", "band")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            bands[row["day"]][row["band"]] = row["n"]

    months = months_between(start, end)
    items = RiskItem.objects.book_of(user)
    per_month: dict[date, dict[str, int]] = {m: defaultdict(int) for m in months}
    for row in (
        items.filter(opened_on__gte=start, opened_on__lte=end)
        .annotate(m=TruncMonth("opened_on"))
        .values("m")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        per_month[_to_date(row["m"])]["opened"] += row["n"]
    resolved = items.filter(
        resolved_at__date__gte=start, resolved_at__date__lte=end, resolved_at__isnull=False
    )
    for row in (
        resolved.annotate(m=TruncMonth("resolved_at"))
        .values("m", "resolution")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        month = _to_date(row["m"])
        if month in per_month:
            per_month[month][row["resolution"]] += row["n"]
    month_rows = [
        {
            "month": m,
            "opened": per_month[m]["opened"],
            "saved": per_month[m][Resolution.SAVED],
            "churned": per_month[m][Resolution.CHURNED],
            "not_a_risk": per_month[m][Resolution.NOT_A_RISK],
            "save_rate": share(
                per_month[m][Resolution.SAVED],
                per_month[m][Resolution.SAVED] + per_month[m][Resolution.CHURNED],
            ),
        }
        for m in months
    ]
    csm_rows = [
        {
            "name": person_label(row["assignee__name"], row["assignee__email"]),
            "saved": row["saved"],
            "churned": row["churned"],
            "not_a_risk": row["not_a_risk"],
            "save_rate": share(row["saved"], row["saved"] + row["churned"]),
        }
        for row in resolved.values("assignee_id", "assignee__name", "assignee__email")
        .annotate(
            saved=Count("pk", filter=Q(resolution=Resolution.SAVED)),
            churned=Count("pk", filter=Q(resolution=Resolution.CHURNED)),
            not_a_risk=Count("pk", filter=Q(resolution=Resolution.NOT_A_RISK)),
        )
        .order_by("assignee__name", "assignee__email")
    ]
    band_rows = [
        {
            "day": day,
            **{band.value: bands[day].get(band.value, 0) for band in Band},
            "total": sum(bands[day].values()),
        }
        for day in points
    ]
    if wants_csv(request):
        return csv_tables(
            request,
            "health",
            {
                "bands": (
                    ["day", "red", "yellow", "green", "total"],
                    [[r["day"], r["red"], r["yellow"], r["green"], r["total"]] for r in band_rows],
                ),
                "risk_items": (
                    ["month", "opened", "saved", "churned", "not_a_risk", "save_rate_pct"],
                    [
                        [
                            month_label(r["month"]),
                            r["opened"],
                            r["saved"],
                            r["churned"],
                            r["not_a_risk"],
                            r["save_rate"],
                        ]
                        for r in month_rows
                    ],
                ),
                "save_rate": (
                    ["csm", "saved", "churned", "not_a_risk", "save_rate_pct"],
                    [
                        [r["name"], r["saved"], r["churned"], r["not_a_risk"], r["save_rate"]]
                        for r in csm_rows
                    ],
                ),
            },
        )
    band_chart = {
        "labels": [d.isoformat() for d in points],
        "stacks": [
            {"label": str(band.label), "color": color, "values": [r[band.value] for r in band_rows]}
            for band, color in (
                (Band.RED, "#dc2626"),
                (Band.YELLOW, "#d97706"),
                (Band.GREEN, "#16a34a"),
            )
        ],
        "y_label": _("accounts"),
    }
    risk_chart = {
        "labels": [month_label(r["month"]) for r in month_rows],
        "bars": [
            {
                "label": pgettext("risk items", "Opened"),
                "color": "#64748b",
                "values": [r["opened"] for r in month_rows],
            },
            {"label": _("Saved"), "color": "#16a34a", "values": [r["saved"] for r in month_rows]},
            {
                "label": _("Churned"),
                "color": "#dc2626",
                "values": [r["churned"] for r in month_rows],
            },
        ],
        "y_label": _("risk items"),
    }
    totals = {
        "saved": sum(r["saved"] for r in month_rows),
        "churned": sum(r["churned"] for r in month_rows),
        "opened": sum(r["opened"] for r in month_rows),
    }
    totals["save_rate"] = share(totals["saved"], totals["saved"] + totals["churned"])
    context = {
        "form": form,
        "by": by,
        "start": start,
        "end": end,
        "latest": latest,
        "band_rows": band_rows,
        "band_chart": band_chart,
        "risk_chart": risk_chart,
        "month_rows": month_rows,
        "csm_rows": csm_rows,
        "totals": totals,
        "query": request.GET.urlencode(),
        "nav": "kpis",
        "kpi_nav": "health",
    }
    return TemplateResponse(
        request, partial_template(request, "kpis/health.html", "report-body"), context
    )


def _to_date(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value
