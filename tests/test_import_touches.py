"""`manage.py import_touches FILE.csv` (DESIGN §5): the touch history of the tool a team used
before. All-or-nothing with every bad row named; touches count for cadence and their dated next
steps become tasks, as touches logged on the page; a second run of the same file writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from csm.workflow.models import Task, Touch
from tests.factories import AccountFactory

HEADER = "external_id,kind,date,user_email,note,next_step,next_step_due\n"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def acme(alice):
    return AccountFactory(external_id="acme", owner=alice, tier="A")


def run(tmp_path, body, header=HEADER):
    path = tmp_path / "touches.csv"
    path.write_text(header + body, encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_touches", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_touches_are_imported_count_for_cadence_and_make_next_step_tasks(tmp_path, acme, alice):
    out, _err = run(
        tmp_path,
        "acme,call,2026-11-20,ALICE@example.com,Went through the report,Send the deck,2026-12-02\n"
        "acme,meeting,2026-10-01,alice@example.com,QBR,,\n",
    )

    assert "2 imported, 0 already there, 1 next steps became tasks" in out
    assert Touch.objects.filter(account=acme).count() == 2
    acme.refresh_from_db()
    assert acme.last_csm_touch_at.date() == date(2026, 11, 20)  # cadence reads this column
    task = Task.objects.get()
    assert (task.title, task.assignee, task.due_on, task.source) == (
        "Send the deck",
        alice,
        date(2026, 12, 2),
        "touch",
    )


def test_importing_the_same_file_twice_writes_nothing_the_second_time(tmp_path, acme):
    body = "acme,call,2026-11-20,alice@example.com,Call,Deck,2026-12-02\n"
    run(tmp_path, body)
    out, _err = run(tmp_path, body)
    assert "0 imported, 1 already there" in out
    assert Touch.objects.count() == 1 and Task.objects.count() == 1


def test_every_bad_row_is_named_and_nothing_is_written(tmp_path, acme):
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER
        + "nope,visit,2026-13-01,ghost@example.com,x,,\n"
        + "acme,call,2026-11-30,alice@example.com,future,,\n"
        + "acme,call,2026-11-20,alice@example.com,x,Send deck,\n"
        + "acme,call,2026-11-20,alice@example.com,x,Send deck,2026-11-01\n"
        + "acme,automated,2026-11-20,,x,,2026-11-25\n"
        + "acme,call,2026-11-20,alice@example.com,fine,Deck,2026-11-25\n",
        encoding="utf-8",
    )
    err = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_touches", str(path), stderr=err)
    assert excinfo.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "line 2: external_id: unknown account",
        "line 2: kind: must be one of call, meeting, email, note",
        "line 2: date: not a date (YYYY-MM-DD)",
        "line 2: user_email: unknown user",
        "line 3: date: in the future",
        "line 4: next_step_due: required when next_step is given",
        "line 5: next_step_due: before the touch's date",
        "line 6: kind: must be one of call, meeting, email, note",
        "line 6: user_email: required",
        "line 6: next_step: required when next_step_due is given",
    ]
    assert Touch.objects.count() == 0 and Task.objects.count() == 0


@pytest.mark.parametrize(
    "header",
    [
        "external_id,kind,date,user_email,note,next_step\n",
        "external_id,kind,date,user_email,note,next_step,next_step_due,extra\n",
    ],
)
def test_a_wrong_header_is_refused(tmp_path, acme, header):
    with pytest.raises(CommandError):
        run(tmp_path, "acme,call,2026-11-20,alice@example.com,x,,,\n", header=header)
    assert not Touch.objects.exists()


def test_a_header_only_file_imports_nothing(tmp_path, db):
    out, _err = run(tmp_path, "")
    assert "nothing to import" in out
