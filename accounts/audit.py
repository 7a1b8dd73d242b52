"""The one way to record a change: every owner change, tier override, resolution, API key change
and so on calls record_changes, so the audit trail is complete by construction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models

from accounts.models import Account, AuditEntry, User


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def record_changes(
    *,
    actor: User | None,
    obj: models.Model,
    action: str,
    changes: Mapping[str, tuple[Any, Any]],
    reason: str = "",
    account: Account | None = None,
) -> list[AuditEntry]:
    """Write one AuditEntry per changed field ({field: (old, new)}); unchanged fields are skipped.

    `account` ties the entry to an account's trail; it defaults to obj when obj is an Account.
    """
    if account is None and isinstance(obj, Account):
        account = obj
    entries = [
        AuditEntry(
            actor=actor,
            account=account,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            field=field,
            old_value=_text(old),
            new_value=_text(new),
            reason=reason,
        )
        for field, (old, new) in changes.items()
        if old != new
    ]
    return AuditEntry.objects.bulk_create(entries)


def update_audited(
    *,
    actor: User | None,
    obj: models.Model,
    action: str,
    values: Mapping[str, Any],
    reason: str = "",
    account: Account | None = None,
) -> list[AuditEntry]:
    """Set `obj`'s fields to `values`, save just those, and record each change (old → new). Call
    it inside the caller's transaction, on a row the caller locked when others may write it."""
    changes = {name: (getattr(obj, name), new) for name, new in values.items()}
    for name, new in values.items():
        setattr(obj, name, new)
    obj.save(update_fields=list(values))
    return record_changes(
        actor=actor, obj=obj, action=action, changes=changes, reason=reason, account=account
    )
