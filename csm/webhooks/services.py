"""Registering, pausing, resuming and deleting webhook endpoints: the managers' page and
`add_webhook` call these, so both leave the same audit trail (like API keys)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import record_changes
from accounts.models import User
from csm.webhooks.models import WebhookDelivery, WebhookEndpoint
from csm.webhooks.signing import generate_secret
from csm.webhooks.tasks import request_webhook_drain


@dataclass(frozen=True)
class NewEndpoint:
    """An endpoint just registered: `secret` is shown once, on the page or the command's output."""

    endpoint: WebhookEndpoint
    secret: str


@transaction.atomic
def create_endpoint(*, url: str, events: list[str], kind: str, actor: User | None) -> NewEndpoint:
    """Register an endpoint (url, events and kind already checked by EndpointForm)."""
    secret = generate_secret()
    endpoint = WebhookEndpoint.objects.create(
        url=url, events=list(events), kind=kind, secret=secret, created_by=actor
    )
    record_changes(
        actor=actor,
        obj=endpoint,
        action="webhook.create",
        changes={"url": (None, url), "events": (None, ",".join(events)), "kind": (None, kind)},
    )
    return NewEndpoint(endpoint=endpoint, secret=secret)


@transaction.atomic
def delete_endpoint(*, endpoint: WebhookEndpoint, actor: User | None) -> None:
    """Delete the endpoint and its deliveries (sent or not): nothing more goes to the URL."""
    record_changes(
        actor=actor, obj=endpoint, action="webhook.delete", changes={"url": (endpoint.url, None)}
    )
    endpoint.delete()


@transaction.atomic
def pause_endpoint(*, endpoint: WebhookEndpoint, actor: User | None) -> bool:
    """Stop sending to the endpoint; its deliveries wait. False when it was paused already."""
    now = timezone.now()
    reason = _("Paused by %(who)s.") % {"who": actor or _("the command line")}
    paused = WebhookEndpoint.objects.filter(pk=endpoint.pk, paused_at__isnull=True).update(
        paused_at=now, paused_reason=reason
    )
    if paused:
        endpoint.paused_at, endpoint.paused_reason = now, reason
        record_changes(
            actor=actor,
            obj=endpoint,
            action="webhook.pause",
            changes={"paused_at": (None, now.isoformat())},
        )
    return bool(paused)


@transaction.atomic
def resume_endpoint(*, endpoint: WebhookEndpoint, actor: User | None) -> bool:
    """Send to the endpoint again: its waiting deliveries are due at once, and its failure count
    starts over. False when it was not paused."""
    resumed = WebhookEndpoint.objects.filter(pk=endpoint.pk, paused_at__isnull=False).update(
        paused_at=None, paused_reason="", consecutive_failures=0, failing_since=None
    )
    if not resumed:
        return False
    record_changes(
        actor=actor,
        obj=endpoint,
        action="webhook.resume",
        changes={"paused_at": (endpoint.paused_at and endpoint.paused_at.isoformat(), None)},
    )
    endpoint.paused_at, endpoint.paused_reason = None, ""
    WebhookDelivery.objects.filter(endpoint=endpoint, sent_at__isnull=True).update(
        next_attempt_at=timezone.now()
    )
    transaction.on_commit(request_webhook_drain)
    return True
