"""The contacts' CSV import (`import_contacts`, the managers' upload page): one kind of
accounts.imports, so it reads, validates, previews and refuses files by the same rules as the
accounts' and subscriptions' imports.

A row names its account by external_id; a contact of that account with the row's email (any case)
is updated, any other row adds one. Each row is written through accounts.services.save_contact
(the account locked, a new primary taking over from the old one), in the import's transaction.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts import imports
from accounts.audit import record_changes
from accounts.import_values import Invalid, choice, parse_flag, text_of
from accounts.models import Account, Contact, ImportKind, User
from accounts.services import EMAIL_MAX, NAME_MAX, save_contact

ROLE_MAX = Contact._meta.get_field("role").max_length
WRITTEN_FIELDS = ("name", "role", "is_primary", "language")


def parse_email(text: str) -> str:
    if not text:
        return ""
    email = text.lower()
    if len(email) > EMAIL_MAX:
        raise Invalid(f"longer than {EMAIL_MAX} characters")
    try:
        validate_email(email)
    except ValidationError:
        raise Invalid("not an email address") from None
    return email


class ContactRows(imports._Kind):
    kind = ImportKind.CONTACTS
    model = Contact
    key = "email"
    columns = ("external_id", "name", "email", "role", "is_primary", "language")
    required = ("external_id", "name", "email")

    def load(self, rows: list[imports._Row]) -> None:
        account_keys = {row.values["external_id"] for row in rows}
        accounts = imports._fetch(Account.objects.all(), "external_id", account_keys)
        self.accounts = {account.external_id: account for account in accounts}
        contacts = imports._fetch(
            Contact.objects.select_related("account"),
            "account__external_id",
            account_keys,
        )
        self.existing = {f"{c.account.external_id} / {c.email.lower()}": c for c in contacts}
        self.primary_line_of: dict[int, int] = {}

    def row_key(self, raw: dict[str, str]) -> str:
        if not raw["external_id"] or not raw["email"]:
            return ""
        return f"{raw['external_id']} / {raw['email'].lower()}"

    def account(self, text: str) -> Account:
        try:
            return self.accounts[text]
        except KeyError:
            raise Invalid("unknown account") from None

    def clean(self, raw: dict[str, str]) -> imports._Cleaner:
        row = imports._Cleaner(raw)
        row.take("external_id", "account", self.account, required=True)
        row.take("name", "name", text_of(NAME_MAX), required=True)
        row.take("email", "email", parse_email, required=True)
        row.take("role", "role", text_of(ROLE_MAX))
        row.take("is_primary", "is_primary", parse_flag)
        row.take("language", "language", choice([code for code, _ in settings.LANGUAGES]))
        return row

    def check_across(self, line: int, row: imports._Cleaner) -> None:
        if not row.values.get("is_primary"):
            return
        account = row.values["account"]
        first = self.primary_line_of.setdefault(account.pk, line)
        if first != line:
            row.problem(
                "is_primary", f"line {first} already makes a primary contact of this account"
            )

    def new(self, values: dict[str, Any]) -> Contact:
        return Contact(**values)

    def write(self, plan: imports.Plan, actor: User | None) -> None:
        rows = [*plan.creates, *(contact for contact, _ in plan.updates)]
        # Rows that stop being primary first, so none takes the place of a primary set later.
        for row in sorted(rows, key=lambda contact: contact.is_primary):
            fields = {name: getattr(row, name) for name in WRITTEN_FIELDS}
            contact, changes = save_contact(
                actor=actor, account=row.account, email=row.email, fields=fields
            )
            record_changes(
                actor=actor,
                obj=contact,
                action="contact.import",
                changes=changes,
                reason=f"import of {self.filename}",
                account=contact.account,
            )

    def after_write(self, plan: imports.Plan, actor: User | None) -> set[int]:
        return set()  # contacts do not move a tier


imports.KINDS[ContactRows.kind] = ContactRows
