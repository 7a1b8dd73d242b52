"""Live risk evaluation (issue 12): each input of a rule adds or clears its reason at once, without
a nightly run, through the one evaluation function (csm.workflow.risk.evaluate_risk)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.services import update_account
from csm.workflow import risk
from csm.workflow.blueprints import complete_milestone, reopen, reschedule
from csm.workflow.models import Blueprint, Milestone, RiskItem
from csm.workflow.risk import evaluate_dirty_accounts, evaluate_risk
from csm.workflow.risk_actions import resolve, snooze
from csm.workflow.timeline import account_timeline
from csm.workflow.touch_import import import_touches
from csm.workflow.touches import add_touch
from health.ingest import ingest_events
from health.models import DirtyAccount
from health.services import override_health_score
from tests.factories import AccountFactory, HealthScoreFactory, SubscriptionFactory, used_on

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def customer(owner=None, tier="C", **fields):
    """A paying, active customer with a green score: no rule fires until a test makes one."""
    fields.setdefault("contract_start", date(2025, 1, 1))
    account = AccountFactory(owner=owner, tier=tier, **fields)
    SubscriptionFactory(account=account, amount=Decimal("1000"), start_date=date(2025, 1, 1))
    used_on(account, TODAY - timedelta(days=1))
    HealthScoreFactory(account=account, day=TODAY - timedelta(days=1), score=90)
    return account


def keys(account):
    item = RiskItem.objects.open().filter(account=account).first()
    return [reason["key"] for reason in item.reasons] if item else None


def at(day, hour=10):
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def touched(account, day):
    return add_touch(account_id=account.pk, kind="call", summary="Check-in", happened_at=at(day, 8))


# --- Touches --------------------------------------------------------------------------------------


def test_a_touch_logged_clears_touch_overdue_at_once(alice):
    account = customer(alice, tier="A")
    touched(account, TODAY - timedelta(days=20))  # due 13 days ago: the reason is added live
    assert keys(account) == ["touch_overdue"]
    touched(account, TODAY)
    item = RiskItem.objects.open().get(account=account)
    assert item.reasons == [] and item.cleared_on == TODAY
    assert [(r["key"], r["until"]) for r in item.past_reasons] == [("touch_overdue", "2026-11-23")]


def test_imported_touches_clear_touch_overdue_with_one_evaluation(alice, monkeypatch):
    first, second = customer(alice, tier="A"), customer(alice, tier="A")
    touched(first, TODAY - timedelta(days=20))
    touched(second, TODAY - timedelta(days=20))
    assert keys(first) == keys(second) == ["touch_overdue"]
    evaluations = []
    real = risk.evaluate_risk
    monkeypatch.setattr(risk, "evaluate_risk", lambda **kw: evaluations.append(kw) or real(**kw))
    rows = "".join(
        f"{account.external_id},call,2026-11-2{n},alice@example.com,Check-in {n},,\n"
        for account in (first, second)
        for n in (1, 2)
    )
    import_touches("external_id,kind,date,user_email,note,next_step,next_step_due\n" + rows)
    assert RiskItem.objects.open().get(account=first).cleared_on == TODAY
    assert RiskItem.objects.open().get(account=second).cleared_on == TODAY
    # Four touches, one evaluation of both accounts (not one per row).
    assert [sorted(kw["account_ids"]) for kw in evaluations] == [sorted([first.pk, second.pk])]


def test_logging_a_call_from_today_takes_the_row_off_todays_at_risk_list(alice, alice_client):
    account = customer(alice, tier="A", name="Overdue Touch Ltd")
    touched(account, TODAY - timedelta(days=20))
    assert keys(account) == ["touch_overdue"]
    assert "Overdue Touch Ltd" in alice_client.get(reverse("home")).content.decode()
    response = alice_client.post(
        reverse("touches:log", args=[account.external_id]) + "?next=/",
        {"kind": "call", "summary": "Quarterly call"},
    )
    assert response.status_code == 302
    page = alice_client.get(reverse("home")).content.decode()
    assert "Overdue Touch Ltd" not in page.split('id="risks"')[1].split("</article>")[0]


# --- Milestones -----------------------------------------------------------------------------------


def test_milestones_completed_reopened_and_rescheduled_move_the_reason(alice):
    account = customer(alice)
    blueprint = Blueprint.objects.create(account=account, started_on=date(2026, 9, 1))
    milestone = Milestone.objects.create(
        blueprint=blueprint, side="ours", title="Kick-off", due_on=TODAY - timedelta(days=3)
    )
    evaluate_risk(day=TODAY, account_ids=[account.pk])
    assert keys(account) == ["overdue_milestone"]
    complete_milestone(actor=alice, milestone=milestone, status="done", note="ok", on=TODAY)
    assert keys(account) == []
    reopen(actor=alice, milestone=milestone, reason="not really")
    assert keys(account) == ["overdue_milestone"]
    reschedule(actor=alice, milestone=milestone, due_on=TODAY + timedelta(days=7), reason="later")
    assert keys(account) == []


# --- Usage events through ingest ----------------------------------------------------------------


def event(n, account, name="report_viewed", day=TODAY):
    return {
        "id": f"live-{n}",
        "account": account.external_id,
        "event": name,
        "timestamp": at(day, 8).isoformat(),
    }


def test_a_failed_payment_through_ingest_adds_its_reason_once_the_batch_commits(
    alice, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the embedded default: tasks in-process
    account = customer(alice)
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_events([event(1, account, "payment_failed")])
    assert result.accepted == 1
    assert keys(account) == ["failed_payment"]
    assert not DirtyAccount.objects.exists()  # taken by the evaluation


def test_an_event_clears_inactivity(alice, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    account = customer(alice)
    DirtyAccount.objects.all().delete()
    account.daily_usage.all().delete()
    evaluate_risk(day=TODAY, account_ids=[account.pk])
    assert keys(account) == ["inactive"]
    with django_capture_on_commit_callbacks(execute=True):
        ingest_events([event(2, account)])
    assert keys(account) == []


def test_with_a_worker_ingest_only_marks_and_the_task_evaluates_later(alice, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # beat's task every minute takes the marks
    account = customer(alice)
    ingest_events([event(3, account, "payment_failed")])
    assert keys(account) is None
    assert list(DirtyAccount.objects.values_list("account_id", flat=True)) == [account.pk]
    assert evaluate_dirty_accounts() == 1
    assert keys(account) == ["failed_payment"]
    assert not DirtyAccount.objects.exists()


# --- Tier and owner, overrides, snoozes, resolutions ------------------------------------------


def test_a_tier_change_adds_touch_overdue_at_once(alice, maggie):
    account = customer(alice, tier="C")
    touched(account, TODAY - timedelta(days=10))
    assert keys(account) is None  # tier C: tips emails, no CSM cadence
    update_account(
        account=account,
        actor=maggie,
        changes={"tier_override": "A", "tier_override_reason": "strategic deal"},
    )
    assert keys(account) == ["touch_overdue"]


def test_an_accounts_import_re_evaluates_its_accounts_once(alice, maggie, monkeypatch):
    from accounts import imports
    from accounts.models import ImportKind

    account = customer(alice, tier="C", external_id="acme")
    touched(account, TODAY - timedelta(days=10))
    calls = []
    real = risk.evaluate_risk
    monkeypatch.setattr(risk, "evaluate_risk", lambda **kw: calls.append(kw) or real(**kw))
    header = "external_id,name,segment,owner_email,contract_start,renewal_date,strategic,tier,seats"
    imports.run_import(
        ImportKind.ACCOUNTS,
        f"{header}\nacme,Acme,basic,alice@example.com,2025-01-01,,,A,\n",
        filename="accounts.csv",
        actor=maggie,
    )
    assert keys(account) == ["touch_overdue"]  # tier A now: its touch was due 3 days ago
    assert len(calls) == 1 and list(calls[0]["account_ids"]) == [account.pk]


def test_an_owner_change_re_evaluates(alice, bob, maggie):
    account = customer(alice, tier="A")
    touched(account, TODAY - timedelta(days=20))
    RiskItem.objects.all().delete()  # as if the rules had not looked since
    update_account(account=account, actor=maggie, changes={"owner": bob})
    item = RiskItem.objects.open().get(account=account)
    assert [r["key"] for r in item.reasons] == ["touch_overdue"] and item.assignee == bob


def test_a_score_override_moves_the_red_band_reason(alice, maggie):
    account = customer(alice)
    override_health_score(
        actor=maggie, account=account, score=30, reason="churn signals", expires_on=TODAY
    )
    assert keys(account) == ["red_band"]


def test_a_snoozed_item_wakes_with_its_current_reasons(alice):
    account = customer(alice, tier="A")
    touched(account, TODAY - timedelta(days=20))
    item = RiskItem.objects.open().get(account=account)
    snooze(actor=alice, item=item, until=TODAY + timedelta(days=2))
    touched(account, TODAY)  # while it sleeps, the reason clears
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        item.refresh_from_db()
        assert not item.snoozed_on(TODAY + timedelta(days=3))
        assert item.reasons == [] and item.cleared_on == TODAY


def test_a_resolved_item_is_not_reopened_the_same_day(alice):
    account = customer(alice, tier="A")
    touched(account, TODAY - timedelta(days=20))
    item = RiskItem.objects.open().get(account=account)
    resolve(actor=alice, item=item, resolution="not_a_risk", note="on holiday")
    evaluate_risk(day=TODAY, account_ids=[account.pk])
    assert RiskItem.objects.filter(account=account).count() == 1
    evaluate_risk(day=TODAY + timedelta(days=1), account_ids=[account.pk])
    assert RiskItem.objects.open().get(account=account).opened_on == TODAY + timedelta(days=1)


# --- The risk command ----------------------------------------------------------------------------


def test_the_risk_command_prints_the_contract(alice, capsys):
    account = customer(alice, tier="A", external_id="acme", renewal_date=TODAY + timedelta(10))
    touched(account, TODAY - timedelta(days=20))
    call_command("risk", "acme", "--json")
    payload = json.loads(capsys.readouterr().out)
    assert payload == {
        "account": "acme",
        "open": True,
        "opened_on": "2026-11-23",
        "priority": "300.00",
        "reasons": [
            {
                "key": "touch_overdue",
                "text": "tier A touch was due on 2026-11-10 (13 days ago)",
                "since": "2026-11-23",
            }
        ],
    }


def test_the_risk_command_says_when_an_account_has_no_item(alice, capsys):
    customer(alice, external_id="calm")
    call_command("risk", "calm", "--json")
    assert json.loads(capsys.readouterr().out) == {
        "account": "calm",
        "open": False,
        "opened_on": None,
        "priority": None,
        "reasons": [],
    }


def test_the_risk_command_refuses_an_unknown_account(db):
    with pytest.raises(CommandError, match="external_id: no account 'nope'"):
        call_command("risk", "nope", "--json")


# --- Words as of the day shown -------------------------------------------------------------------


def test_day_counts_are_those_of_the_day_the_page_is_shown(alice, alice_client):
    account = customer(alice, tier="A", name="Counting Co")
    touched(account, TODAY - timedelta(days=20))
    assert "(13 days ago)" in alice_client.get(reverse("risk:list")).content.decode()
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        page = alice_client.get(reverse("risk:list")).content.decode()
    assert "(14 days ago)" in page and "(13 days ago)" not in page


def test_score_reasons_say_they_change_with_the_nightly_scores(alice, alice_client):
    account = customer(alice, name="Red Co")
    HealthScoreFactory(account=account, day=TODAY, score=20)
    evaluate_risk(day=TODAY, account_ids=[account.pk])
    page = alice_client.get(reverse("risk:list")).content.decode()
    assert "health score 20 (red)" in page and "changes with the nightly scores" in page


def test_an_old_reason_without_facts_still_shows_its_words(alice, alice_client):
    account = customer(alice, name="Old Row Co")
    RiskItem.objects.create(
        account=account,
        assignee=alice,
        opened_on=TODAY,
        updated_on=TODAY,
        reasons=[{"key": "renewal", "text": "renews on 2026-12-01 (in 8 days) with health yellow"}],
    )
    page = alice_client.get(reverse("risk:list")).content.decode()
    assert "renews on 2026-12-01 (in 8 days) with health yellow" in page


# --- The timeline ---------------------------------------------------------------------------------


def test_the_timeline_shows_each_reason_added_and_cleared(alice):
    account = customer(alice, tier="A")
    used_on(account, TODAY - timedelta(days=5))
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        touched(account, TODAY - timedelta(days=20))  # opens the item, touch overdue
    blueprint = Blueprint.objects.create(account=account, started_on=date(2026, 9, 1))
    milestone = Milestone.objects.create(
        blueprint=blueprint, side="ours", title="Kick-off", due_on=TODAY - timedelta(days=3)
    )
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        evaluate_risk(day=TODAY - timedelta(days=1), account_ids=[account.pk])  # + milestone
    touched(account, TODAY)  # − touch overdue, today
    complete_milestone(actor=alice, milestone=milestone, status="done", note="ok", on=TODAY)
    risk = [
        (entry.at.date(), entry.title, entry.detail)
        for entry in account_timeline(account)
        if entry.kind == "risk"
    ]
    assert sorted(risk) == [
        (
            date(2026, 11, 21),
            "Added to the at-risk queue",
            "tier A touch was due on 2026-11-10 (11 days ago)",
        ),
        (
            date(2026, 11, 22),
            "Risk reason added",
            "1 blueprint milestone overdue (due 2026-11-20, 2 days ago)",
        ),
        (
            date(2026, 11, 23),
            "Risk reason cleared",
            "1 blueprint milestone overdue (due 2026-11-20, 3 days ago)",
        ),
        (
            date(2026, 11, 23),
            "Risk reason cleared",
            "tier A touch was due on 2026-11-10 (13 days ago)",
        ),
    ]
