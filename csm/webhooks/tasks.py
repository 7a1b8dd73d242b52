"""The webhook drain's Celery task, thin: it calls csm.webhooks.delivery.drain_webhooks."""

from __future__ import annotations

import logging

from celery import shared_task

from csm.webhooks.delivery import drain_webhooks

log = logging.getLogger(__name__)


@shared_task
def drain_webhooks_task() -> int:
    """Beat runs this every minute (and queueing an event asks for it at once): send the due
    deliveries. Returns how many went out."""
    return drain_webhooks()


def request_webhook_drain() -> None:
    """Ask a worker to drain now (in-process without Redis). When the broker is down this only
    logs: the rows wait for beat's next drain."""
    try:
        drain_webhooks_task.delay()
    except Exception as error:
        log.warning("webhooks: could not enqueue the drain task (%s); beat will drain later", error)
