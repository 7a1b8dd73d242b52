"""A CSM's morning: log in, land on Today, open the top risk item in the queue, log a touch
inline, resolve the item as saved, and find both on the account's timeline."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from csm.workflow.models import RiskItem
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def build_book():
    csm = UserFactory(
        email="maya@example.com", name="Maya Chen", role=Role.CSM, password="demo-pass"
    )
    today = timezone.localdate()
    items = []
    for name, mrr, priority in (("Northwind Inc", 2500, 2500), ("Globex Inc", 800, 480)):
        account = AccountFactory(
            name=name, tier="B", owner=csm, contract_start=today - timedelta(days=400)
        )
        ContactFactory(account=account, is_primary=True)
        SubscriptionFactory(
            account=account, start_date=today - timedelta(days=400), amount=Decimal(mrr)
        )
        items.append(
            RiskItem.objects.create(
                account=account,
                assignee=csm,
                opened_on=today - timedelta(days=2),
                updated_on=today,
                mrr=Decimal(mrr),
                priority=Decimal(priority),
                reasons=[{"key": "inactive", "text": "no product activity for 21 days"}],
            )
        )
    return items


def test_a_csm_works_the_top_risk_item_from_today(live_server, page, screenshot):
    top, _second = build_book()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("demo-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    risks = page.locator("#risks")
    assert risks.locator(".risk-item").first.inner_text().startswith("Northwind Inc")
    assert "no product activity for 21 days" in risks.inner_text()
    screenshot("today-csm")

    risks.get_by_role("link", name="Open the queue").click()
    page.wait_for_url("**/risk/**")
    row = page.locator(f"#risk-item-{top.pk}")
    assert "Northwind Inc" in row.inner_text()

    # Log a touch inline (htmx swaps just the form).
    row.get_by_text("Log a touch").click()
    row.get_by_label("What happened").fill("Called Ana: the export broke; fixed together.")
    row.get_by_role("button", name="Log touch").click()
    row.get_by_text("Touch logged.").wait_for()

    # Resolve it as saved, with a note.
    row.locator("summary", has_text="Resolve").click()
    resolve = row.locator("form[action$='/resolve/']")
    resolve.get_by_label("Resolve as").select_option("saved")
    resolve.get_by_label("Note").fill("Usage back after the fix.")
    screenshot("queue-resolve-open")  # the form the row loaded when "Resolve" was opened
    resolve.get_by_role("button", name="Resolve").click()
    page.get_by_text("resolved as “Saved”").wait_for()
    screenshot("queue-resolved")

    page.goto(f"{live_server.url}/accounts/{top.account.external_id}/")
    timeline = page.locator("#timeline")
    timeline.wait_for()
    text = timeline.inner_text()
    assert "Called Ana: the export broke; fixed together." in text
    assert "Saved" in text or "saved" in text
    screenshot("account-timeline")

    top.refresh_from_db()
    assert top.resolution == "saved" and top.resolved_at is not None
