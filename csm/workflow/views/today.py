from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.access import AuthenticatedHttpRequest
from csm.workflow.today import LIST_LIMIT, today_for


@login_required
def home(request: AuthenticatedHttpRequest) -> TemplateResponse:
    """Today: a CSM's home after login (their book); a manager's shows the whole team."""
    today = today_for(user=request.user, day=timezone.localdate())
    return TemplateResponse(
        request, "csm/today.html", {"today": today, "limit": LIST_LIMIT, "nav": "today"}
    )
