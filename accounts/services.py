"""Operations on accounts that write more than one row or leave an audit trail."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts import rules
from accounts.access import check_can_change
from accounts.audit import record_changes
from accounts.models import DUPLICATE_CONTACT_EMAIL, Account, Contact, Role, User
from accounts.signals import account_changed
from csm.lib.bulk import update_rows

# Fields a CSM may change on an account of their own book; managers may also change these.
PROFILE_FIELDS = ("name", "segment", "renewal_date", "seats", "strategic")
# Fields only a manager may change.
MANAGER_FIELDS = ("owner", "tier_override", "tier_override_reason")
NAME_MAX = Contact._meta.get_field("name").max_length
EMAIL_MAX = Contact._meta.get_field("email").max_length
# Changes the risk rules read (tier: touch cadence; renewal date; owner: who the item is for).
RISK_INPUTS = {"owner", "tier_override", "strategic", "renewal_date"}


class ChangeNotAllowed(Exception):
    pass


@transaction.atomic
def update_account(
    *, account: Account, actor: User | None, changes: dict[str, Any], reason: str = ""
) -> Account:
    """Apply field changes to an account and audit each one that differs.

    A tier override needs a reason and sets the tier in force at once; clearing it lets the tier
    rule decide again (at the next refresh_tiers, which this calls for that account).
    """
    unknown = set(changes) - set(PROFILE_FIELDS) - set(MANAGER_FIELDS)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    if actor is not None and not actor.is_manager:
        if set(changes) & set(MANAGER_FIELDS):
            raise ChangeNotAllowed("only a manager may change the owner or the tier override")
        if not account.can_be_edited_by(actor):
            raise ChangeNotAllowed("a CSM may change only the accounts of their own book")

    before = {field: getattr(account, field) for field in changes}
    for field, value in changes.items():
        setattr(account, field, value)
    if not account.tier_override:
        account.tier_override_reason = ""
    elif not account.tier_override_reason.strip():
        raise ValueError("a tier override needs a reason")
    account.clean()  # ValidationError keyed by field: nothing is written
    diff = {
        f: (before[f], getattr(account, f)) for f in changes if before[f] != getattr(account, f)
    }
    if not diff:
        return account
    account.save()
    # The reason is recorded on the entries themselves, not as a change of its own.
    diff.pop("tier_override_reason", None)
    audit_reason = reason or (account.tier_override_reason if "tier_override" in diff else "")
    record_changes(
        actor=actor, obj=account, action="account.update", changes=diff, reason=audit_reason
    )
    if "tier_override" in diff or "strategic" in diff:
        refresh_tiers(today=timezone.localdate(), account_ids=[account.pk])
        account.refresh_from_db(fields=["tier"])
    if set(diff) & RISK_INPUTS:
        account_changed.send(sender=Account, account_id=account.pk)
    return account


def add_contact(
    *,
    actor: User | None,
    account: Account,
    name: str,
    email: str,
    role: str = "",
    is_primary: bool = False,
    language: str = "",
) -> Contact:
    """Add a contact to an account of the actor's book (a manager: any account; no actor: an
    integration, e.g. the REST API with a write key, which may write any account). A new primary
    contact takes over from the old one, in one transaction (one primary per account). The email
    is stored in lower case and is the account's only contact with it, whatever its case
    (ValidationError on "email" otherwise)."""
    if actor is not None:
        check_can_change(actor, account)
    email = email.strip().lower()
    fields = {"name": name, "role": role, "is_primary": is_primary, "language": language}
    with transaction.atomic():
        if _lock_and_find_contact(account, email) is not None:
            raise ValidationError({"email": DUPLICATE_CONTACT_EMAIL})
        return _write_contact(account, None, email, fields)


def save_contact(
    *, actor: User | None, account: Account, email: str, fields: dict[str, Any]
) -> tuple[Contact, dict[str, tuple[Any, Any]]]:
    """Add a contact as add_contact does, or, when the account has one with this email (any
    case), set its `fields` (name, role, is_primary, language). A new primary takes over from the
    old one. Returns the contact and its changes ({field: (old, new)}; a new one's fields that
    differ from the defaults), for the caller's audit trail (the contacts import)."""
    if actor is not None:
        check_can_change(actor, account)
    email = email.strip().lower()
    with transaction.atomic():
        contact = _lock_and_find_contact(account, email)
        before = {
            name: getattr(contact, name) if contact else Contact._meta.get_field(name).get_default()
            for name in fields
        }
        contact = _write_contact(account, contact, email, fields)
    changes = {name: (before[name], getattr(contact, name)) for name in fields}
    return contact, {name: (old, new) for name, (old, new) in changes.items() if old != new}


