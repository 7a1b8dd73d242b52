from __future__ import annotations

from django.urls import path

from csm.workflow.views import risk as queue_views

app_name = "queue"
urlpatterns = [
    path("queue/", queue_views.queue, name="list"),
    path("queue/<int:pk>/", queue_views.item_page, name="item"),
    path("queue/<int:pk>/snooze/", queue_views.snooze, name="snooze"),
    path("queue/<int:pk>/reassign/", queue_views.reassign, name="reassign"),
    path("queue/<int:pk>/resolve/", queue_views.resolve, name="resolve"),
    path("queue/<int:pk>/step/", queue_views.toggle_step, name="step"),
    # Managers' configuration: the checklist a new item gets for each of its reasons.
    path("settings/save-plays/", queue_views.save_plays, name="save_plays"),
]
