"""The strict Content-Security-Policy (csm/settings.py: no inline script or style, no other
origin) breaks nothing: Chromium opens the main pages of a CSM, a manager and a customer (the
survey and blueprint links), works the htmx parts, and reports no violation, neither as a
`securitypolicyviolation` event nor as a console message; the charts still draw."""

from __future__ import annotations

import io
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, User
from csm.workflow.blueprints import share_token
from csm.workflow.models import Blueprint, BlueprintTemplate
from feedback.models import Invitation
from feedback.tokens import make_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The starting content the migrations write (blueprint templates, save plays, tips, surveys,
# onboarding weights): an earlier transactional test's flush removes it, and the demo needs it.
STARTING_CONTENT = [
    "csm.workflow.migrations.0002_starting_content",
    "feedback.migrations.0002_starting_surveys",
    "health.migrations.0002_onboarding_weights",
]

# Runs in every document before its own scripts (Playwright injects it past the policy).
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.effectiveDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + (e.sourceFile || document.location.pathname) + ":" + e.lineNumber);
});
"""

CSM_PAGES = [
    reverse("home"),
    reverse("risk:list"),
    reverse("accounts:list"),
    reverse("feedback_reports:overview"),
    reverse("feedback_reports:comments"),
    reverse("feedback_reports:detractors"),
    reverse("feedback_reports:churns") + "?show=all",
    reverse("password_change"),
]
MANAGER_PAGES = [
    reverse("kpis:overview"),
    reverse("kpis:cohorts"),
    reverse("kpis:churn"),
    reverse("kpis:health"),
    reverse("kpis:scoreboard"),
    reverse("kpis:goals"),
    reverse("kpis:experiments"),
    reverse("accounts:import_upload"),
    reverse("health:scorecard"),
    reverse("blueprints:templates"),
    reverse("risk:save_plays"),
    reverse("touches:tips"),
    reverse("feedback:surveys"),
    reverse("feedback_reports:rules"),
    reverse("feedback_reports:competitors"),
    reverse("health:api_keys"),
    reverse("webhooks:list"),
    reverse("health:ingestion_warnings"),
]


class Watcher:
    """Collects CSP violations of every page a browser context opens."""

    def __init__(self, context):
        self.found: list[str] = []
        context.add_init_script(LISTEN)
        context.on("page", self._watch)
        self.page = context.new_page()
        self.page.set_default_timeout(15_000)

    def _watch(self, page):
        page.on(
            "console",
            lambda message: (
                self.found.append(f"console on {page.url}: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status < 500, (url, response and response.status)
        self.page.wait_for_load_state("networkidle")
        self.collect()

    def collect(self) -> None:
        self.found.extend(f"{self.page.url}: {v}" for v in self.page.evaluate("window.__csp"))


def log_in(watcher: Watcher, base: str, email: str) -> None:
    watcher.visit(base + reverse("login"))
    watcher.page.get_by_label("Email").fill(email)
    watcher.page.get_by_label("Password").fill("demo")
    watcher.page.get_by_role("button", name="Log in").click()
    watcher.page.wait_for_url(base + "/")


@pytest.fixture
def demo(db):
    cache.clear()  # the public pages' rate-limit counters
    if not BlueprintTemplate.objects.exists():
        for module in STARTING_CONTENT:
            import_module(module).add(apps, None)
    call_command("seed_demo", accounts=20, months=6, stdout=io.StringIO())


def test_the_main_pages_run_under_the_policy_without_a_violation(
    live_server, chromium, demo, settings
):
    settings.AXES_FAILURE_LIMIT = 2  # to see the lockout page without ten tries
    base = live_server.url
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    watcher = Watcher(context)
    page = watcher.page

    # A CSM: the daily pages, then an account's page with its charts and htmx parts.
    log_in(watcher, base, "maya@demo.example")
    for path in CSM_PAGES:
        watcher.visit(base + path)
    watcher.visit(base + reverse("home"))
    if page.locator("details.touch-log summary").count():
        page.locator("details.touch-log summary").first.click()  # lazy-loads a form (htmx)
        page.locator("details.touch-log .lazy-form form").first.wait_for()
        watcher.collect()
    watcher.visit(base + reverse("accounts:list"))
    page.get_by_label("Tier").select_option("A")  # an htmx swap of the table
    page.wait_for_url("**tier=A**")
    page.wait_for_load_state("networkidle")
    watcher.collect()

    maya = User.objects.get(email="maya@demo.example")
    account = (
        Account.objects.filter(
            owner=maya, health_scores__isnull=False, blueprint__share_enabled=True
        )
        .distinct()
        .order_by("pk")
        .first()
    )
    watcher.visit(base + reverse("accounts:detail", args=[account.external_id]))
    page.wait_for_selector("canvas#mrr-chart[data-drawn='1']")
    page.wait_for_selector("canvas#health-chart[data-drawn='1']")
    # The contribution bars got their width from data-w (static/csm/app.js), not a style attribute.
    assert page.locator(".measures .bar").first.evaluate("e => e.getBoundingClientRect().width") > 0
    page.locator("details.blueprint-share summary").click()
    copy = page.locator("button[data-copy]")
    assert copy.inner_text() == "Copy link"
    copy.click()
    assert copy.inner_text() == "Copied"  # the handler in static/csm/app.js ran
    watcher.collect()
    context.clear_cookies()

    # A manager: the KPI and set-up pages (charts included).
    log_in(watcher, base, "sam@demo.example")
    for path in MANAGER_PAGES:
        watcher.visit(base + path)
    watcher.visit(base + reverse("kpis:overview"))
    page.wait_for_selector("canvas[data-drawn='1']")
    watcher.visit(base + reverse("kpis:churn"))
    watcher.collect()
    context.clear_cookies()

    # A customer: the survey link and the blueprint link, no login.
    invitation = Invitation.objects.filter(
        answered_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now() + timedelta(hours=1),
    ).first()
    assert invitation is not None
    watcher.visit(base + reverse("feedback:answer", args=[make_token(invitation.nonce)]))
    page.get_by_role("radio", name="9", exact=True).check(force=True)
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_url("**/thanks/")
    watcher.collect()
    blueprint = Blueprint.objects.filter(share_enabled=True).first()
    watcher.visit(base + reverse("blueprints:public", args=[share_token(blueprint)]))
    watcher.visit(base + "/b/not-a-token/")

    # Someone guessing passwords: the login page's error, then the lockout page.
    for _ in range(2):
        watcher.visit(base + reverse("login"))
        page.get_by_label("Email").fill("maya@demo.example")
        page.get_by_label("Password").fill("a wrong guess")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("networkidle")
        watcher.collect()
    assert page.get_by_role("heading", name="Login locked").is_visible()

    context.close()
    assert watcher.found == []
