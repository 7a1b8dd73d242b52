"""`POST /hooks/stripe/`: Stripe's billing events in (docs/api.md, "Stripe webhooks").

1. Verify `Stripe-Signature` against STRIPE_WEBHOOK_SECRET (one or several secrets during a
   rotation; csm.lib.stripe_signature): a bad or stale signature gets 400 and changes nothing;
   no secret configured gets 503 (Stripe retries for days, so events wait for the secret).
2. In one transaction: claim the event id (a StripeEvent row; a delivery of an event already
   claimed changes nothing), then handle it:
   - `customer.created|updated` link the customer to the account its metadata names;
   - `customer.subscription.created|updated|deleted` store the subscription (accounts.stripe;
     an event older than the stored state changes nothing);
   - `invoice.payment_failed` / `invoice.paid` store a `payment_failed` / `payment_succeeded`
     usage event through health.ingest (its id `stripe:<event id>`), as any other event.
3. What cannot be stored (unknown customer, another currency …) rolls the claim back and becomes
   an ingestion warning; the answer is still 200 (Stripe would retry an event that cannot
   change), and a resend from Stripe's dashboard after the fix is handled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts import stripe
from accounts.models import StripeEvent
from csm.lib.stripe_signature import SignatureError, verify_stripe_signature
from health.ingest import ingest_events
from health.ingestion_warnings import record_ingestion_warning
from health.models import IngestionWarningSource, UsageEvent

log = logging.getLogger(__name__)

PAYMENT_EVENTS = {
    "invoice.payment_failed": UsageEvent.PAYMENT_FAILED,
    "invoice.paid": UsageEvent.PAYMENT_SUCCEEDED,
}
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
CUSTOMER_EVENTS = frozenset({"customer.created", "customer.updated"})
# Stripe's own events are a few kilobytes; anything this large is not one.
MAX_BODY_BYTES = 1024 * 1024


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _payment(event_id: str, kind: str, invoice: Mapping[str, Any], at: datetime) -> str:
    """Store the invoice's payment as a usage event of its account."""
    subscription_details = invoice.get("subscription_details")
    parent = invoice.get("parent")
    parent_details = parent.get("subscription_details") if isinstance(parent, Mapping) else None
    account = stripe.account_for(invoice, subscription_details, parent_details)
    properties = {
        "stripe_event": event_id,
        "invoice": invoice.get("id"),
        "amount_due": invoice.get("amount_due"),
        "currency": invoice.get("currency"),
    }
    result = ingest_events(
        [
            {
                "id": f"stripe:{event_id}",
                "account": account.external_id,
                "event": kind,
                "timestamp": at.isoformat(),
                "properties": {k: v for k, v in properties.items() if v is not None},
            }
        ]
    )
    if result.errors:
        raise stripe.Refused(stripe.BAD_OBJECT, result.errors[0]["error"])
    return "stored" if result.accepted else "duplicate"


def _handler(event_type: str) -> Callable[[str, Mapping[str, Any], datetime], str] | None:
    if event_type in SUBSCRIPTION_EVENTS:
        return lambda _id, obj, at: str(stripe.sync_subscription(obj, at=at))
    if event_type in PAYMENT_EVENTS:
        return lambda event_id, obj, at: _payment(event_id, PAYMENT_EVENTS[event_type], obj, at)
    if event_type in CUSTOMER_EVENTS:
        return lambda _id, obj, _at: "linked" if stripe.link_customer(obj) else "ignored"
    return None


def _claim(event_id: str, event_type: str, at: datetime) -> bool:
    """Record the event id as handled; False when it was already (the caller's transaction then
    holds nothing of this delivery)."""
    try:
        with transaction.atomic():
            StripeEvent.objects.create(event_id=event_id, type=event_type, created=at)
    except IntegrityError:
        return False
    return True


@csrf_exempt
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = _error(405, "method not allowed: use POST")
        response["Allow"] = "POST"
        return response
    secrets = settings.STRIPE_WEBHOOK_SECRET
    if not secrets:
        return _error(
            503, "Stripe webhooks are not configured: set STRIPE_WEBHOOK_SECRET on the server"
        )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "the Content-Length header is not a number")
    if declared > MAX_BODY_BYTES:
        return _error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    payload = request.read(MAX_BODY_BYTES + 1)
    if len(payload) > MAX_BODY_BYTES:
        return _error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        verify_stripe_signature(payload, request.headers.get("Stripe-Signature", ""), secrets)
    except SignatureError as exc:
        return _error(400, str(exc))

    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):
        return _error(400, "the body is not valid JSON")
    data = event.get("data") if isinstance(event, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    not_an_event = "the body is not a Stripe event: id, type and data.object are needed"
    if not isinstance(obj, dict):  # then `event` is a dict too
        return _error(400, not_an_event)
    event_id, event_type = event.get("id"), event.get("type")
    if not (isinstance(event_id, str) and isinstance(event_type, str)):
        return _error(400, not_an_event)
    if not event_id or len(event_id) > 255:
        return _error(400, "id: not a Stripe event id")
    handler = _handler(event_type)
    if handler is None:
        return JsonResponse({"event": event_id, "result": "ignored"})

    try:
        at = stripe.moment(event.get("created"), "created")
        with transaction.atomic():
            if not _claim(event_id, event_type, at):
                return JsonResponse({"event": event_id, "result": "duplicate"})
            result = handler(event_id, obj, at)
    except stripe.Refused as refused:
        record_ingestion_warning(
            source=IngestionWarningSource.STRIPE,
            cause=refused.cause,
            message=f"{event_type} {event_id}: {refused.message}",
            example=event,
        )
        log.info("stripe: %s %s refused: %s", event_type, event_id, refused.message)
        return JsonResponse({"event": event_id, "result": "warning", "warning": refused.cause})
    return JsonResponse({"event": event_id, "result": result})
