from __future__ import annotations

from django.urls import path

from csm.workflow.views import tips as tips_views
from csm.workflow.views import touches as touch_views

app_name = "touches"
urlpatterns = [
    # Logging a touch, and an account's timeline.
    path("accounts/<str:external_id>/touches/", touch_views.touch_log, name="log"),
    path("accounts/<str:external_id>/timeline/", touch_views.timeline, name="timeline"),
    # Managers' configuration: the usage tips mailed to tier C accounts (automated touches).
    path("settings/tips/", tips_views.tip_list, name="tips"),
    path("settings/tips/new/", tips_views.tip_form, name="tip_add"),
    path("settings/tips/<int:pk>/", tips_views.tip_form, name="tip_edit"),
]
