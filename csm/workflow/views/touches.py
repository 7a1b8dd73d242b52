"""Logging a touch (inline with htmx, or a plain POST with Post/Redirect/Get) and an account's
timeline, which refreshes itself when a touch is logged."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import trigger_client_event

from accounts.access import AuthenticatedHttpRequest, get_account_for_user
from accounts.models import Account
from csm.lib.http import next_url
from csm.workflow.forms import TouchForm
from csm.workflow.timeline import account_timeline
from csm.workflow.touches import log_touch

# The event the timeline listens for (hx-trigger="touchLogged from:body").
TOUCH_LOGGED = "touchLogged"


def _next_url(request: AuthenticatedHttpRequest, account: Account) -> str:
    """Where to go back to: the page the form was on, else the account's page."""
    return next_url(request, reverse("accounts:detail", args=[account.external_id]))


@login_required
@require_http_methods(["GET", "POST"])
def touch_log(request: AuthenticatedHttpRequest, external_id: str) -> HttpResponse:
    """GET: a page with the form (for links without JavaScript). POST: log the touch; htmx gets
    the form back (blank with a notice, or with its errors) and the timeline refreshes on the
    HX-Trigger event; a plain POST redirects to `next`, or shows the errors on the page."""
    account = get_account_for_user(request.user, external_id, write=True)
    next_url = _next_url(request, account)
    logged = False
    if request.method == "POST":
        form = TouchForm(request.POST, account=account)
        if form.is_valid():
            try:
                log_touch(actor=request.user, account=account, **form.cleaned_data)
            except ValidationError as error:  # the service's bounds, keyed by the form's fields
                form.add_error(None, error)
            else:
                if not request.htmx:
                    messages.success(
                        request, _("Logged the touch with %(name)s.") % {"name": account.name}
                    )
                    return redirect(next_url)
                form = TouchForm(account=account)
                logged = True
    else:
        form = TouchForm(account=account)
    context = {"account": account, "next": next_url, "touch_form": form, "logged": logged}
    if request.htmx:
        response = TemplateResponse(request, "csm/_touch_form.html#touch-form", context)
        if logged:
            trigger_client_event(response, TOUCH_LOGGED, {"account": account.external_id})
        return response
    return TemplateResponse(request, "csm/touch_log.html", context)


@login_required
@require_GET
def timeline(request: AuthenticatedHttpRequest, external_id: str) -> TemplateResponse:
    """The timeline region of the account page, for htmx to refresh (anyone who may see the
    account page may see this)."""
    account = get_account_for_user(request.user, external_id)
    return TemplateResponse(
        request,
        "csm/_timeline.html",
        {"account": account, "timeline": account_timeline(account)},
    )
