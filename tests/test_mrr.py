from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.mrr import (
    Month,
    SubscriptionTerms,
    is_active,
    month_end_series,
    month_end_series_by_account,
    mrr_on,
    subscription_mrr,
)


def terms(start, end=None, mrr="100.00"):
    return SubscriptionTerms(start, end, Decimal(mrr))


def test_a_yearly_plan_of_1200_is_100_a_month():
    assert subscription_mrr(Decimal("1200"), "year") == Decimal("100.00")


def test_a_monthly_plan_counts_in_full():
    assert subscription_mrr(Decimal("49.99"), "month") == Decimal("49.99")


def test_yearly_amounts_round_half_up_to_cents():
    # 1000 / 12 = 83.333… → 83.33; 100.02 / 12 = 8.335 → 8.34; 100.14 / 12 = 8.345 → 8.35,
    # where banker's rounding would give 8.34.
    assert subscription_mrr(Decimal("1000"), "year") == Decimal("83.33")
    assert subscription_mrr(Decimal("100.02"), "year") == Decimal("8.34")
    assert subscription_mrr(Decimal("100.14"), "year") == Decimal("8.35")


def test_an_unknown_interval_is_refused():
    with pytest.raises(ValueError, match="interval"):
        subscription_mrr(Decimal("10"), "week")


def test_the_vendor_book_example_sums_to_12500():
    monthly = [
        terms(date(2025, 1, 1), mrr=subscription_mrr(Decimal("100"), "month")) for _ in range(100)
    ]
    yearly = [
        terms(date(2025, 1, 1), mrr=subscription_mrr(Decimal("600"), "year")) for _ in range(50)
    ]
    assert mrr_on(monthly + yearly, date(2025, 6, 30)) == Decimal("12500.00")


def test_a_subscription_is_active_from_its_start_and_not_on_its_end_date():
    sub = terms(date(2025, 3, 10), date(2025, 4, 10))
    assert not is_active(sub, date(2025, 3, 9))
    assert is_active(sub, date(2025, 3, 10))
    assert is_active(sub, date(2025, 4, 9))
    assert not is_active(sub, date(2025, 4, 10))


def test_a_blank_end_date_is_ongoing():
    assert is_active(terms(date(2020, 1, 1)), date(2099, 1, 1))


def test_month_end_mrr_is_taken_on_the_last_day_of_the_month():
    # Ends on the last day of March: not active that day, so March's month-end MRR is 0.
    ends_on_last_day = terms(date(2025, 1, 15), date(2025, 3, 31))
    # Ends on April 1st: still active on March 31.
    ends_on_first = terms(date(2025, 1, 15), date(2025, 4, 1), mrr="50.00")
    series = month_end_series([ends_on_last_day, ends_on_first], Month(2025, 1), Month(2025, 4))
    assert series == {
        Month(2025, 1): Decimal("150.00"),
        Month(2025, 2): Decimal("150.00"),
        Month(2025, 3): Decimal("50.00"),
        Month(2025, 4): Decimal("0.00"),
    }


def test_a_start_on_the_31st_counts_in_that_month():
    series = month_end_series([terms(date(2025, 1, 31))], Month(2024, 12), Month(2025, 2))
    assert series[Month(2024, 12)] == 0
    assert series[Month(2025, 1)] == Decimal("100.00")
    assert series[Month(2025, 2)] == Decimal("100.00")


def test_leap_february_ends_on_the_29th():
    assert Month(2024, 2).last_day == date(2024, 2, 29)
    assert Month(2025, 2).last_day == date(2025, 2, 28)
    series = month_end_series([terms(date(2024, 2, 29))], Month(2024, 2), Month(2024, 2))
    assert series[Month(2024, 2)] == Decimal("100.00")


def test_an_upgrade_mid_month_shows_the_new_plan_at_month_end():
    old = terms(date(2025, 1, 1), date(2025, 2, 14), mrr="100.00")
    new = terms(date(2025, 2, 14), mrr="250.00")
    series = month_end_series([old, new], Month(2025, 1), Month(2025, 2))
    assert series == {Month(2025, 1): Decimal("100.00"), Month(2025, 2): Decimal("250.00")}


def test_series_by_account_keeps_accounts_apart_and_sums_to_the_book():
    rows = [
        ("a", terms(date(2025, 1, 1), mrr="100.00")),
        ("a", terms(date(2025, 1, 1), date(2025, 2, 10), mrr="20.00")),
        ("b", terms(date(2025, 2, 1), mrr="70.00")),
    ]
    by_account = month_end_series_by_account(rows, Month(2025, 1), Month(2025, 2))
    assert by_account["a"] == {Month(2025, 1): Decimal("120.00"), Month(2025, 2): Decimal("100.00")}
    assert by_account["b"] == {Month(2025, 1): Decimal("0.00"), Month(2025, 2): Decimal("70.00")}
    book = month_end_series([t for _, t in rows], Month(2025, 1), Month(2025, 2))
    for month, total in book.items():
        assert total == by_account["a"][month] + by_account["b"][month]


def test_months_step_over_year_ends():
    assert Month(2025, 12).next() == Month(2026, 1)
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert Month(2026, 3).minus(23) == Month(2024, 4)
    assert str(Month.parse("2026-03")) == "2026-03"


@pytest.mark.parametrize("text", ["2026-13", "2026-3-1", "26-03", "march", ""])
def test_a_bad_month_is_refused(text):
    with pytest.raises(ValueError):
        Month.parse(text)
