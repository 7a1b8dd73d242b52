"""The demo's churn records: every churn in the generated subscription history has exactly one
ChurnEvent (agreeing with the nightly step), most have a reason, about a fifth are involuntary, and
competitor churns name one of the demo competitors."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from accounts.models import Subscription
from csm.demo.churns import DEMO_COMPETITORS, seed_churn_records
from csm.demo.seed import seed_demo
from feedback.churn import churn_episodes
from feedback.models import ChurnEvent, Competitor, KeywordRule

TODAY = date(2026, 11, 23)


@pytest.fixture
def demo(db):
    seed_demo(accounts=150, months=24, seed=3, today=TODAY, usage_days=1)
    return seed_churn_records(seed=3, today=TODAY)


def test_every_historical_churn_has_one_record(demo):
    subs: dict[int, list[Subscription]] = {}
    for sub in Subscription.objects.all():
        subs.setdefault(sub.account_id, []).append(sub)
    expected = sorted(
        (account_id, e.churned_on, e.reactivated_on)
        for account_id, rows in subs.items()
        for e in churn_episodes(rows, TODAY)
    )
    recorded = sorted(ChurnEvent.objects.values_list("account_id", "churned_on", "reactivated_on"))
    assert recorded == expected
    assert len(recorded) > 20


def test_most_churns_get_a_believable_reason(demo):
    events = list(ChurnEvent.objects.all())
    done = [e for e in events if e.completed_at is not None]
    assert len(done) >= 0.8 * len(events)
    kinds = Counter(e.churn_type for e in done)
    assert 0.15 <= kinds["involuntary"] / len(done) <= 0.25
    assert len({e.category for e in done}) >= 5
    competitor_churns = [e for e in done if e.category == "competitor"]
    assert competitor_churns and all(e.competitor_id for e in competitor_churns)
    assert set(Competitor.objects.values_list("name", flat=True)) == set(DEMO_COMPETITORS)
    assert KeywordRule.objects.exists()


def test_seeding_again_adds_nothing(demo):
    before = list(ChurnEvent.objects.order_by("pk").values_list("pk", "category", "completed_at"))
    again = seed_churn_records(seed=3, today=TODAY)
    assert again["churns_backfilled"] == 0
    after = list(ChurnEvent.objects.order_by("pk").values_list("pk", "category", "completed_at"))
    assert after == before
