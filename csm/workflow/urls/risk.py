from __future__ import annotations

from django.urls import path

from csm.workflow.views import risk as views

app_name = "risk"
urlpatterns = [
    # The list, and one item's page (its forms, without JavaScript).
    path("risk/", views.risk_list, name="list"),
    path("risk/<int:pk>/", views.item_page, name="item"),
    # What a CSM does with an item (POST; the list's rows load these forms).
    path("risk/<int:pk>/snooze/", views.snooze, name="snooze"),
    path("risk/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("risk/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("risk/<int:pk>/step/", views.toggle_step, name="step"),
    # Managers' configuration: the checklist a new item gets for each of its reasons.
    path("settings/save-plays/", views.save_plays, name="save_plays"),
]
