"""import_events FILE.jsonl: the API's checks per line, valid lines stored, exit 1 on errors."""

from __future__ import annotations

import json
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, ManagementUtility, call_command
from django.core.management import base as management_base

from health.management.commands import import_events
from health.models import UsageEvent
from tests.factories import AccountFactory


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel("2026-11-23 12:00Z", tick=False):
        yield


@pytest.fixture
def acme(db):
    return AccountFactory(external_id="acme")


def line(n: int, **fields) -> str:
    return json.dumps(
        {
            "id": f"evt-{n}",
            "account": "acme",
            "event": "login",
            "timestamp": "2026-11-23T09:30:00+00:00",
            **fields,
        }
    )


def write(tmp_path, *lines: str, name: str = "events.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(path) -> tuple[str, str, CommandError | None]:
    out, err = StringIO(), StringIO()
    try:
        call_command("import_events", str(path), stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def test_a_valid_file_is_stored_and_summarised(tmp_path, acme):
    path = write(tmp_path, line(1), line(2, user="ann", properties={"plan": "pro"}))
    out, err, failed = run(path)
    assert failed is None and err == ""
    assert out == "accepted 2, duplicates 0, errors 0\n"
    assert UsageEvent.objects.get(event_id="evt-2").properties == {"plan": "pro"}


def test_bad_lines_are_reported_by_line_and_the_valid_ones_still_stored(tmp_path, acme):
    path = write(
        tmp_path,
        line(1),
        "{not json",
        "",  # blank lines are skipped but still counted
        line(3, account="nobody"),
        '["an", "array"]',
        line(5, timestamp="2026-11-23T09:30:00"),
        line(6),
    )
    out, err, failed = run(path)
    assert err.splitlines() == [
        "line 2: not valid JSON (Expecting property name enclosed in double quotes)",
        "line 4: account: unknown account",
        "line 5: not a JSON object",
        "line 6: timestamp: has no UTC offset",
    ]
    assert out == "accepted 2, duplicates 0, errors 4\n"
    assert failed is not None and failed.returncode == 1
    assert "the other lines were stored" in str(failed)
    assert set(UsageEvent.objects.values_list("event_id", flat=True)) == {"evt-1", "evt-6"}


def test_reimporting_counts_duplicates_and_adds_no_rows(tmp_path, acme):
    path = write(tmp_path, line(1), line(2), line(2))
    assert run(path)[0] == "accepted 2, duplicates 1, errors 0\n"
    assert run(path)[0] == "accepted 0, duplicates 3, errors 0\n"
    assert UsageEvent.objects.count() == 2


def test_a_large_file_goes_in_chunks_with_the_right_line_numbers(tmp_path, acme):
    lines = [line(n) for n in range(1, 2501)]
    lines[2199] = line(2200, event="")  # line 2200, in the third chunk
    lines[2299] = line(5)  # a duplicate of line 5, across chunks
    out, err, failed = run(write(tmp_path, *lines))
    assert err == "line 2200: event: must not be blank\n"
    assert out == "accepted 2498, duplicates 1, errors 1\n"
    assert UsageEvent.objects.count() == 2498


def test_a_bom_and_bad_utf8_are_handled(tmp_path, acme):
    path = tmp_path / "events.jsonl"
    path.write_bytes(("\ufeff" + line(1) + "\n").encode() + b'{"id": "\xff"}\n')
    out, err, failed = run(path)
    assert err == "line 2: not UTF-8 text\n"
    assert out == "accepted 1, duplicates 0, errors 1\n"


def test_a_missing_file_is_a_command_error(tmp_path, db):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_events", str(tmp_path / "nope.jsonl"))


def test_the_exit_code_is_1_when_a_line_fails(tmp_path, acme, capsys, monkeypatch):
    path = write(tmp_path, line(1), line(2, account="nobody"))
    # run_from_argv closes the connections when it ends; the test database must stay open.
    monkeypatch.setattr(management_base.connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "import_events", str(path)]).execute()
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "line 2: account: unknown account" in captured.err
    assert "accepted 1, duplicates 0, errors 1" in captured.out
    assert UsageEvent.objects.count() == 1


def test_the_help_says_valid_lines_are_stored_anyway():
    assert "the valid lines are still stored" in import_events.Command.help
