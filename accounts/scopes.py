"""Scopes of accounts: everybody, a tier, a segment or one CSM's book (accounts.models.ScopeKind),
as goals and experiments choose them; and the scope keys the nightly snapshots are stored under
("all", or "owner:<user id>" for a CSM's book)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.access import book_q
from accounts.models import Role, ScopeKind, Segment, User

SCOPE_ALL = "all"


def owner_scope(user_id: int | str) -> str:
    """The snapshot scope key of one CSM's book."""
    return f"owner:{user_id}"


def scope_q(kind: str, value: str, prefix: str = "") -> Q:
    """The accounts of a scope as a filter on Account (`prefix` = "account__" from a related row).
    Tier and segment are the account's current ones."""
    if kind == ScopeKind.TIER:
        return Q(**{f"{prefix}tier": value})
    if kind == ScopeKind.SEGMENT:
        return Q(**{f"{prefix}segment": value})
    if kind == ScopeKind.CSM:
        return Q(**{f"{prefix}owner_id": int(value)})
    return Q()


def scope_label(kind: str, value: str, users: dict[int, User] | None = None) -> str:
    """“All accounts”, “Tier A”, “Segment: Basic”, “Alice Archer's book”."""
    if kind == ScopeKind.TIER:
        return _("Tier %(tier)s") % {"tier": value}
    if kind == ScopeKind.SEGMENT:
        label = dict(Segment.choices).get(value, value)
        return _("Segment: %(segment)s") % {"segment": label}
    if kind == ScopeKind.CSM:
        user = (users or {}).get(int(value)) if value.isdigit() else None
        return _("%(name)s's book") % {"name": user or value}
    return str(ScopeKind.ALL.label)


def team() -> list[User]:
    """Who can own accounts and work risk items: the active CSMs and managers (one query)."""
    return list(User.objects.filter(is_active=True, role__in=[Role.CSM, Role.MANAGER]))


def filter_people(user: User) -> list[User]:
    """A report's CSM filter choices: the team for a manager, nobody for a CSM (their own book)."""
    return team() if user.is_manager else []


def in_book(items: QuerySet[Any], user: User, owner: str | None, prefix: str = "account__") -> Any:
    """The user's book (accounts.access.book_q: a CSM's own, a manager's everything), narrowed
    to one CSM's book when a manager chose `owner`."""
    if owner and user.is_manager:
        return items.filter(**{f"{prefix}owner_id": int(owner)})
    return items.filter(book_q(user, prefix))
