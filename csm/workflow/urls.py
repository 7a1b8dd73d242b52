"""The workflow's routes, one list per URL namespace; csm/urls.py includes each under its name.
Two lists join a namespace another app also serves ("accounts", "feedback_reports"): their
pages show what only this layer knows (health, blueprints, risk, touches)."""

from __future__ import annotations

from django.urls import path

from csm.workflow.views import accounts as account_views
from csm.workflow.views import blueprint_templates as blueprint_template_views
from csm.workflow.views import blueprints as blueprint_views
from csm.workflow.views import detractors as detractor_views
from csm.workflow.views import risk as risk_views
from csm.workflow.views import scorecard as scorecard_views
from csm.workflow.views import tasks as task_views
from csm.workflow.views import tips as tips_views
from csm.workflow.views import touches as touch_views

# "accounts": the list and an account's page (editing and imports are accounts/urls.py).
account_pages = [
    path("accounts/", account_views.account_list, name="list"),
    path("accounts/<str:external_id>/", account_views.account_detail, name="detail"),
]


# "risk": the at-risk queue.
risk = [
    # The list, and one item's page (its forms, without JavaScript).
    path("risk/", risk_views.risk_list, name="list"),
    path("risk/<int:pk>/", risk_views.item_page, name="item"),
    # Several items at once: the ticked rows resolved, snoozed or reassigned together (POST).
    path("risk/bulk/", risk_views.bulk_action, name="bulk"),
    # What a CSM does with an item (POST; the list's rows load these forms): one view.
    *(
        path(f"risk/<int:pk>/{action}/", risk_views.item_action, {"action": action}, name=action)
        for action in risk_views.ITEM_ACTIONS
    ),
    # Managers' configuration: the checklist a new item gets for each of its reasons.
    path("settings/save-plays/", risk_views.save_plays, name="save_plays"),
]


# "tasks": ticking a task done or back, adding one by hand on an account's page.
tasks = [
    *(
        path(f"tasks/<int:pk>/{action}/", task_views.task_action, {"action": action}, name=action)
        for action in ("done", "reopen")
    ),
    path("accounts/<str:external_id>/tasks/new/", task_views.task_add, name="add"),
]


# "health": the managers' scorecard, with what a change would do before it is saved (the other
# health pages are health's).
health_pages = [
    path("settings/scorecard/", scorecard_views.scorecard, name="scorecard"),
]


# "touches": logging touches, the timeline, and the usage tips (automated touches).
touches = [
    # Logging a touch, and an account's timeline.
    path("accounts/<str:external_id>/touches/", touch_views.touch_log, name="log"),
    path("accounts/<str:external_id>/timeline/", touch_views.timeline, name="timeline"),
    # Managers' configuration: the usage tips mailed to tier C accounts (automated touches).
    path("settings/tips/", tips_views.tip_list, name="tips"),
    path("settings/tips/new/", tips_views.tip_form, name="tip_add"),
    path("settings/tips/<int:pk>/", tips_views.tip_form, name="tip_edit"),
]


# "blueprints": milestones, sharing, the templates, and the customer's read-only view.
blueprints = [
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


# "feedback_reports": detractors without follow-up (the other feedback pages are feedback's).
detractor_pages = [
    path("feedback/detractors/", detractor_views.detractors, name="detractors"),
]
