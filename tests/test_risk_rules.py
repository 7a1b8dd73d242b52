"""The at-risk queue's nightly rules (csm/workflow/risk.py): each rule fires, does not fire, and
clears; one open item per account; priority = MRR × risk weight."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from csm.workflow.models import Blueprint, Milestone, RiskItem
from csm.workflow.reasons import reason_text
from csm.workflow.risk import refresh_risk_items, risk_weight
from csm.workflow.touches import add_touch
from health.models import DailyUsage
from tests.factories import AccountFactory, HealthScoreFactory, SubscriptionFactory

D = date(2026, 11, 20)


def measures(**raw):
    return [
        {"key": key, "raw": value, "score": 50, "weight": 10, "contribution": 5.0}
        for key, value in raw.items()
    ]


def customer(tier="C", mrr="100", **kwargs):
    account = AccountFactory(tier=tier, contract_start=date(2025, 1, 1), **kwargs)
    SubscriptionFactory(account=account, amount=Decimal(mrr), start_date=date(2025, 1, 1))
    return account


def used(account, day, events=5, failed=0):
    """The account's usage rollup for `day` (the inactivity and failed-payment rules read them)."""
    row, _created = DailyUsage.objects.get_or_create(
        account=account,
        day=day,
        defaults={
            "events": 0,
            "active_users": 1,
            "active_features": 1,
            "logins": 0,
            "billing_events": 0,
            "failed_payments": 0,
        },
    )
    row.events += events
    row.failed_payments += failed
    row.billing_events += failed
    row.save()


def scored(account, score=85, day=D, trend_7=0, **raw):
    """A score for `day`, and the usage its raw values say (days since active, failed payments)."""
    raw.setdefault("days_since_active", 0)
    used(account, day - timedelta(days=raw["days_since_active"]))
    if raw.get("billing"):
        used(account, day, events=0, failed=raw["billing"])
    return HealthScoreFactory(
        account=account, day=day, score=score, trend_7=trend_7, measures=measures(**raw)
    )


def refresh(day=D):
    return refresh_risk_items(day=day)


def reasons_of(account):
    item = RiskItem.objects.open().get(account=account)
    return {reason["key"]: reason_text(reason, today=D) for reason in item.reasons}


def test_a_healthy_account_gets_no_item(db):
    scored(customer())
    assert refresh()["risk_opened"] == 0
    assert not RiskItem.objects.exists()


def test_a_red_account_is_opened_with_the_score_in_words(db):
    account = customer()
    scored(account, score=32)
    refresh()
    assert reasons_of(account) == {"red_band": "health score 32 (red)"}


def test_a_fast_drop_fires_at_15_points_in_7_days_not_14(db):
    dropped, slipped = customer(), customer()
    scored(dropped, score=60, trend_7=-15)
    scored(slipped, score=61, trend_7=-14)
    refresh()
    assert reasons_of(dropped) == {"score_drop": "health -15 in 7 days (75 → 60)"}
    assert not RiskItem.objects.filter(account=slipped).exists()


def test_inactivity_fires_after_14_days_with_the_trend(db):
    idle, recent = customer(), customer()
    scored(idle, days_since_active=21, usage_trend=-60)
    scored(recent, days_since_active=13)
    refresh()
    assert reasons_of(idle) == {
        "inactive": "no product activity for 21 days (events per day -60% vs the 60 days before)"
    }
    assert not RiskItem.objects.filter(account=recent).exists()


def test_a_failed_payment_fires(db):
    account = customer()
    scored(account, billing=2)
    refresh()
    assert reasons_of(account) == {"failed_payment": "2 failed payments in the last 30 days"}


def test_a_renewal_within_90_days_fires_unless_green(db):
    soon_yellow = customer(renewal_date=D + timedelta(days=53))
    soon_green = customer(renewal_date=D + timedelta(days=53))
    later_yellow = customer(renewal_date=D + timedelta(days=91))
    scored(soon_yellow, score=70)
    scored(soon_green, score=80)
    scored(later_yellow, score=70)
    refresh()
    assert reasons_of(soon_yellow) == {
        "renewal": "renews on 2027-01-12 (in 53 days) with health yellow"
    }
    assert set(RiskItem.objects.values_list("account", flat=True)) == {soon_yellow.pk}


def test_an_overdue_milestone_fires(db):
    account = customer()
    scored(account)
    blueprint = Blueprint.objects.create(account=account, started_on=date(2026, 9, 1))
    Milestone.objects.create(
        blueprint=blueprint, side="ours", title="First data report", due_on=D - timedelta(days=3)
    )
    Milestone.objects.create(
        blueprint=blueprint, side="ours", title="Done one", due_on=D - timedelta(days=9),
        status="done",
    )  # fmt: skip
    refresh()
    assert reasons_of(account) == {
        "overdue_milestone": "1 blueprint milestone overdue (due 2026-11-17, 3 days ago)"
    }


def test_a_tier_a_touch_overdue_fires_but_not_for_tier_c(db):
    a_account = customer(tier="A")
    c_account = customer(tier="C")
    for account in (a_account, c_account):
        scored(account)
        add_touch(
            account_id=account.pk,
            kind="call",
            summary="Check-in",
            happened_at=_at(D - timedelta(days=12)),
        )
    refresh()
    assert list(reasons_of(a_account)) == ["touch_overdue"]
    assert not RiskItem.objects.filter(account=c_account).exists()


def _at(day):
    from datetime import datetime, time

    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, time(10)))


def test_one_open_item_per_account_updated_not_duplicated(db):
    account = customer(mrr="200")
    scored(account, score=30)
    refresh()
    scored(account, score=25, day=D + timedelta(days=1), billing=1)
    refresh(D + timedelta(days=1))
    item = RiskItem.objects.get()
    assert item.opened_on == D and item.updated_on == D + timedelta(days=1)
    assert list(reasons_of(account)) == ["red_band", "failed_payment"]
    # Priority = MRR × (heaviest weight 1.0 + 0.1 for the second reason).
    assert item.priority == Decimal("220.00")
    # The save plays' steps follow the reasons: the red band's, then the failed payment's.
    assert {task.reason for task in item.tasks.all()} == {"red_band", "failed_payment"}
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskItem.objects.create(account=account, opened_on=D, updated_on=D)


def test_clearing_is_noted_and_the_item_stays_until_resolved(db):
    account = customer()
    scored(account, score=30)
    refresh()
    scored(account, score=80, day=D + timedelta(days=1))
    result = refresh(D + timedelta(days=1))
    assert result["risk_cleared"] == 1
    item = RiskItem.objects.open().get()
    assert item.cleared_on == D + timedelta(days=1)
    # Firing again un-clears it.
    scored(account, score=20, day=D + timedelta(days=2))
    refresh(D + timedelta(days=2))
    assert RiskItem.objects.open().get().cleared_on is None


def test_re_running_a_day_gives_the_same_items(db):
    account = customer()
    scored(account, score=30, billing=1)
    refresh()
    first = list(RiskItem.objects.values())
    refresh()
    assert list(RiskItem.objects.values()) == first


def test_risk_weights_rank_reasons():
    assert risk_weight([]) == 0
    assert risk_weight(["touch_overdue"]) == Decimal("0.3")
    assert risk_weight(["touch_overdue", "red_band", "renewal"]) == Decimal("1.2")
