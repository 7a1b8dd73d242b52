"""Cold start: during its first 14 days from the contract start, an account that has sent no
usage event has "not enough data yet" for its usage measures, not a red "no activity for 90
days"; its score comes from the other measures (or it has none yet)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from csm.workflow.models import RiskItem
from csm.workflow.risk import refresh_risk_items
from health import scoring
from health.models import DailyUsage, HealthScore
from health.services import recompute_health_scores
from tests.factories import AccountFactory, SubscriptionFactory

DAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def frozen(db):
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def new_customer(owner=None, *, days_ago):
    start = DAY - timedelta(days=days_ago)
    account = AccountFactory(owner=owner, contract_start=start, tier="B")
    SubscriptionFactory(account=account, amount=Decimal("100"), start_date=start)
    return account


def usage(account, day=DAY, *, events=0, billing_events=0):
    DailyUsage.objects.create(
        account=account,
        day=day,
        events=events,
        active_users=1 if events else 0,
        active_features=0,
        logins=events,
        billing_events=billing_events,
        failed_payments=0,
    )


def score_of(account):
    return HealthScore.objects.filter(account=account, day=DAY).first()


@pytest.mark.parametrize(
    ("days", "cold"), [(0, True), (13, True), (14, False), (-2, True), (400, False)]
)
def test_the_cold_start_is_the_first_14_days_without_usage(days, cold):
    start = DAY - timedelta(days=days)
    assert scoring.in_cold_start(DAY, start, ever_active=False) is cold
    assert scoring.in_cold_start(DAY, start, ever_active=True) is False


def test_a_new_account_without_events_gets_no_inactivity_score_and_no_risk_item():
    account = new_customer(days_ago=5)

    recompute_health_scores(day=DAY)
    refresh_risk_items(day=DAY)

    # Nothing but usage measures would have a value: no score yet, so no red band either.
    assert score_of(account) is None
    assert not RiskItem.objects.filter(account=account).exists()


def test_its_score_comes_from_the_other_measures():
    account = new_customer(days_ago=5)
    usage(account, billing_events=1)  # a payment went through: billing is known, usage is not

    recompute_health_scores(day=DAY)

    score = score_of(account)
    assert [m["key"] for m in score.measures] == ["billing"]
    assert (score.score, score.band) == (100, "green")


def test_from_day_14_silence_counts_as_inactivity():
    account = new_customer(days_ago=14)

    recompute_health_scores(day=DAY)
    refresh_risk_items(day=DAY)

    score = score_of(account)
    raw = {m["key"]: m["raw"] for m in score.measures}
    assert raw["days_since_active"] == scoring.INACTIVITY_HORIZON_DAYS
    assert score.band == "red"
    keys = {r["key"] for r in RiskItem.objects.get(account=account).reasons}
    assert {"red_band", "inactive"} <= keys


def test_a_new_account_that_sent_an_event_is_scored_on_its_usage():
    account = new_customer(days_ago=3)
    usage(account, DAY - timedelta(days=1), events=4)

    recompute_health_scores(day=DAY)

    keys = {m["key"] for m in score_of(account).measures}
    assert {"active_days", "days_since_active", "feature_adoption"} <= keys


def test_the_account_page_says_not_enough_data_yet(client, maggie):
    account = new_customer(owner=maggie, days_ago=5)
    old = new_customer(owner=maggie, days_ago=200)
    recompute_health_scores(day=DAY)
    client.force_login(maggie)

    page = client.get(reverse("accounts:detail", args=[account.external_id])).content.decode()
    assert "not enough data yet" in page
    assert "No health score yet" not in page

    other = client.get(reverse("accounts:detail", args=[old.external_id])).content.decode()
    assert "not enough data yet" not in other
