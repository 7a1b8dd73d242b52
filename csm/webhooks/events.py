"""The outbound events (docs/api.md "Outbound webhooks"): what each one carries, and queueing it
for the endpoints that want it.

Every payload is `{"type", "timestamp", "data": {"account": {"external_id", "name", "url"},
"summary", …}}`: `summary` says in words what happened (in the installation's language), `reasons`
(where there are any) lists `{"key", "text"}`, and the account's `url` is its page.

Call the emitters inside the transaction of the change they report: the delivery rows commit with
it, and the drain is asked for only once it has committed. Their words are in the installation's
language (LANGUAGE_CODE), whoever's request caused them (DESIGN §5 "Language of contracts").
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account
from csm.webhooks.language import in_site_language
from csm.webhooks.models import TEST_EVENT, EventType, WebhookDelivery, WebhookEndpoint
from csm.webhooks.tasks import request_webhook_drain
from csm.workflow.models import RiskItem, Task, TaskStatus
from csm.workflow.reasons import reason_rows
from feedback.models import Response
from health.models import Band, HealthScore


@dataclass(frozen=True)
class Event:
    type: str
    id: str
    data: dict[str, Any]
    timestamp: datetime = field(default_factory=timezone.now)

    def payload(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "timestamp": self.timestamp.astimezone(UTC).isoformat(),
            "data": self.data,
        }


def queue_events(events: Iterable[Event]) -> int:
    """Write a delivery of each event for every endpoint that wants it (one query for the
    endpoints, one insert), and ask for a drain once the transaction commits. An event id already
    queued for an endpoint is not queued again (a re-run nightly day). Returns the rows written."""
    events = list(events)
    if not events:
        return 0
    endpoints = list(WebhookEndpoint.objects.all())
    rows = [
        WebhookDelivery(
            endpoint=endpoint, event_type=event.type, event_id=event.id, payload=event.payload()
        )
        for event in events
        for endpoint in endpoints
        if event.type in endpoint.events
    ]
    if not rows:
        return 0
    WebhookDelivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    transaction.on_commit(request_webhook_drain)
    return len(rows)


@in_site_language
def queue_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """The page's "Send test event": one delivery to this endpoint only, paused or not."""
    event = Event(
        type=TEST_EVENT,
        id=f"msg_{uuid.uuid4().hex}",
        data={"summary": _("A test event from the customer success app.")},
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type=event.type, event_id=event.id, payload=event.payload()
    )
    transaction.on_commit(request_webhook_drain)
    return delivery


def account_data(account: Account) -> dict[str, str]:
    url = settings.SITE_URL + reverse("accounts:detail", args=[account.external_id])
    return {"external_id": account.external_id, "name": account.name, "url": url}


def _stable_id(*parts: object) -> str:
    """An event id made from what the event is about, so finding it again queues nothing."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()
    return f"msg_{digest[:32]}"


# --- Risk items ----------------------------------------------------------------------------------

RISK_CHANGES = {
    "opened": EventType.RISK_OPENED,
    "updated": EventType.RISK_UPDATED,
    "resolved": EventType.RISK_RESOLVED,
}


def risk_reasons(item: RiskItem) -> list[dict[str, str]]:
    """The item's reasons in words as of today, as `risk --json` gives them (csm.workflow.reasons;
    a cleared item's: those that stopped firing when it cleared)."""
    return [
        {"key": row["key"], "text": row["text"], "since": row["since"].isoformat()}
        for row in reason_rows(
            item.shown_reasons, today=timezone.localdate(), opened_on=item.opened_on
        )
    ]


def risk_event(item: RiskItem, change: str) -> Event:
    event_type = RISK_CHANGES[change]
    summary = {
        "opened": _("A risk item opened"),
        "updated": _("The risk item's reasons changed"),
        "resolved": _("The risk item was resolved: %(resolution)s")
        % {"resolution": item.get_resolution_display() or "-"},
    }[change]
    data: dict[str, Any] = {
        "account": account_data(item.account),
        "summary": summary,
        "reasons": risk_reasons(item),
        "risk_item": {
            "id": item.pk,
            "opened_on": item.opened_on.isoformat(),
            "priority": str(item.priority),
            "resolution": item.resolution or None,
            "resolution_note": item.resolution_note or None,
        },
    }
    # Opening and resolving happen once per item; an update may happen several times a day.
    key = (item.pk, event_type) if change != "updated" else (uuid.uuid4().hex,)
    return Event(type=event_type, id=_stable_id(*key), data=data)


@in_site_language
def emit_risk_changes(items: list[RiskItem], change: str) -> int:
    """risk.opened / risk.updated / risk.resolved for the items. Items opened or updated by a
    nightly backfill of a past day (before yesterday) send nothing, as its emails do not."""
    if change != "resolved":
        recent = timezone.localdate() - timedelta(days=1)
        items = [item for item in items if item.updated_on >= recent]
    if not items or not WebhookEndpoint.objects.exists():
        return 0
    accounts = Account.objects.in_bulk([item.account_id for item in items])
    for item in items:
        item.account = accounts[item.account_id]
    return queue_events(risk_event(item, change) for item in items)


