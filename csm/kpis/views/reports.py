"""KPI report pages (churn analysis, health and saves, the CSM scoreboard), goals and experiments.

Who sees what: managers see every account; a CSM sees the churn and health pages for their own
book and only their own row of the scoreboard. Goals and experiments are managers' pages; a CSM
meets a play on their Today page and marks it done there.

Every table has a CSV export (`?format=csv&table=<name>`); every number is aggregated in SQL, and
each page runs a fixed number of queries whatever the number of rows (tests/test_report_pages.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
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
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import AuthenticatedHttpRequest, manager_required
from accounts.models import LifecycleStage, Role, Segment, Tier, User, lifecycle_stage_at
from accounts.scopes import SCOPE_ALL, owner_scope, scope_label
from csm.kpis import experiments as exp
from csm.kpis.forms import (
    ExperimentForm,
    GoalForm,
    HealthPeriodForm,
    MonthForm,
    PeriodForm,
    people_for_scopes,
)
from csm.kpis.goals import METRICS, months_between, progress_for, users_by_id
from csm.kpis.models import Goal, KpiSnapshot
from csm.lib.csv_export import csv_response
from csm.workflow.models import Experiment, ExperimentAssignment, Resolution, RiskItem
from csm.workflow.plays import can_mark_play, mark_play_done
from csm.workflow.touches import cadence_counts
from feedback.models import ChurnCategory, ChurnEvent, ChurnType
from health.models import Band, HealthScore, NightlyRun
from health.queries import latest_scored_day

# The healthy-churn benchmark of the source material: ~7% a year, ~0.6% a month (DESIGN §2).
HEALTHY_MONTHLY_CHURN = Decimal("0.006")


# --- Helpers --------------------------------------------------------------------------------------


def _wants_csv(request: AuthenticatedHttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def _csv_tables(
    request: AuthenticatedHttpRequest, name: str, tables: dict[str, tuple[list[str], list[list]]]
) -> HttpResponse:
    """`?format=csv&table=<key>`: that table; without `table`, every table in one file with the
    table's key as the first column."""
    key = request.GET.get("table", "")
    if key:
        if key not in tables:
            raise Http404("no such table")
        header, rows = tables[key]
        return csv_response(f"{name}-{key}", header, rows)
    width = max(len(header) for header, _rows in tables.values())
    out = []
    for table, (_header, rows) in tables.items():
        out.extend([table, *row, *[""] * (width - len(row))] for row in rows)
    return csv_response(name, ["table", "key", *[f"col{i}" for i in range(1, width)]], out)


def _template(request: AuthenticatedHttpRequest, name: str, partial: str) -> str:
    if request.htmx and not request.htmx.boosted:
        return f"{name}#{partial}"
    return name


def _month_label(month: date) -> str:
    return month.strftime("%Y-%m")


def _percent(value: Any) -> float | None:
    return None if value is None else round(float(value) * 100, 3)


def _share(part: Decimal | int, whole: Decimal | int) -> float | None:
    return None if not whole else round(float(part) / float(whole) * 100, 1)


def _money(value: Decimal | None) -> Decimal:
    """Sums come back as 500 from SQLite and 500.00 from PostgreSQL: always two places."""
    return (value or Decimal("0")).quantize(Decimal("0.01"))


def _person(name: str | None, email: str | None) -> str:
    return name or email or _("Unassigned")


def _book_filter(user: User, prefix: str = "account__") -> Q:
    """A CSM's own book; everything for a manager."""
    return Q() if user.is_manager else Q(**{f"{prefix}owner": user})


