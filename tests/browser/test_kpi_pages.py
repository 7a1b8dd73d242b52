"""A manager reviews the KPIs: the overview with its trend charts and the MRR movements chart,
a CSM's book picked from the scope switch, and the cohorts; screenshots for a look."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from csm.demo.accounts import DEMO_CSM_EMAIL, DEMO_MANAGER_EMAIL, DEMO_PASSWORD
from csm.demo.seed import seed_demo
from csm.kpis.models import KpiSnapshot
from csm.nightly import run_nightly
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, email):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


@pytest.fixture
def demo():
    today = timezone.localdate()
    seed_demo(accounts=60, months=24, seed=1, today=today, usage_days=30)
    run_nightly(day=today - timedelta(days=1))
    assert KpiSnapshot.objects.filter(scope="all").count() >= 24


def charts_drawn(page) -> tuple[int, int]:
    """(canvases, canvases Chart.js drew)."""
    return page.evaluate(
        "() => { const all = [...document.querySelectorAll('canvas[data-kind=kpi]')];"
        " return [all.length, all.filter(c => c.dataset.drawn && c.width > 0).length]; }"
    )


def test_a_manager_reads_the_kpi_overview_and_the_cohorts(live_server, page, screenshot, demo):
    log_in(page, live_server, DEMO_MANAGER_EMAIL)
    page.get_by_role("link", name="KPIs").click()
    page.wait_for_url("**/kpis/")
    page.locator(".kpi-card").first.wait_for()
    cards = page.locator(".kpi-cards").inner_text()
    for label in ("MRR", "Customers", "Logo churn", "Gross MRR churn", "NRR", "LTV", "NPS"):
        assert label in cards
    assert " of " in page.locator(".kpi-logo_churn").inner_text()  # "4 of 155 customers"
    canvases, drawn = charts_drawn(page)
    assert canvases >= 8 and drawn == canvases  # NPS says "nothing to show" without answers
    screenshot("kpi-overview-manager")
    page.screenshot(path=str(ARTIFACTS / "kpi-overview-manager-top.png"))  # what a glance sees

    # Pick a CSM's book: htmx swaps the body, the charts are drawn again.
    page.get_by_label("Book").select_option(label="Maya Chen")
    page.get_by_text("Maya Chen's book").wait_for()
    assert "owner=" in page.url
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-kind=kpi]')].every(c => c.dataset.drawn)"
    )
    canvases, drawn = charts_drawn(page)
    assert canvases >= 8 and drawn == canvases
    screenshot("kpi-overview-csm-book")

    page.locator(".kpi-nav").get_by_role("link", name="Cohorts").click()
    page.wait_for_url("**/kpis/cohorts/**")
    logo = page.locator("#cohorts-logo")
    assert "100%" in logo.inner_text()
    screenshot("kpi-cohorts")


def test_a_csm_sees_only_their_own_book(live_server, page, screenshot, demo):
    log_in(page, live_server, DEMO_CSM_EMAIL)
    page.goto(f"{live_server.url}/kpis/")
    page.get_by_text("Maya Chen's book").wait_for()
    assert page.locator("select#id_owner").count() == 0
    screenshot("kpi-overview-csm")
