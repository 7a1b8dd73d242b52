"""The feedback pages, churn records, and the managers' keyword rules and competitors."""

from __future__ import annotations

from django.urls import path

from feedback import churn_views, report_views, tagging_views

# The detractors list is a workflow page (csm/workflow/urls/detractors.py); csm/urls.py joins it
# to this namespace.
app_name = "feedback_reports"
urlpatterns = [
    # The feedback pages: scores, comments, and marking a detractor followed up.
    path("feedback/", report_views.overview, name="overview"),
    path("feedback/comments/", report_views.comments, name="comments"),
    path(
        "feedback/responses/<int:pk>/followed-up/",
        report_views.mark_followed_up,
        name="followed_up",
    ),
    # Churn records: the reason still to record, marking a churn, the exit survey.
    path("feedback/churns/", churn_views.churns, name="churns"),
    path("feedback/churns/<int:pk>/complete/", churn_views.churn_complete, name="churn_complete"),
    path(
        "feedback/churns/<int:pk>/exit-survey/",
        churn_views.churn_exit_survey,
        name="churn_exit_survey",
    ),
    path(
        "feedback/accounts/<str:external_id>/churn/",
        churn_views.mark_churned,
        name="mark_churned",
    ),
    # Managers' configuration: what tags a comment.
    path("settings/keyword-rules/", tagging_views.keyword_rules, name="rules"),
    path("settings/competitors/", tagging_views.competitors, name="competitors"),
    path("settings/competitors/<int:pk>/", tagging_views.competitor_edit, name="competitor_edit"),
]
