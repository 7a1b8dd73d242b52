from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.access import AuthenticatedHttpRequest
from csm.workflow.today import LIST_LIMIT, today_for
from csm.workflow.views.risk import decorate_row


@login_required
def home(request: AuthenticatedHttpRequest) -> TemplateResponse:
    """Today: a CSM's home after login (their book); a manager's shows the whole team."""
    today = today_for(user=request.user, day=timezone.localdate())
    for item in today.risk_items:
        decorate_row(item, request.user, today.day)
    return TemplateResponse(
        request,
        "csm/today.html",
        {
            "today": today,
            "limit": LIST_LIMIT,
            "nav": "today",
            # Today's at-risk row (csm/risk.html#risk-brief) and its actions, which come back here.
            "row": "brief",
            "health_day": today.scored_day,
            "today_day": today.day,
            "next_url": request.get_full_path(),
        },
    )
