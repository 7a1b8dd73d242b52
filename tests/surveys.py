"""Helpers for the survey tests: a survey, a customer with a primary contact, an invitation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from feedback.models import Invitation, Survey
from feedback.services import send_invitation
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory


def survey(kind="nps", **fields) -> Survey:
    """A survey named "Test <kind>", or "Test <kind> 2", 3… when that name is taken (one survey
    per name)."""
    if "name" not in fields:
        name, n = f"Test {kind}", 1
        while Survey.objects.filter(name__iexact=name).exists():
            n += 1
            name = f"Test {kind} {n}"
        fields["name"] = name
    fields.setdefault("question", "How likely are you to recommend us?")
    fields.setdefault("comment_prompt", "What is the main reason for your score?")
    return Survey.objects.create(kind=kind, **fields)


def customer(owner=None, *, contact_name="Ana Lima", email=None, mrr="1000", **fields):
    fields.setdefault("contract_start", date(2025, 1, 1))
    account = AccountFactory(owner=owner, **fields)
    SubscriptionFactory(account=account, start_date=date(2025, 1, 1), amount=Decimal(mrr))
    contact = ContactFactory(
        account=account,
        name=contact_name,
        is_primary=True,
        **({"email": email} if email else {}),
    )
    return account, contact


def invite(owner=None, kind="nps", **survey_fields) -> Invitation:
    _account, contact = customer(owner)
    return send_invitation(survey=survey(kind, **survey_fields), contact=contact)


def token_of(invitation: Invitation) -> str:
    from feedback.tokens import make_token

    return make_token(invitation.nonce)
