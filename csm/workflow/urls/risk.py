from __future__ import annotations

from django.urls import path

from csm.workflow.views import risk as views

app_name = "risk"
urlpatterns = [
    path("risk/", views.risk_list, name="list"),
    path("risk/<int:pk>/", views.item_page, name="item"),
    path("risk/<int:pk>/snooze/", views.snooze, name="snooze"),
    path("risk/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("risk/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("risk/<int:pk>/step/", views.toggle_step, name="step"),
    # Managers' configuration: the checklist a new item gets for each of its reasons.
    path("settings/save-plays/", views.save_plays, name="save_plays"),
]
