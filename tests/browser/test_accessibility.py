"""axe-core (WCAG 2 A and AA rules) over every page a CSM, a manager and a customer sees, in
English and in Chinese: any violation fails the test, listed by page and rule.

The pages are found as a user finds them: starting from Today, every link of the site a page
shows is followed, once per page kind (its URL name), so a new page is checked without being
listed here. The customer's pages (the survey link, the shared blueprint) come from the demo's
own tokens. States htmx loads into a page (the risk item's forms) are opened and checked in place.

axe-core comes from the PyPI package axe-playwright-python (a test-only dependency: the dev
extra), which ships axe.min.js (MPL-2.0, its licence header kept in the file). It is injected
with page.evaluate of its source text, which a Content-Security-Policy does not block.
"""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.apps import apps as django_apps
from django.urls import Resolver404, resolve
from django.utils import timezone

from accounts.models import Account, User
from csm.demo.accounts import DEMO_CSM_EMAIL, DEMO_MANAGER_EMAIL, DEMO_PASSWORD
from csm.demo.churns import seed_churn_records
from csm.demo.seed import seed_demo
from csm.demo.surveys import seed_survey_history
from csm.lib.outbox import queue_email
from csm.nightly import run_nightly
from csm.webhooks.models import WebhookDelivery, WebhookEndpoint
from csm.webhooks.services import create_endpoint
from csm.workflow.blueprints import share_token
from csm.workflow.models import Blueprint
from feedback.models import ChurnEvent, Invitation
from feedback.tokens import make_token

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

STARTING_CONTENT = import_module("csm.workflow.migrations.0002_starting_content")
LANGUAGES = {"en": "en-US", "zh-hans": "zh-CN"}  # the page's lang → the browser's locale
# Not pages a user reads: signing out, Django's admin, downloads, the API, another site.
SKIP_VIEWS = {"logout"}
SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/v1/", "/hooks/")
MAX_PAGES = 150


@pytest.fixture
def demo():
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    # The starting content (blueprint templates, save plays, tips) of the data migration: an
    # earlier transactional test may have flushed it. Its function is idempotent.
    STARTING_CONTENT.add(django_apps, None)
    seed_demo(accounts=40, months=24, seed=1, today=today, usage_days=30)
    seed_survey_history(seed=1, today=today)
    run_nightly(day=yesterday)
    seed_churn_records(seed=1, today=yesterday)
    # The outbox page's three states: sent (the nightly's), queued and failed.
    queue_email(kind="usage_tips", to="queued@example.com", subject="Tips", body="Hello")
    failed = queue_email(kind="survey", to="failed@example.com", subject="Survey", body="Hi")
    failed.attempts, failed.last_error = 3, "SMTPRecipientsRefused: 550 no such user"
    failed.save(update_fields=["attempts", "last_error"])
    # A webhook endpoint whose receiver is failing, so its page shows the warning and the log.
    hook = create_endpoint(
        url="https://hooks.example.com/csm", events=["risk.opened"], kind="standard", actor=None
    ).endpoint
    WebhookEndpoint.objects.filter(pk=hook.pk).update(
        consecutive_failures=2, failing_since=timezone.now()
    )
    WebhookDelivery.objects.create(
        endpoint=hook,
        event_type="risk.opened",
        event_id="msg_a11y",
        payload={},
        status="failed",
        attempts=2,
        last_status_code=500,
        last_error="HTTP 500 Internal Server Error",
    )


def violations(page) -> list[str]:
    """axe's WCAG 2 A/AA violations on the page as it is now: "rule (n nodes): first target"."""
    page.evaluate(AXE_SCRIPT)
    found = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']},"
        " resultTypes: ['violations']})"
    )["violations"]
    return [f"{v['id']} ({len(v['nodes'])}): {v['nodes'][0]['target']}" for v in found]


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def page_kind(path: str) -> str | None:
    """The URL name a path resolves to, or None for what is not a page to check."""
    if path.startswith(SKIP_PREFIXES):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return None if match.view_name in SKIP_VIEWS else match.view_name


