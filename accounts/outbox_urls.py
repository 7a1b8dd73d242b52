from __future__ import annotations

from django.urls import path

from accounts import outbox_views

app_name = "outbox"
urlpatterns = [
    path("settings/outbox/", outbox_views.outbox_list, name="list"),
    path("settings/outbox/<int:pk>/", outbox_views.outbox_detail, name="detail"),
    path("settings/outbox/<int:pk>/retry/", outbox_views.outbox_retry, name="retry"),
]
