"""What the KPI overview and cohorts pages share: whose book they show (a manager may pick a
CSM's; a CSM sees their own) and how their numbers read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import AuthenticatedHttpRequest
from accounts.models import Role, User
from accounts.scopes import SCOPE_ALL, owner_scope
from csm.lib.numbers import money_text

TREND_MONTHS = 24
HEALTHY_MONTHLY_CHURN = 0.006  # ~7% a year (DESIGN §2)


# --- Scope ---------------------------------------------------------------------------------------


class ScopeForm(forms.Form):
    """A manager's choice of book: the whole team, or one CSM."""

    owner = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label=gettext_lazy("Book")
    )

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = people  # the template writes the picker's options from these
        # The people are already loaded: the choices come from them, not from another query.
        self.fields["owner"].choices = [("", _("Whole team"))] + [  # type: ignore[attr-defined]
            (p.pk, str(p)) for p in people
        ]


def book_scope(request: AuthenticatedHttpRequest) -> tuple[str, User | None, ScopeForm | None]:
    """(scope key, the CSM whose book it is or None for everyone, the manager's form; its
    `people` are the CSMs to pick from).

    A CSM sees their own book; asking for anybody else's is refused (403). A manager's bad
    `owner` value is shown next to the picker and the whole team is shown instead."""
    user = request.user
    if not user.is_manager:
        asked = request.GET.get("owner", "")
        if asked and asked != str(user.pk):
            raise PermissionDenied("a CSM sees only their own book")
        return owner_scope(user.pk), user, None
    # list(): the CSMs fill the picker and validate the choice, from one query.
    people = list(User.objects.filter(is_active=True, role=Role.CSM))
    form = ScopeForm(request.GET or None, people=people)
    if form.is_bound and form.is_valid() and form.cleaned_data["owner"] is not None:
        owner = next(p for p in people if p.pk == form.cleaned_data["owner"])
        return owner_scope(owner.pk), owner, form
    return SCOPE_ALL, None, form


def scope_slug(scope: str) -> str:
    return scope.replace(":", "-")


# --- Formatting ----------------------------------------------------------------------------------


def format_money(symbol: str, value: str | Decimal | None, places: int = 0) -> str:
    if value is None:
        return "—"
    return money_text(value, symbol, places)


def percent(rate: float | None, places: int = 1) -> str:
    if rate is None:
        return "—"
    return f"{floatformat(rate * 100, places)}%"


def number(value: float | None, places: int = 2) -> str:
    return "—" if value is None else floatformat(value, places)


def as_float(value: str | float | None) -> float | None:
    return None if value is None else float(value)


def currency_symbol() -> str:
    return settings.CURRENCY_SYMBOL


def owner_query(owner: User | None, form: ScopeForm | None) -> str:
    return f"owner={owner.pk}" if owner is not None and form is not None else ""
