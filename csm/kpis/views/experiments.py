"""Experiments (managers): a retention play for accounts drawn at random, against a control group
(csm.kpis.experiments); `play_done` marks a play done and completes its task (Today lists the
play as a task and ticks it there)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    Q,
)
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import AuthenticatedHttpRequest, manager_required
from accounts.models import User
from accounts.scopes import scope_label
from csm.kpis import experiments as exp
from csm.kpis.forms import (
    ExperimentForm,
    people_for_scopes,
)
from csm.kpis.views.common import pct_points, wants_csv
from csm.lib.csv_export import csv_response
from csm.lib.http import next_url
from csm.workflow.models import Experiment, ExperimentAssignment
from csm.workflow.plays import mark_play_done, play_task

# --- Experiments ----------------------------------------------------------------------------------


@manager_required
@require_GET
def experiment_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    today = timezone.localdate()
    experiments = list(  # list(): each row's status is worked out once
        Experiment.objects.annotate(
            assigned=Count("assignments"),
            plays_done=Count("assignments", filter=Q(assignments__play_done_at__isnull=False)),
        ).order_by("-starts_on", "-pk")
    )
    users = {
        u.pk: u
        for u in User.objects.filter(
            pk__in=[int(e.scope_value) for e in experiments if e.scope_value.isdigit()]
        )
    }
    for e in experiments:
        e.status = exp.experiment_status(e, assigned=bool(e.assigned), today=today)  # type: ignore[attr-defined]
        e.scope_text = scope_label(e.scope_kind, e.scope_value, users)  # type: ignore[attr-defined]
    return TemplateResponse(
        request,
        "kpis/experiment_list.html",
        {"experiments": experiments, "nav": "kpis", "kpi_nav": "experiments"},
    )


@manager_required
@require_http_methods(["GET", "POST"])
def experiment_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ExperimentForm(request.POST or None, people=people_for_scopes())
    if request.method == "POST" and form.is_valid():
        experiment = form.save(commit=False)
        experiment.seed = exp.new_seed()
        experiment.created_by = request.user
        experiment.save()
        messages.success(request, _("Created the experiment. Draw its groups when you are ready."))
        return redirect("kpis:experiment_detail", pk=experiment.pk)
    return TemplateResponse(
        request,
        "kpis/experiment_form.html",
        {"form": form, "nav": "kpis", "kpi_nav": "experiments"},
    )


@manager_required
@require_GET
def experiment_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(Experiment.objects.select_related("created_by"), pk=pk)
    today = timezone.localdate()
    results = exp.experiment_results(experiment, today=today)
    assignments = (
        ExperimentAssignment.objects.filter(experiment=experiment)
        .select_related("account__owner")
        .order_by("group", "account__name")
    )
    if wants_csv(request):
        return csv_response(
            f"experiment-{experiment.pk}",
            ["group", "account", "external_id", "owner", "health_start", "play_done_at"],
            [
                [
                    a.group,
                    a.account.name,
                    a.account.external_id,
                    a.account.owner or "",
                    a.health_start,
                    a.play_done_at.isoformat() if a.play_done_at else "",
                ]
                for a in assignments
            ],
        )
    users = {}
    if experiment.scope_value.isdigit():
        users = {u.pk: u for u in User.objects.filter(pk=experiment.scope_value)}
    eligible = None
    if results["status"] == "draft":
        eligible = (
            exp.eligible_accounts(
                kind=experiment.scope_kind,
                value=experiment.scope_value,
                day=exp.draw_day(experiment, today),
            )
            .order_by()
            .count()
        )
    stats = {}
    if results["test"]:
        test = results["test"]
        stats = {"t_rate": f"{test.p1 * 100:.1f}%", "c_rate": f"{test.p2 * 100:.1f}%"}
        if results["judged"]:  # p and the interval only where the test means something
            stats |= {
                "diff": f"{test.difference * 100:+.1f}",
                "ci_low": f"{test.ci_low * 100:+.1f}",
                "ci_high": f"{test.ci_high * 100:+.1f}",
                "z": f"{test.z:.2f}",
                "p": exp.format_p(test.p_value),
            }
    chart = None
    if results["treatment"] and results["control"]:
        chart = {
            "labels": [_("Treatment"), _("Control")],
            "values": [
                pct_points(results["treatment"]["churn_rate"]),
                pct_points(results["control"]["churn_rate"]),
            ],
            "colors": ["#2563eb", "#94a3b8"],
            "y_label": _("churn rate, %"),
        }
    return TemplateResponse(
        request,
        "kpis/experiment_detail.html",
        {
            "experiment": experiment,
            "results": results,
            "scope": scope_label(experiment.scope_kind, experiment.scope_value, users),
            "assignments": list(assignments[:200]),  # list(): shown once; CSV has them all
            "eligible": eligible,
            "needed": experiment.treatment_size + experiment.control_size,
            "chart": chart,
            "stats": stats,
            "min_group": exp.MIN_GROUP_TO_JUDGE,
            "nav": "kpis",
            "kpi_nav": "experiments",
        },
    )


@manager_required
@require_POST
def experiment_assign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(Experiment, pk=pk)
    try:
        counts = exp.assign_experiment(experiment=experiment)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Drew %(t)s treatment and %(c)s control accounts.")
            % {"t": counts["treatment"], "c": counts["control"]},
        )
    return redirect("kpis:experiment_detail", pk=experiment.pk)


@login_required
@require_POST
def play_done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A treatment account's play is done (the owner or a manager), completing its task. htmx
    gets the task's row back in its done state; a plain POST goes back to Today."""
    assignment = get_object_or_404(
        ExperimentAssignment.objects.select_related("experiment", "account"), pk=pk
    )
    try:
        mark_play_done(actor=request.user, assignment=assignment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(next_url(request, reverse("home")))
    task = play_task(assignment)
    if request.htmx and task is not None:
        return TemplateResponse(
            request,
            "csm/_task.html#task-row",
            {
                "task": task,
                "can_act": True,
                "next": next_url(request, reverse("home")),
                "show_account": True,
                "today_day": timezone.localdate(),
            },
        )
    messages.success(
        request,
        _("Marked the play done for %(name)s.") % {"name": assignment.account.name},
    )
    return redirect(next_url(request, reverse("home")))
