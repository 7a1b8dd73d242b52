from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def build_book():
    csm = UserFactory(
        email="maya@example.com", name="Maya Chen", role=Role.CSM, password="demo-pass"
    )
    today = timezone.localdate()
    start = today - timedelta(days=400)
    for i, (tier, amount) in enumerate(
        [("A", 2500), ("B", 800), ("C", 90), ("A", 4000), ("C", 120)]
    ):
        account = AccountFactory(
            name=f"{['Northwind', 'Globex', 'Initech', 'Umbrella', 'Hooli'][i]} Inc",
            tier=tier,
            owner=csm,
            contract_start=start,
            renewal_date=today + timedelta(days=30 * (i + 1)),
        )
        ContactFactory(account=account, is_primary=True)
        SubscriptionFactory(
            account=account,
            start_date=start,
            end_date=today - timedelta(days=200),
            amount=Decimal(amount) * Decimal("0.6"),
        )
        SubscriptionFactory(
            account=account, start_date=today - timedelta(days=200), amount=Decimal(amount)
        )
    return csm


def test_a_csm_logs_in_filters_the_list_and_sees_an_accounts_mrr_chart(
    live_server, page, screenshot
):
    build_book()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("demo-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")  # Today is home
    page.get_by_role("link", name="Accounts", exact=True).click()
    page.wait_for_url("**/accounts/")
    assert page.locator("#account-table tbody tr").count() == 5

    # The tier filter refreshes only the table (htmx) and puts the filter in the address.
    page.get_by_label("Tier").select_option("A")
    page.wait_for_url("**tier=A**")
    rows = page.locator("#account-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    assert sorted(rows.locator("td:first-child a").all_inner_texts()) == [
        "Northwind Inc",
        "Umbrella Inc",
    ]
    screenshot("account-list-filtered")

    page.get_by_role("link", name="Umbrella Inc").click()
    page.wait_for_selector("canvas#mrr-chart[data-drawn='1']")
    assert page.get_by_role("heading", name="Umbrella Inc").is_visible()
    assert "$4,000.00" in page.locator(".cards").inner_text()
    box = page.locator("canvas#mrr-chart").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200
    shot = screenshot("account-detail")
    assert shot.stat().st_size > 10_000
