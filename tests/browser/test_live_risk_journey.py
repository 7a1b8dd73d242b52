"""The first step of issue 12's journey: a CSM logs a call from Today on an account whose only
reason is the overdue touch, and the row leaves Today's at-risk list at once (no nightly run)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from csm.workflow.models import RiskItem
from csm.workflow.touches import add_touch
from tests.factories import AccountFactory, SubscriptionFactory, UserFactory, used_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_logging_a_call_from_today_clears_the_overdue_touch_at_once(live_server, page, screenshot):
    csm = UserFactory(email="maya@example.com", name="Maya Chen", role=Role.CSM, password="pw-1")
    today = timezone.localdate()
    account = AccountFactory(
        name="Overdue Touch Ltd", tier="A", owner=csm, contract_start=today - timedelta(days=400)
    )
    SubscriptionFactory(
        account=account, start_date=today - timedelta(days=400), amount=Decimal(900)
    )
    used_on(account, today - timedelta(days=1))
    last_call = datetime.combine(
        today - timedelta(days=20), time(10), tzinfo=timezone.get_current_timezone()
    )
    add_touch(account_id=account.pk, kind="call", summary="Kick-off", happened_at=last_call)
    item = RiskItem.objects.open().get(account=account)
    assert [reason["key"] for reason in item.reasons] == ["touch_overdue"]

    page.goto(f"{live_server.url}/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("pw-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    risks = page.locator("#risks")
    assert "Overdue Touch Ltd" in risks.inner_text()
    assert "tier A touch was due on" in risks.inner_text()
    screenshot("today-overdue-touch")

    touches = page.locator("#touches")
    touches.get_by_text("Log a touch").click()
    touches.get_by_label("What happened").fill("Quarterly call with Ana.")
    touches.get_by_role("button", name="Log touch").click()
    touches.get_by_text("Touch logged.").wait_for()
    page.locator("#risks", has_text="No account at risk").wait_for()
    screenshot("today-after-the-call")
    item.refresh_from_db()
    assert item.cleared_on == today and item.reasons == []
