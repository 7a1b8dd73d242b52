"""The nightly KPI step: MRR movements and snapshots per scope, closed months written once, the
month to date rewritten, idempotent; and the SQL path agrees with the pure definitions."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.models import Subscription
from accounts.mrr import Month, month_end_series
from csm.kpis.metrics import classify_mrr_movements, cohort_table, month_totals, monthly_kpis
from csm.kpis.models import KpiSnapshot, MrrMovement
from csm.kpis.snapshots import cohorts, kpis_for_month, refresh_kpis
from feedback.models import Response, Survey
from tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
D = Decimal


def snapshot(scope: str, month: str) -> KpiSnapshot:
    return KpiSnapshot.objects.get(scope=scope, month=Month.parse(month).first_day)


@pytest.fixture
def book(alice, bob):
    """Alice's two accounts and Bob's one, from January 2025."""
    a1 = AccountFactory(owner=alice)
    a2 = AccountFactory(owner=alice)
    b1 = AccountFactory(owner=bob)
    SubscriptionFactory(account=a1, start_date=date(2025, 1, 10), amount=D("100"))
    SubscriptionFactory(
        account=a2, start_date=date(2025, 1, 20), end_date=date(2025, 3, 15), amount=D("50")
    )
    SubscriptionFactory(account=b1, start_date=date(2025, 2, 1), amount=D("1200"), interval="year")
    return a1, a2, b1


def test_the_nightly_writes_every_month_for_all_and_for_each_book(book, alice, bob):
    summary = refresh_kpis(day=date(2025, 4, 10))
    scopes = {"all", f"owner:{alice.pk}", f"owner:{bob.pk}"}
    assert set(KpiSnapshot.objects.values_list("scope", flat=True)) == scopes
    assert summary["kpi_snapshots"] == 3 * 4  # January to April
    march = snapshot("all", "2025-03").values
    assert march["churned_customers"] == 1 and march["mrr_churn"] == "50.00"
    assert march["customers_start"] == 3 and march["mrr_end"] == "200.00"
    assert snapshot(f"owner:{bob.pk}", "2025-03").values["customers_end"] == 1
    assert snapshot(f"owner:{alice.pk}", "2025-03").values["churned_customers"] == 1
    assert snapshot("all", "2025-03").closed and not snapshot("all", "2025-04").closed


def test_the_mrr_movement_rows_hold_each_accounts_month(book):
    a1, a2, b1 = book
    refresh_kpis(day=date(2025, 4, 10))
    row = MrrMovement.objects.get(account=a2, month=date(2025, 3, 1))
    assert (row.mrr_start, row.mrr_end, row.movement, row.amount) == (
        D("50"),
        D("0"),
        "churn",
        D("50"),
    )
    assert not MrrMovement.objects.filter(account=a2, month=date(2025, 4, 1)).exists()
    assert MrrMovement.objects.get(account=b1, month=date(2025, 2, 1)).movement == "new"


def test_running_the_same_day_twice_gives_the_same_rows(book):
    refresh_kpis(day=date(2025, 4, 10))
    before = list(KpiSnapshot.objects.values_list("scope", "month", "values", "closed"))
    movements = list(MrrMovement.objects.values_list("account_id", "month", "movement", "amount"))
    summary = refresh_kpis(day=date(2025, 4, 10))
    assert summary["mrr_movements_written"] == 0  # nothing changed
    assert list(KpiSnapshot.objects.values_list("scope", "month", "values", "closed")) == before
    assert (
        list(MrrMovement.objects.values_list("account_id", "month", "movement", "amount"))
        == movements
    )


def test_closed_months_are_written_once_and_the_month_to_date_every_night(book):
    a1, _a2, _b1 = book
    refresh_kpis(day=date(2025, 4, 10))
    # A late change to February: the closed month keeps its numbers; April is recomputed.
    SubscriptionFactory(account=a1, start_date=date(2025, 2, 5), amount=D("10"))
    summary = refresh_kpis(day=date(2025, 4, 11))
    assert summary["kpi_snapshots"] == 3  # April, for each scope
    assert snapshot("all", "2025-02").values["mrr_end"] == "250.00"
    assert snapshot("all", "2025-04").values["mrr_end"] == "210.00"


def test_a_missing_closed_month_is_filled_in(book):
    refresh_kpis(day=date(2025, 4, 10))
    KpiSnapshot.objects.filter(scope="all", month=date(2025, 2, 1)).delete()
    refresh_kpis(day=date(2025, 4, 11))
    assert snapshot("all", "2025-02").closed


def test_the_month_to_date_is_measured_on_the_day_and_closed_on_its_last_day(book):
    _a1, _a2, b1 = book
    Subscription.objects.filter(account=b1).update(end_date=date(2025, 4, 20))
    refresh_kpis(day=date(2025, 4, 10))
    assert snapshot("all", "2025-04").values["churned_customers"] == 0  # still paying on the 10th
    refresh_kpis(day=date(2025, 4, 30))
    april = snapshot("all", "2025-04")
    assert april.closed and april.values["churned_customers"] == 1
    assert MrrMovement.objects.get(account=b1, month=date(2025, 4, 1)).movement == "churn"


def test_snapshots_of_closed_months_match_the_on_demand_computation(book, alice):
    refresh_kpis(day=date(2025, 6, 3))
    for month in ("2025-01", "2025-02", "2025-03", "2025-05"):
        assert snapshot("all", month).values == kpis_for_month(Month.parse(month))
        assert snapshot(f"owner:{alice.pk}", month).values == kpis_for_month(
            Month.parse(month), owner=alice
        )


def test_nps_counts_the_answers_given_in_the_month(book, alice):
    a1, a2, b1 = book
    survey = Survey.objects.create(name="NPS", kind="nps", question="Recommend us?")
    for account, score, when in (
        (a1, 10, datetime(2025, 3, 2, tzinfo=UTC)),
        (a2, 9, datetime(2025, 3, 20, tzinfo=UTC)),
        (b1, 3, datetime(2025, 3, 31, 12, tzinfo=UTC)),
        (b1, 0, datetime(2025, 4, 1, 9, tzinfo=UTC)),  # April
    ):
        Response.objects.create(
            survey=survey,
            account=account,
            kind="nps",
            score=score,
            scale_min=0,
            scale_max=10,
            answered_at=when,
        )
    refresh_kpis(day=date(2025, 4, 10))
    assert snapshot("all", "2025-03").values["nps"] == 33.4  # 66.7% promoters − 33.3% detractors
    assert snapshot(f"owner:{alice.pk}", "2025-03").values["nps"] == 100.0
    assert snapshot("all", "2025-02").values["nps"] is None
    assert kpis_for_month(Month(2025, 4))["nps"] == -100.0


def test_the_sql_path_agrees_with_the_pure_definitions_on_a_random_book(alice):
    rng = random.Random(42)
    first, last = Month(2024, 1), Month(2025, 12)
    accounts = [AccountFactory(owner=alice if n % 2 else None) for n in range(25)]
    subs = []
    for account in accounts:
        for _ in range(rng.randint(1, 3)):
            start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 700))
            end = None if rng.random() < 0.4 else start + timedelta(days=rng.randrange(1, 300))
            subs.append(
                SubscriptionFactory(
                    account=account,
                    start_date=start,
                    end_date=end,
                    amount=D(rng.choice(["0", "49", "100.14", "1200", "999.99"])),
                    interval=rng.choice(["month", "year"]),
                )
            )
    series = {
        a.pk: month_end_series([s for s in subs if s.account_id == a.pk], first, last)
        for a in accounts
    }
    moves = [mv for s in series.values() for mv in classify_mrr_movements(s).values()]
    for month in (Month(2024, 9), Month(2025, 2), Month(2025, 7)):
        previous = [month_totals(month.minus(n), moves) for n in range(1, 7)]
        expected = monthly_kpis(month_totals(month, moves), previous=previous)
        assert kpis_for_month(month) == expected, month

    refresh_kpis(day=last.last_day)
    rows = cohorts(first=first, last=last)
    pure = cohort_table(series, last=last)
    assert [(r.month, r.size, r.mrr, r.logo, r.revenue) for r in rows] == [
        (r.month, r.size, r.mrr, r.logo, r.revenue) for r in pure
    ]


def test_nightly_runs_month_after_month_agree_with_the_on_demand_computation(alice, bob):
    # Churn every other month so LTV has churn rates to average; runs go one night at a time,
    # so the later months take their LTV inputs from the closed snapshots.
    for n in range(12):
        account = AccountFactory(owner=alice if n % 2 else bob)
        SubscriptionFactory(
            account=account,
            start_date=date(2025, 1, 3),
            end_date=date(2025, 2 + n % 10, 7) if n % 3 == 0 else None,
            amount=D("100") + n,
        )
    day = date(2025, 1, 31)
    refresh_kpis(day=day)
    while day < date(2025, 9, 12):
        day += timedelta(days=9)
        refresh_kpis(day=day)
    month = Month.of(day)
    assert not snapshot("all", str(month)).closed
    assert snapshot("all", str(month)).values == kpis_for_month(month, as_of=day)
    assert snapshot(f"owner:{bob.pk}", str(month)).values == kpis_for_month(
        month, owner=bob, as_of=day
    )
    assert snapshot("all", str(month)).values["ltv"] is not None
    for closed in ("2025-03", "2025-06", "2025-08"):
        assert snapshot("all", closed).values == kpis_for_month(Month.parse(closed))


def test_a_backfilled_earlier_day_leaves_closed_months_alone(book):
    refresh_kpis(day=date(2025, 4, 10))
    march = snapshot("all", "2025-03")
    summary = refresh_kpis(day=date(2025, 3, 12))  # e.g. run_nightly --from an old date
    assert summary["kpi_snapshots"] == 0
    assert snapshot("all", "2025-03").values == march.values
    assert snapshot("all", "2025-03").closed
