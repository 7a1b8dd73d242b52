from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from csm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("", include("accounts.urls")),
    path("", include("health.urls")),
    path("", include("csm.touch_urls")),
    path("", include("csm.blueprint_urls")),
    path("", include("csm.queue_urls")),
    path("", include("csm.kpi_urls")),
    path("", include("feedback.report_urls")),
    path("", include("feedback.urls")),
    path("admin/", admin.site.urls),
]
