from __future__ import annotations

from django.urls import path

from csm.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("settings/webhooks/", views.endpoint_list, name="list"),
    path("settings/webhooks/<int:pk>/", views.endpoint_detail, name="detail"),
    path("settings/webhooks/<int:pk>/pause/", views.endpoint_pause, name="pause"),
    path("settings/webhooks/<int:pk>/resume/", views.endpoint_resume, name="resume"),
    path("settings/webhooks/<int:pk>/test/", views.endpoint_test, name="test"),
    path("settings/webhooks/<int:pk>/delete/", views.endpoint_delete, name="delete"),
]
