"""The at-risk queue's actions (csm/risk_actions.py): snooze, reassign, resolve, and the save plays
themselves (with due offsets) — permission, validation (nothing written on bad input)
and the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import AuditEntry, Role
from csm.workflow import risk_actions
from csm.workflow.models import Resolution, RiskItem, SavePlay
from csm.workflow.task_list import sync_play_tasks
from tests.factories import AccountFactory, RiskItemFactory, UserFactory

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def item(alice):
    return RiskItemFactory(account=AccountFactory(owner=alice))


def audit(action):
    entries = AuditEntry.objects.filter(action=action)
    return list(entries.values_list("field", "old_value", "new_value", "reason"))


def error_fields(excinfo):
    return set(excinfo.value.message_dict)


# --- save plays → tasks --------------------------------------------------------------------------


def play_titles(item):
    return list(item.tasks.order_by("pk").values_list("title", flat=True))


def test_the_play_tasks_follow_the_reasons_order_and_list_each_step_once(db):
    SavePlay.objects.update_or_create(reason="inactive", defaults={"steps": ["Call", "Re-onboard"]})
    SavePlay.objects.update_or_create(reason="score_drop", defaults={"steps": ["Ask why", "Call"]})
    item = RiskItemFactory(
        reasons=[{"key": "score_drop", "text": "fell"}, {"key": "inactive", "text": "quiet"}],
        play_tasks=[],
    )

    sync_play_tasks(item, day=item.updated_on)

    assert play_titles(item) == ["Ask why", "Call", "Re-onboard"]


def test_a_reason_without_a_save_play_adds_no_step(db):
    SavePlay.objects.filter(reason="renewal").delete()
    item = RiskItemFactory(reasons=[{"key": "renewal", "text": "soon"}], play_tasks=[])
    sync_play_tasks(item, day=item.updated_on)
    assert play_titles(item) == []


def test_the_starting_save_plays_are_used(db):
    item = RiskItemFactory(reasons=[{"key": "failed_payment", "text": "failed"}], play_tasks=[])
    sync_play_tasks(item, day=item.updated_on)
    assert play_titles(item) == ["Check the payment method with the billing contact"]


# --- snooze --------------------------------------------------------------------------------------


def test_the_owner_snoozes_an_item_and_it_is_audited(alice, item):
    risk_actions.snooze(actor=alice, item=item, until=TODAY + timedelta(days=7), note="on holiday")

    item.refresh_from_db()
    assert item.snoozed_until == TODAY + timedelta(days=7)
    assert audit("risk_item.snooze") == [("snoozed_until", "", "2026-11-30", "on holiday")]
    assert AuditEntry.objects.get(action="risk_item.snooze").account == item.account


@pytest.mark.parametrize("days", [0, -1, 91])
def test_a_snooze_must_end_after_today_and_within_90_days(alice, item, days):
    with pytest.raises(ValidationError) as excinfo:
        risk_actions.snooze(actor=alice, item=item, until=TODAY + timedelta(days=days), note="")

    assert error_fields(excinfo) == {"until"}
    item.refresh_from_db()
    assert item.snoozed_until is None
    assert not AuditEntry.objects.exists()


def test_a_snooze_of_exactly_90_days_is_fine(alice, item):
    risk_actions.snooze(actor=alice, item=item, until=TODAY + timedelta(days=90), note="")
    item.refresh_from_db()
    assert item.snoozed_until == TODAY + timedelta(days=90)


def test_a_csm_cannot_act_on_another_csms_item_but_a_manager_can(alice, bob, maggie, item):
    until = TODAY + timedelta(days=3)
    with pytest.raises(PermissionDenied):
        risk_actions.snooze(actor=bob, item=item, until=until, note="")
    with pytest.raises(PermissionDenied):
        risk_actions.resolve(actor=bob, item=item, resolution=Resolution.SAVED, note="done")
    item.refresh_from_db()
    assert item.snoozed_until is None and item.resolved_at is None
    assert not AuditEntry.objects.exists()

    risk_actions.snooze(actor=maggie, item=item, until=until, note="")
    item.refresh_from_db()
    assert item.snoozed_until == until


def test_an_unowned_accounts_item_is_for_managers_only(alice, maggie):
    item = RiskItemFactory(account=AccountFactory(owner=None))
    with pytest.raises(PermissionDenied):
        risk_actions.snooze(actor=alice, item=item, until=TODAY + timedelta(days=3))
    risk_actions.snooze(actor=maggie, item=item, until=TODAY + timedelta(days=3))


# --- reassign ------------------------------------------------------------------------------------


def test_a_manager_reassigns_an_item_and_it_is_audited(maggie, bob, item):
    risk_actions.reassign(actor=maggie, item=item, assignee=bob)

    item.refresh_from_db()
    assert item.assignee == bob
    assert audit("risk_item.reassign") == [("assignee", "Alice Archer", "Bob Baker", "")]


def test_a_csm_cannot_reassign_even_their_own_item(alice, bob, item):
    with pytest.raises(PermissionDenied):
        risk_actions.reassign(actor=alice, item=item, assignee=bob)
    item.refresh_from_db()
    assert item.assignee == alice


def test_the_assignee_must_be_an_active_csm_or_manager(maggie, item):
    gone = UserFactory(role=Role.CSM, is_active=False)
    for assignee in (gone, None):
        with pytest.raises(ValidationError) as excinfo:
            risk_actions.reassign(actor=maggie, item=item, assignee=assignee)
        assert error_fields(excinfo) == {"assignee"}
    item.refresh_from_db()
    assert item.assignee.email == "alice@example.com"
    assert not AuditEntry.objects.exists()


# --- resolve -------------------------------------------------------------------------------------


def test_resolving_closes_the_item_and_it_leaves_the_queue(alice, item):
    risk_actions.resolve(actor=alice, item=item, resolution=Resolution.SAVED, note="Renewed")

    item.refresh_from_db()
    assert item.resolution == "saved"
    assert item.resolution_note == "Renewed"
    assert item.resolved_at == datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert item.resolved_by == alice
    assert not RiskItem.objects.open().exists()
    assert audit("risk_item.resolve") == [("resolution", "", "saved", "Renewed")]


@pytest.mark.parametrize(
    ("resolution", "note", "field"),
    [("saved", "", "note"), ("saved", "   ", "note"), ("maybe", "a note", "resolution")],
)
def test_resolving_needs_a_known_resolution_and_a_note(alice, item, resolution, note, field):
    with pytest.raises(ValidationError) as excinfo:
        risk_actions.resolve(actor=alice, item=item, resolution=resolution, note=note)

    assert error_fields(excinfo) == {field}
    item.refresh_from_db()
    assert item.resolved_at is None and item.resolution == ""
    assert not AuditEntry.objects.exists()


def test_a_resolved_item_takes_no_more_actions(alice, item):
    risk_actions.resolve(actor=alice, item=item, resolution=Resolution.CHURNED, note="Gone")
    with pytest.raises(ValidationError):
        risk_actions.resolve(actor=alice, item=item, resolution=Resolution.SAVED, note="Back")
    item.refresh_from_db()
    assert item.resolution == "churned"


def test_an_account_has_one_open_item_at_most(alice, item):
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskItemFactory(account=item.account)

    risk_actions.resolve(actor=alice, item=item, resolution=Resolution.NOT_A_RISK, note="Fine")
    # Once resolved, the nightly may open a new one for the same account.
    RiskItemFactory(account=item.account)
    assert RiskItem.objects.filter(account=item.account).count() == 2


# --- save plays ----------------------------------------------------------------------------------


def test_a_manager_edits_save_plays_and_each_change_is_audited(maggie):
    before = risk_actions.format_steps(SavePlay.objects.get(reason="price").steps)

    changed = risk_actions.update_save_plays(
        actor=maggie,
        steps_by_reason={
            "price": [{"text": "Value review", "due_days": 3}],
            "inactive": list(SavePlay.objects.get(reason="inactive").steps),
        },
    )

    assert changed == 1
    assert SavePlay.objects.get(reason="price").steps == [{"text": "Value review", "due_days": 3}]
    assert audit("save_play.update") == [("steps", before, "Value review | 3", "")]


def test_a_csm_cannot_edit_save_plays(alice):
    with pytest.raises(PermissionDenied):
        risk_actions.update_save_plays(actor=alice, steps_by_reason={"price": []})
    assert SavePlay.objects.get(reason="price").steps


def test_steps_are_one_per_line_without_blanks_each_with_its_due_offset():
    assert risk_actions.parse_steps(" Call | 2 \n\n  Re-onboard\nCheck again | 14d\n") == [
        {"text": "Call", "due_days": 2},
        {"text": "Re-onboard", "due_days": risk_actions.DEFAULT_STEP_DUE_DAYS},
        {"text": "Check again", "due_days": 14},
    ]
    with pytest.raises(ValidationError):
        risk_actions.parse_steps("x" * 301)


@pytest.mark.parametrize("line", ["Call | soon", "Call | -2", "Call | 400", " | 2", "Call | 2.5"])
def test_a_bad_due_offset_is_refused_naming_the_step(line):
    with pytest.raises(ValidationError) as excinfo:
        risk_actions.parse_steps("Fine | 1\n" + line)
    assert "Step 2" in excinfo.value.messages[0]


def test_the_csm_an_item_was_reassigned_to_may_act_on_it(bob, alice):
    from csm.workflow.risk_actions import can_act
    from tests.factories import AccountFactory, RiskItemFactory

    item = RiskItemFactory(account=AccountFactory(owner=alice), assignee=bob)
    assert can_act(bob, item) and can_act(alice, item)
