"""Detractors without follow-up: detractor answers whose account had no touch since. A workflow
page (it reads touches); its URL is in the feedback pages' namespace (csm/urls.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import AuthenticatedHttpRequest
from accounts.models import User
from accounts.scopes import filter_people, in_book
from csm.lib.csv_export import csv_response
from csm.lib.http import paged, partial_template
from csm.workflow.models import Touch, TouchKind
from feedback.models import Response, detractor_q
from feedback.report_forms import DetractorFilterForm
from feedback.report_views import PAGE_SIZE


def detractors_without_follow_up(user: User, filters: dict[str, Any]) -> QuerySet[Response]:
    """Detractor answers not marked followed up, on accounts with no touch (other than an
    automated email) logged at or after the answer."""
    touched_since = Touch.objects.filter(
        account=OuterRef("account_id"), happened_at__gte=OuterRef("answered_at")
    ).exclude(kind=TouchKind.AUTOMATED)
    items = in_book(
        Response.objects.filter(detractor_q(), followed_up_at__isnull=True),
        user,
        filters.get("owner"),
    )
    if filters.get("tier"):
        items = items.filter(account__tier=filters["tier"])
    return (
        items.filter(~Exists(touched_since))
        .select_related("account", "account__owner", "contact")
        .order_by("-answered_at", "-pk")
    )


@login_required
@require_GET
def detractors(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    people = filter_people(user)
    form = DetractorFilterForm(request.GET, people=people)
    form.is_valid()
    items = detractors_without_follow_up(user, form.cleaned_data)
    if request.GET.get("format") == "csv":
        return csv_response(
            "detractors-without-follow-up.csv",
            [
                "answered_at",
                "account",
                "external_id",
                "owner",
                "contact",
                "kind",
                "score",
                "comment",
            ],
            (
                [
                    timezone.localtime(r.answered_at).strftime("%Y-%m-%d %H:%M"),
                    r.account.name,
                    r.account.external_id,
                    str(r.account.owner or ""),
                    r.contact.email if r.contact else "",
                    r.kind,
                    r.score,
                    r.comment,
                ]
                for r in items.iterator(chunk_size=1000)
            ),
        )
    page, query = paged(request, items, PAGE_SIZE)
    # list(): permission is decided once per row, without a query (owner is joined).
    rows = [(r, r.account.can_be_edited_by(user)) for r in page.object_list]
    return TemplateResponse(
        request,
        partial_template(request, "feedback/report_detractors.html", "detractor-table"),
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query,
            "next_url": request.get_full_path(),
            "nav": "feedback",
        },
    )
