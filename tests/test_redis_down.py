"""DESIGN §8: the web app and the ingest API keep working when Redis (broker and cache) is down.
Nothing on a request path may wait on Celery or fail with the cache."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from csm.celery import app
from health.models import UsageEvent
from health.services_keys import create_api_key
from tests.factories import AccountFactory, HealthScoreFactory

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.API_RATE_LIMIT_PER_MINUTE = 600  # so the API does try the cache
    before = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    app.conf.update(broker_url=DEAD_REDIS, task_always_eager=False)
    yield
    app.conf.update(**before)
    # Drop the connections made for the dead broker, so a later test on this worker gets the
    # real one again (the pools would otherwise keep pointing at the dead address).
    app._pool = None
    app.amqp._producer_pool = None
    caches["default"].close()


def test_the_pages_are_served(redis_down, alice_client):
    account = AccountFactory(owner=None)
    HealthScoreFactory(account=account)
    assert alice_client.get(reverse("accounts:list")).status_code == 200
    assert (
        alice_client.get(reverse("accounts:detail", args=[account.external_id])).status_code == 200
    )


def test_the_ingest_api_stores_events(redis_down, client, db):
    account = AccountFactory()
    key = create_api_key(name="product", actor=None).key
    ts = (timezone.now() - timedelta(minutes=5)).isoformat()
    body = {
        "events": [{"id": "e1", "account": account.external_id, "event": "login", "timestamp": ts}]
    }
    response = client.post(
        reverse("health:events"),
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 1
    assert UsageEvent.objects.filter(event_id="e1").exists()


def test_enqueueing_fails_fast_instead_of_hanging(redis_down):
    """What a request path would meet if it enqueued while Redis is down: an error within
    seconds (the broker options in settings), not a hang. No view does this today."""
    from kombu.exceptions import OperationalError

    from csm.tasks import run_nightly_task

    started = timezone.now()
    with pytest.raises(OperationalError), app.connection_for_write(DEAD_REDIS) as connection:
        run_nightly_task.apply_async(connection=connection, retry=False)
    assert timezone.now() - started < timedelta(seconds=10)
