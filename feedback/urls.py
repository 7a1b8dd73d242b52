from __future__ import annotations

from django.urls import path

from feedback import churn_views, report_views, tagging_views, views

app_name = "feedback"
urlpatterns = [
    # The customer's answer form: no login, a signed token (DESIGN §5).
    path("s/<str:token>/", views.answer, name="answer"),
    path("s/<str:token>/thanks/", views.thanks, name="thanks"),
    # Managers' survey definitions.
    path("surveys/", views.survey_list, name="surveys"),
    path("surveys/new/", views.survey_edit, name="survey_new"),
    path("surveys/<int:pk>/", views.survey_edit, name="survey_edit"),
    # Sending: a segment (a CSM's own book, or everybody's for a manager), or one account.
    path("surveys/send/", views.send_to_segment, name="send"),
    path("accounts/<str:external_id>/surveys/", views.account_surveys, name="account"),
    # What a CSM does with an invitation: mark it bounced, or revoke its link.
    *(
        path(
            f"invitations/<int:pk>/{action}/",
            views.invitation_action,
            {"action": action},
            name=action,
        )
        for action in ("bounce", "revoke")
    ),
]


# "feedback_reports": the feedback pages, churn records, and what tags a comment. Detractors
# without follow-up join it from the workflow (csm/workflow/urls.py); csm/urls.py includes both.
report_patterns = [
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
