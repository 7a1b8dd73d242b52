"""Who may see and change what: the one access path every view and service uses.

- `get_account_for_user` gives a user an account they may read (every login reads every account)
  or, with `write=True`, change (a CSM their own book, a manager every account), else 404/403.
- `check_can_change` is the same 403 for what hangs off an account (a milestone, an invitation, an
  answer, a churn record): actions call it, and views that show a form before acting.
- `book_q` is a user's book as a filter on rows hanging off an account (`Account.objects.book_of`
  on accounts themselves): a CSM their own accounts, a manager all.
- `manager_required` guards the KPI and configuration pages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from accounts.models import Account, book_q

__all__ = [
    "AuthenticatedHttpRequest",
    "book_q",
    "check_can_change",
    "get_account_for_user",
    "manager_required",
]

if TYPE_CHECKING:
    from accounts.models import User

    class AuthenticatedHttpRequest(HttpRequest):
        user: User
else:
    AuthenticatedHttpRequest = HttpRequest

View = TypeVar("View", bound=Callable[..., HttpResponse])


def manager_required(view: View) -> View:
    """Login, then 403 unless the user is a manager (KPI and configuration pages)."""

    @wraps(view)
    def wrapped(request: AuthenticatedHttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_manager:
            raise PermissionDenied("managers only")
        return view(request, *args, **kwargs)

    return login_required(wrapped)  # type: ignore[return-value]


def get_account_for_user(user: User, external_id: str, *, write: bool = False) -> Account:
    """The account (with its owner), or 404 when there is none; with `write`, 403 unless `user`
    may change it (Account.can_be_edited_by: managers every account, a CSM their own book)."""
    account = get_object_or_404(Account.objects.select_related("owner"), external_id=external_id)
    if write:
        check_can_change(user, account)
    return account


def check_can_change(user: User, account: Account) -> None:
    """403 unless `user` may change `account` and what hangs off it (Account.can_be_edited_by).
    Pass the account the caller already holds (joined with the object), so this runs no query."""
    if not account.can_be_edited_by(user):
        raise PermissionDenied("not your account")
