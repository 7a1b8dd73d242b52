from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.audit import record_changes
from csm.workflow.blueprints import create_blueprints
from tests.factories import AccountFactory, ContactFactory, HealthScoreFactory, SubscriptionFactory


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def url(account):
    return reverse("accounts:detail", args=[account.external_id])


def test_it_shows_profile_contacts_subscriptions_and_mrr(alice_client, alice):
    account = AccountFactory(name="Acme", owner=alice, seats=40)
    ContactFactory(account=account, name="Pat Primary", is_primary=True)
    SubscriptionFactory(
        account=account, subscription_id="sub_1", amount=Decimal("1200"), interval="year"
    )
    body = alice_client.get(url(account)).content.decode()
    assert "Acme" in body and "Pat Primary" in body and "sub_1" in body
    assert "$100.00" in body


def test_the_mrr_chart_has_24_month_ends_ending_this_month(alice_client):
    account = AccountFactory()
    SubscriptionFactory(account=account, start_date=date(2026, 5, 10), amount=Decimal("300"))
    response = alice_client.get(url(account))
    chart = response.context["chart"]
    assert len(chart["labels"]) == 24
    assert chart["labels"][0] == "2024-12" and chart["labels"][-1] == "2026-11"
    assert chart["values"][-8] == 0  # April 2026
    assert chart["values"][-7:] == [300.0] * 7
    assert (
        json.loads(
            response.content.decode()
            .split('id="mrr-chart-data" type="application/json">')[1]
            .split("</script>")[0]
        )["labels"][-1]
        == "2026-11"
    )


def test_it_shows_the_audit_trail(alice_client, maggie):
    account = AccountFactory()
    record_changes(
        actor=maggie,
        obj=account,
        action="account.update",
        changes={"tier_override": ("", "A")},
        reason="Board deal",
    )
    body = alice_client.get(url(account)).content.decode()
    assert "Board deal" in body and "Maggie Manager" in body


def test_an_unknown_account_is_a_404(alice_client):
    assert alice_client.get(reverse("accounts:detail", args=["nope"])).status_code == 404


def test_the_edit_button_shows_only_to_who_may_edit(client, alice, bob):
    account = AccountFactory(owner=alice)
    edit = reverse("accounts:edit", args=[account.external_id])
    client.force_login(alice)
    assert edit in client.get(url(account)).content.decode()
    client.force_login(bob)
    assert edit not in client.get(url(account)).content.decode()


def test_the_query_count_does_not_grow_with_subscriptions(alice_client, django_assert_num_queries):
    account = AccountFactory()
    SubscriptionFactory.create_batch(30, account=account)
    ContactFactory.create_batch(5, account=account)
    for back in range(90):
        HealthScoreFactory(account=account, day=date(2026, 11, 22) - timedelta(days=back))
    create_blueprints([account.pk])
    # session, user, account+owner, subscriptions, contacts, audit entries, latest health score,
    # 90 days of health history; the timeline (csm.workflow.timeline, reusing the audit entries and
    # subscriptions above): touches, 180 days of health bands, risk items; the blueprint and its
    # milestones with their owners and contacts (csm.workflow.blueprints.blueprint_for); survey
    # answers and churn records on the timeline; the churn card's churn records (churn_tags);
    # the open risk item and the account's tasks (csm.workflow.task_list.account_work),
    # the latest events (health.queries.latest_events)
    with django_assert_num_queries(19):
        alice_client.get(url(account))


def test_the_health_card_explains_each_measure_against_30_days_before(alice_client):
    account = AccountFactory()
    day = date(2026, 11, 22)
    HealthScoreFactory(account=account, day=day - timedelta(days=30), score=70)
    HealthScoreFactory(
        account=account,
        day=day,
        score=42,
        trend_1=-3,
        trend_7=-15,
        measures=[
            {"key": "active_days", "raw": 4, "score": 40, "weight": 25, "contribution": 25.0},
            {"key": "billing", "raw": 1, "score": 30, "weight": 10, "contribution": 17.0},
        ],
    )
    body = alice_client.get(url(account)).content.decode()
    assert "active on 4 of the last 30 days (was 20)" in body
    assert "1 failed payment in the last 30 days" in body
    assert "health-red" in body and "▼ -15" in body
    assert 'id="health-chart"' in body


def test_the_health_card_says_when_there_is_no_score_yet(alice_client):
    body = alice_client.get(url(AccountFactory())).content.decode()
    assert "No health score yet" in body
