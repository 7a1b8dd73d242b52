"""Creating and revoking API keys: the managers' page and `create_api_key` call these, so
both store only the hash and both leave the same audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.audit import record_changes
from accounts.models import User
from health.models import ApiKey, ApiScope, hash_api_key

MAX_NAME = ApiKey._meta.get_field("name").max_length
PREFIX_LENGTH = ApiKey._meta.get_field("prefix").max_length


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: `key` is the full key, to show once; only its hash is stored."""

    api_key: ApiKey
    key: str


def clean_key_name(name: str) -> str:
    """The name to store, or ValueError saying what is wrong with it."""
    name = name.strip()
    if not name:
        raise ValueError("give the key a name")
    if len(name) > MAX_NAME:
        raise ValueError(f"a key name is at most {MAX_NAME} characters")
    return name


def clean_scopes(scopes: Iterable[str]) -> str:
    """The scopes to store ("ingest read"), in ApiScope order; ValueError naming a bad one."""
    chosen = {scope.strip().lower() for scope in scopes} - {""}
    unknown = chosen - set(ApiScope.values)
    if unknown:
        raise ValueError(f"unknown scope {sorted(unknown)[0]!r}: use {', '.join(ApiScope.values)}")
    if not chosen:
        raise ValueError("give the key at least one scope")
    return " ".join(scope for scope in ApiScope.values if scope in chosen)


@transaction.atomic
def create_api_key(
    *, name: str, actor: User | None, scopes: Iterable[str] = (ApiScope.INGEST,)
) -> NewApiKey:
    key = ApiKey.generate()
    api_key = ApiKey.objects.create(
        name=clean_key_name(name),
        prefix=key[:PREFIX_LENGTH],
        hashed_key=hash_api_key(key),
        scopes=clean_scopes(scopes),
        created_by=actor,
    )
    record_changes(
        actor=actor,
        obj=api_key,
        action="api_key.create",
        changes={
            "name": (None, api_key.name),
            "prefix": (None, api_key.prefix),
            "scopes": (None, api_key.scopes),
        },
    )
    return NewApiKey(api_key=api_key, key=key)


@transaction.atomic
def revoke_api_key(*, api_key: ApiKey, actor: User | None) -> bool:
    """Revoke the key; False when it was revoked already (nothing changes then). The conditional
    UPDATE makes two managers revoking at once write one revocation and one audit entry."""
    now = timezone.now()
    revoked = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor
    )
    if not revoked:
        return False
    api_key.revoked_at, api_key.revoked_by = now, actor
    record_changes(
        actor=actor,
        obj=api_key,
        action="api_key.revoke",
        changes={"revoked_at": (None, now.isoformat())},
    )
    return True
