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
