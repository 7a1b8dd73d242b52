"""MRR movements, monthly KPIs and cohorts (DESIGN §4), on the pure functions of
csm.kpis.metrics."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from accounts.mrr import Month, SubscriptionTerms, month_end_series, subscription_mrr
from csm.kpis.metrics import (
    KPI_KEYS,
    MonthMovement,
    MonthTotals,
    classify_mrr_movements,
    cohort_table,
    month_totals,
    monthly_kpis,
    totals_by_scope,
)

D = Decimal


def sub(start, end=None, amount="100", interval="month"):
    return SubscriptionTerms(start, end, subscription_mrr(D(amount), interval))


JAN_2024, DEC_2024 = Month(2024, 1), Month(2024, 12)


def movements(subs, first=JAN_2024, last=DEC_2024):
    """{month: (movement, amount)} of one account, months where it was a customer."""
    series = month_end_series(subs, first, last)
    return {str(m): (mv.movement, mv.amount) for m, mv in classify_mrr_movements(series).items()}


# --- The vendor examples --------------------------------------------------------------------


def test_the_vendor_example_gives_gross_20_and_net_10_percent():
    totals = MonthTotals(
        Month(2025, 3),
        customers_start=1,
        customers_end=1,
        mrr_start=D("100"),
        mrr_end=D("90"),
        mrr_churn=D("10"),
        mrr_contraction=D("10"),
        mrr_expansion=D("10"),
    )
    kpis = monthly_kpis(totals)
    assert kpis["gross_mrr_churn_rate"] == 0.2
    assert kpis["net_mrr_churn_rate"] == 0.1
    assert kpis["grr"] == 0.8
    assert kpis["nrr"] == 0.9
    assert kpis["quick_ratio"] == 0.5


def test_arpa_of_100_at_5_percent_churn_gives_an_ltv_of_2000():
    month = Month(2025, 7)
    previous = [
        MonthTotals(month.minus(n), customers_start=100, churned_customers=5) for n in range(1, 7)
    ]
    totals = MonthTotals(month, customers_start=100, customers_end=100, mrr_end=D("10000"))
    kpis = monthly_kpis(totals, previous=previous)
    assert kpis["arpa"] == "100.00"
    assert kpis["ltv"] == "2000.00"


def test_a_yearly_plan_of_1200_counts_100_a_month():
    assert movements([sub(date(2024, 3, 5), amount="1200", interval="year")])["2024-03"] == (
        "new",
        D("100.00"),
    )


# --- Edge cases -----------------------------------------------------------------------------


def test_yearly_amounts_round_half_up_before_they_are_summed():
    # 100.14 / 12 = 8.345 → 8.35 (banker's rounding would give 8.34), twice → 16.70.
    subs = [sub(date(2024, 2, 1), amount="100.14", interval="year")] * 2
    assert movements(subs)["2024-02"] == ("new", D("16.70"))


def test_a_start_on_the_31st_counts_in_that_month():
    assert movements([sub(date(2024, 1, 31))])["2024-01"] == ("new", D("100.00"))


def test_an_end_date_on_the_1st_still_counts_the_month_before():
    moves = movements([sub(date(2024, 1, 10), date(2024, 4, 1))])
    assert moves["2024-03"] == ("", D("0"))
    assert moves["2024-04"] == ("churn", D("100.00"))


def test_an_end_date_on_the_last_day_churns_in_that_month():
    moves = movements([sub(date(2024, 1, 10), date(2024, 3, 31))])
    assert moves["2024-03"] == ("churn", D("100.00"))
    assert "2024-04" not in moves


def test_february_29_is_the_month_end_of_a_leap_year():
    # Ends on Feb 29: not active that day, so February 2024 churns.
    assert movements([sub(date(2024, 1, 1), date(2024, 2, 29))])["2024-02"] == (
        "churn",
        D("100.00"),
    )
    # Starts on Feb 29: counts in February.
    assert movements([sub(date(2024, 2, 29))])["2024-02"] == ("new", D("100.00"))
    # Ends on March 1: still active on Feb 29.
    assert movements([sub(date(2024, 1, 1), date(2024, 3, 1))])["2024-02"] == ("", D("0"))


def test_an_upgrade_mid_month_is_expansion_by_the_difference():
    subs = [sub(date(2024, 1, 5), date(2024, 5, 15)), sub(date(2024, 5, 15), amount="250")]
    moves = movements(subs)
    assert moves["2024-05"] == ("expansion", D("150.00"))
    assert moves["2024-06"] == ("", D("0"))


def test_a_downgrade_mid_month_is_contraction_by_the_difference():
    subs = [sub(date(2024, 1, 5), date(2024, 5, 15), "250"), sub(date(2024, 5, 15), amount="100")]
    assert movements(subs)["2024-05"] == ("contraction", D("150.00"))


def test_cancelling_one_of_two_subscriptions_is_contraction_not_churn():
    subs = [sub(date(2024, 1, 5), date(2024, 6, 10), "40"), sub(date(2024, 1, 5), amount="60")]
    assert movements(subs)["2024-06"] == ("contraction", D("40.00"))


def test_churn_then_a_comeback_is_a_reactivation():
    subs = [sub(date(2024, 1, 5), date(2024, 3, 10)), sub(date(2024, 7, 2), amount="80")]
    moves = movements(subs)
    assert moves["2024-01"] == ("new", D("100.00"))
    assert moves["2024-03"] == ("churn", D("100.00"))
    assert "2024-05" not in moves  # not a customer then
    assert moves["2024-07"] == ("reactivation", D("80.00"))


def test_joining_and_leaving_inside_one_month_leaves_no_trace():
    assert movements([sub(date(2024, 4, 3), date(2024, 4, 20))]) == {}


def test_a_free_plan_is_not_a_customer_and_converting_from_it_is_new():
    subs = [sub(date(2024, 1, 5), date(2024, 3, 5), "0"), sub(date(2024, 3, 5), amount="49")]
    moves = movements(subs)
    assert "2024-01" not in moves and "2024-02" not in moves
    assert moves["2024-03"] == ("new", D("49.00"))


def test_a_paid_month_before_the_series_makes_a_comeback_a_reactivation():
    series = {Month(2024, 5): D("0"), Month(2024, 6): D("50")}
    moves = classify_mrr_movements(series, paid_before=True)
    assert moves[Month(2024, 6)].movement == "reactivation"
    moves = classify_mrr_movements(series, start=D("20"))
    assert moves[Month(2024, 5)].movement == "churn"
    assert moves[Month(2024, 6)].movement == "reactivation"


def test_an_annual_plan_renewed_at_a_lower_price_contracts_at_renewal():
    subs = [
        sub(date(2024, 1, 15), date(2025, 1, 15), "12000", "year"),
        sub(date(2025, 1, 15), None, "9000", "year"),
    ]
    moves = movements(subs, Month(2024, 1), Month(2025, 2))
    assert moves["2024-01"] == ("new", D("1000.00"))
    assert moves["2025-01"] == ("contraction", D("250.00"))


# --- Monthly KPIs ---------------------------------------------------------------------------


def test_kpis_have_exactly_the_contract_keys_in_order():
    assert tuple(monthly_kpis(MonthTotals(Month(2025, 1)))) == KPI_KEYS


def test_every_ratio_is_null_when_its_denominator_is_zero():
    kpis = monthly_kpis(MonthTotals(Month(2025, 1)))
    for key in (
        "customer_churn_rate",
        "gross_mrr_churn_rate",
        "net_mrr_churn_rate",
        "grr",
        "nrr",
        "quick_ratio",
        "arpa",
        "ltv",
        "nps",
    ):
        assert kpis[key] is None, key
    assert kpis["mrr_start"] == "0.00"


def test_rates_are_rounded_half_up_to_six_places_and_money_to_cents():
    totals = MonthTotals(Month(2025, 1), customers_start=3, churned_customers=1, customers_end=3)
    totals.mrr_start = D("300")
    totals.mrr_end = D("100.005")
    kpis = monthly_kpis(totals)
    assert kpis["customer_churn_rate"] == 0.333333
    assert kpis["mrr_end"] == "100.01"
    assert kpis["arpa"] == "33.34"  # 33.335 → 33.34


def test_ltv_uses_only_the_six_months_before_that_had_customers():
    month = Month(2025, 9)
    previous = [
        MonthTotals(month.minus(1), customers_start=10, churned_customers=1),  # 10%
        MonthTotals(month.minus(2), customers_start=0),  # no customers: left out
        MonthTotals(month.minus(3), customers_start=20, churned_customers=1),  # 5%
        MonthTotals(month.minus(7), customers_start=1, churned_customers=1),  # too old
    ]
    totals = MonthTotals(month, customers_end=2, mrr_end=D("150"))
    assert monthly_kpis(totals, previous=previous)["ltv"] == "1000.00"  # 75 / 7.5%


def test_ltv_is_null_when_nobody_churned_in_the_six_months_before():
    month = Month(2025, 9)
    previous = [MonthTotals(month.minus(1), customers_start=10)]
    totals = MonthTotals(month, customers_end=2, mrr_end=D("150"))
    assert monthly_kpis(totals, previous=previous)["ltv"] is None


def test_nps_is_a_number_on_the_minus_100_to_100_scale():
    assert monthly_kpis(MonthTotals(Month(2025, 1)), nps=D("30.0"))["nps"] == 30.0


def test_month_totals_count_customers_and_movements():
    m = Month(2025, 2)
    moves = [
        MonthMovement(m, D("0"), D("10"), "new", D("10")),
        MonthMovement(m, D("0"), D("20"), "reactivation", D("20")),
        MonthMovement(m, D("50"), D("0"), "churn", D("50")),
        MonthMovement(m, D("30"), D("40"), "expansion", D("10")),
        MonthMovement(Month(2025, 3), D("1"), D("0"), "churn", D("1")),  # another month
    ]
    totals = month_totals(m, moves)
    kpis = monthly_kpis(totals)
    assert (kpis["customers_start"], kpis["customers_end"]) == (2, 3)
    assert (kpis["new_customers"], kpis["reactivated_customers"]) == (1, 1)
    assert kpis["churned_customers"] == 1
    assert kpis["customer_churn_rate"] == 0.5
    assert kpis["mrr_start"] == "80.00" and kpis["mrr_end"] == "70.00"


# --- The identity on generated books ---------------------------------------------------------


def random_book(rng: random.Random, accounts: int) -> dict[int, list[SubscriptionTerms]]:
    first = date(2023, 1, 1)
    book = {}
    for account in range(accounts):
        subs = []
        for _ in range(rng.randint(1, 4)):
            start = first + timedelta(days=rng.randrange(0, 800))
            end = None if rng.random() < 0.4 else start + timedelta(days=rng.randrange(1, 500))
            amount = D(rng.choice(["0", "49", "99.99", "100.14", "1200", "5000.50"]))
            subs.append(sub(start, end, str(amount), rng.choice(["month", "year"])))
        book[account] = subs
    return book


def test_mrr_end_equals_start_plus_movements_on_random_books():
    rng = random.Random(20241129)
    first, last = Month(2023, 1), Month(2025, 6)
    for _round in range(20):
        book = random_book(rng, 40)
        series = {a: month_end_series(subs, first, last) for a, subs in book.items()}
        scoped = (
            (f"owner:{a % 3}", mv)
            for a, s in series.items()
            for mv in classify_mrr_movements(s).values()
        )
        totals = totals_by_scope(scoped, everything="all")
        for scope, by_month in totals.items():
            for month, t in by_month.items():
                assert t.mrr_end == (
                    t.mrr_start
                    + t.mrr_new
                    + t.mrr_reactivation
                    + t.mrr_expansion
                    - t.mrr_contraction
                    - t.mrr_churn
                ), (scope, month)
                assert t.customers_end == (
                    t.customers_start
                    + t.new_customers
                    + t.reactivated_customers
                    - t.churned_customers
                )
        # Month-end MRR summed over the book agrees with the "all" totals.
        for month, t in totals["all"].items():
            assert t.mrr_end == sum((s[month] for s in series.values()), D("0"))


# --- Cohorts --------------------------------------------------------------------------------


def test_cohorts_measure_logo_and_revenue_retention_with_empty_future_cells():
    jan, feb, mar = Month(2025, 1), Month(2025, 2), Month(2025, 3)
    series = {
        "a": {jan: D("100"), feb: D("150"), mar: D("150")},  # expands
        "b": {jan: D("100"), feb: D("0"), mar: D("0")},  # churns in February
        "c": {jan: D("0"), feb: D("50"), mar: D("0")},  # February cohort, churns in March
        "d": {jan: D("0"), feb: D("0"), mar: D("0")},  # never paid
    }
    rows = cohort_table(series)
    assert [(str(r.month), r.size, r.mrr) for r in rows] == [
        ("2025-01", 2, D("200")),
        ("2025-02", 1, D("50")),
    ]
    assert rows[0].logo == [D(1), D("0.5"), D("0.5")]
    assert rows[0].revenue == [D(1), D("0.75"), D("0.75")]
    assert rows[1].logo == [D(1), D(0), None]  # the future is empty, a loss is 0
    assert rows[1].revenue == [D(1), D(0), None]


def test_revenue_retention_can_exceed_100_percent():
    jan, feb = Month(2025, 1), Month(2025, 2)
    rows = cohort_table({"a": {jan: D("100"), feb: D("300")}})
    assert rows[0].revenue == [D(1), D(3)]
