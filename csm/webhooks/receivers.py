"""The events outbound webhooks report, one receiver per signal of the layers below. Connected
when the app is ready (csm.webhooks.apps); every receiver runs in the sender's transaction, so the
deliveries commit with the change they report."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.dispatch import receiver

from csm.webhooks.events import emit_churn_recorded, emit_risk_changes, emit_survey_answered
from csm.workflow.models import RiskItem
from csm.workflow.signals import risk_items_changed
from feedback.models import Response
from feedback.signals import churn_recorded, survey_answered


@receiver(risk_items_changed, dispatch_uid="webhooks.risk_items_changed")
def _risk_items_changed(sender: Any, *, items: list[RiskItem], change: str, **kwargs: Any) -> None:
    emit_risk_changes(items, change)


@receiver(survey_answered, dispatch_uid="webhooks.survey_answered")
def _survey_answered(sender: Any, *, response: Response, **kwargs: Any) -> None:
    emit_survey_answered(response)


@receiver(churn_recorded, dispatch_uid="webhooks.churn_recorded")
def _churn_recorded(sender: Any, *, account_ids: list[int], day: date, **kwargs: Any) -> None:
    emit_churn_recorded(account_ids=account_ids, day=day)