def same_site_links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]:not([download])", "links => links.map(a => a.href)")
    links = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base or "format=csv" in parts.query:
            continue
        links.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


def pages_behind_forms(email: str) -> list[str]:
    """Pages a button or an htmx form opens rather than a link, on an account of the user's."""
    user = User.objects.get(email=email)
    account = Account.objects.book_of(user).order_by("pk").first()
    churn = ChurnEvent.objects.filter(account__in=Account.objects.book_of(user)).first()
    paths = [
        f"/accounts/{account.external_id}/health/override/",
        f"/feedback/accounts/{account.external_id}/churn/",
    ]
    if churn is not None:  # a small demo book may have none
        paths.append(f"/feedback/churns/{churn.pk}/complete/")
    return paths


def check(page, url: str, lang: str, found: dict[str, list[str]]) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.lang") == lang, url
    problems = violations(page)
    if problems:
        found[urlsplit(url).path] = problems


def crawl(page, base: str, lang: str) -> tuple[set[str], dict[str, list[str]]]:
    """Every kind of page reachable by links from Today: (the URL names seen, violations)."""
    seen: set[str] = set()
    found: dict[str, list[str]] = {}
    queue = ["/"]
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        kind = page_kind(urlsplit(path).path)
        if kind is None or kind in seen:
            continue
        seen.add(kind)
        check(page, base + path, lang, found)
        queue.extend(same_site_links(page, base))
    return seen, found


def risk_item_forms(page, base: str, found: dict[str, list[str]]) -> None:
    """The queue with its first item's touch form and resolve form opened (htmx loads them)."""
    page.goto(f"{base}/risk/")
    row = page.locator("[id^=risk-item-]").first
    row.get_by_text("Log a touch").click()
    row.locator("form textarea").first.wait_for()
    row.locator("summary", has_text="Resolve").click()
    row.locator("form[action$='/resolve/'] select").first.wait_for()
    problems = violations(page)
    if problems:
        found["/risk/ (an item's forms open)"] = problems


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("email", [DEMO_CSM_EMAIL, DEMO_MANAGER_EMAIL])
def test_every_page_a_user_sees_has_no_axe_violation(chromium, live_server, demo, email, lang):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale=LANGUAGES[lang])
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_server.url, email)
        seen, found = crawl(page, live_server.url, lang)
        for path in pages_behind_forms(email):
            check(page, live_server.url + path, lang, found)
        if lang == "en":  # the forms are found by their English labels
            risk_item_forms(page, live_server.url, found)
    finally:
        context.close()
    assert found == {}
    # The crawl reached the main pages of the role (a broken crawl must not pass by seeing none).
    assert {"home", "risk:list", "accounts:list", "accounts:detail", "kpis:cohorts"} <= seen
    if email == DEMO_MANAGER_EMAIL:
        assert {
            "health:scorecard",
            "feedback:surveys",
            "outbox:list",
            "webhooks:list",
            "webhooks:detail",
        } <= seen


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_the_pages_a_customer_sees_have_no_axe_violation(chromium, live_server, demo, lang):
    invitation = Invitation.objects.filter(answered_at__isnull=True).first()
    answered = Invitation.objects.filter(answered_at__isnull=False).first()
    blueprint = Blueprint.objects.first()
    base = live_server.url
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale=LANGUAGES[lang])
    page = context.new_page()
    found: dict[str, list[str]] = {}
    try:
        for url in (
            "/login/",
            f"/s/{make_token(invitation.nonce)}/",
            f"/s/{make_token(answered.nonce)}/",  # "already answered"
            "/s/not-a-token/",  # a broken link
            f"/b/{share_token(blueprint)}/",
            "/b/not-a-token/",
        ):
            check(page, base + url, lang, found)
        # Answering: the thanks page.
        page.goto(f"{base}/s/{make_token(invitation.nonce)}/")
        page.locator("input[name=score]").first.check()
        page.locator("button[type=submit]").click()
        page.wait_for_url("**/thanks/")
        problems = violations(page)
        if problems:
            found["/s/…/thanks/"] = problems
    finally:
        context.close()
    assert found == {}
