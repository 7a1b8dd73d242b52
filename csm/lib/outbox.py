"""The outbox (docs/operations.md): email is written as a row in the same transaction as what
causes it, and a task (csm.lib.tasks) drains the table. A Redis or SMTP outage delays email and
loses none. Each sent email is announced with the `email_sent` signal (csm.lib.signals)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from csm.lib.models import OutboxEmail
from csm.lib.signals import email_sent

log = logging.getLogger(__name__)

# A failed send is retried after 5 minutes, then 10, 20… and at most every 12 hours, for ever:
# the row stays until it is sent.
RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=12)


def queue_email(
    *, kind: str, to: str, subject: str, body: str, account_id: int | None = None
) -> OutboxEmail:
    """Queue one email. Call it inside the transaction that decides to send it, so the email
    exists exactly when that change does."""
    return OutboxEmail.objects.create(
        kind=kind, to=to, subject=subject, body=body, account_id=account_id
    )


def retry_now(pk: int) -> bool:
    """Bring a failed email's next attempt forward to now (the managers' Outbox page): a
    conditional UPDATE, so a sent email is never sent again. The caller asks for a drain once its
    transaction commits. True when the email was still unsent."""
    return bool(
        OutboxEmail.objects.filter(pk=pk, sent_at__isnull=True).update(send_after=timezone.now())
    )


def retry_delay(
    attempts: int, *, first: timedelta = RETRY_FIRST, most: timedelta = RETRY_MAX
) -> timedelta:
    """How long to wait after the `attempts`-th failed send: `first`, doubling each time, at most
    `most` (the outbox's defaults; outbound webhooks pass their own)."""
    return min(first * 2 ** max(attempts - 1, 0), most)


def drain_outbox(limit: int = 200) -> int:
    """Send up to `limit` unsent emails whose send_after has come, oldest first; return how many
    went out. Each email is sent in its own transaction holding its row (a second drain running
    at the same time skips it), and is marked sent only when the backend accepted it: a failure
    counts the attempt, keeps the error and pushes send_after back."""
    due = list(
        OutboxEmail.objects.filter(sent_at__isnull=True, send_after__lte=timezone.now())
        .order_by("send_after", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(_send_one(pk) for pk in due)


def _send_one(pk: int) -> bool:
    with transaction.atomic():
        email = (
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, sent_at__isnull=True)
            .first()
        )
        if email is None:  # sent or being sent by another drain
            return False
        email.attempts += 1
        try:
            EmailMessage(
                subject=email.subject,
                body=email.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[email.to],
            ).send()
        except Exception as error:  # any backend failure: SMTP down, refused, timeout…
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            email.send_after = timezone.now() + retry_delay(email.attempts)
            email.save(update_fields=["attempts", "last_error", "send_after"])
            log.warning("outbox: email %s not sent (attempt %s): %s", pk, email.attempts, error)
            return False
        email.sent_at = timezone.now()
        email.save(update_fields=["attempts", "sent_at"])
        # In this transaction: what a receiver writes (a usage-tips touch) commits with the send.
        email_sent.send(sender=OutboxEmail, email=email)
        return True
