"""`manage.py tasks` (DESIGN §5): the exact JSON keys, the filters, --all, and errors."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import AccountFactory, TaskFactory


def tasks(*args):
    out = StringIO()
    call_command("tasks", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def cast(alice, bob):
    acme = AccountFactory(external_id="acme", owner=alice)
    beta = AccountFactory(external_id="beta", owner=bob)
    TaskFactory(account=acme, title="Call", due_on=date(2026, 11, 25), source="save_play")
    TaskFactory(account=acme, title="Done one", due_on=date(2026, 11, 1), status="done")
    TaskFactory(account=beta, title="Deck", due_on=date(2026, 11, 24), source="touch")
    TaskFactory(account=beta, title="Nobody's", due_on=date(2026, 11, 26), assignee=None)


def test_open_tasks_by_due_date_with_exactly_the_contract_keys(cast):
    assert tasks() == [
        {
            "account": "beta",
            "title": "Deck",
            "assignee": "bob@example.com",
            "due_on": "2026-11-24",
            "done": False,
            "source": "touch",
        },
        {
            "account": "acme",
            "title": "Call",
            "assignee": "alice@example.com",
            "due_on": "2026-11-25",
            "done": False,
            "source": "save_play",
        },
        {
            "account": "beta",
            "title": "Nobody's",
            "assignee": None,
            "due_on": "2026-11-26",
            "done": False,
            "source": "manual",
        },
    ]


def test_filters_and_all(cast):
    assert [row["title"] for row in tasks("--account", "acme")] == ["Call"]
    assert [row["title"] for row in tasks("--account", "acme", "--all")] == ["Done one", "Call"]
    assert tasks("--account", "acme", "--all")[0]["done"] is True
    assert [row["title"] for row in tasks("--user", "BOB@example.com")] == ["Deck"]
    assert tasks("--account", "acme", "--user", "bob@example.com") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--account", "nope"], "account: no account 'nope'"), (["--user", "x@y.z"], "user: no user")],
)
def test_an_unknown_account_or_user_is_an_error(db, args, message):
    with pytest.raises(CommandError, match=message) as excinfo:
        tasks(*args)
    assert excinfo.value.returncode == 1
