"""Sending deliveries (docs/operations.md "Outbound webhooks"): the drain, one delivery at a time.

The approach is the email outbox's (csm.lib.outbox): rows written with the change that caused
them, a drain that holds each row while it sends it (a second drain skips it), a delivery marked
sent only when the receiver answered 2xx, and a failure retried with growing delays — so a Redis or
receiver outage delays events and loses none.

An endpoint that keeps failing is paused: after PAUSE_AFTER_FAILURES failed attempts in a row
spread over at least PAUSE_AFTER (a receiver down for a day, not a blip). Its deliveries stay and
go out once a manager resumes it.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from csm.lib.outbox import retry_delay
from csm.webhooks.models import DeliveryStatus, EndpointKind, WebhookDelivery, WebhookEndpoint
from csm.webhooks.signing import signed_headers
from csm.webhooks.slack import slack_message

log = logging.getLogger(__name__)

# Retries: after 1 minute, then 2, 4, 8… and at most every 6 hours, until a 2xx.
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=6)
PAUSE_AFTER_FAILURES = 8
PAUSE_AFTER = timedelta(hours=24)
USER_AGENT = "csm-webhooks/1"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: it counts as a failure with its status code (a
    POST must not silently become a GET to another address)."""

    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def request_body(endpoint: WebhookEndpoint, payload: dict) -> bytes:
    """What is POSTed: the event itself, or for Slack the message made from it."""
    document = slack_message(payload) if endpoint.kind == EndpointKind.SLACK else payload
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> tuple[int | None, str]:
    """One attempt: (status code or None when there was no HTTP answer, error text or "")."""
    body = request_body(endpoint, delivery.payload)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if endpoint.kind == EndpointKind.STANDARD:
        headers |= signed_headers(
            endpoint.secret, msg_id=delivery.event_id, timestamp=int(time.time()), body=body
        )
    request = urllib.request.Request(endpoint.url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code} {error.reason}"[:2000]
    except (OSError, ValueError) as error:  # refused, DNS, timeout, TLS…
        reason = getattr(error, "reason", error)
        return None, f"{type(error).__name__}: {reason}"[:2000]


def drain_webhooks(limit: int = 200) -> int:
    """Send up to `limit` due deliveries of active endpoints, oldest first; return how many
    went out."""
    due = list(
        WebhookDelivery.objects.filter(
            sent_at__isnull=True,
            next_attempt_at__lte=timezone.now(),
            endpoint__paused_at__isnull=True,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(_send_one(pk) for pk in due)


def _send_one(pk: int) -> bool:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=pk, sent_at__isnull=True, endpoint__paused_at__isnull=True)
            .first()
        )
        if delivery is None:  # sent, being sent by another drain, or its endpoint paused
            return False
        endpoint = delivery.endpoint
        code, error = post(endpoint, delivery)
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_status_code = code
        if code is not None and 200 <= code < 300:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.last_error = ""
            delivery.save(
                update_fields=["attempts", "last_status_code", "status", "sent_at", "last_error"]
            )
            WebhookEndpoint.objects.filter(pk=endpoint.pk).exclude(consecutive_failures=0).update(
                consecutive_failures=0, failing_since=None
            )
            return True
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = error
        delivery.next_attempt_at = now + retry_delay(
            delivery.attempts, first=RETRY_FIRST, most=RETRY_MAX
        )
        delivery.save(
            update_fields=[
                "attempts",
                "last_status_code",
                "status",
                "last_error",
                "next_attempt_at",
            ]
        )
        _count_failure(endpoint, error, now)
        log.warning("webhooks: delivery %s to %s failed: %s", pk, endpoint.url, error)
        return False


def _count_failure(endpoint: WebhookEndpoint, error: str, now: datetime) -> None:
    """One more failure in a row; pause the endpoint once it has failed long enough."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    endpoint.refresh_from_db(fields=["consecutive_failures", "failing_since", "paused_at"])
    if (
        endpoint.paused_at is None
        and endpoint.consecutive_failures >= PAUSE_AFTER_FAILURES
        and endpoint.failing_since is not None
        and now - endpoint.failing_since >= PAUSE_AFTER
    ):
        reason = _(
            "Paused automatically: %(count)s deliveries in a row failed since %(since)s "
            "(last error: %(error)s). Fix the receiver, then resume."
        ) % {
            "count": endpoint.consecutive_failures,
            "since": endpoint.failing_since.strftime("%Y-%m-%d %H:%M UTC"),
            "error": error,
        }
        WebhookEndpoint.objects.filter(pk=endpoint.pk, paused_at__isnull=True).update(
            paused_at=now, paused_reason=reason
        )
        log.warning("webhooks: endpoint %s paused after %s failures", endpoint.pk, reason)
