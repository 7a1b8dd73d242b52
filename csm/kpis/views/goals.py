"""Goals (managers): a target for one KPI in a scope over a period (csm.kpis.goals)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import AuthenticatedHttpRequest, manager_required
from csm.kpis.forms import (
    GoalForm,
    people_for_scopes,
)
from csm.kpis.goals import METRICS, progress_for, users_by_id
from csm.kpis.models import Goal
from csm.kpis.views.common import wants_csv
from csm.lib.csv_export import csv_response

# --- Goals ----------------------------------------------------------------------------------------


@manager_required
@require_GET
def goal_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every goal with its progress. Queries: goals, users, then at most five for the progress
    (tests/test_goals.py)."""
    goals = list(Goal.objects.order_by("-period_end", "pk"))  # list(): progress reads them all
    progress = progress_for(goals, users=users_by_id(goals))
    if wants_csv(request):
        return csv_response(
            "goals",
            ["metric", "scope", "from", "until", "target", "lower_is_better", "value", "status"],
            [
                [
                    p.goal.metric,
                    p.scope,
                    p.goal.period_start,
                    p.goal.period_end,
                    p.goal.target,
                    p.goal.at_most,
                    p.value,
                    p.status,
                ]
                for p in progress
            ],
        )
    return TemplateResponse(
        request,
        "kpis/goal_list.html",
        {"progress": progress, "nav": "kpis", "kpi_nav": "goals"},
    )


def _goal_form_page(request: AuthenticatedHttpRequest, goal: Goal | None) -> HttpResponse:
    people = people_for_scopes()
    form = GoalForm(request.POST or None, instance=goal, people=people)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        if goal is None:
            saved.created_by = request.user
        saved.save()
        messages.success(request, _("Saved the goal."))
        return redirect("kpis:goals")
    return TemplateResponse(
        request,
        "kpis/goal_form.html",
        {
            "form": form,
            "goal": goal,
            "metrics": {key: m.unit for key, m in METRICS.items()},
            "nav": "kpis",
            "kpi_nav": "goals",
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def goal_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _goal_form_page(request, None)


@manager_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _goal_form_page(request, get_object_or_404(Goal, pk=pk))


@manager_required
@require_http_methods(["GET", "POST"])
def goal_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    goal = get_object_or_404(Goal, pk=pk)
    if request.method == "POST":
        goal.delete()
        messages.success(request, _("Deleted the goal."))
        return redirect("kpis:goals")
    progress = progress_for([goal], users=users_by_id([goal]))[0]
    return TemplateResponse(
        request,
        "kpis/goal_confirm_delete.html",
        {"progress": progress, "nav": "kpis", "kpi_nav": "goals"},
    )
