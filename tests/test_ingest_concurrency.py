"""Concurrent ingest on PostgreSQL (health/ingest.py): senders whose batches share new event ids
in different orders must not deadlock, and a deadlock that does happen (with another writer) is
retried once. Real threads, each with its own database connection, through the real API."""

from __future__ import annotations

import json
import os
import random
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from health.ingest import ingest_events
from health.models import UsageEvent
from health.services_keys import create_api_key
from tests.factories import AccountFactory

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="row locks and deadlocks are PostgreSQL's; DATABASE_URL is not PostgreSQL",
)

CLIENTS = 2
ROUNDS = 20
BATCH = 1000


def _event(event_id: str, when: datetime) -> dict:
    return {"id": event_id, "account": "acme", "event": "login", "timestamp": when.isoformat()}


def _post(url: str, key: str, events: list[dict]) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps({"events": events}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, {"not_json": body[:200].decode(errors="replace")}


def test_concurrent_batches_sharing_new_ids_in_different_orders_never_fail(
    live_server, transactional_db, settings
):
    settings.API_RATE_LIMIT_PER_MINUTE = 0
    AccountFactory(external_id="acme")
    key = create_api_key(name="product", actor=None).key
    url = live_server.url + "/api/v1/events"
    when = datetime.now(UTC) - timedelta(hours=1)
    # Each round both clients send the same 1,000 new ids, one in its own shuffled order, at the
    # same moment (the barrier): the shape of two senders retrying each other's batches.
    rounds = [[f"r{r}-{n:04d}" for n in range(BATCH)] for r in range(ROUNDS)]
    barrier = threading.Barrier(CLIENTS)
    results: list[list[tuple[int, dict]]] = [[] for _ in range(CLIENTS)]

    def client(number: int) -> None:
        shuffle = random.Random(number)
        for ids in rounds:
            ordered = list(ids)
            shuffle.shuffle(ordered)
            barrier.wait()
            results[number].append(_post(url, key, [_event(i, when) for i in ordered]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    answers = [answer for per_client in results for answer in per_client]
    failures = [(status, body) for status, body in answers if status != 200]
    print(f"concurrent ingest: {len(failures)} of {len(answers)} requests failed")
    assert failures == [], f"{len(failures)} of {len(answers)} requests failed: {failures[:3]}"
    for r in range(ROUNDS):
        both = [results[n][r][1] for n in range(CLIENTS)]
        assert sum(b["accepted"] for b in both) == BATCH  # each id stored once, by one client
        assert sum(b["duplicates"] for b in both) == BATCH * (CLIENTS - 1)
    assert UsageEvent.objects.count() == ROUNDS * BATCH


def test_a_deadlock_with_another_writer_is_retried_once(transactional_db):
    """Another transaction holds `b` and then asks for `a`, which the batch holds while it waits
    for `b`: PostgreSQL breaks the cycle by failing the batch's statement (its deadlock check runs
    first: the other session's deadlock_timeout is set longer). The retry stores nothing new
    (the other writer committed both ids) and reports them as duplicates."""
    AccountFactory(external_id="acme")
    when = datetime.now(UTC) - timedelta(hours=1)
    other = connections.create_connection("default")
    other.set_autocommit(False)
    outcome: dict[str, object] = {}
    try:
        with other.cursor() as cursor:
            cursor.execute("SET deadlock_timeout = '60s'")
            cursor.execute(
                'INSERT INTO health_usageevent (event_id, account_id, "user", event, timestamp,'
                " day, properties) SELECT 'b', id, '', 'login', now(), current_date, NULL"
                " FROM accounts_account WHERE external_id = 'acme'"
            )

        def batch() -> None:
            try:
                outcome["ingest"] = ingest_events([_event("a", when), _event("b", when)])
            except Exception as error:  # what the API would turn into a 500
                outcome["ingest"] = error
            finally:
                connections.close_all()

        thread = threading.Thread(target=batch)
        thread.start()
        with connection.cursor() as cursor:
            for _ in range(6000):  # a bounded wait (10 ms steps) for the batch to block on `b`
                cursor.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query LIKE %s",
                    ["%INSERT INTO%unnest%"],  # (WITH new AS (INSERT …): it marks accounts too)
                )
                if cursor.fetchone():
                    break
                threading.Event().wait(0.01)
            else:
                pytest.fail("the batch never waited for the other writer's row")
        with other.cursor() as cursor:
            cursor.execute(
                'INSERT INTO health_usageevent (event_id, account_id, "user", event, timestamp,'
                " day, properties) SELECT 'a', id, '', 'login', now(), current_date, NULL"
                " FROM accounts_account WHERE external_id = 'acme'"
            )
        other.commit()
        thread.join()
    finally:
        other.close()

    result = outcome["ingest"]
    assert not isinstance(result, Exception), f"the batch failed: {result!r}"
    assert result.as_json() == {"accepted": 0, "duplicates": 2, "errors": []}
    assert sorted(UsageEvent.objects.values_list("event_id", flat=True)) == ["a", "b"]
