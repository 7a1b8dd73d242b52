"""The managers' scorecard page: a change is previewed first (what it would do on the last scored
day, csm.workflow.scorecard_preview), then saved (health.scorecard.save_scorecard, audited).

1. GET: the scorecard in force. With field names in the query string (another page's suggested
   weights: `?active_days-weight=30&billing-tier-C=0`), those fields changed and the change
   previewed at once; nothing is saved until the manager presses Save.
2. POST "preview": the form checked (a tier left without any weight is refused by name) and its
   impact shown, with a token naming exactly this input and the scorecard it was compared with.
3. POST "save": saved only when the token matches the posted input and the scorecard in force;
   otherwise the change is previewed again and the manager saves from there.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.access import AuthenticatedHttpRequest, manager_required
from csm.workflow.scorecard_preview import BANDS, preview_scorecard
from health.forms import ScorecardForm
from health.models import WeightOverride
from health.scorecard import load_scorecard, save_scorecard
from health.scoring import Scorecard

TOKEN_SALT = "scorecard-preview"


def _fingerprint(current: Scorecard, form: ScorecardForm) -> str:
    """The input and the scorecard it was previewed against, as one digest: a Save posts the
    token of its preview, and any difference in either means the preview no longer shows it."""
    text = repr((current, form.measure_inputs()))
    return hashlib.sha256(text.encode()).hexdigest()


@manager_required
@require_http_methods(["GET", "POST"])
def scorecard(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = load_scorecard()
    step = request.POST.get("step", "preview")
    suggested = request.method == "GET" and any(
        name in ScorecardForm.data_from(current, {}) for name in request.GET
    )
    if request.method == "POST":
        form = ScorecardForm(request.POST, scorecard=current)
    elif suggested:
        form = ScorecardForm(ScorecardForm.data_from(current, request.GET), scorecard=current)
    else:
        form = ScorecardForm(scorecard=current)

    context: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        fingerprint = _fingerprint(current, form)
        if step == "save":
            try:
                previewed = signing.loads(request.POST.get("preview_token", ""), salt=TOKEN_SALT)
            except signing.BadSignature:
                previewed = None
            if previewed == fingerprint:
                changed = save_scorecard(
                    measures=form.measure_inputs(),
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
                if changed:
                    messages.success(
                        request, _("Saved the scorecard. Scores use it from the next nightly run.")
                    )
                else:
                    messages.info(request, _("Nothing changed."))
                return redirect("health:scorecard")
            form.add_error(
                None,
                _(
                    "Preview this change before saving it: the input or the scorecard in force "
                    "changed since its preview. Its impact is shown again below."
                ),
            )
        assert form.proposed is not None
        context = {
            "preview": preview_scorecard(form.proposed),
            "preview_token": signing.dumps(fingerprint, salt=TOKEN_SALT),
        }

    # Weights for a tier within a stage are kept and applied but not edited here; listed so a
    # manager knows they exist. list(): rendered once.
    combined = list(WeightOverride.objects.exclude(tier="").exclude(stage="").order_by("key"))
    return TemplateResponse(
        request,
        "health/scorecard.html",
        {
            "form": form,
            "rows": form.rows(),
            "columns": form.column_labels(),
            "combined": combined,
            "bands": BANDS,
            "suggested": suggested,
            "nav": "scorecard",
            **context,
        },
    )
