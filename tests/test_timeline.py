"""An account's timeline: touches, changes, health bands, subscriptions and risks, newest first,
in a constant number of queries (csm/timeline.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.audit import record_changes
from csm.workflow.models import RiskItem
from csm.workflow.timeline import account_timeline
from csm.workflow.touches import add_touch
from tests.factories import AccountFactory, HealthScoreFactory, SubscriptionFactory

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def at(day, hour=12):
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def history(account, actor, n=1):
    """n of each kind of event, at known times."""
    for i in range(n):
        add_touch(
            account_id=account.pk,
            kind="call",
            summary=f"Call {i}",
            author=actor,
            outcome="positive",
            next_step="Send deck",
            next_step_due=date(2026, 11, 30),
            happened_at=at(date(2026, 11, 20)) - timedelta(minutes=i),
        )
        SubscriptionFactory(
            account=account,
            subscription_id=f"sub-{account.pk}-{i}",
            start_date=date(2026, 1, 1) - timedelta(days=i),
            end_date=date(2026, 6, 1) - timedelta(days=i),
        )
    [entry] = record_changes(
        actor=actor,
        obj=account,
        action="account.update",
        changes={"tier_override": ("", "A")},
        reason="Board deal",
    )
    entry.at = at(date(2026, 11, 21))
    entry.save()
    # green until 9 Nov, yellow on 10 Nov, red from 15 Nov
    for back in range(1, 30):
        day = TODAY - timedelta(days=back)
        score = 30 if day >= date(2026, 11, 15) else 60 if day == date(2026, 11, 10) else 90
        HealthScoreFactory(account=account, day=day, score=score)
    RiskItem.objects.create(
        account=account,
        opened_on=date(2026, 11, 15),
        updated_on=date(2026, 11, 22),
        reasons=[{"key": "red_band", "text": "health score 30 (red)"}],
        resolution="saved",
        resolution_note="Agreed a recovery plan",
        resolved_at=at(date(2026, 11, 22)),
        resolved_by=actor,
    )


def test_it_merges_every_kind_newest_first(alice, db):
    account = AccountFactory(owner=alice)
    history(account, alice)
    other = AccountFactory()
    history(other, alice)  # another account's events stay off
    timeline = account_timeline(account)
    assert [(e.at.date(), e.kind, e.title) for e in timeline] == [
        (date(2026, 11, 22), "risk", "Risk resolved: Saved"),
        (date(2026, 11, 21), "change", "tier override: — → A"),
        (date(2026, 11, 20), "touch", "Call 0"),
        (date(2026, 11, 15), "health", "Health Green → Red"),
        (date(2026, 11, 15), "risk", "Added to the at-risk queue"),
        (date(2026, 11, 11), "health", "Health Yellow → Green"),
        (date(2026, 11, 10), "health", "Health Green → Yellow"),
        (date(2026, 6, 1), "subscription", f"Subscription sub-{account.pk}-0 ended"),
        (date(2026, 1, 1), "subscription", f"Subscription sub-{account.pk}-0 started"),
    ]
    by_kind = {e.kind: e for e in timeline}
    assert by_kind["touch"].actor == "Alice Archer"
    assert by_kind["touch"].detail == "Outcome: Positive\nNext: Send deck (by 2026-11-30)"
    assert by_kind["change"].detail == "Board deal"
    assert timeline[0].detail == "Agreed a recovery plan" and timeline[0].actor == "Alice Archer"


def test_risk_resolutions_in_the_audit_trail_are_not_shown_twice(alice, db):
    account = AccountFactory(owner=alice)
    item = RiskItem.objects.create(
        account=account,
        opened_on=date(2026, 11, 15),
        updated_on=date(2026, 11, 22),
        resolution="saved",
        resolved_at=at(date(2026, 11, 22)),
    )
    record_changes(
        actor=alice,
        obj=item,
        account=account,
        action="risk.resolve",
        changes={"resolution": ("", "saved"), "assignee": ("", "Alice")},
    )
    assert [e.title for e in account_timeline(account) if e.kind in ("risk", "change")] == [
        "assignee: — → Alice",
        "Risk resolved: Saved",
        "Added to the at-risk queue",
    ]


def test_it_keeps_the_latest_entries_up_to_the_limit(alice, db):
    account = AccountFactory(owner=alice)
    history(account, alice, n=5)
    timeline = account_timeline(account, limit=4)
    assert [e.kind for e in timeline] == ["risk", "change", "touch", "touch"]


def test_only_the_last_180_days_of_health_count(alice, db):
    account = AccountFactory(owner=alice)
    HealthScoreFactory(account=account, day=TODAY - timedelta(days=200), score=90)
    HealthScoreFactory(account=account, day=TODAY - timedelta(days=190), score=30)
    HealthScoreFactory(account=account, day=TODAY - timedelta(days=181), score=30)
    HealthScoreFactory(account=account, day=TODAY - timedelta(days=100), score=90)
    assert [(e.at.date(), e.title) for e in account_timeline(account)] == [
        (TODAY - timedelta(days=100), "Health Red → Green")
    ]


@pytest.mark.parametrize("n", [1, 10])
def test_the_query_count_does_not_grow_with_history(alice, n, django_assert_num_queries):
    account = AccountFactory(owner=alice)
    history(account, alice, n=n)
    # touches (with authors), audit entries (with actors), health bands, subscriptions,
    # risk items (with who resolved them), survey answers, churn records
    with django_assert_num_queries(7):
        account_timeline(account)


def test_the_account_page_and_its_htmx_refresh_show_the_timeline(alice_client, alice):
    account = AccountFactory(owner=alice)
    history(account, alice)
    page = alice_client.get(reverse("accounts:detail", args=[account.external_id]))
    assert [e.kind for e in page.context["timeline"]][:3] == ["risk", "change", "touch"]
    body = page.content.decode()
    timeline_url = reverse("touches:timeline", args=[account.external_id])
    assert f'id="timeline" hx-get="{timeline_url}" hx-trigger="touchLogged from:body"' in body
    partial = alice_client.get(timeline_url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<article id="timeline"')
    assert "Risk resolved: Saved" in partial and "Agreed a recovery plan" in partial


def test_the_timeline_needs_a_login(client, db):
    account = AccountFactory()
    response = client.get(reverse("touches:timeline", args=[account.external_id]))
    assert response.status_code == 302
