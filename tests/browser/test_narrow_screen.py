"""On a phone (390 × 844), Today and the at-risk queue fit the screen: the page never scrolls
sideways (a wide table scrolls inside its own box). For a CSM and a manager, whose top bar has
the Setup menu, opened too, and with a queue item's forms opened by htmx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from csm.demo.accounts import DEMO_CSM_EMAIL, DEMO_MANAGER_EMAIL, DEMO_PASSWORD
from csm.demo.seed import seed_demo
from csm.nightly import run_nightly
from tests.browser.conftest import ARTIFACTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PHONE = {"width": 390, "height": 844}
SIDEWAYS = "document.documentElement.scrollWidth - innerWidth"


@pytest.fixture
def demo():
    today = timezone.localdate()
    seed_demo(accounts=40, months=24, seed=1, today=today, usage_days=30)
    run_nightly(day=today - timedelta(days=1))


@pytest.mark.parametrize("email", [DEMO_CSM_EMAIL, DEMO_MANAGER_EMAIL])
def test_today_and_the_queue_do_not_scroll_sideways_on_a_phone(chromium, live_server, demo, email):
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = live_server.url
    try:
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        assert page.locator("#risks .risk-item").count() > 0  # a full Today, not an empty one
        assert page.evaluate(SIDEWAYS) <= 0, "Today"
        # Today's at-risk rows carry the queue's actions; opened, they fit the screen too.
        today_row = page.locator("#risks .risk-item").first
        today_row.locator("summary", has_text="Resolve").click()
        today_row.locator("form[action$='/resolve/'] select").first.wait_for()
        assert page.evaluate(SIDEWAYS) <= 0, "Today with a row's action open"
        box = today_row.locator("form[action$='/resolve/']").first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "Today's resolve form"
        page.screenshot(path=_artifact(f"today-390-{email.split('@')[0]}"), full_page=True)
        if email == DEMO_MANAGER_EMAIL:
            page.locator("details.setup-menu summary").click()
            assert page.evaluate(SIDEWAYS) <= 0, "Today with the Setup menu open"

        page.goto(f"{base}/risk/")
        row = page.locator("[id^=risk-item-]").first
        assert page.evaluate(SIDEWAYS) <= 0, "the queue"
        # The bulk bar and a row's checkbox are within the screen.
        for part in ("form#risk-bulk", "input[name=items][form=risk-bulk]"):
            box = page.locator(part).first.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], part
        page.get_by_label("Rules no longer fire").check()
        page.wait_for_url("**cleared=on**")
        assert page.evaluate(SIDEWAYS) <= 0, "the queue, rules no longer fire"
        page.goto(f"{base}/risk/")
        row.get_by_text("Log a touch").click()
        row.locator("form textarea").first.wait_for()
        row.locator("summary", has_text="Resolve").click()
        row.locator("form[action$='/resolve/'] select").first.wait_for()
        assert page.evaluate(SIDEWAYS) <= 0, "the queue with an item's forms open"
        # The forms use the screen's width: not cut off inside a sideways-scrolled table.
        for form in ("form[action$='/resolve/']", "form[action$='/touches/']"):
            box = row.locator(form).first.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], form
        page.screenshot(path=_artifact(f"queue-390-{email.split('@')[0]}"), full_page=True)
    finally:
        context.close()


def _artifact(name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / f"{name}.png")
