from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import AccountFactory, HealthScoreFactory


def test_it_prints_the_contract_json(db):
    score = HealthScoreFactory(account=AccountFactory(external_id="acme"), score=64, trend_1=-2)
    out = StringIO()
    call_command("health", "acme", "--json", stdout=out)
    payload = json.loads(out.getvalue())
    assert set(payload) == {"account", "date", "score", "band", "trend", "measures"}
    assert payload["account"] == "acme"
    assert payload["date"] == score.day.isoformat()
    assert (payload["score"], payload["band"]) == (64, "yellow")
    assert payload["trend"] == {"1d": -2, "7d": None, "30d": None}
    assert set(payload["measures"][0]) == {"key", "raw", "score", "weight", "contribution"}


def test_it_prints_the_measures_in_words(db):
    HealthScoreFactory(account=AccountFactory(external_id="acme"))
    out = StringIO()
    call_command("health", "acme", stdout=out)
    assert "active on 20 of the last 30 days" in out.getvalue()


def test_an_unknown_or_unscored_account_is_named(db):
    AccountFactory(external_id="fresh")
    with pytest.raises(CommandError, match="no account 'nope'"):
        call_command("health", "nope", "--json")
    with pytest.raises(CommandError, match="no health score yet"):
        call_command("health", "fresh", "--json")
