"""Survey pages: the customer's answer form at /s/<token>/ (no login), the managers' survey
definitions, and sending invitations (an account's contact, or a segment).

Plain forms with Post/Redirect/Get; the invitation rows' actions answer htmx with the row
(partial "invitation-row").
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import (
    AuthenticatedHttpRequest,
    book_q,
    check_can_change,
    get_account_for_user,
    manager_required,
)
from accounts.models import Account
from csm.lib.languages import activate_for_request
from csm.lib.ratelimit import public_page_wait
from feedback import services
from feedback.forms import AnswerForm, SendToContactForm, SendToSegmentForm, SurveyForm
from feedback.models import Invitation, Survey

log = logging.getLogger(__name__)

ACCOUNT_INVITATIONS = 50


# --- The public answer form -----------------------------------------------------------------------


def _over_rate_limit(request: HttpRequest) -> int | None:
    """Seconds to wait when this client is over SURVEY_RATE_LIMIT_PER_MINUTE, else None."""
    return public_page_wait(request, "survey")


def _public(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> TemplateResponse:
    response = TemplateResponse(request, f"feedback/{template}", context, status=status)
    # The token is the key: keep it out of other sites' Referer headers and out of search
    # engines. Not "no-referrer": the browser would then post the form with Origin: null, which
    # the CSRF check refuses.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _missing(request: HttpRequest) -> TemplateResponse:
    """Tampered, unknown, expired and revoked links all get this page: it names none of them."""
    return _public(request, "public_missing.html", {}, status=404)


def _in_contacts_language(request: HttpRequest, invitation: Invitation) -> None:
    """The survey speaks the invited contact's language; without one, the browser's."""
    activate_for_request(request, invitation.contact.language if invitation.contact else "")


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    retry_after = _over_rate_limit(request)
    if retry_after is not None:
        response = _public(request, "public_rate_limited.html", {"seconds": retry_after}, 429)
        response["Retry-After"] = str(retry_after)
        return response
    invitation = services.find_invitation(token)
    if invitation is None:
        return _missing(request)
    _in_contacts_language(request, invitation)
    state = services.invitation_state(invitation)
    if state == "answered":
        return _public(request, "public_answered.html", {"survey": invitation.survey})
    if state != "open":
        return _missing(request)

    survey = invitation.survey
    if request.method == "POST":
        form = AnswerForm(request.POST, survey=survey)
        if form.is_valid():
            try:
                services.record_response(
                    invitation=invitation,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data.get("comment", ""),
                    answers=form.answers(),
                )
            except services.AnswerError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            except services.InvitationClosed:
                invitation.refresh_from_db()
                if services.invitation_state(invitation) == "answered":
                    return _public(request, "public_answered.html", {"survey": survey})
                return _missing(request)
            else:
                return redirect("feedback:thanks", token=token)
    else:
        services.mark_opened(invitation)
        form = AnswerForm(survey=survey)
    return _public(
        request,
        "public_answer.html",
        {"survey": survey, "form": form, "account": invitation.account},
    )


@never_cache
@require_GET
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    if _over_rate_limit(request) is not None:
        return _public(request, "public_rate_limited.html", {"seconds": 60}, 429)
    invitation = services.find_invitation(token)
    if invitation is None:
        return _missing(request)
    _in_contacts_language(request, invitation)
    if invitation.answered_at is None:
        return redirect("feedback:answer", token=token)
    return _public(request, "public_thanks.html", {"survey": invitation.survey})


# --- Managers: survey definitions -----------------------------------------------------------------


def surveys_with_counts() -> list[Survey]:
    """Every survey with its invitations sent, opened, answered and bounced: one query."""
    return list(
        Survey.objects.annotate(
            sent=Count("invitations"),
            opened=Count("invitations", filter=Q(invitations__opened_at__isnull=False)),
            answered=Count("invitations", filter=Q(invitations__answered_at__isnull=False)),
            bounced=Count("invitations", filter=Q(invitations__bounced_at__isnull=False)),
        ).order_by("-active", "name")
    )


@manager_required
@require_GET
def survey_list(request: AuthenticatedHttpRequest) -> TemplateResponse:
    surveys = surveys_with_counts()
    for survey in surveys:
        delivered = survey.sent - survey.bounced  # type: ignore[attr-defined]
        survey.response_rate = (  # type: ignore[attr-defined]
            round(100 * survey.answered / delivered) if delivered else None  # type: ignore[attr-defined]
        )
    return TemplateResponse(
        request,
        "feedback/survey_list.html",
        {
            "surveys": surveys,
            "min_interval": settings.SURVEY_MIN_INTERVAL_DAYS,
            "token_days": settings.SURVEY_TOKEN_DAYS,
            "nav": "surveys",
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def survey_edit(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    survey = get_object_or_404(Survey, pk=pk) if pk is not None else Survey()
    form = SurveyForm(request.POST or None, instance=survey)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("Saved the survey “%(name)s”.") % {"name": saved.name})
        return redirect("feedback:surveys")
    return TemplateResponse(
        request,
        "feedback/survey_edit.html",
        {"form": form, "survey": survey if pk is not None else None, "nav": "surveys"},
    )


# --- Sending --------------------------------------------------------------------------------------


def _active_surveys() -> list[Survey]:
    return list(Survey.objects.filter(active=True).order_by("name"))


@login_required
@require_http_methods(["GET", "POST"])
def send_to_segment(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One survey to the primary contacts of a segment of customers: a CSM's own book, or
    everybody's for a manager. People surveyed lately or whose address bounced are skipped."""
    user = request.user
    form = SendToSegmentForm(request.POST or None, surveys=_active_surveys())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        today = timezone.localdate()
        accounts = services.audience(
            services.customers_on(today).filter(book_q(user, prefix="")),
            tier=data["tier"],
            segment=data["segment"],
            stage=data["stage"],
            day=today,
        )
        try:
            result = services.send_to_accounts(
                survey=data["survey"], accounts=accounts, sent_by=user
            )
        except services.SendError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(
                request,
                " ".join(
                    (
                        ngettext(
                            "Sent “%(survey)s” to %(sent)s person.",
                            "Sent “%(survey)s” to %(sent)s people.",
                            result.sent,
                        )
                        % {"survey": data["survey"].name, "sent": result.sent},
                        ngettext(
                            "Skipped %(recent)s surveyed in the last %(days)s days or whose "
                            "address bounced,",
                            "Skipped %(recent)s surveyed in the last %(days)s days or whose "
                            "address bounced,",
                            result.skipped_recent,
                        )
                        % {
                            "recent": result.skipped_recent,
                            "days": settings.SURVEY_MIN_INTERVAL_DAYS,
                        },
                        ngettext(
                            "and %(none)s account without a primary contact.",
                            "and %(none)s accounts without a primary contact.",
                            result.without_contact,
                        )
                        % {"none": result.without_contact},
                    )
                ),
            )
            if result.skipped_churned:
                messages.info(
                    request,
                    ngettext(
                        "%(churned)s churned account was not surveyed.",
                        "%(churned)s churned accounts were not surveyed.",
                        result.skipped_churned,
                    )
                    % {"churned": result.skipped_churned},
                )
            return redirect("feedback:send")
    return TemplateResponse(
        request,
        "feedback/survey_send.html",
        {"form": form, "min_interval": settings.SURVEY_MIN_INTERVAL_DAYS, "nav": "surveys"},
    )


