"""Accounts (list with filters, get, upsert by external_id) and their contacts.

The upsert runs the account import's checks and writes (accounts.imports.plan_values and
apply_plan): the API and a CSV import accept and refuse the same values, audit the same changes
and give new accounts their success plans the same way.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from accounts import imports
from accounts.models import Account, Contact, Segment
from accounts.mrr import CENT
from accounts.services import add_contact
from csm.api.core import (
    READ,
    WITH_404,
    WRITE,
    FieldErrors,
    IsoDate,
    Page,
    Text,
)
from csm.lib.languages import is_language

router = Router(tags=["accounts"])


class AccountOut(Schema):
    external_id: str
    name: str
    segment: str
    owner_email: str | None
    contract_start: date
    renewal_date: date | None
    seats: int | None
    strategic: bool
    tier: str = Field(description="the tier in force (the override when there is one)")
    tier_override: str = Field(description='"" when the tier rule decides')
    lifecycle_stage: str
    mrr: Decimal = Field(description="MRR today, in the installation's currency")


class AccountList(Schema):
    count: int
    items: list[AccountOut]


class AccountFilters(Page):
    owner: Text | None = Field(None, description='the owner\'s email; "" = unassigned')
    tier: Literal["A", "B", "C"] | None = None
    segment: Literal["basic", "advanced", "strategic"] | None = None
    lifecycle_stage: Literal["onboarding", "adoption", "mature"] | None = None
    renewal_before: IsoDate | None = Field(None, description="renewal date before this day")
    search: Text | None = Field(None, description="in the name or external id", max_length=200)


class AccountIn(Schema):
    """Fields left out keep what is stored; a new account needs name, segment, contract_start.
    The rules are the account import's (docs/commands.md)."""

    name: Text | None = None
    segment: Text | None = Field(None, description=" | ".join(Segment.values))
    owner_email: Text | None = Field(None, description='an existing user; null or "" = unassigned')
    contract_start: Text | None = Field(None, description="YYYY-MM-DD")
    renewal_date: Text | None = Field(None, description="YYYY-MM-DD; null clears it")
    strategic: bool | None = None
    tier: Text | None = Field(None, description='tier override A | B | C; null or "" = none')
    seats: int | None = None


class AccountWritten(Schema):
    result: Literal["created", "updated", "unchanged"]
    account: AccountOut


def account_out(account: Account, today: date) -> AccountOut:
    """`account` annotated with `mrr` (Account.objects.with_mrr) and its owner joined."""
    return AccountOut(
        external_id=account.external_id,
        name=account.name,
        segment=account.segment,
        owner_email=account.owner.email if account.owner else None,
        contract_start=account.contract_start,
        renewal_date=account.renewal_date,
        seats=account.seats,
        strategic=account.strategic,
        tier=account.tier,
        tier_override=account.tier_override,
        lifecycle_stage=account.lifecycle_stage(today),
        mrr=account.mrr.quantize(CENT),
    )


def _accounts(today: date):  # type: ignore[no-untyped-def]
    return Account.objects.with_mrr(today).select_related("owner")


@router.get("/accounts", response={200: AccountList, **WITH_404}, auth=READ)
def list_accounts(request: HttpRequest, filters: Query[AccountFilters]) -> AccountList:
    """Accounts by external id, filtered; `count` is the number matching the filters."""
    today = timezone.localdate()
    accounts = _accounts(today).order_by("external_id")
    if filters.owner is not None:
        accounts = (
            accounts.filter(owner__isnull=True)
            if filters.owner == ""
            else accounts.filter(owner__email__iexact=filters.owner.strip())
        )
    if filters.tier:
        accounts = accounts.filter(tier=filters.tier)
    if filters.segment:
        accounts = accounts.filter(segment=filters.segment)
    if filters.lifecycle_stage:
        accounts = accounts.in_stage(filters.lifecycle_stage, today)
    if filters.renewal_before:
        accounts = accounts.filter(renewal_date__lt=filters.renewal_before)
    if filters.search:
        accounts = accounts.search(filters.search)
    return AccountList(**filters.of(accounts, lambda account: account_out(account, today)))


