"""The Today page: a CSM's home after login, a manager's across the team (csm/today.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from csm.workflow.models import Blueprint, Milestone, RiskItem, Task, TaskSource
from csm.workflow.today import LIST_LIMIT
from tests.factories import AccountFactory, HealthScoreFactory, SubscriptionFactory

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def customer(owner, name, tier="A", **kwargs):
    account = AccountFactory(
        owner=owner, name=name, tier=tier, contract_start=date(2025, 1, 1), **kwargs
    )
    SubscriptionFactory(account=account, amount=Decimal("1000"), start_date=date(2025, 1, 1))
    return account


def risk(account, priority, **kwargs):
    return RiskItem.objects.create(
        account=account,
        assignee=account.owner,
        opened_on=TODAY - timedelta(days=3),
        updated_on=TODAY,
        priority=Decimal(priority),
        mrr=Decimal("1000"),
        reasons=[{"key": "red_band", "text": "health score 30 (red)"}],
        **kwargs,
    )


def book(owner, n, prefix):
    """n customers of `owner`, each with a risk item, an overdue milestone, a renewal soon, a
    score drop and (tier A, never touched) a touch due."""
    for i in range(n):
        account = customer(owner, f"{prefix} {i:03d}", renewal_date=TODAY + timedelta(days=30 + i))
        risk(account, 1000 + i)
        blueprint = Blueprint.objects.create(account=account, started_on=date(2025, 1, 1))
        Milestone.objects.create(
            blueprint=blueprint,
            side="ours",
            title="First data report",
            due_on=TODAY - timedelta(days=2),
        )
        HealthScoreFactory(account=account, day=TODAY - timedelta(days=1), score=40, trend_1=-12)


def test_a_csm_lands_on_today_and_sees_their_own_work_only(client, alice, bob):
    book(alice, 2, "Alice Co")
    book(bob, 2, "Bob Co")
    client.force_login(alice)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    today = response.context["today"]
    assert [item.account.name for item in today.risk_items] == ["Alice Co 001", "Alice Co 000"]
    assert {a.name for a in today.touches_due} == {"Alice Co 000", "Alice Co 001"}
    assert {m.blueprint.account.name for m in today.milestones} == {"Alice Co 000", "Alice Co 001"}
    assert [a.name for a in today.renewals] == ["Alice Co 000", "Alice Co 001"]
    assert {s.account.name for s in today.drops} == {"Alice Co 000", "Alice Co 001"}
    body = response.content.decode()
    assert "health score 30 (red)" in body and "Bob Co" not in body


def test_snoozed_and_resolved_items_stay_off_today(alice_client, alice):
    snoozed = customer(alice, "Snoozed")
    risk(snoozed, 10, snoozed_until=TODAY + timedelta(days=3))
    done = customer(alice, "Done")
    risk(done, 10, resolved_at=datetime(2026, 11, 22, tzinfo=UTC), resolution="saved")
    today = alice_client.get(reverse("home")).context["today"]
    assert today.risk_items == [] and today.risk_count == 0


def test_a_manager_sees_the_team_with_a_count_per_csm(maggie_client, alice, bob):
    book(alice, 2, "Alice Co")
    book(bob, 1, "Bob Co")
    # Two more on one of Bob's blueprints: one overdue, one done (not counted).
    blueprint = Blueprint.objects.get(account__owner=bob)
    for status in ("open", "done"):
        Milestone.objects.create(
            blueprint=blueprint,
            side="customer",
            title="Usage feedback",
            due_on=TODAY - timedelta(days=5),
            status=status,
        )
    unassigned = customer(None, "Nobody's Co")
    risk(unassigned, 10)
    today = maggie_client.get(reverse("home")).context["today"]
    assert today.risk_count == 4  # the per-CSM counts and the unassigned item
    per_csm = {
        row["user"].email if row["user"] else None: (row["risks"], row["overdue"])
        for row in today.per_csm
    }
    assert per_csm["alice@example.com"] == (2, 2)
    assert per_csm["bob@example.com"] == (1, 2)
    assert per_csm[None] == (1, 0)  # the Unassigned row
    assert sum(row["risks"] for row in today.per_csm) == today.risk_count


@pytest.mark.parametrize("n", [3, 30])
def test_the_query_count_does_not_grow_with_rows(client, alice, n, django_assert_num_queries):
    book(alice, n, "Co")
    client.force_login(alice)
    # session, user, risk items (with accounts), risk count, touches due, milestones, latest
    # scored day, renewals (with health), score drops, the user's tasks due (with accounts;
    # experiment plays and save-play steps among them). With fewer items than Today lists, their
    # count is the list's length (no COUNT).
    with django_assert_num_queries(10 if n >= LIST_LIMIT else 9):
        client.get(reverse("home"))


@pytest.mark.parametrize("n", [3, 30])
def test_the_managers_query_count_does_not_grow_with_rows(
    maggie_client, alice, bob, n, django_assert_num_queries
):
    book(alice, n, "Alice Co")
    book(bob, n, "Bob Co")
    # session, user, risk items, touches due, milestones, latest scored day, renewals, score
    # drops, the user's own tasks due (experiment plays among them); per CSM: open risk items,
    # overdue tasks and overdue milestones in one query, the users
    with django_assert_num_queries(11):
        maggie_client.get(reverse("home"))


def test_a_touch_is_logged_inline_from_today(alice_client, alice):
    from csm.workflow.models import Touch

    account = customer(alice, "Due Co", tier="A")
    body = alice_client.get(reverse("home")).content.decode()
    log_url = reverse("touches:log", args=[account.external_id])
    assert f'hx-get="{log_url}?next=/"' in body  # the row's form, loaded when opened
    response = alice_client.post(
        reverse("touches:log", args=[account.external_id]),
        {"kind": "call", "summary": "Weekly call", "next": "/"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert Touch.objects.filter(account=account, summary="Weekly call").exists()
    today = alice_client.get(reverse("home")).context["today"]
    assert account not in today.touches_due


def test_a_renewal_is_counted_in_whole_days():
    from csm.workflow.templatetags.touch_tags import days_away

    assert days_away(TODAY + timedelta(days=10)) == "in 10 days"
    assert days_away(TODAY + timedelta(days=1)) == "in 1 day"
    assert days_away(TODAY) == "today"
    assert days_away(TODAY - timedelta(days=3)) == "3 days ago"


# --- the at-risk rows act like the queue's --------------------------------------------------------


def test_todays_at_risk_rows_carry_the_queues_actions(alice_client, alice):
    item = risk(customer(alice, "Shaky Co"), 500)
    HealthScoreFactory(account=item.account, day=TODAY - timedelta(days=1), score=38)
    Task.objects.create(
        account=item.account,
        risk_item=item,
        title="Call the main contact",
        due_on=TODAY + timedelta(days=30),
        source=TaskSource.SAVE_PLAY,
        reason="red_band",
    )

    body = alice_client.get(reverse("home")).content.decode()

    assert f'id="risk-item-{item.pk}"' in body  # Today's row (csm/risk.html#risk-brief)
    assert 'class="health health-red"' in body and ">38<" in body
    for action in ("snooze", "resolve"):  # loaded when opened, coming back to Today's row
        assert f'hx-get="/risk/{item.pk}/?action={action}&amp;next=/&amp;row=brief"' in body
    log_url = reverse("touches:log", args=[item.account.external_id])
    assert f'hx-get="{log_url}?next=/"' in body
    assert 'form="risk-bulk"' not in body  # no bulk checkboxes on Today
    # The save play's steps are Today's tasks when due, not repeated in the row.
    assert "Call the main contact" not in body


def test_an_action_opened_on_today_keeps_todays_row(alice_client, alice):
    item = risk(customer(alice, "Shaky Co"), 500)

    form = alice_client.get(
        f"/risk/{item.pk}/?action=snooze&next=/&row=brief", headers={"HX-Request": "true"}
    ).content.decode()
    assert '<input type="hidden" name="row" value="brief">' in form

    # An unknown row style answers with the queue's row.
    queue_form = alice_client.get(
        f"/risk/{item.pk}/?action=snooze&next=/&row=other", headers={"HX-Request": "true"}
    ).content.decode()
    assert 'name="row"' not in queue_form


def test_resolving_from_today_comes_back_to_today(alice_client, alice):
    item = risk(customer(alice, "Shaky Co"), 500)

    plain = alice_client.post(
        f"/risk/{item.pk}/resolve/", {"resolution": "saved", "note": "Fixed", "next": "/"}
    )

    assert plain.status_code == 302 and plain.url == "/"
    assert alice_client.get(reverse("home")).context["today"].risk_items == []


def test_snoozing_from_today_with_htmx_answers_the_row(alice_client, alice):
    item = risk(customer(alice, "Shaky Co"), 500)
    response = alice_client.post(
        f"/risk/{item.pk}/snooze/",
        {"until": "2026-11-30", "next": "/", "row": "brief"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="risk-item-{item.pk}"' in body
    assert "snoozed until" in body and 'class="risk-work"' not in body  # Today's row again
    # An error keeps Today's row, with the form open and its error.
    bad = alice_client.post(
        f"/risk/{item.pk}/snooze/",
        {"until": "2026-11-01", "next": "/", "row": "brief"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert 'class="risk-work"' not in bad and 'name="row" value="brief"' in bad
    assert "<details open" in bad
    assert item.account not in [
        i.account for i in alice_client.get("/").context["today"].risk_items
    ]
