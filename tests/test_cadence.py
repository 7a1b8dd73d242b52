"""Cadence (DESIGN §4): tier A is touched every 7 days, B every 14, C gets automated tips every 14
(csm.workflow.touches.with_next_touch_due)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from accounts.models import Account
from csm.workflow.models import TouchKind
from csm.workflow.touches import CADENCE_DAYS, add_touch, cadence_days, with_next_touch_due
from tests.factories import AccountFactory

TODAY = date(2026, 11, 23)
START = date(2026, 1, 10)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def touch(account, when, kind=TouchKind.CALL):
    return add_touch(account_id=account.pk, kind=kind, summary="Check-in", happened_at=when)


def at(day, hour=10):
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def due(account):
    return with_next_touch_due(Account.objects.filter(pk=account.pk)).get()


def test_the_cadence_is_7_days_for_a_14_for_b_and_tips_every_14_for_c():
    assert dict(CADENCE_DAYS) == {"A": 7, "B": 14}
    assert [cadence_days(tier) for tier in "ABC"] == [7, 14, 14]


@pytest.mark.parametrize(("tier", "days"), [("A", 7), ("B", 14), ("C", 14)])
def test_a_never_touched_account_is_due_a_cadence_after_its_contract_start(db, tier, days):
    account = AccountFactory(tier=tier, contract_start=START)
    row = due(account)
    assert row.last_touch_at is None
    assert row.next_touch_due == START + timedelta(days=days)


@pytest.mark.parametrize(("tier", "days"), [("A", 7), ("B", 14)])
def test_a_and_b_are_due_a_cadence_after_the_latest_csm_touch(db, tier, days):
    account = AccountFactory(tier=tier, contract_start=START)
    touch(account, at(date(2026, 11, 1)))
    latest = touch(account, at(date(2026, 11, 10)), kind=TouchKind.MEETING)
    touch(account, at(date(2026, 11, 20)), kind=TouchKind.AUTOMATED)  # not a CSM touch
    row = due(account)
    assert row.last_touch_at == latest.happened_at
    assert row.next_touch_due == date(2026, 11, 10) + timedelta(days=days)


def test_tier_c_counts_only_automated_tips(db):
    account = AccountFactory(tier="C", contract_start=START)
    tips = touch(account, at(date(2026, 11, 5)), kind=TouchKind.AUTOMATED)
    touch(account, at(date(2026, 11, 20)))  # a call does not reset the tips cadence
    row = due(account)
    assert row.last_touch_at == tips.happened_at
    assert row.next_touch_due == date(2026, 11, 19)


def test_the_due_date_uses_the_installations_time_zone(db, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    account = AccountFactory(tier="A", contract_start=START)
    touch(account, datetime(2026, 11, 10, 20, 30, tzinfo=UTC))  # 11 Nov, 04:30 in Shanghai
    assert due(account).next_touch_due == date(2026, 11, 18)


def test_the_cadence_comes_from_settings(db, settings):
    settings.TOUCH_CADENCE_A_DAYS = 3
    settings.TIPS_EVERY_DAYS = 30
    a_account = AccountFactory(tier="A", contract_start=START)
    c_account = AccountFactory(tier="C", contract_start=START)
    assert due(a_account).next_touch_due == START + timedelta(days=3)
    assert due(c_account).next_touch_due == START + timedelta(days=30)


def test_lists_filter_touches_due_or_overdue_in_one_query(db, django_assert_num_queries):
    overdue = AccountFactory(name="Overdue", tier="A", contract_start=START)
    touch(overdue, at(TODAY - timedelta(days=9)))
    due_today = AccountFactory(name="Due today", tier="B", contract_start=START)
    touch(due_today, at(TODAY - timedelta(days=14)))
    fine = AccountFactory(name="Fine", tier="A", contract_start=START)
    touch(fine, at(TODAY - timedelta(days=2)))
    for _ in range(10):
        touch(fine, at(TODAY - timedelta(days=3)))
    # one SELECT with the cadence computed in correlated subqueries, however many touches
    with django_assert_num_queries(1):
        rows = list(
            with_next_touch_due(Account.objects.all())
            .filter(next_touch_due__lte=TODAY)
            .order_by("next_touch_due")
            .values_list("name", "next_touch_due")
        )
    assert rows == [("Overdue", TODAY - timedelta(days=2)), ("Due today", TODAY)]


def test_cadence_counts_per_book_count_paying_a_and_b_accounts_due_on_or_after_the_day(db):
    from csm.workflow.touches import cadence_counts
    from tests.factories import SubscriptionFactory, UserFactory

    alice, bob = UserFactory(name="Alice"), UserFactory(name="Bob")

    def account(owner, tier, touched=None, paying=True):
        made = AccountFactory(owner=owner, tier=tier, contract_start=START)
        if paying:
            SubscriptionFactory(account=made, start_date=START)
        if touched:
            touch(made, at(touched))
        return made

    account(alice, "A", touched=TODAY - timedelta(days=7))  # due today: kept
    account(alice, "A", touched=TODAY - timedelta(days=8))  # due yesterday: overdue
    account(alice, "B", touched=TODAY - timedelta(days=10))  # kept
    account(alice, "C")  # automated tips: no CSM cadence
    account(alice, "A", paying=False)  # not a customer
    account(bob, "B")  # never touched since START: overdue
    AccountFactory(owner=None, tier="A", contract_start=START)  # no book

    counts = cadence_counts(TODAY)
    assert counts == {
        f"owner:{alice.pk}": {"total": 3, "kept": 2},
        f"owner:{bob.pk}": {"total": 1, "kept": 0},
    }
    assert cadence_counts(TODAY, owners=[bob.pk]) == {f"owner:{bob.pk}": {"total": 1, "kept": 0}}


def test_cadence_counts_for_a_past_day_ignore_touches_logged_after_it(db):
    from csm.workflow.touches import cadence_counts
    from tests.factories import SubscriptionFactory, UserFactory

    alice = UserFactory(name="Alice")
    account = AccountFactory(owner=alice, tier="A", contract_start=START)
    SubscriptionFactory(account=account, start_date=START)
    touch(account, at(TODAY - timedelta(days=10)))  # due 7 days later: overdue since the 20th
    touch(account, at(TODAY, hour=1))  # logged today, after midnight

    book = f"owner:{alice.pk}"
    assert cadence_counts(TODAY)[book] == {"total": 1, "kept": 1}
    # A catch-up run for the 21st counts the touches up to the 21st only.
    assert cadence_counts(TODAY - timedelta(days=2))[book] == {"total": 1, "kept": 0}


def test_todays_touches_due_query_matches_the_next_touch_due_index(db):
    """On PostgreSQL, csm migration 0006 indexes next_touch_due_expression(): the team's Today
    list sorted by it must be able to read that index (sequential scans off: on a table this
    small the planner would rather scan). SQLite has no such index."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from csm.workflow.today import today_for
    from tests.factories import UserFactory

    manager = UserFactory(role="manager")
    with CaptureQueriesContext(connection) as captured:
        today_for(user=manager, day=TODAY)
    [touches_due] = [q["sql"] for q in captured.captured_queries if "next_touch_due" in q["sql"]]
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, Account._meta.db_table)
        if connection.vendor != "postgresql":
            assert "account_next_touch_due" not in indexes
            return
        assert "account_next_touch_due" in indexes
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {touches_due}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "account_next_touch_due" in plan