def _account_invitations(account: Account) -> list[Invitation]:
    # list(): each row is decorated with its state once and rendered once.
    invitations = list(
        Invitation.objects.filter(account=account)
        .select_related("survey", "contact", "response")
        .order_by("-created_at", "-pk")[:ACCOUNT_INVITATIONS]
    )
    now = timezone.now()
    for invitation in invitations:
        invitation.state = services.invitation_state(invitation, now)  # type: ignore[attr-defined]
    return invitations


@login_required
@require_http_methods(["GET", "POST"])
def account_surveys(request: AuthenticatedHttpRequest, external_id: str) -> HttpResponse:
    """An account's invitations and answers; its owner (or a manager) sends a survey from here."""
    account = get_account_for_user(request.user, external_id, write=request.method == "POST")
    can_edit = account.can_be_edited_by(request.user)
    contacts = list(account.contacts.all())
    form = None
    if can_edit:
        form = SendToContactForm(
            request.POST or None, account=account, surveys=_active_surveys(), contacts=contacts
        )
        if request.method == "POST" and form.is_valid():
            contact = form.cleaned_data["contact"]
            contact.account = account
            try:
                services.send_invitation(
                    survey=form.cleaned_data["survey"], contact=contact, sent_by=request.user
                )
            except services.SendError as error:
                form.add_error(error.field, error.message)
            else:
                messages.success(
                    request,
                    _("Sent “%(survey)s” to %(to)s.")
                    % {"survey": form.cleaned_data["survey"].name, "to": contact.email},
                )
                return redirect("feedback:account", external_id=account.external_id)
    return TemplateResponse(
        request,
        "feedback/survey_account.html",
        {
            "account": account,
            "form": form,
            "can_edit": can_edit,
            "has_contacts": any(c.email for c in contacts),
            "invitations": _account_invitations(account),
            "nav": "accounts",
        },
    )


@login_required
@require_POST
def invitation_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    """Mark an invitation bounced, or revoke its link (the account's owner or a manager)."""
    invitation = get_object_or_404(
        Invitation.objects.select_related("account__owner", "survey", "contact"), pk=pk
    )
    check_can_change(request.user, invitation.account)
    if action == "bounce":
        changed = services.mark_bounced(actor=request.user, invitation=invitation)
        done = _("Marked bounced.") if changed else _("It was marked bounced already.")
    else:
        changed = services.revoke_invitation(actor=request.user, invitation=invitation)
        done = _("Link revoked.") if changed else _("This link was answered or revoked already.")
    if request.htmx:
        invitation.state = services.invitation_state(invitation)  # type: ignore[attr-defined]
        return TemplateResponse(
            request,
            "feedback/survey_account.html#invitation-row",
            {"invitation": invitation, "can_edit": True, "done": done},
        )
    messages.success(request, done)
    return redirect(
        reverse("feedback:account", args=[invitation.account.external_id]) + "#invitations"
    )
