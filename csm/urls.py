"""The site's URLs. Each app's urls module names its namespaces; where a namespace's pages live in
two layers (a page sits in the lowest layer that has all it shows), they are joined here."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from accounts import urls as account_urls
from accounts import views as account_views
from csm.api.main import urls as api_v1
from csm.lib import errors
from csm.workflow import urls as workflow
from csm.workflow.views import today
from feedback import urls as feedback_urls
from health import stripe_hooks
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
    path("profile/", account_views.profile, name="profile"),
    # The login page's language switcher (Django's set_language: a POST that sets the cookie).
    path("i18n/", include("django.conf.urls.i18n")),
    # The scripts' translations (static/csm/*.js call gettext()); a day in the browser's cache,
    # keyed by the ?l=LANGUAGE the pages add.
    path(
        "jsi18n/",
        cache_control(max_age=86400)(JavaScriptCatalog.as_view()),
        name="javascript-catalog",
    ),
    # "accounts": the list and the account page (workflow), editing and imports (accounts).
    path("", include((workflow.account_pages + account_urls.urlpatterns, "accounts"))),
    # "health": the API, keys and overrides (health), the scorecard and its preview (workflow).
    path("", include((health_urls.urlpatterns + workflow.health_pages, "health"))),
    path("", include((workflow.touches, "touches"))),
    path("", include((workflow.blueprints, "blueprints"))),
    path("", include((workflow.risk, "risk"))),
    path("", include((workflow.tasks, "tasks"))),
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
    path("", include("csm.webhooks.urls")),
    path("hooks/stripe/", stripe_hooks.stripe_webhook, name="stripe_webhook"),
    # The REST API v1 (csm/api/). After health.urls, whose two api/v1/ endpoints (events, an
    # account's health) keep being served by health/api.py.
    path("api/v1/", api_v1),
    path("admin/", admin.site.urls),
]

# JSON errors on the API's paths, the usual pages elsewhere (csm.lib.errors).
handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