def _kpi_scope(user: User) -> str:
    return SCOPE_ALL if user.is_manager else owner_scope(user.pk)


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
                label = _person(row["account__owner__name"], row["account__owner__email"])
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
                    "mrr": _money(row["mrr"]),
                }
            )
        total_mrr = sum((r["mrr"] for r in table), Decimal("0"))
        for r in table:
            r["share"] = _share(r["mrr"], total_mrr)
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
        _book_filter(request.user), churned_on__gte=start, churned_on__lte=end
    )
    tables = churn_breakdowns(events)
    totals = {
        "customers": sum(r["customers"] for r in tables["reason"]["rows"]),
        "mrr": sum((r["mrr"] for r in tables["reason"]["rows"]), Decimal("0")),
    }
    if _wants_csv(request):
        return _csv_tables(
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
    series = _snapshot_series(_kpi_scope(request.user), months[0], months[-1])
    chart = {
        "labels": [_month_label(m) for m in months],
        "values": [_percent(series.get(m, {}).get("customer_churn_rate")) for m in months],
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
        request, _template(request, "csm/report_churn.html", "report-body"), context
    )


# --- Health and saves -----------------------------------------------------------------------------


def band_points(*, scored: list[date], first: date, last: date, by: str) -> list[date]:
    """Pure: the days the band chart shows: of the days with scores in the period, the last one
    of each week (Monday to Sunday) or month. Weeks or months without a score are left out."""
    latest_of: dict[date, date] = {}
    for day in sorted(d for d in scored if first <= d <= last):
        bucket = day - timedelta(days=day.weekday()) if by == "week" else day.replace(day=1)
        latest_of[bucket] = day
    return [latest_of[bucket] for bucket in sorted(latest_of)]


def _risk_filter(user: User) -> Q:
    if user.is_manager:
        return Q()
    return Q(assignee=user) | Q(assignee__isnull=True, account__owner=user)


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
    scope = _kpi_scope(user)
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
            HealthScore.objects.filter(_book_filter(user), day__in=missing)
            .values("day", "band")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            bands[row["day"]][row["band"]] = row["n"]

    months = months_between(start, end)
    items = RiskItem.objects.filter(_risk_filter(user))
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
            "save_rate": _share(
                per_month[m][Resolution.SAVED],
                per_month[m][Resolution.SAVED] + per_month[m][Resolution.CHURNED],
            ),
        }
        for m in months
    ]
    csm_rows = [
        {
            "name": _person(row["assignee__name"], row["assignee__email"]),
            "saved": row["saved"],
            "churned": row["churned"],
            "not_a_risk": row["not_a_risk"],
            "save_rate": _share(row["saved"], row["saved"] + row["churned"]),
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
    if _wants_csv(request):
        return _csv_tables(
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
                            _month_label(r["month"]),
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
        "labels": [_month_label(r["month"]) for r in month_rows],
        "bars": [
            {"label": _("Opened"), "color": "#64748b", "values": [r["opened"] for r in month_rows]},
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
    totals["save_rate"] = _share(totals["saved"], totals["saved"] + totals["churned"])
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
        request, _template(request, "csm/report_health.html", "report-body"), context
    )


def _to_date(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


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
                "logo_churn": _percent(snap.get("customer_churn_rate")) if snap else None,
                "churned_customers": snap.get("churned_customers") if snap else None,
                "customers_start": snap.get("customers_start") if snap else None,
                "mrr_churn_rate": _percent(snap.get("gross_mrr_churn_rate")) if snap else None,
                "mrr_churn": Decimal(snap["mrr_churn"]) if snap and snap.get("mrr_churn") else None,
                "expansion": (
                    Decimal(snap["mrr_expansion"]) if snap and snap.get("mrr_expansion") else None
                ),
                "saves": saves.get(csm.pk, 0),
                "cadence_total": kept.get("total", 0),
                "cadence_kept": kept.get("kept", 0),
                "cadence_share": _share(kept.get("kept", 0), kept.get("total", 0)),
            }
        )
    if _wants_csv(request):
        return csv_response(
            f"scoreboard-{_month_label(month)}",
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
        request, _template(request, "csm/report_scoreboard.html", "report-body"), context
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


# --- Goals ----------------------------------------------------------------------------------------


@manager_required
@require_GET
def goal_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every goal with its progress. Queries: goals, users, then at most five for the progress
    (tests/test_goals.py)."""
    goals = list(Goal.objects.order_by("-period_end", "pk"))  # list(): progress reads them all
    progress = progress_for(goals, users=users_by_id(goals))
    if _wants_csv(request):
        return csv_response(
            "goals",
            ["metric", "scope", "from", "until", "target", "lower_is_better", "value", "status"],
            [
                [
                    p.goal.metric,
                    p.scope,
                    p.goal.period_start,
                    p.goal.period_end,
                    p.goal.target,
                    p.goal.at_most,
                    p.value,
                    p.status,
                ]
                for p in progress
            ],
        )
    return TemplateResponse(
        request,
        "csm/goal_list.html",
        {"progress": progress, "nav": "kpis", "kpi_nav": "goals"},
    )


def _goal_form_page(request: AuthenticatedHttpRequest, goal: Goal | None) -> HttpResponse:
    people = people_for_scopes()
    form = GoalForm(request.POST or None, instance=goal, people=people)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        if goal is None:
            saved.created_by = request.user
        saved.save()
        messages.success(request, _("Saved the goal."))
        return redirect("kpis:goals")
    return TemplateResponse(
        request,
        "csm/goal_form.html",
        {
            "form": form,
            "goal": goal,
            "metrics": {key: m.unit for key, m in METRICS.items()},
            "nav": "kpis",
            "kpi_nav": "goals",
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def goal_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _goal_form_page(request, None)


@manager_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _goal_form_page(request, get_object_or_404(Goal, pk=pk))


@manager_required
@require_http_methods(["GET", "POST"])
def goal_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    goal = get_object_or_404(Goal, pk=pk)
    if request.method == "POST":
        goal.delete()
        messages.success(request, _("Deleted the goal."))
        return redirect("kpis:goals")
    progress = progress_for([goal], users=users_by_id([goal]))[0]
    return TemplateResponse(
        request,
        "csm/goal_confirm_delete.html",
        {"progress": progress, "nav": "kpis", "kpi_nav": "goals"},
    )


# --- Experiments ----------------------------------------------------------------------------------


@manager_required
@require_GET
def experiment_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    today = timezone.localdate()
    experiments = list(  # list(): each row's status is worked out once
        Experiment.objects.annotate(
            assigned=Count("assignments"),
            plays_done=Count("assignments", filter=Q(assignments__play_done_at__isnull=False)),
        ).order_by("-starts_on", "-pk")
    )
    users = {
        u.pk: u
        for u in User.objects.filter(
            pk__in=[int(e.scope_value) for e in experiments if e.scope_value.isdigit()]
        )
    }
    for e in experiments:
        e.status = exp.experiment_status(e, assigned=bool(e.assigned), today=today)  # type: ignore[attr-defined]
        e.scope_text = scope_label(e.scope_kind, e.scope_value, users)  # type: ignore[attr-defined]
    return TemplateResponse(
        request,
        "csm/experiment_list.html",
        {"experiments": experiments, "nav": "kpis", "kpi_nav": "experiments"},
    )


@manager_required
@require_http_methods(["GET", "POST"])
def experiment_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ExperimentForm(request.POST or None, people=people_for_scopes())
    if request.method == "POST" and form.is_valid():
        experiment = form.save(commit=False)
        experiment.seed = exp.new_seed()
        experiment.created_by = request.user
        experiment.save()
        messages.success(request, _("Created the experiment. Draw its groups when you are ready."))
        return redirect("kpis:experiment_detail", pk=experiment.pk)
    return TemplateResponse(
        request,
        "csm/experiment_form.html",
        {"form": form, "nav": "kpis", "kpi_nav": "experiments"},
    )


@manager_required
@require_GET
def experiment_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(Experiment.objects.select_related("created_by"), pk=pk)
    today = timezone.localdate()
    results = exp.experiment_results(experiment, today=today)
    assignments = (
        ExperimentAssignment.objects.filter(experiment=experiment)
        .select_related("account__owner")
        .order_by("group", "account__name")
    )
    if _wants_csv(request):
        return csv_response(
            f"experiment-{experiment.pk}",
            ["group", "account", "external_id", "owner", "health_start", "play_done_at"],
            [
                [
                    a.group,
                    a.account.name,
                    a.account.external_id,
                    a.account.owner or "",
                    a.health_start,
                    a.play_done_at.isoformat() if a.play_done_at else "",
                ]
                for a in assignments
            ],
        )
    users = {}
    if experiment.scope_value.isdigit():
        users = {u.pk: u for u in User.objects.filter(pk=experiment.scope_value)}
    eligible = None
    if results["status"] == "draft":
        eligible = (
            exp.eligible_accounts(
                kind=experiment.scope_kind,
                value=experiment.scope_value,
                day=exp.draw_day(experiment, today),
            )
            .order_by()
            .count()
        )
    stats = {}
    if results["test"]:
        test = results["test"]
        stats = {
            "t_rate": f"{test.p1 * 100:.1f}%",
            "c_rate": f"{test.p2 * 100:.1f}%",
            "diff": f"{test.difference * 100:+.1f}",
            "ci_low": f"{test.ci_low * 100:+.1f}",
            "ci_high": f"{test.ci_high * 100:+.1f}",
            "z": f"{test.z:.2f}",
            "p": exp.format_p(test.p_value),
        }
    chart = None
    if results["treatment"] and results["control"]:
        chart = {
            "labels": [_("Treatment"), _("Control")],
            "values": [
                _percent(results["treatment"]["churn_rate"]),
                _percent(results["control"]["churn_rate"]),
            ],
            "colors": ["#2563eb", "#94a3b8"],
            "y_label": _("churn rate, %"),
        }
    return TemplateResponse(
        request,
        "csm/experiment_detail.html",
        {
            "experiment": experiment,
            "results": results,
            "scope": scope_label(experiment.scope_kind, experiment.scope_value, users),
            "assignments": list(assignments[:200]),  # list(): shown once; CSV has them all
            "eligible": eligible,
            "needed": experiment.treatment_size + experiment.control_size,
            "chart": chart,
            "stats": stats,
            "nav": "kpis",
            "kpi_nav": "experiments",
        },
    )


@manager_required
@require_POST
def experiment_assign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(Experiment, pk=pk)
    try:
        counts = exp.assign_experiment(experiment=experiment)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Drew %(t)s treatment and %(c)s control accounts.")
            % {"t": counts["treatment"], "c": counts["control"]},
        )
    return redirect("kpis:experiment_detail", pk=experiment.pk)


def _next_url(request: AuthenticatedHttpRequest) -> str:
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


@login_required
@require_POST
def play_done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A treatment account's play is done (the owner or a manager). htmx gets the Today row
    back in its done state; a plain POST goes back to Today."""
    assignment = get_object_or_404(
        ExperimentAssignment.objects.select_related("experiment", "account"), pk=pk
    )
    if not can_mark_play(request.user, assignment):
        raise PermissionDenied("not your account")
    try:
        with transaction.atomic():
            mark_play_done(actor=request.user, assignment=assignment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_next_url(request))
    if request.htmx:
        return TemplateResponse(
            request,
            "csm/today.html#play-row",
            {"play": assignment, "next_url": _next_url(request)},
        )
    messages.success(
        request,
        _("Marked the play done for %(name)s.") % {"name": assignment.account.name},
    )
    return redirect(_next_url(request))
