"""Tasks on Today (csm/workflow/today.py): a CSM's tasks due and overdue, ticked inline with htmx
or a plain POST; the manager's rows per CSM, with an Unassigned row, add up to the totals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from csm.workflow.models import RiskItem, Task
from tests.factories import AccountFactory, TaskFactory, UserFactory

TODAY = date(2026, 11, 23)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def task(owner, title, due_on=TODAY, **kwargs):
    account = kwargs.pop("account", None) or AccountFactory(owner=owner, name=f"{title} Co")
    return TaskFactory(account=account, title=title, due_on=due_on, **kwargs)


def item(account, assignee):
    return RiskItem.objects.create(
        account=account,
        assignee=assignee,
        opened_on=TODAY,
        updated_on=TODAY,
        priority=Decimal(1),
        reasons=[{"key": "red_band", "text": "red"}],
    )


def test_a_csm_sees_their_tasks_due_and_overdue_only(alice_client, alice, bob):
    task(alice, "Overdue", TODAY - timedelta(days=3))
    task(alice, "Due today")
    task(alice, "Next week", TODAY + timedelta(days=7))
    task(alice, "Done", status="done")
    task(bob, "Bob's")
    # Unassigned on Alice's account: hers, as an unassigned risk item is.
    task(alice, "Nobody's", assignee=None)

    response = alice_client.get(reverse("home"))

    titles = [t.title for t in response.context["today"].tasks]
    assert titles == ["Overdue", "Due today", "Nobody's"]
    body = response.content.decode()
    assert "overdue since 2026-11-20" in body and "Next week" not in body


def test_a_task_is_ticked_from_today_with_htmx(alice_client, alice):
    due = task(alice, "Send the deck")

    response = alice_client.post(
        reverse("tasks:done", args=[due.pk]), {"next": "/", "show_account": "1"}, **HTMX
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<li class="task task-done" id="task-{due.pk}">')
    assert "Send the deck Co" in body and "<html" not in body
    due.refresh_from_db()
    assert due.status == "done"
    assert [t.title for t in alice_client.get(reverse("home")).context["today"].tasks] == []


def test_a_task_is_ticked_without_javascript_and_comes_back(alice_client, alice):
    due = task(alice, "Send the deck")

    response = alice_client.post(reverse("tasks:done", args=[due.pk]), {"next": "/"})

    assert response.status_code == 302 and response.url == "/"
    due.refresh_from_db()
    assert due.status == "done"
    response = alice_client.post(reverse("tasks:reopen", args=[due.pk]), {"next": "/"})
    due.refresh_from_db()
    assert due.status == "open"


def test_another_csms_task_answers_403(alice_client, bob):
    theirs = task(bob, "Bob's")
    assert alice_client.post(reverse("tasks:done", args=[theirs.pk])).status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == "open"


def test_ticking_is_post_only(alice_client, alice):
    due = task(alice, "x")
    assert alice_client.get(reverse("tasks:done", args=[due.pk])).status_code == 405


def test_the_managers_rows_add_up_with_an_unassigned_row(maggie_client, alice, bob):
    gone = UserFactory(name="Gone Person", is_active=False)
    # Risk items: Alice 2 (one assigned, one unassigned on her book), Bob 1, a former CSM 1,
    # nobody 2 (no assignee and no owner) — the card says 6, the rows add up to 6.
    item(AccountFactory(owner=alice), alice)
    item(AccountFactory(owner=alice), None)
    item(AccountFactory(owner=bob), bob)
    item(AccountFactory(owner=None), gone)
    item(AccountFactory(owner=None), None)
    item(AccountFactory(owner=None), None)
    # Overdue tasks: Alice 1, Bob 2, nobody 1; one due today and one done are not overdue.
    yesterday = TODAY - timedelta(days=1)
    task(alice, "a", yesterday)
    task(bob, "b1", yesterday)
    task(bob, "b2", yesterday)
    task(None, "n", yesterday)
    task(alice, "today")
    task(alice, "done", yesterday, status="done")

    today = maggie_client.get(reverse("home")).context["today"]

    rows = {(row["user"].name if row["user"] else None): row for row in today.per_csm}
    assert {name: rows[name]["risks"] for name in rows} == {
        "Alice Archer": 2,
        "Bob Baker": 1,
        "Gone Person": 1,
        None: 2,
    } | {name: 0 for name in rows if name not in ("Alice Archer", "Bob Baker", "Gone Person", None)}
    assert today.risk_count == 6 == sum(row["risks"] for row in today.per_csm)
    assert (rows["Alice Archer"]["tasks"], rows["Bob Baker"]["tasks"], rows[None]["tasks"]) == (
        1,
        2,
        1,
    )
    assert sum(row["tasks"] for row in today.per_csm) == Task.objects.overdue(TODAY).count() == 4
    assert today.per_csm[-1]["user"] is None  # Unassigned comes last
    body = maggie_client.get(reverse("home")).content.decode()
    assert "Unassigned" in body and "(inactive)" in body


def test_no_unassigned_row_when_everything_has_someone(maggie_client, alice):
    item(AccountFactory(owner=alice), alice)
    today = maggie_client.get(reverse("home")).context["today"]
    assert all(row["user"] is not None for row in today.per_csm)


@pytest.mark.parametrize("n", [3, 30])
def test_todays_query_count_does_not_grow_with_tasks(client, alice, n, django_assert_num_queries):
    for i in range(n):
        task(alice, f"T{i}", TODAY - timedelta(days=i % 5))
    client.force_login(alice)
    # session, user, risk items (none: no COUNT), the user's tasks (with accounts), touches due,
    # milestones, latest scored day, renewals (no score yet: no score drops; experiment plays are
    # among the tasks)
    with django_assert_num_queries(8):
        client.get(reverse("home"))