# --- Health bands --------------------------------------------------------------------------------


@in_site_language
def emit_band_changes(*, day: date) -> int:
    """health.band_changed for every account whose band on `day` differs from its band the day
    before: one query (each score with the previous day's band beside it)."""
    if not WebhookEndpoint.objects.exists():
        return 0
    before = HealthScore.objects.filter(
        account_id=OuterRef("account_id"), day=day - timedelta(days=1)
    )
    changed = (
        HealthScore.objects.filter(day=day)
        .annotate(
            previous_band=Subquery(before.values("band")[:1]),
            previous_score=Subquery(before.values("score")[:1]),
        )
        .exclude(previous_band__isnull=True)
        .exclude(band=F("previous_band"))
        .select_related("account")
    )
    labels = dict(Band.choices)
    events = []
    for score in changed:
        summary = _("Health band changed from %(old)s to %(new)s (score %(a)s → %(b)s)") % {
            "old": labels.get(score.previous_band, score.previous_band),
            "new": labels.get(score.band, score.band),
            "a": score.previous_score,
            "b": score.score,
        }
        data = {
            "account": account_data(score.account),
            "summary": summary,
            "day": day.isoformat(),
            "band": score.band,
            "previous_band": score.previous_band,
            "score": score.score,
            "previous_score": score.previous_score,
        }
        events.append(
            Event(
                type=EventType.HEALTH_BAND_CHANGED,
                id=_stable_id(EventType.HEALTH_BAND_CHANGED, score.account_id, day),
                data=data,
            )
        )
    return queue_events(events)


# --- Surveys, churn, tasks ----------------------------------------------------------------------


@in_site_language
def emit_survey_answered(response: Response) -> int:
    if not WebhookEndpoint.objects.exists():
        return 0
    account = Account.objects.get(pk=response.account_id)
    contact = response.contact.name if response.contact_id and response.contact else ""
    summary = _("%(kind)s %(score)s from %(who)s") % {
        "kind": response.kind.upper(),
        "score": response.score,
        "who": contact or _("a contact"),
    }
    if response.is_detractor:
        summary = _("Detractor answer: %(summary)s") % {"summary": summary}
    data = {
        "account": account_data(account),
        "summary": summary,
        "survey": {"id": response.survey_id, "name": response.survey.name, "kind": response.kind},
        "score": response.score,
        "comment": response.comment,
        "contact": contact or None,
        "detractor": response.is_detractor,
    }
    event = Event(
        type=EventType.SURVEY_ANSWERED,
        id=_stable_id(EventType.SURVEY_ANSWERED, response.pk),
        data=data,
        timestamp=response.answered_at,
    )
    return queue_events([event])


@in_site_language
def emit_churn_recorded(*, account_ids: list[int], day: date) -> int:
    """churn.recorded for the accounts whose churn was recorded on `day` (the nightly's or a
    CSM's mark)."""
    if not account_ids or not WebhookEndpoint.objects.exists():
        return 0
    mrr = dict(
        Account.objects.with_mrr(day - timedelta(days=1))
        .filter(pk__in=account_ids)
        .values_list("pk", "mrr")
    )
    events = []
    for account in Account.objects.filter(pk__in=account_ids).order_by("pk"):
        lost = Decimal(mrr.get(account.pk) or 0).quantize(Decimal("0.01"))
        data = {
            "account": account_data(account),
            "summary": _("The account churned on %(day)s") % {"day": day.isoformat()},
            "churned_on": day.isoformat(),
            "mrr_lost": str(lost),
        }
        events.append(
            Event(
                type=EventType.CHURN_RECORDED,
                id=_stable_id(EventType.CHURN_RECORDED, account.pk, day),
                data=data,
            )
        )
    return queue_events(events)


# A task is announced overdue once, on the first nightly day after its due date; the look-back
# lets a missed night catch up without replaying years of old next steps after an import.
OVERDUE_LOOK_BACK = timedelta(days=7)


@in_site_language
def emit_overdue_tasks(*, day: date) -> int:
    """task.overdue for each open task due before `day` (within OVERDUE_LOOK_BACK). The event id
    is the task's, so the nights after queue nothing new for it."""
    if not WebhookEndpoint.objects.exists():
        return 0
    tasks = (
        Task.objects.filter(
            status=TaskStatus.OPEN, due_on__lt=day, due_on__gte=day - OVERDUE_LOOK_BACK
        )
        .select_related("account", "assignee")
        .order_by("pk")
    )
    events = [
        Event(
            type=EventType.TASK_OVERDUE,
            id=_stable_id(EventType.TASK_OVERDUE, task.pk),
            data={
                "account": account_data(task.account),
                "summary": _("Task overdue since %(due)s: %(title)s")
                % {"due": task.due_on.isoformat(), "title": task.title},
                "title": task.title,
                "due_on": task.due_on.isoformat(),
                "assignee": task.assignee.email if task.assignee else None,
                "source": task.source,
            },
        )
        for task in tasks
    ]
    return queue_events(events)
