from __future__ import annotations

from django.urls import path

from csm.workflow.views import blueprint_templates as blueprint_template_views
from csm.workflow.views import blueprints as blueprint_views

app_name = "blueprints"
urlpatterns = [
    # What a CSM does with a milestone: one view, the action named in the URL.
    *(
        path(
            f"milestones/<int:pk>/{action}/",
            blueprint_views.milestone_action,
            {"action": action},
            name=action,
        )
        for action in ("complete", "reopen", "reschedule")
    ),
    path("accounts/<str:external_id>/blueprint/sharing/", blueprint_views.sharing, name="sharing"),
    # Managers' configuration: the templates new accounts' blueprints are made from.
    path("settings/blueprints/", blueprint_template_views.template_list, name="templates"),
    path(
        "settings/blueprints/<str:segment>/",
        blueprint_template_views.template_edit,
        name="template_edit",
    ),
    # The customer's read-only view: no login, a signed token (DESIGN §5).
    path("b/<str:token>/", blueprint_views.public, name="public"),
]
