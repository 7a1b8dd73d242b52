"""A CSM ticks a task on Today (htmx swaps just the task's row), finds it done on the account's
page with the open risk item's save play, and Today no longer lists it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from csm.workflow.models import RiskItem, SavePlay, Task
from csm.workflow.task_list import sync_play_tasks
from tests.factories import AccountFactory, SubscriptionFactory, TaskFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def build_book():
    csm = UserFactory(
        email="maya@example.com", name="Maya Chen", role=Role.CSM, password="demo-pass"
    )
    today = timezone.localdate()
    account = AccountFactory(
        name="Northwind Inc", tier="B", owner=csm, contract_start=today - timedelta(days=400)
    )
    SubscriptionFactory(account=account, start_date=today - timedelta(days=400), amount=2500)
    SavePlay.objects.update_or_create(
        reason="inactive",
        defaults={
            "steps": [
                {"text": "Call the main contact", "due_days": 0},
                {"text": "Re-onboarding session", "due_days": 7},
            ]
        },
    )
    item = RiskItem.objects.create(
        account=account,
        assignee=csm,
        opened_on=today - timedelta(days=2),
        updated_on=today,
        mrr=Decimal(2500),
        priority=Decimal(2000),
        reasons=[{"key": "inactive", "text": "no product activity for 21 days"}],
    )
    sync_play_tasks(item, day=today - timedelta(days=2))  # "Call" overdue since 2 days
    deck = TaskFactory(
        account=account, title="Send the training deck", due_on=today, source="touch"
    )
    return account, deck


def test_a_csm_ticks_a_task_on_today(live_server, page, screenshot):
    account, deck = build_book()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("demo-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    tasks = page.locator("#tasks")
    assert "Call the main contact" in tasks.inner_text()
    assert "overdue since" in tasks.inner_text()
    row = page.locator(f"#task-{deck.pk}")
    assert "Send the training deck" in row.inner_text()
    screenshot("today-tasks")

    row.get_by_role("button", name="Send the training deck").click()
    page.locator(f"#task-{deck.pk}.task-done").wait_for()  # htmx swapped the row
    assert page.url == f"{live_server.url}/"  # no page load
    deck.refresh_from_db()
    assert deck.status == "done"
    screenshot("today-task-ticked")

    page.reload()
    assert "Send the training deck" not in page.locator("#tasks").inner_text()

    page.goto(f"{live_server.url}/accounts/{account.external_id}/")
    work = page.locator("#work")
    assert "no product activity for 21 days" in work.inner_text()
    assert "Re-onboarding session" in work.inner_text()
    assert Task.objects.filter(account=account, status="open").count() == 2
    screenshot("account-tasks")
