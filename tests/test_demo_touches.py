"""The demo's touch history keeps most of the book on cadence, so Today looks like a real day."""

from __future__ import annotations

from datetime import date

from accounts.models import Account
from csm.demo.seed import seed_demo
from csm.workflow.models import Touch
from csm.workflow.touches import with_next_touch_due

TODAY = date(2026, 3, 15)


def test_most_a_and_b_customers_are_on_cadence_and_c_gets_automated_tips(db):
    seed_demo(accounts=120, months=12, seed=3, today=TODAY, usage_days=14)
    assert Touch.objects.filter(kind="automated").exists()
    assert not Touch.objects.filter(kind="automated", account__tier="A").exists()
    due = list(
        with_next_touch_due(
            Account.objects.filter(tier__in=["A", "B"], touches__isnull=False).distinct()
        ).values_list("next_touch_due", flat=True)
    )
    overdue = [day for day in due if day < TODAY]
    assert due and len(overdue) < len(due) / 2
    # Deterministic for the seed.
    first = sorted(Touch.objects.values_list("account__external_id", "happened_at", "kind"))
    Touch.objects.all().delete()
    from csm.demo.workflow import seed_touches

    seed_touches(seed=3, today=TODAY)
    assert sorted(Touch.objects.values_list("account__external_id", "happened_at", "kind")) == first
