"""Tasks (csm/workflow/task_list.py): save plays follow the item's reasons, a touch's next step
comes back as a task, tasks typed by hand, ticking done and back — permission, validation and
the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import AuditEntry
from csm.workflow import risk_actions, task_list
from csm.workflow.models import SavePlay, Task, TaskSource, TaskStatus
from csm.workflow.risk import refresh_risk_items
from csm.workflow.touches import add_touch
from tests.factories import (
    AccountFactory,
    HealthScoreFactory,
    RiskItemFactory,
    SubscriptionFactory,
    TaskFactory,
    UserFactory,
    used_on,
)

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def plays(db):
    SavePlay.objects.update_or_create(
        reason="inactive",
        defaults={
            "steps": [{"text": "Call", "due_days": 2}, {"text": "Re-onboard", "due_days": 7}]
        },
    )
    SavePlay.objects.update_or_create(
        reason="detractor",
        defaults={"steps": [{"text": "Call the person", "due_days": 1}, "Close the loop"]},
    )
    SavePlay.objects.update_or_create(
        reason="score_drop",
        defaults={"steps": [{"text": "Call", "due_days": 3}]},
    )


def item_with(owner, *keys, **kwargs):
    return RiskItemFactory(
        account=kwargs.pop("account", None) or AccountFactory(owner=owner),
        reasons=[{"key": key, "text": key} for key in keys],
        play_tasks=[],
        **kwargs,
    )


def play_tasks(item):
    return {
        task.title: (task.status, task.due_on, task.reason)
        for task in Task.objects.filter(risk_item=item, source=TaskSource.SAVE_PLAY)
    }


# --- save plays follow the reasons ---------------------------------------------------------------


def test_a_reason_adds_its_plays_steps_due_after_their_offsets(plays, alice):
    item = item_with(alice, "inactive")

    task_list.sync_play_tasks(item, day=TODAY)

    assert play_tasks(item) == {
        "Call": ("open", TODAY + timedelta(days=2), "inactive"),
        "Re-onboard": ("open", TODAY + timedelta(days=7), "inactive"),
    }
    assert set(Task.objects.values_list("assignee", flat=True)) == {alice.pk}


def test_syncing_twice_changes_nothing(plays, alice):
    item = item_with(alice, "inactive", "detractor")
    task_list.sync_play_tasks(item, day=TODAY)
    before = list(Task.objects.order_by("pk").values())

    counts = task_list.sync_play_tasks(item, day=TODAY + timedelta(days=1))

    assert counts == {"tasks_added": 0, "tasks_reopened": 0, "tasks_not_needed": 0}
    assert list(Task.objects.order_by("pk").values()) == before


def test_a_new_reason_adds_its_steps_and_a_step_two_reasons_share_is_one_task(plays, alice):
    item = item_with(alice, "inactive")
    task_list.sync_play_tasks(item, day=TODAY)
    item.reasons = [{"key": "inactive"}, {"key": "score_drop"}, {"key": "detractor"}]

    task_list.sync_play_tasks(item, day=TODAY + timedelta(days=1))

    tasks = play_tasks(item)
    assert sorted(tasks) == ["Call", "Call the person", "Close the loop", "Re-onboard"]
    assert tasks["Close the loop"] == (
        "open",
        TODAY + timedelta(days=1 + task_list.DEFAULT_STEP_DUE_DAYS),
        "detractor",
    )


def test_steps_of_a_cleared_reason_are_no_longer_needed_and_done_ones_stay_done(plays, alice):
    item = item_with(alice, "inactive", "detractor")
    task_list.sync_play_tasks(item, day=TODAY)
    call = Task.objects.get(risk_item=item, title="Call")
    task_list.complete_task(actor=alice, task=call)
    item.reasons = [{"key": "detractor"}]

    task_list.sync_play_tasks(item, day=TODAY + timedelta(days=1))

    tasks = play_tasks(item)
    assert tasks["Call"][0] == "done"
    assert tasks["Re-onboard"][0] == "not_needed"
    assert tasks["Call the person"][0] == "open"
    assert Task.objects.filter(risk_item=item).count() == 4  # nothing deleted


def test_a_reason_that_comes_back_reopens_its_steps_instead_of_adding_copies(plays, alice):
    item = item_with(alice, "inactive")
    task_list.sync_play_tasks(item, day=TODAY)
    item.reasons = []
    task_list.sync_play_tasks(item, day=TODAY + timedelta(days=1))
    assert {status for status, _due, _key in play_tasks(item).values()} == {"not_needed"}

    item.reasons = [{"key": "inactive"}]
    task_list.sync_play_tasks(item, day=TODAY + timedelta(days=10))

    assert play_tasks(item) == {
        "Call": ("open", TODAY + timedelta(days=12), "inactive"),
        "Re-onboard": ("open", TODAY + timedelta(days=17), "inactive"),
    }


def test_an_item_whose_rules_stopped_firing_has_its_open_steps_no_longer_needed(plays, alice):
    item = item_with(alice, "inactive")
    task_list.sync_play_tasks(item, day=TODAY)
    item.cleared_on = TODAY + timedelta(days=1)

    task_list.sync_play_tasks(item, day=TODAY + timedelta(days=1))

    assert {status for status, _due, _key in play_tasks(item).values()} == {"not_needed"}


def test_an_unassigned_items_steps_go_to_the_account_owner(plays, alice):
    item = item_with(alice, "inactive", assignee=None)
    task_list.sync_play_tasks(item, day=TODAY)
    assert set(Task.objects.values_list("assignee", flat=True)) == {alice.pk}


def test_resolving_an_item_makes_its_open_steps_no_longer_needed(plays, alice):
    item = item_with(alice, "inactive")
    task_list.sync_play_tasks(item, day=TODAY)
    task_list.complete_task(actor=alice, task=Task.objects.get(title="Call"))

    risk_actions.resolve(actor=alice, item=item, resolution="saved", note="back on track")

    assert {title: status for title, (status, _d, _k) in play_tasks(item).items()} == {
        "Call": "done",
        "Re-onboard": "not_needed",
    }


def test_reassigning_an_item_moves_its_open_steps(plays, alice, bob, maggie):
    item = item_with(alice, "inactive")
    task_list.sync_play_tasks(item, day=TODAY)
    task_list.complete_task(actor=alice, task=Task.objects.get(title="Call"))

    risk_actions.reassign(actor=maggie, item=item, assignee=bob)

    assert dict(Task.objects.values_list("title", "assignee")) == {
        "Call": alice.pk,
        "Re-onboard": bob.pk,
    }


def test_the_nightly_refresh_gives_items_their_play_tasks_and_follows_their_reasons(plays, alice):
    account = AccountFactory(owner=alice, tier="C", contract_start=date(2025, 1, 1))
    SubscriptionFactory(account=account, amount=Decimal(100), start_date=date(2025, 1, 1))
    # No usage at all: the inactivity rule fires (it reads the usage rollups and events).
    HealthScoreFactory(account=account, day=TODAY, score=80, trend_7=0)

    refresh_risk_items(day=TODAY)
    refresh_risk_items(day=TODAY)  # a re-run adds nothing

    item = account.risk_items.get()
    assert play_tasks(item) == {
        "Call": ("open", TODAY + timedelta(days=2), "inactive"),
        "Re-onboard": ("open", TODAY + timedelta(days=7), "inactive"),
    }
    # The next day the account is active again: the rules stop firing, the steps are not needed.
    tomorrow = TODAY + timedelta(days=1)
    used_on(account, tomorrow)
    HealthScoreFactory(account=account, day=tomorrow, score=80, trend_7=0)
    refresh_risk_items(day=tomorrow)
    assert {status for status, _d, _k in play_tasks(item).values()} == {"not_needed"}


# --- a touch's next step ------------------------------------------------------------------------


def test_a_touch_with_a_dated_next_step_makes_a_task_for_its_author(alice):
    account = AccountFactory(owner=alice)
    touch = add_touch(
        account_id=account.pk,
        kind="call",
        happened_at=datetime(2026, 11, 22, 10, tzinfo=UTC),
        summary="Went through the report",
        author=alice,
        next_step="Send the training deck",
        next_step_due=date(2026, 12, 2),
    )
    task = Task.objects.get()
    assert (task.title, task.assignee, task.due_on, task.source, task.touch) == (
        "Send the training deck",
        alice,
        date(2026, 12, 2),
        "touch",
        touch,
    )


def test_a_next_step_without_a_date_stays_on_the_touch(alice):
    account = AccountFactory(owner=alice)
    add_touch(
        account_id=account.pk,
        kind="call",
        happened_at=datetime(2026, 11, 22, 10, tzinfo=UTC),
        summary="x",
        author=alice,
        next_step="Some day",
    )
    assert not Task.objects.exists()


# --- by hand, and ticking ------------------------------------------------------------------------


def test_a_csm_adds_a_task_to_their_account_and_it_is_audited(alice, bob):
    account = AccountFactory(owner=alice)
    task = task_list.add_task(
        actor=alice, account=account, title="  Plan   the QBR ", due_on=TODAY, assignee=bob
    )
    assert (task.title, task.assignee, task.source, task.status) == (
        "Plan the QBR",
        bob,
        "manual",
        "open",
    )
    assert AuditEntry.objects.filter(action="task.add", account=account).count() == 1


@pytest.mark.parametrize(
    ("title", "due_on", "field"),
    [
        ("", TODAY, "title"),
        ("x" * 301, TODAY, "title"),
        ("Plan", None, "due_on"),
        ("Plan", TODAY - timedelta(days=1), "due_on"),
        ("Plan", TODAY + timedelta(days=800), "due_on"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(alice, title, due_on, field):
    with pytest.raises(ValidationError) as excinfo:
        task_list.add_task(
            actor=alice,
            account=AccountFactory(owner=alice),
            title=title,
            due_on=due_on,
            assignee=alice,
        )
    assert field in excinfo.value.message_dict
    assert not Task.objects.exists() and not AuditEntry.objects.exists()


def test_an_inactive_assignee_is_refused(alice):
    gone = UserFactory(is_active=False)
    with pytest.raises(ValidationError) as excinfo:
        task_list.add_task(
            actor=alice, account=AccountFactory(owner=alice), title="x", due_on=TODAY, assignee=gone
        )
    assert "assignee" in excinfo.value.message_dict


def test_a_csm_cannot_add_a_task_to_another_csms_account(alice, bob):
    with pytest.raises(PermissionDenied):
        task_list.add_task(
            actor=alice, account=AccountFactory(owner=bob), title="x", due_on=TODAY, assignee=None
        )


def test_ticking_done_writes_once_and_reopening_puts_it_back(alice):
    task = TaskFactory(account=AccountFactory(owner=alice))

    assert task_list.complete_task(actor=alice, task=task) is True
    assert task_list.complete_task(actor=alice, task=task) is False  # a double click
    task.refresh_from_db()
    assert (task.status, task.done_by) == (TaskStatus.DONE, alice)
    assert AuditEntry.objects.filter(action="task.complete").count() == 1

    assert task_list.reopen_task(actor=alice, task=task) is True
    task.refresh_from_db()
    assert (task.status, task.done_by, task.done_at) == (TaskStatus.OPEN, None, None)


def test_a_task_assigned_to_someone_is_theirs_to_tick_but_not_another_csms(alice, bob):
    carol = UserFactory()
    task = TaskFactory(account=AccountFactory(owner=alice), assignee=bob)
    with pytest.raises(PermissionDenied):
        task_list.complete_task(actor=carol, task=task)
    assert task_list.complete_task(actor=bob, task=task) is True


# --- on the account page -------------------------------------------------------------------------


def test_the_account_page_shows_the_open_item_its_tasks_and_other_tasks(alice_client, alice):
    account = AccountFactory(owner=alice)
    item = RiskItemFactory(account=account)  # its save play: two tasks (factories.py)
    task_list.complete_task(actor=alice, task=item.tasks.get(step=0))
    TaskFactory(account=account, title="Send the training deck", due_on=TODAY)
    TaskFactory(account=account, title="Old and done", status="done")

    response = alice_client.get(reverse("accounts:detail", args=[account.external_id]))

    work = response.context["work"]
    assert work.item == item
    assert [(t.title, t.status) for t in work.item_tasks] == [
        ("Review the health measures with the account", "done"),
        ("Agree a recovery plan", "open"),
    ]
    assert [t.title for t in work.other_tasks] == ["Send the training deck"]
    body = response.content.decode()
    assert "health score 30 (red)" in body
    assert reverse("risk:item", args=[item.pk]) in body
    assert reverse("tasks:add", args=[account.external_id]) in body


def test_a_task_is_added_from_the_account_page(alice_client, alice):
    account = AccountFactory(owner=alice)
    page = reverse("accounts:detail", args=[account.external_id])

    response = alice_client.post(
        reverse("tasks:add", args=[account.external_id]),
        {"title": "Plan the QBR", "assignee": str(alice.pk), "due_on": "2026-11-30", "next": page},
    )

    assert response.status_code == 302 and response.url == page
    task = Task.objects.get()
    assert (task.title, task.assignee, task.due_on, task.source) == (
        "Plan the QBR",
        alice,
        date(2026, 11, 30),
        "manual",
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"title": "", "due_on": "2026-11-30"}, "Task: This field is required."),
        ({"title": "Plan", "due_on": "someday"}, "Due on: Enter a valid date."),
        ({"title": "Plan", "due_on": "2026-11-01"}, "Due on: The due date cannot be in the past."),
        ({"title": "Plan", "due_on": "2026-11-30", "assignee": "999"}, "Assignee: Select a valid"),
    ],
)
def test_bad_input_on_the_page_comes_back_with_the_field_named(alice_client, alice, data, error):
    account = AccountFactory(owner=alice)
    response = alice_client.post(reverse("tasks:add", args=[account.external_id]), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Task.objects.exists()


def test_a_csm_cannot_add_tasks_on_another_csms_account(alice_client, bob):
    account = AccountFactory(owner=bob)
    response = alice_client.post(
        reverse("tasks:add", args=[account.external_id]), {"title": "x", "due_on": "2026-11-30"}
    )
    assert response.status_code in (403, 404)
    assert not Task.objects.exists()
