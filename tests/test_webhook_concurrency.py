"""Two drains at once on PostgreSQL (csm/webhooks/delivery.py): each delivery is held by the drain
sending it, so a slow receiver still gets every event exactly once. Real threads, each with its
own database connection."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connections

from csm.webhooks.delivery import drain_webhooks
from csm.webhooks.events import Event, queue_events
from csm.webhooks.models import WebhookDelivery
from csm.webhooks.services import create_endpoint

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="row locks are PostgreSQL's; DATABASE_URL is not PostgreSQL",
)

EVENTS = 6


def test_two_drains_at_once_send_each_delivery_once(transactional_db, receiver):
    receiver.delay = 0.2  # both drains are busy at the same time
    create_endpoint(url=receiver.url, events=["task.overdue"], kind="standard", actor=None)
    queue_events(Event(type="task.overdue", id=f"msg_{n}", data={}) for n in range(EVENTS))
    sent: list[int] = []

    def drain() -> None:
        try:
            sent.append(drain_webhooks())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = sorted(request.headers["webhook-id"] for request in receiver.requests)
    assert ids == sorted(f"msg_{n}" for n in range(EVENTS))
    assert sum(sent) == EVENTS
    assert all(sent)  # both drains took part: the rows were shared, not sent twice
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"sent"}
