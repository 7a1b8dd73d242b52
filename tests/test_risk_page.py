"""The at-risk queue page (/risk/): who sees what, filters and sort, the inline actions with and
without htmx, the save plays page, and a query count that does not grow with rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AuditEntry
from csm.workflow.models import RiskItem, SavePlay
from tests.factories import AccountFactory, HealthScoreFactory, RiskItemFactory

TODAY = date(2026, 11, 23)
RISK = "/risk/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def risk(owner, name, priority=1000, **kwargs):
    account_fields = {k: kwargs.pop(k) for k in ("tier",) if k in kwargs}
    account = AccountFactory(owner=owner, name=name, **account_fields)
    return RiskItemFactory(account=account, priority=Decimal(priority), **kwargs)


def names(response):
    """Account names of the rows, in order."""
    return [item.account.name for item in response.context["items"]]


# --- who sees what -------------------------------------------------------------------------------


def test_it_needs_a_login(client, db):
    response = client.get(RISK)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_csm_sees_their_own_items_by_default(alice_client, alice, bob):
    risk(alice, "Alice assigned")
    risk(alice, "Alice unassigned", assignee=None)
    risk(bob, "Bob's")
    risk(bob, "Given to Alice", assignee=alice)

    response = alice_client.get(RISK)

    assert response.status_code == 200
    assert sorted(names(response)) == ["Alice assigned", "Alice unassigned", "Given to Alice"]
    assert alice_client.get(RISK, {"who": "all"}).context["page"].paginator.count == 4


def test_a_manager_sees_everybodys_items_by_default(maggie_client, alice, bob):
    risk(alice, "Alice's")
    risk(bob, "Bob's")
    risk(None, "Nobody's")

    assert len(names(maggie_client.get(RISK))) == 3
    assert names(maggie_client.get(RISK, {"who": str(bob.pk)})) == ["Bob's"]
    assert names(maggie_client.get(RISK, {"who": "none"})) == ["Nobody's"]


def test_resolved_items_are_not_in_the_queue(alice_client, alice):
    risk(alice, "Open")
    risk(alice, "Done", resolved_at=datetime(2026, 11, 22, tzinfo=UTC), resolution="saved")
    assert names(alice_client.get(RISK)) == ["Open"]


def test_snoozed_items_are_hidden_unless_asked_for(alice_client, alice):
    risk(alice, "Awake")
    risk(alice, "Snoozed", snoozed_until=TODAY)
    risk(alice, "Woke up", snoozed_until=TODAY - timedelta(days=1))

    assert sorted(names(alice_client.get(RISK))) == ["Awake", "Woke up"]
    response = alice_client.get(RISK, {"snoozed": "on"})
    assert sorted(names(response)) == ["Awake", "Snoozed", "Woke up"]
    assert "snoozed until 2026-11-23" in response.content.decode()


# --- filters and sort ----------------------------------------------------------------------------


def test_it_filters_by_tier(alice_client, alice):
    risk(alice, "Big", tier="A")
    risk(alice, "Small", tier="C")
    assert names(alice_client.get(RISK, {"tier": "A"})) == ["Big"]


def test_it_filters_by_reason(alice_client, alice):
    risk(alice, "Red")
    risk(
        alice,
        "Quiet and late",
        reasons=[
            {"key": "inactive", "text": 'no product activity for 20 days ("key": "red_band")'},
            {"key": "renewal", "text": "renews on 2026-12-01"},
        ],
    )

    assert names(alice_client.get(RISK, {"reason": "red_band"})) == ["Red"]
    assert names(alice_client.get(RISK, {"reason": "renewal"})) == ["Quiet and late"]
    assert names(alice_client.get(RISK, {"reason": "price"})) == []


def test_it_sorts_by_priority_mrr_or_opened_date(alice_client, alice):
    risk(alice, "Old cheap", priority=900, mrr=Decimal(100), opened_on=date(2026, 10, 1))
    risk(alice, "New rich", priority=500, mrr=Decimal(5000), opened_on=date(2026, 11, 20))
    risk(alice, "Middle", priority=1000, mrr=Decimal(1000), opened_on=date(2026, 11, 1))

    assert names(alice_client.get(RISK)) == ["Middle", "Old cheap", "New rich"]
    assert names(alice_client.get(RISK, {"sort": "mrr"})) == ["New rich", "Middle", "Old cheap"]
    assert names(alice_client.get(RISK, {"sort": "opened"})) == [
        "Old cheap",
        "Middle",
        "New rich",
    ]
    assert names(alice_client.get(RISK, {"sort": "-opened"}))[0] == "New rich"


def test_a_bad_filter_value_is_named_and_ignored(alice_client, alice):
    risk(alice, "Mine")
    response = alice_client.get(RISK, {"tier": "Z", "sort": "nonsense"})
    assert response.status_code == 200
    assert names(response) == ["Mine"]
    assert "Tier: Select a valid choice" in response.content.decode()


def test_htmx_filtering_gets_only_the_table(alice_client, alice):
    risk(alice, "Mine")
    response = alice_client.get(RISK, {"tier": "C"}, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="risk-table">')
    assert "<html" not in body and "Mine" in body


def test_it_pages_by_25(maggie_client, alice):
    for n in range(26):
        risk(alice, f"Customer {n:02d}", priority=1000 - n)
    assert len(names(maggie_client.get(RISK))) == 25
    assert names(maggie_client.get(RISK, {"page": 2})) == ["Customer 25"]


# --- what a row shows ----------------------------------------------------------------------------


def test_a_row_shows_health_reasons_clearing_and_save_play_progress(alice_client, alice):
    item = risk(
        alice,
        "Acme",
        cleared_on=date(2026, 11, 21),
        play_tasks=[{"text": "Call", "done": True}, {"text": "Plan", "done": False}],
    )
    HealthScoreFactory(account=item.account, day=date(2026, 11, 22), score=31)

    body = alice_client.get(RISK).content.decode()

    assert '<span class="health health-red"' in body and ">31</span>" in body
    assert "health score 30 (red)" in body
    assert "rules no longer fire since 2026-11-21" in body
    assert "1/2" in body
    assert "Alice Archer" in body


def test_each_row_offers_to_log_a_touch(alice_client, alice):
    item = risk(alice, "Acme")
    body = alice_client.get(RISK).content.decode()
    assert "Log a touch" in body
    assert reverse("touches:log", args=[item.account.external_id]) in body


def test_a_csm_sees_no_actions_on_other_csms_items(alice_client, bob):
    risk(bob, "Bob's")
    body = alice_client.get(RISK, {"who": "all"}).content.decode()
    assert "Bob&#x27;s" in body
    assert "action=snooze" not in body and "action=resolve" not in body


def test_only_managers_get_the_reassign_form_and_the_save_plays_link(client, alice, maggie):
    risk(alice, "Acme")
    client.force_login(alice)
    body = client.get(RISK).content.decode()
    assert "action=reassign" not in body and reverse("risk:save_plays") not in body
    client.force_login(maggie)
    body = client.get(RISK).content.decode()
    assert "action=reassign" in body and reverse("risk:save_plays") in body


def test_a_row_renders_no_form_until_an_action_is_opened(alice_client, alice):
    item = risk(alice, "Acme", play_tasks=[])
    body = alice_client.get(RISK, {"tier": ""}).content.decode()
    row = body[body.index(f'id="risk-item-{item.pk}"') :]
    assert "<form" not in row[: row.index("</tbody>")]
    page = reverse("risk:item", args=[item.pk])
    for action in ("snooze", "resolve"):
        assert f'hx-get="{page}?action={action}&amp;next=/risk/%3Ftier%3D"' in row


@pytest.mark.parametrize("action", ["snooze", "resolve"])
def test_opening_an_action_loads_its_blank_form(alice_client, alice, action):
    item = risk(alice, "Acme")
    response = alice_client.get(
        reverse("risk:item", args=[item.pk]), {"action": action, "next": "/risk/?tier=A"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<form method="post" action="/risk/{item.pk}/{action}/"')
    assert 'name="next" value="/risk/?tier=A"' in body and "<html" not in body


@pytest.mark.parametrize("action", ["reassign", "snooze", "nonsense"])
def test_a_csm_cannot_load_a_form_they_may_not_use(alice_client, alice, bob, action):
    own, others = risk(alice, "Acme"), risk(bob, "Bob's")
    url = reverse("risk:item", args=[others.pk])
    assert alice_client.get(url, {"action": action}, **HTMX).status_code == 403
    if action != "snooze":
        own_url = reverse("risk:item", args=[own.pk])
        assert alice_client.get(own_url, {"action": action}, **HTMX).status_code == 403


def test_the_item_page_without_javascript_has_all_its_forms(maggie_client, alice):
    item = risk(alice, "Acme")
    response = maggie_client.get(reverse("risk:item", args=[item.pk]), {"next": "/risk/?p=2"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    for action in ("snooze", "reassign", "resolve"):
        assert f'action="/risk/{item.pk}/{action}/"' in body
    assert 'name="next" value="/risk/?p=2"' in body
    assert 'href="/risk/?p=2"' in body  # back to the queue page it came from


def test_the_top_bar_links_the_risk_page_first(alice_client, db):
    body = alice_client.get(reverse("accounts:list")).content.decode()
    assert body.index(f'href="{RISK}"') < body.index(f'href="{reverse("accounts:list")}"')


# --- inline actions ------------------------------------------------------------------------------


def test_snooze_without_javascript_redirects_back_to_the_queue(alice_client, alice):
    item = risk(alice, "Acme")
    back = "/risk/?tier=C&sort=mrr"

    response = alice_client.post(
        reverse("risk:snooze", args=[item.pk]), {"until": "2026-11-30", "note": "", "next": back}
    )

    assert response.status_code == 302 and response.url == back
    item.refresh_from_db()
    assert item.snoozed_until == date(2026, 11, 30)
    assert AuditEntry.objects.filter(action="risk_item.snooze", account=item.account).exists()


def test_an_unsafe_next_falls_back_to_the_queue(alice_client, alice):
    item = risk(alice, "Acme")
    response = alice_client.post(
        reverse("risk:snooze", args=[item.pk]),
        {"until": "2026-11-30", "next": "https://evil.example/"},
    )
    assert response.url == RISK


@pytest.mark.parametrize("until", ["2026-11-23", "2027-03-01", "not a date", ""])
def test_a_bad_snooze_date_is_named_in_the_row_and_nothing_is_written(alice_client, alice, until):
    item = risk(alice, "Acme")

    response = alice_client.post(reverse("risk:snooze", args=[item.pk]), {"until": until}, **HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tbody id="risk-item-{item.pk}"')
    assert "Snooze until: " in body
    item.refresh_from_db()
    assert item.snoozed_until is None
    assert not AuditEntry.objects.exists()


def test_errors_without_javascript_come_back_on_a_page_with_the_row(alice_client, alice):
    item = risk(alice, "Acme")

    response = alice_client.post(
        reverse("risk:resolve", args=[item.pk]), {"resolution": "saved", "note": ""}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body and "Note: Say why (a note is required)." in body
    item.refresh_from_db()
    assert item.resolved_at is None


def test_resolving_with_htmx_replaces_the_row_with_the_outcome(alice_client, alice):
    item = risk(alice, "Acme")

    response = alice_client.post(
        reverse("risk:resolve", args=[item.pk]),
        {"resolution": "churned", "note": "Moved to a competitor"},
        **HTMX,
    )

    assert response.status_code == 200
    assert "Acme: resolved as “Churned”." in response.content.decode()
    item.refresh_from_db()
    assert (item.resolution, item.resolved_by) == ("churned", alice)
    assert names(alice_client.get(RISK)) == []
    entry = AuditEntry.objects.get(action="risk_item.resolve")
    assert (entry.actor, entry.reason) == (alice, "Moved to a competitor")


def test_a_bad_resolution_is_named(alice_client, alice):
    item = risk(alice, "Acme")
    response = alice_client.post(
        reverse("risk:resolve", args=[item.pk]), {"resolution": "maybe", "note": "x"}, **HTMX
    )
    assert "Resolve as: Select a valid choice" in response.content.decode()
    item.refresh_from_db()
    assert item.resolved_at is None


def test_a_rows_save_play_tasks_tick_from_the_queue(alice_client, alice):
    item = risk(alice, "Acme")
    task = item.tasks.get(step=0)
    body = alice_client.get(RISK).content.decode()
    assert f'action="{reverse("tasks:done", args=[task.pk])}"' in body
    assert "0/2" in body

    response = alice_client.post(reverse("tasks:done", args=[task.pk]), {"next": "/risk/"}, **HTMX)

    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == "done" and task.done_by == alice
    assert "1/2" in alice_client.get(RISK).content.decode()


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("snooze", {"until": "2026-11-30"}),
        ("resolve", {"resolution": "saved", "note": "ok"}),
        ("snooze", {"until": "garbage"}),
    ],
)
def test_a_csm_gets_403_on_another_csms_item(alice_client, bob, action, data):
    item = risk(bob, "Bob's")

    response = alice_client.post(reverse(f"risk:{action}", args=[item.pk]), data)

    assert response.status_code == 403
    item.refresh_from_db()
    assert item.snoozed_until is None and item.resolved_at is None


def test_a_manager_acts_on_any_item(maggie_client, bob):
    item = risk(bob, "Bob's")
    response = maggie_client.post(
        reverse("risk:resolve", args=[item.pk]), {"resolution": "not_a_risk", "note": "ok"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.resolution == "not_a_risk"


def test_a_manager_reassigns_and_a_csm_cannot(client, alice, bob, maggie):
    item = risk(alice, "Acme")
    url = reverse("risk:reassign", args=[item.pk])

    client.force_login(alice)
    assert client.post(url, {"assignee": bob.pk}).status_code == 403

    client.force_login(maggie)
    response = client.post(url, {"assignee": bob.name.upper()}, **HTMX)
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.assignee == bob
    assert AuditEntry.objects.filter(action="risk_item.reassign").count() == 1

    response = client.post(url, {"assignee": "nobody@example.com"}, **HTMX)
    assert "Assign to: No active CSM or manager has the email or name nobody@example.com." in (
        response.content.decode()
    )
    item.refresh_from_db()
    assert item.assignee == bob


def test_actions_are_post_only(alice_client, alice):
    item = risk(alice, "Acme")
    assert alice_client.get(reverse("risk:snooze", args=[item.pk])).status_code == 405


# --- save plays ----------------------------------------------------------------------------------


def test_save_plays_are_for_managers(alice_client):
    assert alice_client.get(reverse("risk:save_plays")).status_code == 403
    assert alice_client.post(reverse("risk:save_plays"), {"price": "x"}).status_code == 403


def test_a_manager_edits_save_plays_one_step_per_line(maggie_client):
    response = maggie_client.get(reverse("risk:save_plays"))
    assert response.status_code == 200
    data = {
        field.name: field.value() or "" for field in response.context["form"]
    }  # the current plays, unchanged
    data["price"] = "Value review | 2\n\n  Offer a smaller plan  \n"

    response = maggie_client.post(reverse("risk:save_plays"), data)

    assert response.status_code == 302
    assert SavePlay.objects.get(reason="price").steps == [
        {"text": "Value review", "due_days": 2},
        {"text": "Offer a smaller plan", "due_days": 7},
    ]
    assert AuditEntry.objects.filter(action="save_play.update").count() == 1


def test_a_step_too_long_is_named_and_nothing_is_saved(maggie_client):
    before = SavePlay.objects.get(reason="price").steps
    response = maggie_client.post(
        reverse("risk:save_plays"), {"price": "x" * 301, "inactive": "Call"}
    )
    assert response.status_code == 200
    assert "Price / value: Step 1 is longer than 300 characters." in response.content.decode()
    assert SavePlay.objects.get(reason="price").steps == before
    assert SavePlay.objects.get(reason="inactive").steps != [{"text": "Call", "due_days": 7}]
    assert not AuditEntry.objects.exists()


def test_a_bad_due_offset_is_named_and_nothing_is_saved(maggie_client):
    before = SavePlay.objects.get(reason="price").steps
    response = maggie_client.post(reverse("risk:save_plays"), {"price": "Call | soon"})
    assert response.status_code == 200
    assert "Price / value: Step 1: after “|” give the days until it is due" in (
        response.content.decode()
    )
    assert SavePlay.objects.get(reason="price").steps == before


# --- query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [10, 100])
def test_the_risk_page_costs_the_same_queries_for_10_or_100_items(
    client, alice, maggie, django_assert_num_queries, rows
):
    for n in range(rows):
        item = risk(alice, f"Customer {n:03d}", priority=1000 + n)
        HealthScoreFactory(account=item.account, day=date(2026, 11, 22), score=40)
    client.force_login(maggie)
    # 1 session, 2 user, 3 people (filter and reassign choices), 4 latest scored day,
    # 5 count, 6 the page of items (account, assignee and health joined or subqueried),
    # 7 their save plays' tasks.
    with django_assert_num_queries(7):
        response = client.get(RISK, {"reason": "red_band", "tier": "C"})
    assert len(response.context["items"]) == min(rows, 25)

    client.force_login(alice)
    with django_assert_num_queries(7):
        response = client.get(RISK)
    assert len(response.context["items"]) == min(rows, 25)
    assert RiskItem.objects.count() == rows


def test_the_item_page_opens_its_forms(alice_client, alice):
    item = risk(alice, "Acme")
    body = alice_client.get(reverse("risk:item", args=[item.pk])).content.decode()
    assert body.count("<details open>") == 2  # snooze and resolve; the touch form stays a link


def test_the_old_queue_address_redirects_to_the_risk_page(maggie_client):
    response = maggie_client.get("/queue/?tier=A")
    assert response.status_code == 301
    assert response["Location"] == "/risk/?tier=A"
