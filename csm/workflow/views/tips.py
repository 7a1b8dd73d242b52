"""Managers' page for the usage tips mailed to tier C accounts (csm.lib.outbox.queue_usage_tips)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import AuthenticatedHttpRequest, manager_required
from csm.workflow.forms import UsageTipForm
from csm.workflow.models import UsageTip
from csm.workflow.tips import save_tip


@manager_required
@require_GET
def tip_list(request: AuthenticatedHttpRequest) -> TemplateResponse:
    # list(): rendered once.
    tips = list(UsageTip.objects.order_by("feature"))
    return TemplateResponse(
        request,
        "csm/tips.html",
        {"tips": tips, "every_days": settings.TIPS_EVERY_DAYS, "nav": "tips"},
    )


@manager_required
@require_http_methods(["GET", "POST"])
def tip_form(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a tip, or edit tip `pk`."""
    tip = get_object_or_404(UsageTip, pk=pk) if pk is not None else None
    form = UsageTipForm(request.POST or None, instance=tip)
    if request.method == "POST" and form.is_valid():
        saved = save_tip(actor=request.user, tip=tip, **form.cleaned_data)
        text = _("Saved the tip “%(title)s”.") if tip else _("Added the tip “%(title)s”.")
        messages.success(request, text % {"title": saved.title})
        return redirect("touches:tips")
    return TemplateResponse(request, "csm/tip_form.html", {"form": form, "tip": tip, "nav": "tips"})
