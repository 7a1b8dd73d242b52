"""The managers' Webhooks pages (Setup → Webhooks): endpoints, adding one (its secret shown
once), pausing, resuming, deleting, a test event and each endpoint's delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import AuthenticatedHttpRequest, manager_required
from csm.webhooks.events import queue_test_event
from csm.webhooks.forms import EndpointForm
from csm.webhooks.models import WebhookEndpoint
from csm.webhooks.services import (
    create_endpoint,
    delete_endpoint,
    pause_endpoint,
    resume_endpoint,
)

LOG_SIZE = 50
NAV = {"nav": "webhooks"}


@manager_required
@require_http_methods(["GET", "POST"])
def endpoint_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """List the endpoints and add one. The secret is shown in the answer to the POST itself, as
    a new API key is: it must exist only on that one page."""
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            created = create_endpoint(**form.cleaned_data, actor=request.user)
            response = TemplateResponse(
                request, "webhooks/endpoint_created.html", {"created": created, **NAV}
            )
            add_never_cache_headers(response)  # no copy of the secret in any cache
            return response
    else:
        form = EndpointForm()
    # list(): rendered once; a handful of endpoints.
    endpoints = list(WebhookEndpoint.objects.select_related("created_by"))
    return TemplateResponse(
        request, "webhooks/endpoint_list.html", {"form": form, "endpoints": endpoints, **NAV}
    )


@manager_required
@require_http_methods(["GET"])
def endpoint_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint.objects.select_related("created_by"), pk=pk)
    # list(): the last LOG_SIZE deliveries, newest first (the table's ordering).
    deliveries = list(endpoint.deliveries.all()[:LOG_SIZE])
    return TemplateResponse(
        request,
        "webhooks/endpoint_detail.html",
        {"endpoint": endpoint, "deliveries": deliveries, "log_size": LOG_SIZE, **NAV},
    )


@manager_required
@require_POST
def endpoint_pause(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if pause_endpoint(endpoint=endpoint, actor=request.user):
        messages.success(request, _("Paused: events wait until you resume the endpoint."))
    return redirect("webhooks:detail", pk=pk)


@manager_required
@require_POST
def endpoint_resume(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if resume_endpoint(endpoint=endpoint, actor=request.user):
        messages.success(request, _("Resumed: waiting events are being sent."))
    return redirect("webhooks:detail", pk=pk)


@manager_required
@require_POST
def endpoint_test(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    queue_test_event(endpoint)
    if endpoint.is_active:
        messages.success(request, _("Test event queued; its delivery shows below."))
    else:
        messages.info(request, _("Test event queued; it goes out when you resume the endpoint."))
    return redirect("webhooks:detail", pk=pk)


@manager_required
@require_http_methods(["GET", "POST"])
def endpoint_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes the endpoint and its deliveries."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method == "POST":
        delete_endpoint(endpoint=endpoint, actor=request.user)
        messages.success(request, _("Deleted the endpoint %(url)s.") % {"url": endpoint.url})
        return redirect("webhooks:list")
    return TemplateResponse(request, "webhooks/endpoint_delete.html", {"endpoint": endpoint, **NAV})
