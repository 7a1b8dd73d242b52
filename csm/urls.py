"""The site's URLs. Each app's urls module names its namespaces; where a namespace's pages live in
two layers (a page sits in the lowest layer that has all it shows), they are joined here."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import urls as account_urls
from csm.lib import errors
from csm.workflow import urls as workflow
from csm.workflow.views import today
from feedback import urls as feedback_urls
from health import urls as health_urls

urlpatterns = [
    path("", today.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # "accounts": the list and the account page (workflow), editing and imports (accounts).
    path("", include((workflow.account_pages + account_urls.urlpatterns, "accounts"))),
    # "health": the API, keys and overrides (health), the scorecard and its preview (workflow).
    path("", include((health_urls.urlpatterns + workflow.health_pages, "health"))),
    path("", include((workflow.touches, "touches"))),
    path("", include((workflow.blueprints, "blueprints"))),
    path("", include((workflow.risk, "risk"))),
    # The at-risk queue's address before it was named "risk": bookmarks keep working.
    path(
        "queue/",
        RedirectView.as_view(pattern_name="risk:list", query_string=True, permanent=True),
    ),
    path("", include("csm.kpis.urls")),
    # "feedback_reports": the feedback pages (feedback) and detractors without follow-up (workflow).
    path(
        "",
        include((workflow.detractor_pages + feedback_urls.report_patterns, "feedback_reports")),
    ),
    path("", include("feedback.urls")),
    path("", include("accounts.outbox_urls")),
    path("admin/", admin.site.urls),
]

# JSON errors on the API's paths, the usual pages elsewhere (csm.lib.errors).
handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