def _write_contact(
    account: Account, contact: Contact | None, email: str, fields: dict[str, Any]
) -> Contact:
    """Inside _lock_and_find_contact's transaction: create the contact (None) or update it, the
    old primary giving way first when this one becomes primary."""
    if fields.get("is_primary"):
        others = account.contacts.filter(is_primary=True)
        if contact is not None:
            others = others.exclude(pk=contact.pk)
        others.update(is_primary=False)
    if contact is None:
        return Contact.objects.create(account=account, email=email, **fields)
    changed = [name for name, value in fields.items() if getattr(contact, name) != value]
    for name in changed:
        setattr(contact, name, fields[name])
    if changed:
        contact.save(update_fields=changed)
    return contact


def _lock_and_find_contact(account: Account, email: str) -> Contact | None:
    """Inside a transaction: lock the account's row (two writers adding the same person at once
    make one contact) and return its contact with this email in any case, if any."""
    Account.objects.select_for_update().filter(pk=account.pk).first()
    return account.contacts.filter(email__iexact=email).first()


def upsert_contact_from_integration(
    *, account: Account, email: str, name: str, language: str = ""
) -> Contact:
    """An integration (a Segment `identify`) names a person of the account: add them as a contact,
    or update the name (and the language, when it sends one: `context.locale`) of the contact with
    that email (any case). No actor, no primary flag: the integration only knows who uses the
    product. The email must be valid (ValidationError)."""
    email = email.strip().lower()
    validate_email(email)
    if len(email) > EMAIL_MAX:
        raise ValidationError({"email": f"longer than {EMAIL_MAX} characters"})
    name = (name.strip() or email.partition("@")[0])[:NAME_MAX]
    with transaction.atomic():
        contact = _lock_and_find_contact(account, email)
        fields = {"name": name, "language": language or (contact.language if contact else "")}
        return _write_contact(account, contact, email, fields)


def refresh_tiers(*, today: date, account_ids: list[int] | None = None) -> int:
    """Set every account's tier in force by the tier rule (an override wins). One read, one bulk
    write of the accounts whose tier changed; returns how many changed."""
    accounts = Account.objects.with_mrr(today).only("pk", "tier", "tier_override", "strategic")
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    changed = []
    for account in accounts.iterator(chunk_size=2000):
        computed = rules.tier_for(
            mrr=account.mrr,
            strategic=account.strategic,
            a_min_mrr=settings.TIER_A_MIN_MRR,
            b_min_mrr=settings.TIER_B_MIN_MRR,
        )
        tier = rules.effective_tier(computed=computed, override=account.tier_override)
        if tier != account.tier:
            account.tier = tier
            changed.append(account)
    update_rows(Account, [(account, ["tier"]) for account in changed])
    return len(changed)


def set_user(
    *, email: str, role: str, name: str = "", password: str | None = None
) -> tuple[User, bool, str | None]:
    """Create a login or change its role. Returns (user, created, one-time password or None).

    A new user without a given password gets a random one-time password to hand over.
    """
    if role not in Role.values:
        raise ValueError(f"role must be one of {', '.join(Role.values)}")
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    created = user is None
    generated = None
    if user is None:
        if password is None:
            password = generated = secrets.token_urlsafe(12)
        user = User.objects.create_user(email, password, role=role, name=name)
        return user, created, generated
    user.role = role
    if name:
        user.name = name
    if password is not None:
        user.set_password(password)
    user.save()
    return user, created, generated
