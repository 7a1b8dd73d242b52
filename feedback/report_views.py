"""Feedback pages (issue 5): NPS, CSAT and CES over time and by tier, segment, lifecycle stage and
CSM, the response rate, the comment stream with its tags, detractors without follow-up, churn
records to complete, and the managers' keyword rules and competitors.

Managers see everything (and may narrow to one CSM); a CSM sees their own book. Scores are counted
in SQL (answers per month, or per group, and score value) and turned into NPS/CSAT/CES by
`feedback.scores`, so the page costs the same queries for 100 or 100,000 answers. Every table
downloads as CSV with `?format=csv&table=<name>`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, time
from decimal import Decimal
from itertools import chain, repeat
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncDate, TruncMonth
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts import mrr as mrr_rules
from accounts.access import AuthenticatedHttpRequest
from accounts.models import LifecycleStage, Segment, Tier, User, lifecycle_stage_at
from accounts.scopes import filter_people, in_book
from csm.lib.csv_export import csv_response
from csm.lib.http import next_url, paged, partial_template, query_without
from feedback import scores, services
from feedback.models import (
    ChurnCategory,
    Competitor,
    Invitation,
    Response,
    ResponseTag,
    SurveyKind,
    detractor_q,
)
from feedback.report_forms import (
    CommentFilterForm,
    OverviewFilterForm,
)

PAGE_SIZE = 25
DEFAULT_MONTHS = 12
# The NPS chart's trend line: NPS of the answers of the month and the two before (monthly NPS
# of a small book jumps around; three months of answers show the direction).
ROLLING_MONTHS = 3

# --- Shared helpers ------------------------------------------------------------------------------


def _expand(counts: dict[int, int]) -> Iterator[int]:
    """Score value counts as the iterable of answers feedback.scores takes."""
    return chain.from_iterable(repeat(score, n) for score, n in counts.items())


def _score_cells(by_kind: dict[str, dict[int, int]]) -> dict[str, Any]:
    """The three scores of a group of answers, from score value counts per kind."""
    nps = by_kind.get(SurveyKind.NPS, {})
    csat = by_kind.get(SurveyKind.CSAT, {})
    ces = by_kind.get(SurveyKind.CES, {})
    ces_value = scores.ces(_expand(ces))
    return {
        "nps": scores.nps(_expand(nps)),
        "nps_n": sum(nps.values()),
        "csat": scores.csat(_expand(csat)),
        "csat_n": sum(csat.values()),
        "ces_mean": ces_value[0] if ces_value else None,
        "ces_easy": ces_value[1] if ces_value else None,
        "ces_n": sum(ces.values()),
    }


# --- Overview: scores over time, by group, response rate ----------------------------------------


# The overview's tables: key → (what the rows group by, the title; lazy, read per request).
GROUPS = {
    "tier": ("account__tier", gettext_lazy("tier")),
    "segment": ("account__segment", gettext_lazy("segment")),
    "stage": ("stage", gettext_lazy("lifecycle stage at the answer")),
    "csm": ("account__owner_id", gettext_lazy("CSM")),
}


def _group_label(group: str, key: Any, owners: dict[int, str]) -> str:
    if group == "tier":
        return str(dict(Tier.choices).get(key, key))
    if group == "segment":
        return str(dict(Segment.choices).get(key, key))
    if group == "stage":
        return str(dict(LifecycleStage.choices).get(key, key))
    return owners.get(key, "") if key is not None else _("Unassigned")


def overview_data(
    *,
    responses: QuerySet[Response],
    invitations: QuerySet[Invitation],
    first: mrr_rules.Month,
    last: mrr_rules.Month,
) -> dict[str, Any]:
    """Everything the overview shows, in four queries whatever the number of answers:
    1. answers per month, kind and score; 2. answers per tier, segment, stage at the answer,
    owner, kind and score; 3. the owners' names; 4. invitations and answers per month."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(first.first_day, time.min, tzinfo=tz)
    end = datetime.combine(last.next().first_day, time.min, tzinfo=tz)
    in_period = responses.filter(answered_at__gte=start, answered_at__lt=end)

    monthly: dict[mrr_rules.Month, dict[str, dict[int, int]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    # Two months more than shown, for the first months' rolling NPS.
    rolling_start = datetime.combine(first.minus(ROLLING_MONTHS - 1).first_day, time.min, tzinfo=tz)
    rows = (
        responses.filter(answered_at__gte=rolling_start, answered_at__lt=end)
        .annotate(month=TruncMonth("answered_at"))
        .values_list("month", "kind", "score")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for month, kind, score, n in rows:
        monthly[mrr_rules.Month(month.year, month.month)][kind][score] = n
    months = list(mrr_rules.months_between(first, last))
    trend = []
    for month in months:
        window: dict[int, int] = defaultdict(int)
        for back in range(ROLLING_MONTHS):
            for score, n in monthly.get(month.minus(back), {}).get(SurveyKind.NPS, {}).items():
                window[score] += n
        trend.append(
            {
                "month": month,
                **_score_cells(monthly.get(month, {})),
                "nps_rolling": scores.nps(_expand(window)),
            }
        )

    grouped: dict[str, dict[Any, dict[str, dict[int, int]]]] = {
        g: defaultdict(lambda: defaultdict(lambda: defaultdict(int))) for g in GROUPS
    }
    overall: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    group_rows = (
        in_period.annotate(answered_date=TruncDate("answered_at"))
        .annotate(stage=lifecycle_stage_at("answered_date", "account__contract_start"))
        .values_list(
            "account__tier", "account__segment", "stage", "account__owner_id", "kind", "score"
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    owner_ids: set[int] = set()
    for tier, segment, stage, owner_id, kind, score, n in group_rows:
        for group, key in (
            ("tier", tier),
            ("segment", segment),
            ("stage", stage),
            ("csm", owner_id),
        ):
            grouped[group][key][kind][score] += n
        overall[kind][score] += n
        if owner_id is not None:
            owner_ids.add(owner_id)
    owners = {u.pk: str(u) for u in User.objects.filter(pk__in=owner_ids)} if owner_ids else {}
    orders = {
        "tier": Tier.values,
        "segment": Segment.values,
        "stage": LifecycleStage.values,
    }
    tables = []
    for group, (_field, title) in GROUPS.items():
        keys = list(grouped[group])
        if group in orders:
            keys.sort(key=lambda k, order=orders[group]: order.index(k) if k in order else 99)
        else:
            keys.sort(key=lambda k: (k is None, owners.get(k, "")))
        tables.append(
            {
                "key": group,
                "title": title,
                "rows": [
                    {"label": _group_label(group, key, owners), **_score_cells(grouped[group][key])}
                    for key in keys
                ],
            }
        )

    rate_rows = {
        mrr_rules.Month(month.year, month.month): (invited, answered)
        for month, invited, answered in invitations.filter(
            created_at__gte=start, created_at__lt=end
        )
        .annotate(month=TruncMonth("created_at"))
        .values_list("month")
        .annotate(invited=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
        .values_list("month", "invited", "answered")
        .order_by()
    }
    rate = []
    for month in months:
        invited, answered = rate_rows.get(month, (0, 0))
        rate.append(
            {
                "month": month,
                "invited": invited,
                "answered": answered,
                "rate": _rate(answered, invited),
            }
        )
    invited_total = sum(r["invited"] for r in rate)
    answered_total = sum(r["answered"] for r in rate)
    return {
        "months": months,
        "trend": trend,
        "tables": tables,
        "overall": _score_cells(overall),
        "rate": rate,
        "rate_total": {
            "invited": invited_total,
            "answered": answered_total,
            "rate": _rate(answered_total, invited_total),
        },
    }


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"))


def _chart(trend: list[dict[str, Any]], current: mrr_rules.Month) -> dict[str, Any]:
    """The charts' data (static/csm/feedback_charts.js). A month without answers is null, so its
    line breaks rather than joining its neighbours. The current month is partial: its label says
    "to date" and `partial` gives its index, which the chart draws open and dashed."""

    def num(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    partial = next((i for i, row in enumerate(trend) if row["month"] == current), None)
    return {
        "labels": [
            _("%(month)s (to date)") % {"month": row["month"]}
            if i == partial
            else str(row["month"])
            for i, row in enumerate(trend)
        ],
        "partial": partial,
        "nps": [num(row["nps"]) for row in trend],
        "nps_rolling": [num(row["nps_rolling"]) for row in trend],
        "nps_n": [row["nps_n"] for row in trend],
        "csat": [num(row["csat"]) for row in trend],
        "ces": [num(row["ces_easy"]) for row in trend],
        "labels_text": {
            "nps": _("NPS of the month"),
            "nps_rolling": _("NPS, last 3 months"),
            # xgettext:no-python-format
            "csat": _("CSAT (% satisfied)"),
            # xgettext:no-python-format
            "ces": _("CES (% easy)"),
            "answers": _("answers"),
        },
    }


SCORE_HEADER = [
    "NPS",
    "NPS answers",
    "CSAT %",
    "CSAT answers",
    "CES mean",
    "CES % easy",
    "CES answers",
]


def _score_row(row: dict[str, Any]) -> list[Any]:
    return [
        row["nps"],
        row["nps_n"],
        row["csat"],
        row["csat_n"],
        row["ces_mean"],
        row["ces_easy"],
        row["ces_n"],
    ]


@login_required
@require_GET
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    people = filter_people(user)
    params = request.GET.copy()
    params.setdefault("months", str(DEFAULT_MONTHS))
    form = OverviewFilterForm(params, people=people)
    form.is_valid()
    filters = form.cleaned_data
    months = int(filters.get("months") or DEFAULT_MONTHS)
    owner = filters.get("owner") or None
    last = mrr_rules.Month.of(timezone.localdate())
    first = last.minus(months - 1)
    report = overview_data(
        responses=in_book(Response.objects.all(), user, owner),
        invitations=in_book(Invitation.objects.all(), user, owner),
        first=first,
        last=last,
    )
    if request.GET.get("format") == "csv":
        table = request.GET.get("table") or "monthly"
        if table == "monthly":
            return csv_response(
                "feedback-by-month.csv",
                ["month", *SCORE_HEADER, "NPS last 3 months"],
                ([str(r["month"]), *_score_row(r), r["nps_rolling"]] for r in report["trend"]),
            )
        if table == "rate":
            return csv_response(
                "response-rate.csv",
                ["month", "invited", "answered", "response rate %"],
                ([str(r["month"]), r["invited"], r["answered"], r["rate"]] for r in report["rate"]),
            )
        for group in report["tables"]:
            if group["key"] == table:
                return csv_response(
                    f"feedback-by-{table}.csv",
                    [table, *SCORE_HEADER],
                    ([r["label"], *_score_row(r)] for r in group["rows"]),
                )
        return HttpResponse(
            _("Unknown table: %(t)s") % {"t": table}, status=400, content_type="text/plain"
        )
    query = query_without(request, "format", "table")
    return TemplateResponse(
        request,
        partial_template(request, "feedback/report_overview.html", "overview-body"),
        {
            "form": form,
            "data": report,
            "chart": _chart(report["trend"], last),
            "current": last,
            "first": first,
            "last": last,
            "query": query,
            "nav": "feedback",
        },
    )


# --- The comment stream --------------------------------------------------------------------------


def _filtered_comments(user: User, filters: dict[str, Any]) -> QuerySet[Response]:
    items = in_book(Response.objects.exclude(comment=""), user, filters.get("owner"))
    if filters.get("kind"):
        items = items.filter(kind=filters["kind"])
    if filters.get("category"):
        items = items.filter(
            Exists(
                ResponseTag.objects.filter(response=OuterRef("pk"), category=filters["category"])
            )
        )
    if filters.get("competitor"):
        items = items.filter(
            Exists(
                ResponseTag.objects.filter(
                    response=OuterRef("pk"), competitor=filters["competitor"]
                )
            )
        )
    if filters.get("tier"):
        items = items.filter(account__tier=filters["tier"])
    if filters.get("detractors"):
        items = items.filter(detractor_q())
    return (
        items.select_related("account", "account__owner", "contact")
        .prefetch_related(
            Prefetch(
                "tags",
                queryset=ResponseTag.objects.select_related("competitor").order_by(
                    F("competitor__name").asc(nulls_first=True), "category"
                ),
            )
        )
        .order_by("-answered_at", "-pk")
    )


def _tag_labels(response: Response) -> list[tuple[str, bool]]:
    """(label, is a competitor) of each tag, from the prefetched tags."""
    labels = dict(ChurnCategory.choices)
    return [
        (tag.competitor.name, True)
        if tag.competitor_id
        else (str(labels.get(tag.category, tag.category)), False)
        for tag in response.tags.all()
    ]


@login_required
@require_GET
def comments(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    people = filter_people(user)
    competitors = list(Competitor.objects.all())
    form = CommentFilterForm(request.GET, people=people, competitors=competitors)
    form.is_valid()
    items = _filtered_comments(user, form.cleaned_data)
    if request.GET.get("format") == "csv":
        return csv_response(
            "feedback-comments.csv",
            ["answered_at", "account", "external_id", "owner", "kind", "score", "comment", "tags"],
            (
                [
                    timezone.localtime(r.answered_at).strftime("%Y-%m-%d %H:%M"),
                    r.account.name,
                    r.account.external_id,
                    str(r.account.owner or ""),
                    r.kind,
                    r.score,
                    r.comment,
                    "; ".join(label for label, _c in _tag_labels(r)),
                ]
                for r in items.iterator(chunk_size=1000)
            ),
        )
    page, query = paged(request, items, PAGE_SIZE)
    # list(): each row gets its tag labels once, from the prefetched tags.
    rows = [(r, _tag_labels(r), r.is_detractor) for r in page.object_list]
    return TemplateResponse(
        request,
        partial_template(request, "feedback/report_comments.html", "comment-stream"),
        {"form": form, "page": page, "rows": rows, "query": query, "nav": "feedback"},
    )


# --- Detractors: marking one followed up (the list is csm/workflow/views/detractors.py) -------


@login_required
@require_POST
def mark_followed_up(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    response = get_object_or_404(
        Response.objects.select_related("account", "account__owner"), pk=pk
    )
    services.mark_followed_up(actor=request.user, response=response)
    text = _("Marked the answer of %(name)s as followed up.") % {"name": response.account.name}
    if request.htmx:
        return TemplateResponse(
            request,
            "feedback/report_detractors.html#detractor-done",
            {"response": response, "done": text},
        )
    messages.success(request, text)
    return redirect(next_url(request, reverse("feedback_reports:detractors")))
