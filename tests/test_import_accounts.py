"""import_accounts: validation with line numbers, upsert by external_id, all-or-nothing."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, ManagementUtility, call_command
from django.core.management import base as management_base

from accounts import imports
from accounts.models import Account, AuditEntry, ImportKind
from tests.factories import AccountFactory, SubscriptionFactory

HEADER = "external_id,name,segment,owner_email,contract_start,renewal_date,strategic,tier,seats"


def csv(*lines: str, newline: str = "\n") -> str:
    return newline.join(lines) + newline


def errors_of(text: str) -> list[str]:
    return imports.plan_import(ImportKind.ACCOUNTS, text, filename="accounts.csv").errors


def run(text: str, actor=None, filename: str = "accounts.csv") -> imports.Plan:
    return imports.run_import(ImportKind.ACCOUNTS, text, filename=filename, actor=actor)


def snapshot() -> list[tuple]:
    """Every stored account field an import may write, to prove a refused file changed nothing."""
    return list(
        Account.objects.order_by("pk").values_list(
            "external_id", "name", "segment", "owner_id", "contract_start", "renewal_date",
            "strategic", "tier", "tier_override", "tier_override_reason", "seats",
        )
    )  # fmt: skip


# --- Reading the file ----------------------------------------------------------------------------


def test_it_creates_accounts_from_a_file_with_a_bom_and_crlf_line_ends(alice):
    text = "\ufeff" + csv(
        HEADER,
        "acme,Acme Inc,advanced,alice@example.com,2025-01-15,2026-01-15,false,,25",
        "globex,Globex,basic,,2025-02-01,,,,",
        newline="\r\n",
    )
    plan = run(text)
    assert plan.summary == {"created": 2, "updated": 0, "unchanged": 0}
    acme = Account.objects.get(external_id="acme")
    assert (acme.name, acme.segment, acme.owner, acme.seats) == ("Acme Inc", "advanced", alice, 25)
    assert (acme.contract_start, acme.renewal_date, acme.strategic) == (
        date(2025, 1, 15),
        date(2026, 1, 15),
        False,
    )
    globex = Account.objects.get(external_id="globex")
    assert globex.owner is None and globex.renewal_date is None and globex.seats is None


def test_optional_columns_may_be_left_out_of_the_header(db):
    run(csv("external_id,name,segment,owner_email,contract_start", "acme,Acme,basic,,2025-01-15"))
    assert Account.objects.get(external_id="acme").strategic is False


def test_owner_email_matches_a_user_whatever_the_letter_case(alice):
    run(csv(HEADER, "acme,Acme,basic,Alice@EXAMPLE.com,2025-01-15,,,,"))
    assert Account.objects.get(external_id="acme").owner == alice


def test_line_numbers_count_the_header_blank_lines_and_multi_line_values(db):
    text = csv(
        HEADER,
        "acme,Acme,basic,,2025-01-15,,,,",
        "",
        'globex,"Globex',
        'Corp",basic,,2025-01-15,,,,',
        "initech,Initech,gold,,2025-01-15,,,,",
    )
    assert errors_of(text) == [
        "line 6: segment: must be one of basic, advanced, strategic",
    ]


# --- Every kind of bad value ---------------------------------------------------------------------


GOOD = {
    "external_id": "acme",
    "name": "Acme",
    "segment": "basic",
    "owner_email": "alice@example.com",
    "contract_start": "2025-01-15",
    "renewal_date": "2026-01-15",
    "strategic": "false",
    "tier": "",
    "seats": "10",
}


def row(**changes: str) -> str:
    values = {**GOOD, **changes}
    return ",".join(values[column] for column in HEADER.split(","))


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("contract_start", "15/01/2025", "not a date (YYYY-MM-DD)"),
        ("contract_start", "2025-02-30", "not a date (YYYY-MM-DD)"),
        ("contract_start", "20250115", "not a date (YYYY-MM-DD)"),
        ("contract_start", "", "required"),
        ("renewal_date", "next year", "not a date (YYYY-MM-DD)"),
        ("segment", "gold", "must be one of basic, advanced, strategic"),
        ("segment", "", "required"),
        ("tier", "D", "must be one of A, B, C"),
        ("strategic", "yes", "must be true or false"),
        ("owner_email", "nobody@example.com", "unknown user"),
        ("seats", "-1", "must not be negative"),
        ("seats", "many", "not a whole number"),
        ("seats", "2.5", "not a whole number"),
        ("name", "", "required"),
        ("name", "x" * 201, "longer than 200 characters"),
        ("external_id", "", "required"),
        ("external_id", "a/b", "must not contain /"),
    ],
)
def test_each_bad_value_is_reported_with_its_line_and_column(alice, column, value, problem):
    text = csv(HEADER, row(external_id="ok"), row(**{column: value}))
    assert errors_of(text) == [f"line 3: {column}: {problem}"]


def test_a_renewal_before_the_contract_start_is_an_error_on_renewal_date(alice):
    text = csv(HEADER, row(contract_start="2025-06-01", renewal_date="2025-05-31"))
    assert errors_of(text) == ["line 2: renewal_date: must not be before contract_start"]


def test_every_problem_of_every_row_is_reported(alice):
    text = csv(
        HEADER,
        row(external_id="a", segment="gold", seats="-3"),
        row(external_id="b"),
        row(external_id="c", contract_start="soon", owner_email="x@example.com"),
    )
    assert errors_of(text) == [
        "line 2: segment: must be one of basic, advanced, strategic",
        "line 2: seats: must not be negative",
        "line 4: owner_email: unknown user",
        "line 4: contract_start: not a date (YYYY-MM-DD)",
    ]


def test_a_duplicate_external_id_is_an_error_on_the_later_line(alice):
    text = csv(HEADER, row(external_id="acme"), row(external_id="other"), row(external_id="acme"))
    assert errors_of(text) == ["line 4: external_id: duplicate of line 2"]


def test_a_missing_key_column_is_an_error_on_line_1(db):
    text = csv("name,segment,owner_email,contract_start", "Acme,basic,,2025-01-15")
    assert errors_of(text) == ["line 1: external_id: missing column"]


def test_an_unknown_column_is_an_error_on_line_1(db):
    text = csv(HEADER + ",region", row() + ",EMEA")
    assert errors_of(text) == ["line 1: region: unknown column"]


def test_a_row_with_the_wrong_number_of_values_is_an_error(alice):
    text = csv(HEADER, "acme,Acme,basic")
    assert errors_of(text) == ["line 2: columns: expected 9 values, found 3"]


def test_a_file_mixing_good_and_bad_rows_writes_nothing(alice, bob):
    existing = AccountFactory(external_id="acme", name="Acme", owner=alice, seats=5)
    before, audit_before = snapshot(), AuditEntry.objects.count()
    text = csv(
        HEADER,
        row(external_id="acme", name="Acme Renamed", owner_email="bob@example.com", tier="A"),
        row(external_id="new-1"),
        row(external_id="new-2", segment="gold"),
    )
    with pytest.raises(imports.ImportErrors) as raised:
        run(text)
    assert raised.value.errors == ["line 4: segment: must be one of basic, advanced, strategic"]
    assert snapshot() == before
    assert AuditEntry.objects.count() == audit_before
    existing.refresh_from_db()
    assert (existing.name, existing.owner) == ("Acme", alice)


# --- Upsert --------------------------------------------------------------------------------------


def test_it_updates_existing_accounts_and_names_the_changed_fields(alice, bob):
    AccountFactory(external_id="acme", name="Acme", segment="basic", owner=alice, seats=5)
    AccountFactory(
        external_id="globex", name="Globex", segment="basic", contract_start=date(2025, 1, 15)
    )
    plan = run(
        csv(
            "external_id,name,segment,owner_email,contract_start,seats",
            "acme,Acme Inc,advanced,bob@example.com,2025-01-15,5",
            "globex,Globex,basic,,2025-01-15,",
            "initech,Initech,basic,,2025-01-15,",
        )
    )
    assert plan.summary == {"created": 1, "updated": 1, "unchanged": 1}
    acme_row = next(r for r in plan.rows if r.key == "acme")
    assert acme_row.action == "update"
    assert acme_row.changed_fields == ["name", "segment", "owner"]
    assert ("owner", "alice@example.com", "bob@example.com") in acme_row.changes
    acme = Account.objects.get(external_id="acme")
    assert (acme.name, acme.segment, acme.owner, acme.seats) == ("Acme Inc", "advanced", bob, 5)
    assert Account.objects.count() == 3


def test_columns_left_out_keep_the_stored_values(db):
    AccountFactory(external_id="acme", renewal_date=date(2026, 1, 1), seats=7, strategic=True)
    plan = run(
        csv("external_id,name,segment,owner_email,contract_start", "acme,A,basic,,2025-01-15")
    )
    acme = Account.objects.get(external_id="acme")
    assert (acme.renewal_date, acme.seats, acme.strategic) == (date(2026, 1, 1), 7, True)
    assert plan.rows[0].changed_fields == ["name"]


def test_importing_the_same_file_twice_changes_nothing_the_second_time(alice):
    text = csv(HEADER, row(external_id="acme", tier="B"), row(external_id="globex"))
    run(text)
    assert run(text).summary == {"created": 0, "updated": 0, "unchanged": 2}


def test_a_blank_owner_unassigns_the_account(alice):
    AccountFactory(external_id="acme", owner=alice)
    run(csv(HEADER, row(external_id="acme", owner_email="")))
    assert Account.objects.get(external_id="acme").owner is None


# --- Tiers and the audit trail -------------------------------------------------------------------


def test_a_tier_sets_an_override_with_the_file_as_reason_and_blank_clears_it(db):
    AccountFactory(external_id="acme", tier="C")
    run(csv(HEADER, row(external_id="acme", owner_email="", tier="a")), filename="q3.csv")
    acme = Account.objects.get(external_id="acme")
    assert (acme.tier, acme.tier_override) == ("A", "A")
    assert acme.tier_override_reason == "set by import of q3.csv"

    run(csv(HEADER, row(external_id="acme", owner_email="", tier="")))
    acme.refresh_from_db()
    assert (acme.tier, acme.tier_override, acme.tier_override_reason) == ("C", "", "")


@time_machine.travel("2026-03-01 12:00Z", tick=False)
def test_tiers_are_refreshed_for_the_imported_accounts(db):
    account = AccountFactory(external_id="big", tier="C")
    SubscriptionFactory(account=account, amount=5000, start_date=date(2025, 1, 1))
    untouched = AccountFactory(external_id="untouched", tier="C")
    SubscriptionFactory(account=untouched, amount=5000, start_date=date(2025, 1, 1))
    run(
        csv(
            HEADER,
            row(external_id="big", name="Big", owner_email=""),
            row(external_id="strat", owner_email="", strategic="TRUE"),
        )
    )
    assert Account.objects.get(external_id="big").tier == "A"
    assert Account.objects.get(external_id="strat").tier == "A"
    # Only the accounts in the file are refreshed; the nightly job handles the rest.
    assert Account.objects.get(external_id="untouched").tier == "C"


def test_owner_and_tier_override_changes_are_audited_with_the_actor(alice, bob, maggie):
    account = AccountFactory(external_id="acme", name="Acme", owner=alice)
    run(
        csv(
            HEADER, row(external_id="acme", name="Acme 2", owner_email="bob@example.com", tier="B")
        ),
        actor=maggie,
        filename="owners.csv",
    )
    entries = AuditEntry.objects.filter(account=account)
    assert {(e.field, e.old_value, e.new_value) for e in entries} == {
        ("owner", str(alice), str(bob)),
        ("tier_override", "", "B"),
    }
    assert {(e.actor, e.action, e.reason) for e in entries} == {
        (maggie, "account.import", "set by import of owners.csv")
    }


def test_a_new_account_audits_its_owner_and_override_but_a_plain_one_leaves_no_entry(alice):
    run(csv(HEADER, row(external_id="owned", tier="A"), row(external_id="plain", owner_email="")))
    owned = Account.objects.get(external_id="owned")
    assert {(e.field, e.new_value) for e in owned.audit_entries.all()} == {
        ("owner", str(alice)),
        ("tier_override", "A"),
    }
    assert AuditEntry.objects.filter(account__external_id="plain").count() == 0


def test_a_file_is_checked_with_a_few_queries_whatever_its_length(alice, django_assert_num_queries):
    AccountFactory(external_id="acct-0")
    short = csv(HEADER, *[row(external_id=f"acct-{n}") for n in range(3)])
    long = csv(HEADER, *[row(external_id=f"acct-{n}") for n in range(1500)])
    # One query for the stored accounts (with their owners), one for the owners' emails.
    with django_assert_num_queries(2):
        imports.plan_import(ImportKind.ACCOUNTS, short, filename="a.csv")
    with django_assert_num_queries(2):
        imports.plan_import(ImportKind.ACCOUNTS, long, filename="a.csv")


# --- The command ---------------------------------------------------------------------------------


def write(tmp_path, text: str):
    path = tmp_path / "accounts.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_command_imports_and_prints_a_summary(alice, tmp_path):
    AccountFactory(external_id="acme", name="Acme")
    path = write(
        tmp_path, csv(HEADER, row(external_id="acme", name="Acme 2"), row(external_id="b"))
    )
    out = StringIO()
    call_command("import_accounts", str(path), stdout=out)
    assert out.getvalue().strip() == "accounts: 1 created, 1 updated, 0 unchanged"


def test_the_command_prints_every_error_and_fails_with_code_1(alice, tmp_path):
    path = write(
        tmp_path,
        csv(HEADER, row(external_id="a"), row(external_id="b", strategic="maybe"), row(seats="x")),
    )
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_accounts", str(path), stderr=err)
    assert raised.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "line 3: strategic: must be true or false",
        "line 4: seats: not a whole number",
    ]
    assert Account.objects.count() == 0


def test_the_command_line_exits_with_status_1_and_writes_nothing(
    alice, tmp_path, monkeypatch, capsys
):
    AccountFactory(external_id="acme", name="Acme")
    before = snapshot()
    path = write(tmp_path, csv(HEADER, row(external_id="acme", name="New"), row(segment="gold")))
    # run_from_argv closes the connections when it ends; the test database must stay open.
    monkeypatch.setattr(management_base.connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "import_accounts", str(path)]).execute()
    assert exited.value.code == 1
    stderr = capsys.readouterr().err
    assert "line 3: external_id: duplicate of line 2\n" in stderr
    assert "line 3: segment: must be one of basic, advanced, strategic\n" in stderr
    assert snapshot() == before


def test_a_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match=r"cannot read .*nope\.csv: No such file"):
        call_command("import_accounts", str(tmp_path / "nope.csv"))


def test_a_file_that_is_not_utf8_is_a_clear_error(db, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\nacme,Café,basic,,2025-01-15,,,,\n").encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_accounts", str(path))


def test_a_header_only_file_is_nothing_to_import(db, tmp_path):
    with pytest.raises(imports.NothingToImport):
        run(csv(HEADER))
    out = StringIO()
    call_command("import_accounts", str(write(tmp_path, csv(HEADER))), stdout=out)
    assert "accounts: nothing to import" in out.getvalue()
    assert Account.objects.count() == 0
