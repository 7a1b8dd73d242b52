"""The data step of the tasks migration (csm 0008_tasks): save plays get due offsets, checklists
become save-play tasks (done stays done), touches' next steps become touch tasks (recent ones
open, old ones no longer needed), nothing lost."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.apps import apps

from csm.workflow.models import RiskItem, SavePlay, Task, Touch
from tests.factories import AccountFactory

migration = importlib.import_module("csm.workflow.migrations.0008_tasks")
TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def test_plain_steps_get_offsets_from_their_words_or_their_place(db):
    SavePlay.objects.filter(reason="inactive").update(
        steps=["Call the main contact", "Re-onboarding session", "Check usage again in 14 days"]
    )
    migration.forwards(apps, None)
    assert SavePlay.objects.get(reason="inactive").steps == [
        {"text": "Call the main contact", "due_days": 2},
        {"text": "Re-onboarding session", "due_days": 7},
        {"text": "Check usage again in 14 days", "due_days": 14},
    ]


def test_checklists_become_tasks_and_done_stays_done(db, alice):
    SavePlay.objects.filter(reason="red_band").update(steps=["Review", "Agree a plan"])
    account = AccountFactory(owner=alice)
    open_item = RiskItem.objects.create(
        account=account,
        opened_on=TODAY - timedelta(days=5),
        updated_on=TODAY,
        reasons=[{"key": "red_band", "text": "red"}],
        checklist=[{"text": "Review", "done": True}, {"text": "Agree a plan", "done": False}],
    )
    resolved = RiskItem.objects.create(
        account=AccountFactory(owner=alice),
        opened_on=TODAY - timedelta(days=50),
        updated_on=TODAY,
        reasons=[{"key": "red_band", "text": "red"}],
        checklist=[{"text": "Agree a plan", "done": False}],
        resolution="saved",
        resolved_at=datetime(2026, 10, 20, tzinfo=UTC),
    )

    migration.forwards(apps, None)

    rows = Task.objects.filter(risk_item=open_item).order_by("step")
    assert [(t.title, t.status, t.assignee, t.reason, t.due_on) for t in rows] == [
        ("Review", "done", alice, "red_band", TODAY - timedelta(days=3)),
        ("Agree a plan", "open", alice, "red_band", TODAY + timedelta(days=2)),
    ]
    assert list(Task.objects.filter(risk_item=resolved).values_list("status", flat=True)) == [
        "not_needed"
    ]


def test_recent_next_steps_become_open_tasks_and_old_ones_are_kept_closed(db, alice):
    account = AccountFactory(owner=alice)

    def touch(next_step, due):
        return Touch.objects.create(
            account=account,
            kind="call",
            summary="x",
            author=alice,
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
