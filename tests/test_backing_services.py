"""When DATABASE_URL / REDIS_URL are set, the suite really runs against PostgreSQL and Redis:
these fail (not skip) if the service is missing, so a CI run cannot pass on SQLite by accident."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings
from django.db import connection

needs_database_url = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"), reason="DATABASE_URL not set"
)
needs_redis_url = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")


@needs_database_url
def test_the_suite_runs_on_the_configured_database(db):
    assert os.environ["DATABASE_URL"].split(":")[0].startswith(connection.vendor[:5])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("select version()")
            assert "PostgreSQL" in cursor.fetchone()[0]


@needs_redis_url
def test_celery_messages_round_trip_through_redis():
    from kombu import Connection, Exchange, Queue

    assert os.environ["REDIS_URL"] == settings.CELERY_BROKER_URL
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    name = f"csm-test-{uuid.uuid4().hex}"
    queue = Queue(name, Exchange(name), routing_key=name)
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1)
        producer = conn.Producer()
        producer.publish({"ping": 1}, exchange=queue.exchange, routing_key=name, declare=[queue])
        simple = conn.SimpleQueue(queue)
        message = simple.get(timeout=5)
        assert message.payload == {"ping": 1}
        message.ack()
        simple.close()
        queue(conn.default_channel).delete()


def test_without_a_broker_tasks_run_in_process():
    if os.environ.get("REDIS_URL"):
        pytest.skip("a broker is configured")
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
