"""The blueprint section of the account page (milestone actions, sharing) and the customer's
read-only view at /b/<token>/.

Every action is a plain POST with Post/Redirect/Get back to the account page; with htmx a success
answers with the whole section (retargeted to #blueprint, so the progress updates too) and a form
with errors answers with that form, status 200 (htmx 2 does not swap 4xx).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts.access import AuthenticatedHttpRequest, check_can_change
from accounts.models import Account, User
from csm.lib.languages import activate_for_request
from csm.lib.ratelimit import public_page_wait
from csm.workflow.blueprint_forms import FORMS
from csm.workflow.blueprints import (
    MilestoneStateError,
    blueprint_for,
    complete_milestone,
    reopen,
    reschedule,
    rotate_share_link,
    set_sharing,
    shared_blueprint,
)
from csm.workflow.models import Blueprint, Milestone

SECTION = "csm/_blueprint.html"


def _back_to_account(account: Account) -> HttpResponse:
    return redirect(reverse("accounts:detail", args=[account.external_id]) + "#blueprint")


def _section(request: AuthenticatedHttpRequest, account: Account) -> TemplateResponse:
    """The whole blueprint section, for htmx to put in place of #blueprint."""
    response = TemplateResponse(
        request,
        SECTION,
        {
            "account": account,
            "blueprint": blueprint_for(account),
            "can_edit": account.can_be_edited_by(request.user),
        },
    )
    return reswap(retarget(response, "#blueprint"), "outerHTML")  # type: ignore[return-value]


def _complete(actor: User, milestone: Milestone, data: dict[str, Any]) -> str:
    complete_milestone(
        actor=actor, milestone=milestone, status=data["status"], note=data["note"], on=data["on"]
    )
    return _("Closed “%(title)s” as %(status)s.") % {
        "title": milestone.title,
        "status": milestone.get_status_display().lower(),
    }


def _reschedule(actor: User, milestone: Milestone, data: dict[str, Any]) -> str:
    reschedule(actor=actor, milestone=milestone, due_on=data["due_on"], reason=data["reason"])
    return _("Moved “%(title)s” to %(date)s.") % {
        "title": milestone.title,
        "date": milestone.due_on.isoformat(),
    }


def _reopen(actor: User, milestone: Milestone, data: dict[str, Any]) -> str:
    reopen(actor=actor, milestone=milestone, reason=data["reason"])
    return _("Reopened “%(title)s”.") % {"title": milestone.title}


# What each action does (its form is FORMS[action]), returning the message.
RUN = {"complete": _complete, "reschedule": _reschedule, "reopen": _reopen}


@login_required
@require_http_methods(["GET", "POST"])
def milestone_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    """Complete (done or skipped), reopen or reschedule one milestone. GET shows the form on a
    page of its own (a link target without JavaScript)."""
    milestone = get_object_or_404(
        Milestone.objects.select_related("blueprint__account__owner"), pk=pk
    )
    account = milestone.blueprint.account
    # Before the form: another CSM's milestone answers 403 whatever was asked.
    check_can_change(request.user, account)
    form_class = FORMS[action]
    if request.method == "POST":
        form = form_class(request.POST, milestone=milestone)
        if form.is_valid():
            try:
                done = RUN[action](request.user, milestone, form.cleaned_data)
            except MilestoneStateError:
                # Someone else changed it between the page and the click.
                form.add_error(None, _("This milestone changed meanwhile; reload the page."))
            except ValidationError as error:  # keyed by the form's field names
                form.add_error(None, error)
            else:
                if request.htmx:
                    return _section(request, account)
                messages.success(request, done)
                return _back_to_account(account)
    else:
        form = form_class(milestone=milestone)
    context = {
        "account": account,
        "milestone": milestone,
        "milestone_form": form,
        "action": action,
        "can_edit": True,
    }
    if request.htmx:
        return TemplateResponse(request, f"{SECTION}#milestone-form", context)
    return TemplateResponse(request, "csm/milestone_action.html", context)


@login_required
@require_POST
def sharing(request: AuthenticatedHttpRequest, external_id: str) -> HttpResponse:
    """The customer's link: rotate it (old links stop working), switch it off or on again."""
    blueprint = get_object_or_404(
        Blueprint.objects.select_related("account__owner"), account__external_id=external_id
    )
    account = blueprint.account
    check_can_change(request.user, account)
    what = request.POST.get("action")
    if what == "rotate":
        rotate_share_link(actor=request.user, blueprint=blueprint)
        done = _("Made a new customer link; the old one no longer works.")
    elif what in ("enable", "disable"):
        set_sharing(actor=request.user, blueprint=blueprint, enabled=what == "enable")
        done = _("Sharing is on.") if what == "enable" else _("Sharing is off.")
    else:
        messages.error(request, _("Unknown sharing action."))
        return _back_to_account(account)
    if request.htmx:
        return _section(request, account)
    messages.success(request, done)
    return _back_to_account(account)


@never_cache
@require_GET
def public(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    """The customer's read-only view, no login. A tampered, revoked or switched-off link gets the
    same not-found page, so it reveals nothing about which it was. Rate-limited per client
    address like the survey pages, so the tokens cannot be tried in bulk."""
    retry_after = public_page_wait(request, "blueprint")
    if retry_after is not None:
        response = TemplateResponse(
            request, "csm/blueprint_public_rate_limited.html", {"seconds": retry_after}, status=429
        )
        response["Retry-After"] = str(retry_after)
    elif (view := shared_blueprint(token)) is None:
        response = TemplateResponse(request, "csm/blueprint_public_missing.html", status=404)
    else:
        # The customer's language (their primary contact's), else their browser's.
        activate_for_request(request, view.blueprint.reader_language or "")
        response = TemplateResponse(request, "csm/blueprint_public.html", {"view": view})
    # The token is the key: keep it out of Referer headers and search engines.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
