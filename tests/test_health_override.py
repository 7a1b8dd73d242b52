"""A manager's health score override, from the account page (audited, shown, removable)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from health.models import HealthOverride, HealthScore
from tests.factories import AccountFactory, HealthScoreFactory

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 10, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def scored(db, alice):
    account = AccountFactory(owner=alice)
    HealthScoreFactory(account=account, day=date(2026, 11, 22), score=85)
    return account


def override_url(account):
    return reverse("health:override", args=[account.external_id])


def test_a_manager_overrides_a_score_and_everyone_sees_who_and_why(
    maggie_client, client, alice, scored
):
    response = maggie_client.post(
        override_url(scored),
        {"score": "35", "expires_on": "2026-12-31", "reason": "Champion left last week"},
    )
    assert response.status_code == 302
    latest = HealthScore.objects.get(account=scored)
    assert (latest.score, latest.computed_score, latest.band) == (35, 85, "red")
    entry = scored.audit_entries.get(field="score")
    assert (entry.actor.email, entry.new_value, entry.reason) == (
        "maggie@example.com",
        "35",
        "Champion left last week",
    )
    client.force_login(alice)
    body = client.get(reverse("accounts:detail", args=[scored.external_id])).content.decode()
    assert "Champion left last week" in body and "Maggie Manager" in body
    assert "Remove the override" not in body  # a CSM cannot remove it


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"score": "101", "expires_on": "2026-12-31", "reason": "x"}, "Score"),
        ({"score": "abc", "expires_on": "2026-12-31", "reason": "x"}, "Score"),
        ({"score": "40", "expires_on": "2026-11-22", "reason": "x"}, "Until (inclusive)"),
        ({"score": "40", "expires_on": "2028-01-01", "reason": "x"}, "Until (inclusive)"),
        ({"score": "40", "expires_on": "31/12/2026", "reason": "x"}, "Until (inclusive)"),
        ({"score": "40", "expires_on": "2026-12-31", "reason": "   "}, "Why"),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(maggie_client, scored, data, field):
    response = maggie_client.post(override_url(scored), data)
    assert response.status_code == 200
    assert f"{field}:" in response.content.decode()
    assert not HealthOverride.objects.exists()
    assert HealthScore.objects.get(account=scored).score == 85


def test_a_csm_may_not_override(alice_client, scored):
    response = alice_client.post(
        override_url(scored), {"score": "10", "expires_on": "2026-12-31", "reason": "no"}
    )
    assert response.status_code == 403
    assert not HealthOverride.objects.exists()


def test_a_manager_removes_an_override(maggie_client, scored):
    maggie_client.post(
        override_url(scored), {"score": "35", "expires_on": "2026-12-31", "reason": "Churn risk"}
    )
    override = HealthOverride.objects.get()
    response = maggie_client.post(reverse("health:override_remove", args=[override.pk]))
    assert response.status_code == 302
    assert HealthScore.objects.get(account=scored).score == 85
    assert scored.audit_entries.filter(action="health score override removed").exists()
    # A second removal finds nothing to remove.
    again = maggie_client.post(reverse("health:override_remove", args=[override.pk]))
    assert again.status_code == 404
