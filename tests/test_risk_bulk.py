"""Bulk actions on the at-risk queue: ticked rows (or every row shown) resolved, snoozed or
reassigned together through the single actions' checks, all or nothing; and the "rules no longer
fire" filter with its "resolve all shown"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from accounts.models import AuditEntry
from csm.workflow.models import RiskItem
from tests.factories import AccountFactory, RiskItemFactory

TODAY = date(2026, 11, 23)
BULK = "/risk/bulk/"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def risk(owner, name, **kwargs):
    return RiskItemFactory(account=AccountFactory(owner=owner, name=name), **kwargs)


def resolve(ids, **extra):
    return {
        "action": "resolve",
        "items": [str(pk) for pk in ids],
        "resolution": "saved",
        "note": "Called them",
        **extra,
    }


def test_a_csm_resolves_ticked_items_together(alice_client, alice):
    first, second, untouched = (risk(alice, n) for n in ("One", "Two", "Three"))

    response = alice_client.post(BULK, resolve([first.pk, second.pk], next="/risk/?tier=A"))

    assert response.status_code == 302
    assert response.url == "/risk/?tier=A"
    assert set(RiskItem.objects.open().values_list("pk", flat=True)) == {untouched.pk}
    resolved = RiskItem.objects.get(pk=first.pk)
    assert (resolved.resolution, resolved.resolution_note, resolved.resolved_by) == (
        "saved",
        "Called them",
        alice,
    )
    assert AuditEntry.objects.filter(action="risk_item.resolve").count() == 2


def test_one_item_the_csm_may_not_act_on_stops_the_whole_action(alice_client, alice, bob):
    mine = risk(alice, "Mine")
    theirs = risk(bob, "Bob's Co")

    response = alice_client.post(BULK, resolve([mine.pk, theirs.pk], next="/risk/?tier=B"))

    assert response.status_code == 200
    assert response.context["next_url"] == "/risk/?tier=B"  # the rows' actions go back there
    assert "Nothing was changed: Bob&#x27;s Co" in response.content.decode()
    assert RiskItem.objects.open().count() == 2
    assert not AuditEntry.objects.filter(action="risk_item.resolve").exists()
    # The ticked rows stay ticked for another try.
    assert response.context["ticked"] == {mine.pk, theirs.pk}


def test_an_item_already_resolved_stops_the_whole_action(alice_client, alice):
    mine = risk(alice, "Mine")
    done = risk(alice, "Done", resolved_at=datetime(2026, 11, 22, tzinfo=UTC), resolution="saved")

    response = alice_client.post(BULK, resolve([mine.pk, done.pk]))

    assert "already resolved" in response.content.decode()
    assert RiskItem.objects.get(pk=mine.pk).resolved_at is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"resolution": ""}, "resolution"),
        ({"note": " "}, "note"),
        ({"action": "explode"}, "action"),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(alice_client, alice, data, field):
    item = risk(alice, "Mine")
    response = alice_client.post(BULK, resolve([item.pk], **data))
    assert response.status_code == 200
    assert field in response.context["bulk_form"].errors
    assert RiskItem.objects.get(pk=item.pk).resolved_at is None


def test_nothing_ticked_is_named(alice_client, alice):
    risk(alice, "Mine")
    response = alice_client.post(BULK, resolve([]))
    assert "Tick at least one item." in response.content.decode()


def test_snoozing_in_bulk_checks_the_date(alice_client, alice):
    first, second = risk(alice, "One"), risk(alice, "Two")
    until = TODAY + timedelta(days=5)

    bad = alice_client.post(
        BULK, {"action": "snooze", "items": [first.pk, second.pk], "until": "2026-11-23"}
    )
    assert "Snooze until a day after today." in bad.content.decode()
    alice_client.post(BULK, {"action": "snooze", "items": [first.pk, second.pk], "until": until})

    assert set(RiskItem.objects.values_list("snoozed_until", flat=True)) == {until}


def test_a_manager_reassigns_in_bulk_and_a_csm_cannot(client, alice, bob, maggie):
    first, second = risk(alice, "One"), risk(alice, "Two")
    data = {"action": "reassign", "items": [first.pk, second.pk], "assignee": bob.email}

    client.force_login(alice)
    response = client.post(BULK, data)
    assert response.status_code == 200
    assert "action" in response.context["bulk_form"].errors  # not a choice for a CSM
    assert set(RiskItem.objects.values_list("assignee", flat=True)) == {alice.pk}

    client.force_login(maggie)
    assert client.post(BULK, data).status_code == 302
    assert set(RiskItem.objects.values_list("assignee", flat=True)) == {bob.pk}
    unknown = client.post(BULK, data | {"assignee": "nobody@example.com"})
    assert "assignee" in unknown.context["bulk_form"].errors


def test_select_all_shown_works_without_javascript(alice_client, alice):
    shown = [risk(alice, n).pk for n in ("One", "Two")]
    other = risk(alice, "Three")
    data = resolve([], all_shown="on", shown=shown)

    assert alice_client.post(BULK, data).status_code == 302
    assert list(RiskItem.objects.open().values_list("pk", flat=True)) == [other.pk]


def test_the_filter_shows_only_items_whose_rules_no_longer_fire(alice_client, alice):
    risk(alice, "Still firing")
    cleared = [
        risk(alice, name, cleared_on=TODAY - timedelta(days=1)) for name in ("Calm", "Quiet")
    ]

    response = alice_client.get("/risk/", {"cleared": "on"})

    assert sorted(i.account.name for i in response.context["items"]) == ["Calm", "Quiet"]
    page = response.content.decode()
    assert "Resolve all 2 shown" in page
    for item in cleared:
        assert f'name="shown" value="{item.pk}"' in page
    # Without the filter the button is not offered.
    assert "Resolve all" not in alice_client.get("/risk/").content.decode()


def test_the_rows_have_a_checkbox_for_the_bulk_form_only_where_one_may_act(
    alice_client, alice, bob
):
    mine = risk(alice, "Mine")
    theirs = risk(bob, "Theirs")
    page = alice_client.get("/risk/", {"who": "all"}).content.decode()
    assert f'form="risk-bulk" name="items" value="{mine.pk}"' in page
    assert f'name="items" value="{theirs.pk}"' not in page


def test_the_bulk_action_is_post_only(alice_client):
    assert alice_client.get(BULK).status_code == 405


def test_at_most_a_hundred_items_at_once(alice_client, alice):
    item = risk(alice, "Mine", priority=Decimal(1))
    response = alice_client.post(BULK, resolve([item.pk, *range(10_000, 10_100)]))
    assert "At most 100 items at once." in response.content.decode()
