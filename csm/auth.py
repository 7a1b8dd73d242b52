"""Access checks shared by every app's views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

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
