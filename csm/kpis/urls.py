"""The KPI pages (a CSM sees them for their own book), goals and experiments."""

from __future__ import annotations

from django.urls import path

from csm.kpis.views import churn, cohorts, experiments, goals, health, overview, scoreboard

app_name = "kpis"
urlpatterns = [
    # The KPI pages (a CSM's are their own book's).
    path("kpis/", overview.overview, name="overview"),
    path("kpis/cohorts/", cohorts.cohort_page, name="cohorts"),
    path("kpis/churn/", churn.churn_report, name="churn"),
    path("kpis/health/", health.health_report, name="health"),
    path("kpis/scoreboard/", scoreboard.scoreboard, name="scoreboard"),
    # Goals (managers): targets for one KPI over a period.
    path("kpis/goals/", goals.goal_list, name="goals"),
    path("kpis/goals/new/", goals.goal_create, name="goal_create"),
    path("kpis/goals/<int:pk>/edit/", goals.goal_edit, name="goal_edit"),
    path("kpis/goals/<int:pk>/delete/", goals.goal_delete, name="goal_delete"),
    # Experiments (managers); a CSM marks a treatment account's play done from Today.
    path("kpis/experiments/", experiments.experiment_list, name="experiments"),
    path("kpis/experiments/new/", experiments.experiment_create, name="experiment_create"),
    path("kpis/experiments/<int:pk>/", experiments.experiment_detail, name="experiment_detail"),
    path(
        "kpis/experiments/<int:pk>/assign/",
        experiments.experiment_assign,
        name="experiment_assign",
    ),
    path("kpis/plays/<int:pk>/done/", experiments.play_done, name="play_done"),
]
