"""How the workflow answers events of the layers below it, one receiver per signal. Connected
when the app is ready (csm.workflow.apps); every receiver runs in the sender's transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from accounts.signals import accounts_imported
from csm.lib.models import OutboxEmail
from csm.lib.signals import email_sent
from csm.workflow.blueprints import create_blueprints, new_accounts_since
from csm.workflow.detractors import flag_detractor
from csm.workflow.risk_actions import close_churned_items
from csm.workflow.tips import log_tips_touch
from feedback.models import Response
from feedback.signals import accounts_churned, detractor_answered


@receiver(accounts_imported, dispatch_uid="workflow.blueprints_for_imports")
def _accounts_imported(sender: Any, *, account_ids: list[int], **kwargs: Any) -> None:
    # The success plans of the accounts new to the book (contract started in the last 60 days).
    create_blueprints(account_ids, started_since=new_accounts_since(timezone.localdate()))


@receiver(email_sent, dispatch_uid="workflow.tips_touch")
def _email_sent(sender: Any, *, email: OutboxEmail, **kwargs: Any) -> None:
    log_tips_touch(email)


@receiver(detractor_answered, dispatch_uid="workflow.flag_detractor")
def _detractor_answered(sender: Any, *, response: Response, **kwargs: Any) -> None:
    flag_detractor(response)


@receiver(accounts_churned, dispatch_uid="workflow.close_churned_items")
def _accounts_churned(sender: Any, *, account_ids: list[int], day: date, **kwargs: Any) -> int:
    return close_churned_items(account_ids=account_ids, day=day)
