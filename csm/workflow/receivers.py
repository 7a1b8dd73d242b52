"""How the workflow answers events of the layers below it, one receiver per signal. Connected
when the app is ready (csm.workflow.apps); every receiver runs in the sender's transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from accounts.signals import account_changed, accounts_imported
from csm.lib.models import OutboxEmail
from csm.lib.signals import email_sent
from csm.workflow.blueprints import create_blueprints, new_accounts_since
from csm.workflow.detractors import flag_detractor
from csm.workflow.risk import evaluate_accounts, evaluate_dirty_accounts, evaluation_deferred
from csm.workflow.risk_actions import close_churned_items
from csm.workflow.signals import touch_added
from csm.workflow.tips import log_tips_touch
from feedback.models import Response
from feedback.signals import accounts_churned, detractor_answered
from health.signals import health_overridden, usage_ingested


@receiver(accounts_imported, dispatch_uid="workflow.blueprints_for_imports")
def _accounts_imported(sender: Any, *, account_ids: list[int], **kwargs: Any) -> None:
    # The success plans of the accounts new to the book (contract started in the last 60 days),
    # then the risk rules on every imported account: an import changes tiers (the touch cadence),
    # owners and renewal dates, as the account page does. One evaluation for the whole import.
    with evaluation_deferred():
        create_blueprints(account_ids, started_since=new_accounts_since(timezone.localdate()))
        evaluate_accounts(account_ids)


@receiver(email_sent, dispatch_uid="workflow.tips_touch")
def _email_sent(sender: Any, *, email: OutboxEmail, **kwargs: Any) -> None:
    log_tips_touch(email)


@receiver(detractor_answered, dispatch_uid="workflow.flag_detractor")
def _detractor_answered(sender: Any, *, response: Response, **kwargs: Any) -> None:
    flag_detractor(response)


@receiver(accounts_churned, dispatch_uid="workflow.close_churned_items")
def _accounts_churned(sender: Any, *, account_ids: list[int], day: date, **kwargs: Any) -> int:
    return close_churned_items(account_ids=account_ids, day=day)


# --- Live risk evaluation: an input of a rule changed -------------------------------------------


@receiver(touch_added, dispatch_uid="workflow.risk_after_touch")
def _touch_added(sender: Any, *, account_id: int, **kwargs: Any) -> None:
    evaluate_accounts([account_id])


@receiver(account_changed, dispatch_uid="workflow.risk_after_account_change")
def _account_changed(sender: Any, *, account_id: int, **kwargs: Any) -> None:
    evaluate_accounts([account_id])


@receiver(health_overridden, dispatch_uid="workflow.risk_after_override")
def _health_overridden(sender: Any, *, account_id: int, **kwargs: Any) -> None:
    evaluate_accounts([account_id])


@receiver(usage_ingested, dispatch_uid="workflow.risk_after_ingest")
def _usage_ingested(sender: Any, **kwargs: Any) -> None:
    """Ingest marked the accounts dirty. With a worker, beat's task
    (csm.workflow.tasks.evaluate_dirty_accounts_task) takes the marks within a minute: nothing is
    enqueued per batch, so ingest stays as fast and survives a Redis outage. With tasks
    in-process (the embedded default) they are evaluated as soon as the batch commits."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(evaluate_dirty_accounts)
