"""The data step of the tasks migration (csm 0008_tasks): save plays get due offsets, checklists
become save-play tasks (done stays done), touches' next steps become touch tasks (recent ones
open, old ones no longer needed), nothing lost.

An installation upgrading from before 0008 still runs it, on the schema of its day (risk items
had a checklist until csm 0011): each test migrates the database back to csm 0008 and uses the
models as they were then. That takes PostgreSQL's transactional DDL (the test's transaction,
rolled back afterwards, undoes the migration); SQLite cannot alter tables inside it."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import AccountFactory

migration = importlib.import_module("csm.workflow.migrations.0008_tasks")
TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def apps(db):
    """The app registry as of csm 0008, with the database migrated back to it."""
    if connection.vendor != "postgresql":
        pytest.skip("migrating back inside a test needs transactional DDL (PostgreSQL)")
    executor = MigrationExecutor(connection)
    target = [("csm", "0008_tasks")]
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_plain_steps_get_offsets_from_their_words_or_their_place(apps):
    SavePlay = apps.get_model("csm", "SavePlay")
    SavePlay.objects.filter(reason="inactive").update(
        steps=["Call the main contact", "Re-onboarding session", "Check usage again in 14 days"]
    )
    migration.forwards(apps, None)
    assert SavePlay.objects.get(reason="inactive").steps == [
        {"text": "Call the main contact", "due_days": 2},
        {"text": "Re-onboarding session", "due_days": 7},
        {"text": "Check usage again in 14 days", "due_days": 14},
    ]


def test_checklists_become_tasks_and_done_stays_done(apps, alice):
    SavePlay, RiskItem, Task = (
        apps.get_model("csm", name) for name in ("SavePlay", "RiskItem", "Task")
    )
    SavePlay.objects.filter(reason="red_band").update(steps=["Review", "Agree a plan"])
    account = AccountFactory(owner=alice)
    open_item = RiskItem.objects.create(
        account_id=account.pk,
        opened_on=TODAY - timedelta(days=5),
        updated_on=TODAY,
        reasons=[{"key": "red_band", "text": "red"}],
        checklist=[{"text": "Review", "done": True}, {"text": "Agree a plan", "done": False}],
    )
    resolved = RiskItem.objects.create(
        account_id=AccountFactory(owner=alice).pk,
        opened_on=TODAY - timedelta(days=50),
        updated_on=TODAY,
        reasons=[{"key": "red_band", "text": "red"}],
        checklist=[{"text": "Agree a plan", "done": False}],
        resolution="saved",
        resolved_at=datetime(2026, 10, 20, tzinfo=UTC),
    )

    migration.forwards(apps, None)

    rows = Task.objects.filter(risk_item=open_item).order_by("step")
    assert [(t.title, t.status, t.assignee_id, t.reason, t.due_on) for t in rows] == [
        ("Review", "done", alice.pk, "red_band", TODAY - timedelta(days=3)),
        ("Agree a plan", "open", alice.pk, "red_band", TODAY + timedelta(days=2)),
    ]
    assert list(Task.objects.filter(risk_item=resolved).values_list("status", flat=True)) == [
        "not_needed"
    ]


def test_recent_next_steps_become_open_tasks_and_old_ones_are_kept_closed(apps, alice):
    Task, Touch = apps.get_model("csm", "Task"), apps.get_model("csm", "Touch")
    account = AccountFactory(owner=alice)

    def touch(next_step, due):
        return Touch.objects.create(
            account_id=account.pk,
            kind="call",
            summary="x",
            author_id=alice.pk,
            happened_at=datetime(2024, 1, 1, tzinfo=UTC),
            next_step=next_step,
            next_step_due=due,
        )

    touch("Send the deck", TODAY - timedelta(days=10))
    touch("Years ago", date(2024, 1, 15))
    touch("Undated", None)

    migration.forwards(apps, None)

    assert dict(Task.objects.values_list("title", "status")) == {
        "Send the deck": "open",
        "Years ago": "not_needed",
    }
    assert set(Task.objects.values_list("source", "assignee")) == {("touch", alice.pk)}