@router.get("/accounts/{external_id}", response={200: AccountOut, **WITH_404}, auth=READ)
def get_account(request: HttpRequest, external_id: str) -> AccountOut:
    today = timezone.localdate()
    return account_out(get_object_or_404(_accounts(today), external_id=external_id), today)


WRITTEN = {imports.CREATE: "created", imports.UPDATE: "updated", imports.UNCHANGED: "unchanged"}


def _as_import_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@router.put(
    "/accounts/{external_id}",
    response={200: AccountWritten, 201: AccountWritten, **WITH_404},
    auth=WRITE,
)
def put_account(
    request: HttpRequest, external_id: str, payload: AccountIn
) -> Status[AccountWritten]:
    """Create or update the account `external_id` (201 when created)."""
    values = {"external_id": external_id}
    for name in payload.model_fields_set:
        values[name] = _as_import_text(getattr(payload, name)).strip()
    try:
        plan = imports.plan_values(imports.ImportKind.ACCOUNTS, values, source="the REST API")
    except ValueError as exc:
        raise FieldErrors([("body", str(exc))]) from None
    if plan.problems:
        raise FieldErrors(plan.problems)
    imports.apply_plan(plan, actor=None)
    (row,) = plan.rows
    today = timezone.localdate()
    account = _accounts(today).get(external_id=external_id)
    written = AccountWritten(result=WRITTEN[row.action], account=account_out(account, today))
    return Status(201 if row.action == imports.CREATE else 200, written)


# --- Contacts ------------------------------------------------------------------------------------


class ContactOut(Schema):
    id: int
    name: str
    email: str
    role: str
    is_primary: bool
    language: str = Field(description='the language of the emails and public pages: "" = none set')


class ContactIn(Schema):
    name: Text = Field(min_length=1, max_length=200)
    email: Text = Field(max_length=254)
    role: Text = Field("", max_length=100)
    is_primary: bool = False
    language: Text = Field(
        "",
        max_length=16,
        description="one of the installation's languages (en, zh-hans); empty: follow the "
        "browser on public pages, the installation's language in emails",
    )


def contact_out(contact: Contact) -> ContactOut:
    return ContactOut(
        id=contact.pk,
        name=contact.name,
        email=contact.email,
        role=contact.role,
        is_primary=contact.is_primary,
        language=contact.language,
    )


@router.get(
    "/accounts/{external_id}/contacts", response={200: list[ContactOut], **WITH_404}, auth=READ
)
def list_contacts(request: HttpRequest, external_id: str) -> list[ContactOut]:
    account = get_object_or_404(Account, external_id=external_id)
    return [contact_out(contact) for contact in account.contacts.all()]


@router.post("/accounts/{external_id}/contacts", response={201: ContactOut, **WITH_404}, auth=WRITE)
def create_contact(
    request: HttpRequest, external_id: str, payload: ContactIn
) -> Status[ContactOut]:
    """Add a contact (one per email and account, in any case; a new primary takes over)."""
    account = get_object_or_404(Account, external_id=external_id)
    if not payload.name.strip():
        raise FieldErrors([("name", "must not be blank")])
    try:
        validate_email(payload.email.strip())
    except ValidationError:
        raise FieldErrors([("email", "not an email address")]) from None
    language = payload.language.strip().lower()
    if language and not is_language(language):
        codes = ", ".join(code for code, _name in settings.LANGUAGES)
        raise FieldErrors([("language", f"must be one of {codes}, or empty")])
    with transaction.atomic():
        contact = add_contact(
            actor=None,
            account=account,
            name=payload.name.strip(),
            email=payload.email,
            role=payload.role.strip(),
            is_primary=payload.is_primary,
            language=language,
        )
    return Status(201, contact_out(contact))
