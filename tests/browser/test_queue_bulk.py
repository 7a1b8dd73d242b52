"""A CSM bulk-resolves the items whose rules no longer fire: filter the queue, tick two rows (or
"Select all shown"), resolve them together; and acts on an at-risk row from Today."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from csm.workflow.models import RiskItem
from tests.factories import AccountFactory, SubscriptionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def build_book():
    csm = UserFactory(
        email="maya@example.com", name="Maya Chen", role=Role.CSM, password="demo-pass"
    )
    today = timezone.localdate()
    items = {}
    for name, cleared in (("Calm Co", True), ("Quiet Inc", True), ("Still Red", False)):
        account = AccountFactory(name=name, tier="B", owner=csm)
        SubscriptionFactory(account=account, start_date=today - timedelta(days=400))
        items[name] = RiskItem.objects.create(
            account=account,
            assignee=csm,
            opened_on=today - timedelta(days=5),
            updated_on=today,
            cleared_on=today - timedelta(days=1) if cleared else None,
            mrr=Decimal(500),
            priority=Decimal(500),
            reasons=[{"key": "red_band", "text": "health score 40 (red)"}],
        )
    return items


def log_in(page, base):
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("demo-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def test_a_csm_bulk_resolves_two_cleared_items(live_server, page, screenshot):
    items = build_book()
    log_in(page, live_server.url)

    page.goto(f"{live_server.url}/risk/")
    page.get_by_label("Rules no longer fire").check()  # htmx swaps the table
    page.wait_for_url("**cleared=on**")
    page.locator("#risk-table", has_text="2 open items").wait_for()
    for name in ("Calm Co", "Quiet Inc"):
        page.get_by_label(f"Select {name}").check()
    bulk = page.locator("form#risk-bulk")
    bulk.get_by_label("Resolve as").select_option("not_a_risk")
    bulk.get_by_label("Note").fill("Recovered on their own")
    screenshot("queue-bulk-cleared")
    bulk.get_by_role("button", name="Apply to the selected").click()

    page.get_by_text("Resolved 2 items.").wait_for()
    assert "cleared=on" in page.url  # back to the same filter
    for name in ("Calm Co", "Quiet Inc"):
        item = RiskItem.objects.get(pk=items[name].pk)
        assert (item.resolution, item.resolution_note) == ("not_a_risk", "Recovered on their own")
    assert RiskItem.objects.get(pk=items["Still Red"].pk).resolved_at is None
    screenshot("queue-bulk-resolved")


def test_select_all_ticks_every_row_and_only_the_actions_fields_show(live_server, page):
    build_book()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/risk/")

    bulk = page.locator("form#risk-bulk")
    assert bulk.get_by_label("Snooze until").is_hidden()  # the resolve fields only
    bulk.get_by_label("With the selected items").select_option("snooze")
    assert bulk.get_by_label("Snooze until").is_visible()
    assert bulk.get_by_label("Resolve as").is_hidden()
    page.get_by_label("Select all shown").check()
    boxes = page.locator("input[name=items][form=risk-bulk]")
    assert boxes.count() == 3
    assert all(boxes.nth(i).is_checked() for i in range(3))
    boxes.first.uncheck()  # then only the ticked rows count, not "all shown"
    assert not page.get_by_label("Select all shown").is_checked()


def test_a_csm_snoozes_an_at_risk_row_from_today(live_server, page):
    items = build_book()
    log_in(page, live_server.url)

    row = page.locator(f"#risk-item-{items['Still Red'].pk}")
    row.locator("summary", has_text="Snooze").click()
    form = row.locator("form[action$='/snooze/']")
    form.get_by_role("button", name="Snooze").click()
    page.locator(f"#risk-item-{items['Still Red'].pk}", has_text="Snoozed Still Red").wait_for()
    assert RiskItem.objects.get(pk=items["Still Red"].pk).snoozed_until is not None
