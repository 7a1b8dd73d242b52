"""`kpis --month YYYY-MM --json` (DESIGN §5): exactly the contract's keys, money as strings with
two places, rates as numbers, null where undefined; a bad month is a clear error."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from csm.kpis.metrics import KPI_KEYS
from tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

CONTRACT_KEYS = [
    "month", "customers_start", "customers_end", "new_customers", "reactivated_customers",
    "churned_customers", "customer_churn_rate", "mrr_start", "mrr_end", "mrr_new",
    "mrr_expansion", "mrr_contraction", "mrr_churn", "mrr_reactivation", "gross_mrr_churn_rate",
    "net_mrr_churn_rate", "grr", "nrr", "quick_ratio", "arpa", "ltv", "nps",
]  # fmt: skip


def kpis(*args: str) -> str:
    out = StringIO()
    call_command("kpis", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def book(alice):
    keeps = AccountFactory(owner=alice)
    leaves = AccountFactory()
    SubscriptionFactory(account=keeps, start_date=date(2025, 1, 5), amount=Decimal("100"))
    SubscriptionFactory(
        account=keeps, start_date=date(2025, 3, 5), amount=Decimal("600"), interval="year"
    )
    SubscriptionFactory(
        account=leaves,
        start_date=date(2025, 1, 5),
        end_date=date(2025, 3, 20),
        amount=Decimal("99.99"),
    )


def test_it_prints_exactly_the_contract_keys(book):
    values = json.loads(kpis("--month", "2025-03", "--json"))
    assert list(values) == CONTRACT_KEYS == list(KPI_KEYS)


def test_it_prints_money_as_strings_and_rates_as_numbers(book):
    values = json.loads(kpis("--month", "2025-03", "--json"))
    assert values["month"] == "2025-03"
    assert (values["customers_start"], values["customers_end"]) == (2, 1)
    assert values["churned_customers"] == 1
    assert values["customer_churn_rate"] == 0.5
    assert values["mrr_start"] == "199.99"
    assert values["mrr_end"] == "150.00"
    assert values["mrr_expansion"] == "50.00"
    assert values["mrr_churn"] == "99.99"
    assert values["mrr_new"] == "0.00"
    # (99.99 − 50) / 199.99 = 0.24996… → 0.249962
    assert values["net_mrr_churn_rate"] == 0.249962
    assert values["gross_mrr_churn_rate"] == 0.499975  # 99.99 / 199.99
    assert values["quick_ratio"] == 0.50005
    assert values["arpa"] == "150.00"


def test_it_prints_null_where_a_denominator_is_zero(book):
    values = json.loads(kpis("--month", "2025-01", "--json"))
    assert values["customers_start"] == 0 and values["new_customers"] == 2
    assert values["customer_churn_rate"] is None
    assert values["grr"] is None and values["quick_ratio"] is None
    assert values["ltv"] is None and values["nps"] is None
    assert values["mrr_new"] == "199.99"


def test_a_month_without_any_data_prints_zeros_and_nulls(db):
    values = json.loads(kpis("--month", "2019-07", "--json"))
    assert values["mrr_end"] == "0.00" and values["customers_end"] == 0
    assert values["arpa"] is None


def test_it_prints_a_readable_table_without_json(book):
    text = kpis("--month", "2025-03")
    assert "customer_churn_rate" in text and "50.00%" in text
    assert "199.99" in text


def test_it_can_limit_to_one_csms_book(book, alice):
    values = json.loads(kpis("--month", "2025-03", "--json", "--owner", alice.email))
    assert values["customers_start"] == 1 and values["churned_customers"] == 0


@pytest.mark.parametrize("month", ["2025-13", "2025-3x", "March", "25-03", ""])
def test_a_bad_month_is_refused_naming_the_option(db, month):
    with pytest.raises(CommandError, match="--month"):
        kpis("--month", month, "--json")


def test_an_unknown_owner_is_refused_naming_the_option(db):
    with pytest.raises(CommandError, match="--owner"):
        kpis("--month", "2025-03", "--owner", "nobody@example.com")
