"""A detractor answer (feedback.signals.detractor_answered) opens or updates the account's risk
item with the detractor reason and emails the owner, in the answer's transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact
from csm.lib.emails import render_email
from csm.lib.outbox import queue_email
from csm.lib.tasks import request_drain
from csm.workflow.models import RiskItem, RiskReason
from csm.workflow.risk import detractor_words, risk_priority
from csm.workflow.risk_actions import checklist_for
from csm.workflow.signals import risk_items_changed
from csm.workflow.task_list import sync_play_tasks
from feedback.models import Response

DETRACTOR_EMAIL = "detractor"


def flag_detractor(response: Response) -> RiskItem:
    """Open the account's risk item with the detractor reason, or put the reason on the open one
    (replacing an older detractor reason), and email the owner."""
    account = Account.objects.select_related("owner").get(pk=response.account_id)
    day = timezone.localdate(response.answered_at)
    words = detractor_words(
        kind=response.kind,
        score=response.score,
        contact=_contact_name(response),
        on=day,
        comment=response.comment,
    )
    reason = {"key": RiskReason.DETRACTOR.value, "text": words}
    item = RiskItem.objects.open().filter(account=account).first()
    if item is None:
        mrr = Account.objects.with_mrr(day).filter(pk=account.pk).values_list("mrr", flat=True)[0]
        try:
            with transaction.atomic():
                item = RiskItem.objects.create(
                    account=account,
                    assignee_id=account.owner_id,
                    opened_on=day,
                    updated_on=day,
                    reasons=[reason],
                    mrr=mrr,
                    priority=_priority(mrr, [reason]),
                    checklist=checklist_for([RiskReason.DETRACTOR]),
                )
            risk_items_changed.send(sender=RiskItem, items=[item], change="opened")
        except IntegrityError:  # another answer opened it meanwhile
            item = RiskItem.objects.open().get(account=account)
    if item.reasons != [reason]:
        reasons = [r for r in item.reasons if r.get("key") != RiskReason.DETRACTOR] + [reason]
        item.reasons = reasons
        item.priority = _priority(item.mrr, reasons)
        item.cleared_on = None
        item.updated_on = max(item.updated_on, day)
        item.save(update_fields=["reasons", "priority", "cleared_on", "updated_on"])
        risk_items_changed.send(sender=RiskItem, items=[item], change="updated")
    sync_play_tasks(item, day=day)  # the detractor play's steps become tasks
    _notify_owner(account, response, words)
    return item


def _priority(mrr: Decimal, reasons: list[dict[str, Any]]) -> Decimal:
    return risk_priority(mrr, [str(r.get("key")) for r in reasons])


def _notify_owner(account: Account, response: Response, words: str) -> None:
    owner = account.owner
    if owner is None or not owner.email:
        return
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
