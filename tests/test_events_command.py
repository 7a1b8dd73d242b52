"""`events EXTERNAL_ID [--limit N] --json` and the account page's latest events: one query
function (health.queries.latest_events) for both."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from health.ingest import ingest_events
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def acme(alice):
    account = AccountFactory(external_id="acme", owner=alice)
    AccountFactory(external_id="other")
    ingest_events(
        [
            {
                "id": f"e{n}",
                "account": "acme",
                "user": f"u{n}",
                "event": "login" if n % 2 else "report_exported",
                "timestamp": (T0 + timedelta(hours=n * 13)).isoformat(),
            }
            for n in range(5)
        ]
        + [{"id": "x", "account": "other", "event": "login", "timestamp": T0.isoformat()}]
    )
    return account


def run(*args: str) -> list[dict]:
    out = []

    class Stream:
        def write(self, text):
            out.append(text)

    call_command("events", *args, "--json", stdout=Stream())
    return json.loads("".join(out))


def test_it_prints_the_latest_events_newest_first(acme):
    events = run("acme", "--limit", "3")
    assert events == [
        {
            "id": "e4",
            "event": "report_exported",
            "user": "u4",
            "timestamp": "2026-11-22T13:00:00+00:00",
        },
        {"id": "e3", "event": "login", "user": "u3", "timestamp": "2026-11-22T00:00:00+00:00"},
        {
            "id": "e2",
            "event": "report_exported",
            "user": "u2",
            "timestamp": "2026-11-21T11:00:00+00:00",
        },
    ]
    assert len(run("acme")) == 5


def test_an_unknown_account_is_an_error(acme):
    with pytest.raises(CommandError, match="external_id: no account 'nope'"):
        run("nope")


@pytest.mark.parametrize("limit", ["0", "-1", "x", "1001"])
def test_a_bad_limit_is_a_field_error(acme, limit):
    with pytest.raises(CommandError, match="^--limit: "):
        run("acme", "--limit", limit)


def test_the_account_page_shows_the_same_latest_events(alice_client, acme):
    response = alice_client.get(reverse("accounts:detail", args=["acme"]))
    shown = response.context["latest_events"]
    assert [event["id"] for event in shown] == [event["id"] for event in run("acme")]
    assert b"report_exported" in response.content
