"""Churn records: the list of churns whose reason is still to be recorded, marking an account
churned, recording why it left, and sending the exit survey (feedback.churn does the writes)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import AuthenticatedHttpRequest, check_can_change, get_account_for_user
from accounts.models import Account
from csm.lib.csv_export import csv_response
from csm.lib.http import next_url, paged, partial_template
from feedback import churn as churn_service
from feedback.models import (
    ChurnEvent,
    ChurnType,
)
from feedback.report_forms import (
    ChurnCompleteForm,
    MarkChurnedForm,
)
from feedback.report_views import PAGE_SIZE
from feedback.templatetags.churn_tags import churn_card_context

# A churn record with what its pages show: its account (and owner) and competitor.
EVENTS = ChurnEvent.objects.select_related("account", "account__owner", "competitor")


@login_required
@require_GET
def churns(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Churn records: the ones still to complete (default), or all."""
    show_all = request.GET.get("show") == "all"
    events = churn_service.churns_visible_to(request.user).select_related(
        "completed_by", "marked_by"
    )
    if not show_all:
        events = events.filter(completed_at__isnull=True)
    if request.GET.get("format") == "csv":
        return csv_response(
            "churns.csv",
            [
                "account",
                "external_id",
                "owner",
                "churned_on",
                "mrr_lost",
                "reason",
                "type",
                "competitor",
                "note",
                "reactivated_on",
                "completed_at",
            ],
            (
                [
                    e.account.name,
                    e.account.external_id,
                    str(e.account.owner or ""),
                    e.churned_on.isoformat(),
                    e.mrr_lost,
                    e.category,
                    e.churn_type,
                    e.competitor.name if e.competitor else "",
                    e.note,
                    e.reactivated_on.isoformat() if e.reactivated_on else "",
                    timezone.localtime(e.completed_at).strftime("%Y-%m-%d %H:%M")
                    if e.completed_at
                    else "",
                ]
                for e in events.iterator(chunk_size=1000)
            ),
        )
    page, query = paged(request, events, PAGE_SIZE)
    return TemplateResponse(
        request,
        partial_template(request, "feedback/churn_list.html", "churn-table"),
        {"page": page, "show_all": show_all, "query": query, "nav": "feedback"},
    )


def _churn_card(
    request: AuthenticatedHttpRequest, account: Account, **extra: Any
) -> TemplateResponse:
    context = churn_card_context(request.user, account, request.POST.get("next") or "")
    context.update(extra)
    return TemplateResponse(request, "feedback/churn_card.html", context)


def _answer(
    request: AuthenticatedHttpRequest,
    account: Account,
    back: str,
    *,
    done: str = "",
    error: str = "",
) -> HttpResponse:
    """After an action: with htmx the churn card with its message, else the message and back."""
    if request.htmx:
        return _churn_card(request, account, **({"done": done} if done else {"error": error}))
    if done:
        messages.success(request, done)
    else:
        messages.error(request, error)
    return redirect(back)


def _add_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
@require_http_methods(["GET", "POST"])
def mark_churned(request: AuthenticatedHttpRequest, external_id: str) -> HttpResponse:
    account = get_account_for_user(request.user, external_id, write=True)
    back = next_url(request, reverse("accounts:detail", args=[account.external_id]))
    form = MarkChurnedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            churn_service.mark_churned(
                account=account,
                by=request.user,
                day=form.cleaned_data["day"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            text = _("Recorded the churn of %(name)s: complete the reason below.") % {
                "name": account.name
            }
            return _answer(request, account, back, done=text)
    if request.htmx:
        return _churn_card(request, account, mark_form=form)
    return TemplateResponse(
        request, "feedback/churn_mark.html", {"account": account, "form": form, "next": back}
    )


@login_required
@require_http_methods(["GET", "POST"])
def churn_complete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(EVENTS, pk=pk)
    account = event.account
    check_can_change(request.user, account)
    back = next_url(request, reverse("accounts:detail", args=[account.external_id]))
    if request.method == "POST":
        form = ChurnCompleteForm(request.POST)
        if form.is_valid():
            try:
                churn_service.complete_churn(event=event, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                text = _("Saved why %(name)s churned.") % {"name": account.name}
                return _answer(request, account, back, done=text)
    else:
        form = ChurnCompleteForm(
            initial={
                "category": event.category,
                "churn_type": event.churn_type or ChurnType.VOLUNTARY,
                "competitor": event.competitor_id,
                "note": event.note,
            }
        )
    if request.htmx:
        # The form edits this churn, which is not always the card's first one to complete: a
        # completed churn's reason can be corrected, and then the card has none to complete.
        return _churn_card(request, account, complete_form=form, to_complete=event)
    return TemplateResponse(
        request,
        "feedback/churn_complete.html",
        {"event": event, "account": account, "form": form, "next": back},
    )


@login_required
@require_POST
def churn_exit_survey(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(EVENTS, pk=pk)
    account = event.account
    check_can_change(request.user, account)
    back = next_url(request, reverse("accounts:detail", args=[account.external_id]))
    try:
        churn_service.send_exit_survey(event=event, by=request.user)
    except ValidationError as error:
        return _answer(request, account, back, error=" ".join(error.messages))
    text = _("The exit survey is on its way to the primary contact of %(name)s.") % {
        "name": account.name
    }
    return _answer(request, account, back, done=text)
