"""The outbox's Celery task, thin: it calls csm.lib.outbox.drain_outbox."""

from __future__ import annotations

import logging

from celery import shared_task

from csm.lib.outbox import drain_outbox

log = logging.getLogger(__name__)


@shared_task
def drain_outbox_task() -> int:
    """Beat runs this every 5 minutes (and the nightly run and survey sends ask for it at once):
    send what the outbox holds. Returns how many emails went out."""
    return drain_outbox()


def request_drain() -> None:
    """Ask a worker to drain the outbox now (in-process without Redis). When the broker is down
    this only logs: the rows wait, and beat's drain every 5 minutes sends them later."""
    try:
        drain_outbox_task.delay()
    except Exception as error:
        log.warning("outbox: could not enqueue the drain task (%s); beat will drain later", error)
