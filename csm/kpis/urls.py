"""The managers' KPI pages (a CSM sees them for their own book)."""

from __future__ import annotations

from django.urls import path  # noqa: F401

from csm.kpis.views import overview as kpi_views
from csm.kpis.views import reports as report_views

app_name = "kpis"

urlpatterns: list = []

# Churn analysis, health and saves, the CSM scoreboard, goals and experiments (csm/report_views.py).
urlpatterns += [
    path("kpis/churn/", report_views.churn_report, name="churn"),
    path("kpis/health/", report_views.health_report, name="health"),
    path("kpis/scoreboard/", report_views.scoreboard, name="scoreboard"),
    path("kpis/goals/", report_views.goal_list, name="goals"),
    path("kpis/goals/new/", report_views.goal_create, name="goal_create"),
    path("kpis/goals/<int:pk>/edit/", report_views.goal_edit, name="goal_edit"),
    path("kpis/goals/<int:pk>/delete/", report_views.goal_delete, name="goal_delete"),
    path("kpis/experiments/", report_views.experiment_list, name="experiments"),
    path("kpis/experiments/new/", report_views.experiment_create, name="experiment_create"),
    path("kpis/experiments/<int:pk>/", report_views.experiment_detail, name="experiment_detail"),
    path(
        "kpis/experiments/<int:pk>/assign/",
        report_views.experiment_assign,
        name="experiment_assign",
    ),
    path("kpis/plays/<int:pk>/done/", report_views.play_done, name="play_done"),
]

# The overview and cohorts (csm/kpi_views.py).
urlpatterns += [
    path("kpis/", kpi_views.overview, name="overview"),
    path("kpis/cohorts/", kpi_views.cohort_page, name="cohorts"),
]
