"""Managers' health pages: ingest API keys, ingestion warnings and score overrides on an account.
(The scorecard's page shows what a change would do to the risk queue, so it is the workflow's:
csm/workflow/views/scorecard.py, in this "health" namespace.)"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.access import AuthenticatedHttpRequest, get_account_for_user, manager_required
from health.forms import ApiKeyForm, HealthOverrideForm
from health.ingestion_warnings import KEEP_EXAMPLES, warnings_summary
from health.models import ApiKey, HealthOverride
from health.services import override_health_score, remove_health_override
from health.services_keys import create_api_key, revoke_api_key

# --- API keys -------------------------------------------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def api_keys(request: AuthenticatedHttpRequest) -> HttpResponse:
    """List the keys and create one. The new key is shown in the answer to the POST itself, not
    after a redirect: a redirect would need the key kept somewhere (session, messages) until the
    next request, and it must exist only in that one page."""
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            created = create_api_key(
                name=form.cleaned_data["name"],
                actor=request.user,
                scopes=form.cleaned_data["scopes"],
            )
            response = TemplateResponse(
                request,
                "health/api_key_created.html",
                {
                    "created": created,
                    "events_url": request.build_absolute_uri(reverse("health:events")),
                    "nav": "api_keys",
                },
            )
            add_never_cache_headers(response)  # no copy of the page in any cache
            return response
    else:
        form = ApiKeyForm()
    # list(): rendered once; select_related: who created and revoked each key.
    keys = list(ApiKey.objects.select_related("created_by", "revoked_by"))
    return TemplateResponse(
        request, "health/api_keys.html", {"form": form, "keys": keys, "nav": "api_keys"}
    )


@manager_required
@require_http_methods(["GET", "POST"])
def api_key_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST revokes (requests with the key get 401 from then on)."""
    api_key = get_object_or_404(ApiKey.objects.select_related("created_by"), pk=pk)
    if request.method == "POST":
        if revoke_api_key(api_key=api_key, actor=request.user):
            messages.success(
                request,
                _("Revoked the key “%(name)s”; requests with it are now refused.")
                % {"name": api_key.name},
            )
        else:
            messages.info(request, _("That key was already revoked."))
        return redirect("health:api_keys")
    return TemplateResponse(
        request, "health/api_key_revoke.html", {"api_key": api_key, "nav": "api_keys"}
    )


# --- Ingestion warnings --------------------------------------------------------------------------


@manager_required
@require_http_methods(["GET"])
def ingestion_warnings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What integrations sent that could not be stored, counted by source and cause."""
    # The day counts are per UTC day (health.ingestion_warnings).
    summary = warnings_summary(today=timezone.now().date())
    return TemplateResponse(
        request,
        "health/ingestion_warnings.html",
        {
            "summary": summary,
            "keep_examples": KEEP_EXAMPLES,
            "nav": "ingestion_warnings",
        },
    )


# --- Score overrides ------------------------------------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def health_override(request: AuthenticatedHttpRequest, external_id: str) -> HttpResponse:
    """A manager sets an account's score with a reason until a date (audited)."""
    account = get_account_for_user(request.user, external_id, write=True)
    form = HealthOverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        override_health_score(actor=request.user, account=account, **form.cleaned_data)
        messages.success(
            request,
            _("Health score of %(name)s set to %(score)s until %(day)s.")
            % {
                "name": account.name,
                "score": form.cleaned_data["score"],
                "day": form.cleaned_data["expires_on"].isoformat(),
            },
        )
        return redirect("accounts:detail", external_id=account.external_id)
    return TemplateResponse(
        request, "health/health_override.html", {"account": account, "form": form}
    )


@manager_required
@require_http_methods(["POST"])
def health_override_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    override = get_object_or_404(
        HealthOverride.objects.select_related("account"), pk=pk, revoked_at__isnull=True
    )
    remove_health_override(actor=request.user, override=override)
    messages.success(request, _("The scorecard's score applies again."))
    return redirect("accounts:detail", external_id=override.account.external_id)
