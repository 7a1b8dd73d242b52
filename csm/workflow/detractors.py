"""A detractor answer (feedback.signals.detractor_answered) re-evaluates the account's risk at
once (the detractor rule opens or updates its item) and emails the owner, in the answer's
transaction."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact
from csm.lib.emails import render_email
from csm.lib.languages import language_of_recipient
from csm.lib.outbox import queue_email
from csm.lib.tasks import request_drain
from csm.workflow.models import RiskItem
from csm.workflow.reasons import detractor_words
from csm.workflow.risk import evaluate_accounts
from feedback.models import Response

DETRACTOR_EMAIL = "detractor"


def flag_detractor(response: Response) -> RiskItem | None:
    """Re-evaluate the account's risk now (the detractor rule, and the causes the comment names,
    put the reason on its item or open one) and email the owner. Returns the open item."""
    account = Account.objects.select_related("owner").get(pk=response.account_id)
    evaluate_accounts([account.pk])
    _notify_owner(account, response)
    return RiskItem.objects.open().filter(account=account).first()


def _notify_owner(account: Account, response: Response) -> None:
    owner = account.owner
    if owner is None or not owner.email:
        return
    with language_of_recipient(owner.language):  # the reason's words in the owner's language
        words = detractor_words(
            kind=response.kind,
            score=response.score,
            contact=_contact_name(response),
            on=timezone.localdate(response.answered_at),
            comment=response.comment,
        )
    link = settings.SITE_URL + reverse("accounts:detail", args=[account.external_id])
    email = render_email(
        "detractor_alert",
        {
            "name": owner.get_short_name(),
            "account": account.name,
            "kind": response.kind.upper(),
            "score": response.score,
            "words": words,
            "link": link,
        },
        language=owner.language,
    )
    queue_email(
        kind=DETRACTOR_EMAIL,
        to=owner.email,
        subject=email.subject,
        body=email.body,
        account_id=account.pk,
    )
    transaction.on_commit(request_drain)


def _contact_name(response: Response) -> str:
    if response.contact_id is None:
        return response.invitation.email if response.invitation_id else ""
    return (
        Contact.objects.filter(pk=response.contact_id).values_list("name", flat=True).first() or ""
    )
