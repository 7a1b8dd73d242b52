from __future__ import annotations

from django.urls import path

from feedback import views

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
    path(
        "invitations/<int:pk>/bounce/",
        views.invitation_action,
        {"action": "bounce"},
        name="bounce",
    ),
    path(
        "invitations/<int:pk>/revoke/",
        views.invitation_action,
        {"action": "revoke"},
        name="revoke",
    ),
]
