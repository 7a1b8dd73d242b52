"""import_subscriptions: validation with line numbers, upsert by subscription_id, all-or-nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, ManagementUtility, call_command
from django.core.management import base as management_base

from accounts import imports
from accounts.models import Account, ImportKind, Subscription
from tests.factories import AccountFactory, SubscriptionFactory

HEADER = "subscription_id,account_external_id,start_date,end_date,amount,interval"
GOOD = {
    "subscription_id": "sub-1",
    "account_external_id": "acme",
    "start_date": "2025-01-15",
    "end_date": "",
    "amount": "1200.00",
    "interval": "year",
}


def csv(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def row(**changes: str) -> str:
    values = {**GOOD, **changes}
    return ",".join(values[column] for column in HEADER.split(","))


def errors_of(text: str) -> list[str]:
    return imports.plan_import(ImportKind.SUBSCRIPTIONS, text, filename="subs.csv").errors


def run(text: str) -> imports.Plan:
    return imports.run_import(ImportKind.SUBSCRIPTIONS, text, filename="subs.csv", actor=None)


def snapshot() -> list[tuple]:
    return list(
        Subscription.objects.order_by("pk").values_list(
            "subscription_id", "account_id", "start_date", "end_date", "amount", "interval", "mrr"
        )
    )


@pytest.fixture
def acme(db):
    return AccountFactory(external_id="acme")


def test_it_creates_subscriptions_and_their_mrr(acme):
    plan = run(
        csv(
            HEADER,
            row(subscription_id="yearly", amount="1200", interval="year"),
            row(subscription_id="monthly", amount="99.5", interval="MONTH", end_date="2026-01-15"),
        )
    )
    assert plan.summary == {"created": 2, "updated": 0, "unchanged": 0}
    yearly = Subscription.objects.get(subscription_id="yearly")
    assert (yearly.account, yearly.amount, yearly.mrr, yearly.end_date) == (
        acme,
        Decimal("1200.00"),
        Decimal("100.00"),
        None,
    )
    monthly = Subscription.objects.get(subscription_id="monthly")
    assert (monthly.interval, monthly.mrr, monthly.end_date) == (
        "month",
        Decimal("99.50"),
        date(2026, 1, 15),
    )


# --- Every kind of bad value ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("start_date", "2025/01/15", "not a date (YYYY-MM-DD)"),
        ("start_date", "", "required"),
        ("end_date", "2025-13-01", "not a date (YYYY-MM-DD)"),
        ("interval", "week", "must be one of month, year"),
        ("interval", "", "required"),
        ("amount", "-5", "must not be negative"),
        ("amount", "ten", "not a number"),
        ("amount", '"1,200"', "not a number"),  # quoted, as spreadsheets write it
        ("amount", "NaN", "not a number"),
        ("amount", "1.234", "at most 2 decimal places"),
        ("amount", "", "required"),
        ("amount", "1000000000000", "too large"),
        ("account_external_id", "nobody", "unknown account"),
        ("account_external_id", "", "required"),
        ("subscription_id", "", "required"),
    ],
)
def test_each_bad_value_is_reported_with_its_line_and_column(acme, column, value, problem):
    text = csv(HEADER, row(subscription_id="ok"), row(**{column: value}))
    assert errors_of(text) == [f"line 3: {column}: {problem}"]


@pytest.mark.parametrize("end_date", ["2025-01-14", "2025-01-15"])
def test_an_end_date_not_after_the_start_is_an_error(acme, end_date):
    text = csv(HEADER, row(start_date="2025-01-15", end_date=end_date))
    assert errors_of(text) == ["line 2: end_date: must be after start_date"]


def test_a_duplicate_subscription_id_is_an_error_on_the_later_line(acme):
    text = csv(HEADER, row(subscription_id="s"), row(subscription_id="t"), row(subscription_id="s"))
    assert errors_of(text) == ["line 4: subscription_id: duplicate of line 2"]


def test_a_missing_key_column_is_an_error_on_line_1(db):
    text = csv("account_external_id,start_date,end_date,amount,interval", "acme,2025-01-15,,1,year")
    assert errors_of(text) == ["line 1: subscription_id: missing column"]


def test_every_column_is_required_in_the_header(db):
    text = csv("subscription_id,account_external_id,start_date,amount,interval,plan", "x")
    assert errors_of(text) == [
        "line 1: plan: unknown column",
        "line 1: end_date: missing column",
    ]


def test_a_file_mixing_good_and_bad_rows_writes_nothing(acme):
    SubscriptionFactory(subscription_id="sub-1", account=acme, amount=Decimal("100.00"))
    before = snapshot()
    text = csv(
        HEADER,
        row(subscription_id="sub-1", amount="900", interval="month"),
        row(subscription_id="sub-2"),
        row(subscription_id="sub-3", amount="-1"),
        row(subscription_id="sub-4", account_external_id="ghost"),
    )
    with pytest.raises(imports.ImportErrors) as raised:
        run(text)
    assert raised.value.errors == [
        "line 4: amount: must not be negative",
        "line 5: account_external_id: unknown account",
    ]
    assert snapshot() == before
    assert Subscription.objects.count() == 1


# --- Upsert --------------------------------------------------------------------------------------


def test_it_updates_existing_subscriptions_and_their_mrr(acme):
    other = AccountFactory(external_id="other")
    SubscriptionFactory(subscription_id="sub-1", account=acme, amount=Decimal("100.00"))
    SubscriptionFactory(
        subscription_id="sub-2", account=acme, amount=Decimal("50.00"), start_date=date(2025, 1, 15)
    )
    plan = run(
        csv(
            HEADER,
            row(subscription_id="sub-1", amount="2400", interval="year", end_date="2026-01-15"),
            row(subscription_id="sub-2", amount="50", interval="month"),
            row(subscription_id="sub-3", account_external_id="other"),
        )
    )
    assert plan.summary == {"created": 1, "updated": 1, "unchanged": 1}
    updated = next(r for r in plan.rows if r.key == "sub-1")
    assert updated.changed_fields == ["end_date", "amount", "interval"]
    sub = Subscription.objects.get(subscription_id="sub-1")
    assert (sub.amount, sub.interval, sub.mrr, sub.end_date) == (
        Decimal("2400.00"),
        "year",
        Decimal("200.00"),
        date(2026, 1, 15),
    )
    assert Subscription.objects.get(subscription_id="sub-3").account == other


@time_machine.travel("2026-03-01 12:00Z", tick=False)
def test_tiers_are_refreshed_for_the_accounts_a_subscription_left_and_joined(db):
    old = AccountFactory(external_id="old", tier="A")
    new = AccountFactory(external_id="new", tier="C")
    SubscriptionFactory(subscription_id="big", account=old, amount=Decimal("3000.00"))
    moved = row(subscription_id="big", account_external_id="new", amount="3000", interval="month")
    run(csv(HEADER, moved))
    assert Account.objects.get(pk=old.pk).tier == "C"
    assert Account.objects.get(pk=new.pk).tier == "A"


def test_a_file_is_checked_with_a_few_queries_whatever_its_length(acme, django_assert_num_queries):
    short = csv(HEADER, *[row(subscription_id=f"s-{n}") for n in range(3)])
    long = csv(HEADER, *[row(subscription_id=f"s-{n}") for n in range(1500)])
    # One query for the stored subscriptions, one for the accounts they name.
    with django_assert_num_queries(2):
        imports.plan_import(ImportKind.SUBSCRIPTIONS, short, filename="s.csv")
    with django_assert_num_queries(2):
        imports.plan_import(ImportKind.SUBSCRIPTIONS, long, filename="s.csv")


# --- The command ---------------------------------------------------------------------------------


def write(tmp_path, text: str):
    path = tmp_path / "subscriptions.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_command_imports_and_prints_a_summary(acme, tmp_path):
    SubscriptionFactory(subscription_id="sub-1", account=acme, amount=Decimal("1200"))
    path = write(
        tmp_path,
        csv(
            HEADER,
            row(subscription_id="sub-1", amount="1200", interval="month"),
            row(subscription_id="b"),
        ),
    )
    out = StringIO()
    call_command("import_subscriptions", str(path), stdout=out)
    assert out.getvalue().strip() == "subscriptions: 1 created, 0 updated, 1 unchanged"


def test_the_command_prints_every_error_and_fails_with_code_1(acme, tmp_path):
    path = write(
        tmp_path,
        csv(
            HEADER,
            row(subscription_id="a", amount="abc"),
            row(subscription_id="b", start_date="2025-02-01", end_date="2025-01-01"),
            row(subscription_id="c", interval="weekly"),
        ),
    )
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_subscriptions", str(path), stderr=err)
    assert raised.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "line 2: amount: not a number",
        "line 3: end_date: must be after start_date",
        "line 4: interval: must be one of month, year",
    ]
    assert Subscription.objects.count() == 0


def test_the_command_line_exits_with_status_1_and_writes_nothing(
    acme, tmp_path, monkeypatch, capsys
):
    path = write(
        tmp_path, csv(HEADER, row(subscription_id="a"), row(subscription_id="b", amount="-3"))
    )
    # run_from_argv closes the connections when it ends; the test database must stay open.
    monkeypatch.setattr(management_base.connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "import_subscriptions", str(path)]).execute()
    assert exited.value.code == 1
    assert "line 3: amount: must not be negative\n" in capsys.readouterr().err
    assert Subscription.objects.count() == 0
