"""Re-running nightly days (`run_nightly --from`) leaves exactly the risk items one run leaves,
resolved ones included (issue 12: a 14-day re-run used to make 7 unresolved copies of items
people had resolved)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from csm.nightly import run_nightly
from csm.workflow.models import Blueprint, Milestone, RiskItem
from csm.workflow.risk_actions import resolve
from health.models import UsageEvent
from tests.factories import AccountFactory, SubscriptionFactory

START = date(2026, 10, 1)
END = START + timedelta(days=29)  # 30 days
MIDDLE = START + timedelta(days=14)


def customer(owner, name, **fields):
    fields.setdefault("contract_start", date(2025, 1, 1))
    account = AccountFactory(owner=owner, name=name, **fields)
    SubscriptionFactory(account=account, amount=Decimal("900"), start_date=date(2025, 1, 1))
    return account


def events(account, first: date, last: date, name="report_viewed", every=1):
    day, rows = first, []
    while day <= last:
        moment = datetime.combine(day, time(12), tzinfo=UTC)
        rows.append(
            UsageEvent(
                event_id=f"{account.pk}-{name}-{day}",
                account=account,
                user="u1",
                event=name,
                timestamp=moment,
                day=day,
            )
        )
        day += timedelta(days=every)
    UsageEvent.objects.bulk_create(rows)


@pytest.fixture
def book(alice):
    """Accounts whose rules fire and clear at different days of the 30."""
    busy = customer(alice, "Busy")
    events(busy, START - timedelta(days=89), END)
    fading = customer(alice, "Fading")
    events(fading, START - timedelta(days=89), START + timedelta(days=3))
    payer = customer(alice, "Payer")
    events(payer, START - timedelta(days=89), END)
    events(payer, START + timedelta(days=10), START + timedelta(days=10), name="payment_failed")
    strategic = customer(alice, "Strategic", strategic=True)  # tier A, never touched
    events(strategic, START - timedelta(days=89), END)
    late = customer(alice, "Late plan")
    events(late, START - timedelta(days=89), END)
    blueprint = Blueprint.objects.create(account=late, started_on=date(2026, 9, 1))
    Milestone.objects.create(
        blueprint=blueprint, side="ours", title="Kick-off", due_on=START + timedelta(days=6)
    )
    renewing = customer(alice, "Renewing", renewal_date=END + timedelta(days=40))
    events(renewing, START - timedelta(days=89), END, every=9)
    return {"fading": fading, "payer": payer, "strategic": strategic, "late": late}


def rows():
    """Every RiskItem field that matters, in id order."""
    return list(
        RiskItem.objects.order_by("pk").values(
            "pk",
            "account_id",
            "assignee_id",
            "opened_on",
            "updated_on",
            "reasons",
            "past_reasons",
            "cleared_on",
            "mrr",
            "priority",
            "snoozed_until",
            "resolution",
            "resolution_note",
            "resolved_at",
            "resolved_by_id",
        )
    )


def resolve_open(alice, *accounts):
    for account in accounts:
        item = RiskItem.objects.open().get(account=account)
        resolve(actor=alice, item=item, resolution="saved", note="called them")


def test_re_running_30_days_twice_with_items_resolved_in_between_changes_no_row(alice, book):
    # One run, day by day as the nightly would, with people resolving items half way.
    with time_machine.travel(datetime.combine(MIDDLE, time(3), tzinfo=UTC), tick=False):
        run_nightly(day=MIDDLE - timedelta(days=1), first_day=START)
    with time_machine.travel(datetime.combine(MIDDLE, time(10), tzinfo=UTC), tick=False):
        resolve_open(alice, book["strategic"], book["late"])
    with time_machine.travel(datetime.combine(END + timedelta(days=1), time(3), tzinfo=UTC)):
        run_nightly(day=END, first_day=MIDDLE)
        # The resolved touch item came back the day after its resolution (the rule still
        # fires), once.
        assert RiskItem.objects.filter(account=book["strategic"]).count() == 2
        reopened = RiskItem.objects.open().get(account=book["strategic"])
        assert reopened.opened_on == MIDDLE + timedelta(days=1)
        once = rows()
        assert {row["account_id"] for row in once} >= {
            book["fading"].pk,
            book["payer"].pk,
            book["strategic"].pk,
            book["late"].pk,
        }
        with time_machine.travel(datetime.combine(END + timedelta(days=1), time(4), tzinfo=UTC)):
            resolve_open(alice, book["payer"])
            once = rows()
            call_command("run_nightly", "--date", END.isoformat(), "--from", START.isoformat())
            twice = rows()
            call_command("run_nightly", "--date", END.isoformat(), "--from", START.isoformat())
            thrice = rows()
    assert twice == once
    assert thrice == once
    assert RiskItem.objects.filter(resolved_at__isnull=False).count() == 3


def test_a_re_run_of_a_day_before_an_item_opened_makes_no_second_item(alice, book):
    with time_machine.travel(datetime.combine(END + timedelta(days=1), time(3), tzinfo=UTC)):
        run_nightly(day=END, first_day=END - timedelta(days=2))
        before = [(row["pk"], row["account_id"], row["opened_on"]) for row in rows()]
        run_nightly(day=END, first_day=START)
        after = [(row["pk"], row["account_id"], row["opened_on"]) for row in rows()]
    # Earlier days found rules firing too, but the items already seen later stay the account's
    # items: time only moves forward, so no second item opens in the past.
    assert after == before
