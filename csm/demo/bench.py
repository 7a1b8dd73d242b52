"""`bench` (DESIGN §7): build a book at the requested scale in a scratch PostgreSQL database and
measure what the budgets are about, against plain-database baselines on the same data.

1. Data: CSMs, accounts and 24 months of subscriptions through the ORM (bulk), usage events with
   one INSERT … SELECT over generate_series spread over the last 90 days, rollups for the days
   before the measured one, and one untimed nightly run for the day before (steady state).
2. Ingest: POST batches of 1,000 events through the real API view (django.test.Client, so URL
   routing, middleware, the key check, JSON parsing and validation all count), then COPY the same
   rows (new ids) into the same table with psycopg. ingest_vs_copy = API rows/s ÷ COPY rows/s.
   Then the same number of events through Segment's /v1/batch in batches of 100 track messages
   (the Segment client's size): segment_events_per_s, and segment_vs_copy against the same COPY.
   Ingest runs as with a worker (the accounts are marked dirty, not evaluated in the request);
   the evaluation of the marked accounts is timed after it (risk_eval_s).
3. Nightly: time run_nightly for one day, and one plain SQL aggregate over the 90 days of events
   the scores depend on (events, distinct users, distinct event names, last event per account).
   nightly_vs_scan = nightly_s ÷ scan_s.
4. Pages: p50/p95 response time and query count of Today and the queue (a CSM's book of ~330
   accounts, and a manager's whole team), account detail, the account list and the KPI pages
   (overview, cohorts, churn analysis, health and saves, scoreboard, goals: the warm-up nightly
   run wrote their snapshots, MRR movements and churn records).
"""

from __future__ import annotations

import base64
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Role, Segment, Subscription, User
from accounts.services import refresh_tiers
from csm.demo.workflow import seed_touches
from csm.nightly import run_nightly
from csm.workflow.blueprints import create_blueprints, simulate_demo_progress
from csm.workflow.risk import evaluate_dirty_accounts
from health.models import ApiKey, UsageEvent
from health.services import roll_up_usage
from health.services_keys import create_api_key

CSMS = 150
WINDOW_DAYS = 90
BATCH = 1000
# The Segment client's batch size (segment.analytics upload_size).
SEGMENT_BATCH = 100
FEATURES = (
    "login",
    "report_viewed",
    "dashboard_created",
    "export_csv",
    "integration_synced",
    "alert_configured",
    "api_call",
    "comment_added",
    "invite_sent",
    "search",
    "workflow_run",
    "data_imported",
)
PAGE_SAMPLES = 40


@contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh, migrated database next to the configured one, dropped afterwards: bench never
    touches real data."""
    if connection.vendor != "postgresql":
        raise RuntimeError("bench measures on PostgreSQL: set DATABASE_URL to a postgres:// URL")
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{old_name}_bench"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield name
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def build_book(*, accounts: int, events: int, day: date, log: Callable[[str], None]) -> None:
    rng = random.Random(7)
    csms = User.objects.bulk_create(
        User(email=f"csm{n}@bench.example", name=f"CSM {n}", role=Role.CSM, password="!")
        for n in range(CSMS)
    )
    User.objects.create_user("manager@bench.example", password="bench", role=Role.MANAGER)
    segments = [Segment.BASIC] * 6 + [Segment.ADVANCED] * 3 + [Segment.STRATEGIC]
    book = [
        Account(
            external_id=f"bench-{n:06d}",
            name=f"Bench Customer {n:06d}",
            segment=rng.choice(segments),
            owner=csms[n % CSMS],
            contract_start=day - timedelta(days=rng.randrange(30, 730)),
            renewal_date=day + timedelta(days=rng.randrange(1, 365)),
            seats=rng.choice((None, 5, 10, 25, 50, 100)),
        )
        for n in range(accounts)
    ]
    Account.objects.bulk_create(book, batch_size=5000)
    subscriptions = []
    for n, account in enumerate(book):
        start = account.contract_start
        amount = Decimal(rng.choice((49, 99, 199, 499, 999, 2500)))
        churned = n % 12 == 0
        upgrade = start + timedelta(days=rng.randrange(60, 400))
        if not churned and upgrade < day:
            subscriptions.append(_subscription(n, "a", account, start, upgrade, amount))
            subscriptions.append(_subscription(n, "b", account, upgrade, None, amount * 2))
        else:
            end = start + timedelta(days=rng.randrange(60, 700)) if churned else None
            subscriptions.append(_subscription(n, "a", account, start, end, amount))
    Subscription.objects.bulk_create(subscriptions, batch_size=5000)
    log(f"book: {accounts} accounts, {len(subscriptions)} subscriptions, {CSMS} CSMs")

    # The CSMs' work so far, as in the demo: blueprints with their past milestones mostly done,
    # touches on cadence for most A/B accounts, tips emails for C. Without it every account would
    # be overdue on everything and the queue and Today would measure an unreal book.
    started = time.perf_counter()
    refresh_tiers(today=day)
    create_blueprints()
    simulate_demo_progress(seed=7, today=day)
    touches = seed_touches(seed=7, today=day)
    log(f"blueprints and {touches} touches: {time.perf_counter() - started:.1f} s")

    first_id = book[0].pk
    zone = settings.TIME_ZONE
    window_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    seconds = WINDOW_DAYS * 86400
    # Pseudo-random but deterministic spread of events over accounts, users, features and time.
    sql = f"""
        INSERT INTO {UsageEvent._meta.db_table}
               (event_id, account_id, "user", event, timestamp, day, properties)
        SELECT 'seed-' || g,
               %(first_id)s + (g * 2654435761) %% %(accounts)s,
               'u' || (g * 40503) %% 9,
               (%(features)s::text[])[1 + (g * 7919) %% %(feature_count)s],
               ts,
               (ts AT TIME ZONE %(zone)s)::date,
               NULL
          FROM generate_series(1::bigint, %(events)s::bigint) AS g,
               LATERAL (SELECT %(end)s::timestamptz
                               - ((g * 104729) %% %(seconds)s) * interval '1 second' AS ts) AS t
    """
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "first_id": first_id,
                "accounts": accounts,
                "features": list(FEATURES),
                "feature_count": len(FEATURES),
                "zone": zone,
                "events": events,
                "end": window_end - timedelta(seconds=1),
                "seconds": seconds,
            },
        )
        cursor.execute(f"ANALYZE {UsageEvent._meta.db_table}")
    log(f"events: {events} in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    roll_up_usage(first_day=day - timedelta(days=WINDOW_DAYS), last_day=day - timedelta(days=2))
    run_nightly(day=day - timedelta(days=1))
    log(f"rollups and a warm-up nightly run: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    settle()
    log(f"vacuum, analyze and checkpoint: {time.perf_counter() - started:.1f} s")


def settle() -> None:
    """Leave the book as a live database would be between two nights: vacuumed and analyzed
    (autovacuum would have been through the 10 million fresh rows; here it would start during
    the timed phases), and checkpointed, so the setup's gigabytes of dirty pages are not
    flushed while ingest is timed. CHECKPOINT needs a privileged role: skipped without one."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        try:
            with transaction.atomic():
                cursor.execute("CHECKPOINT")
        except DatabaseError:
            pass


def _subscription(
    n: int, suffix: str, account: Account, start: date, end: date | None, amount: Decimal
) -> Subscription:
    subscription = Subscription(
        subscription_id=f"bench-{n:06d}-{suffix}",
        account=account,
        start_date=start,
        end_date=end,
        amount=amount,
        interval="month",
    )
    subscription.set_mrr()
    return subscription


def _event_rows(count: int, day: date, accounts: list[str]) -> list[dict[str, Any]]:
    rng = random.Random(11)
    base = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return [
        {
            "id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "account": rng.choice(accounts),
            "user": f"u{rng.randrange(9)}",
            "event": rng.choice(FEATURES),
            "timestamp": (base + timedelta(seconds=rng.randrange(86400))).isoformat(),
            "properties": {"plan": "pro"} if rng.random() < 0.3 else None,
        }
        for _ in range(count)
    ]


def measure_ingest(*, count: int, day: date) -> dict[str, float]:
    key = create_api_key(name="bench", actor=None).key
    accounts = list(Account.objects.values_list("external_id", flat=True))
    rows = _event_rows(count, day, accounts)
    bodies = [json.dumps({"events": rows[i : i + BATCH]}) for i in range(0, count, BATCH)]
    client = Client()
    url = reverse("health:events")
    headers = {"Authorization": f"Bearer {key}"}
    # One sender at full speed would hit the per-key rate limit; the check itself still runs.
    # Ingest is timed as production runs it, with a worker: each batch marks its accounts dirty
    # and beat's task re-evaluates them later (timed below as risk_eval_s), not in the request.
    with override_settings(API_RATE_LIMIT_PER_MINUTE=10**9, CELERY_TASK_ALWAYS_EAGER=False):
        started = time.perf_counter()
        for body in bodies:
            response = client.post(url, body, content_type="application/json", headers=headers)
            assert response.status_code == 200, response.content
            assert response.json()["accepted"] == BATCH, response.content
        ingest_s = time.perf_counter() - started

    # The same rows again, as fast as the database takes them: COPY, with fresh ids, right after
    # the ingest as before the live risk evaluation existed (run in between, the evaluation gave
    # the database time to catch up with the ingest's writes, and the COPY it is compared with
    # ran on a quieter database).
    ids = dict(Account.objects.values_list("external_id", "pk"))
    zone = timezone.get_current_timezone()
    copy_rows = []
    for row in rows:
        ts = datetime.fromisoformat(row["timestamp"])
        properties = json.dumps(row["properties"]) if row["properties"] is not None else None
        copy_rows.append(
            (
                "copy-" + row["id"],
                ids[row["account"]],
                row["user"],
                row["event"],
                ts,
                ts.astimezone(zone).date(),
                properties,
            )
        )
    columns = 'event_id, account_id, "user", event, timestamp, day, properties'
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {UsageEvent._meta.db_table} ({columns}) FROM STDIN") as copy:
            for copy_row in copy_rows:
                copy.write_row(copy_row)
    copy_s = time.perf_counter() - started
    ApiKey.objects.filter(name="bench").delete()
    started = time.perf_counter()
    evaluated = evaluate_dirty_accounts()
    risk_eval_s = time.perf_counter() - started
    return {
        "ingest_events_per_s": round(count / ingest_s),
        "copy_rows_per_s": round(count / copy_s),
        "ingest_vs_copy": round((count / ingest_s) / (count / copy_s), 3),
        # The live risk evaluation of the accounts the ingest marked (one batch task's work).
        "risk_eval_accounts": evaluated,
        "risk_eval_s": round(risk_eval_s, 2),
    }


def measure_segment(*, count: int, day: date, copy_rows_per_s: float) -> dict[str, float]:
    """The same kind of events through Segment's /v1/batch (health.segment_api), in batches of
    SEGMENT_BATCH track messages as the Segment client sends them (account in context.groupId,
    write key as HTTP Basic user), through the real view as measure_ingest does."""
    key = create_api_key(name="bench-segment", actor=None).key
    accounts = list(Account.objects.values_list("external_id", flat=True))
    rows = _event_rows(count, day, accounts)
    bodies = []
    for start in range(0, count, SEGMENT_BATCH):
        messages = [
            {
                "type": "track",
                "messageId": "seg-" + row["id"],
                "userId": row["user"],
                "event": row["event"],
                "timestamp": row["timestamp"],
                "properties": row["properties"] or {},
                "context": {"groupId": row["account"], "library": {"name": "analytics-python"}},
                "integrations": {},
            }
            for row in rows[start : start + SEGMENT_BATCH]
        ]
        bodies.append(json.dumps({"batch": messages, "sentAt": timezone.now().isoformat()}))
    client = Client()
    url = reverse("health:segment_batch")
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    stored_before = UsageEvent.objects.count()
    with override_settings(API_RATE_LIMIT_PER_MINUTE=10**9):
        started = time.perf_counter()
        for body in bodies:
            response = client.post(url, body, content_type="application/json", headers=auth)
            assert response.status_code == 200, response.content
        segment_s = time.perf_counter() - started
    assert UsageEvent.objects.count() - stored_before == count, "segment events not all stored"
    ApiKey.objects.filter(name="bench-segment").delete()
    rate = count / segment_s
    return {
        "segment_events_per_s": round(rate),
        "segment_vs_copy": round(rate / copy_rows_per_s, 3),
    }


def measure_nightly(*, day: date) -> dict[str, float]:
    nightly_s = _timed(lambda: run_nightly(day=day))
    window_start = day - timedelta(days=WINDOW_DAYS - 1)
    scan_sql = f"""
        SELECT account_id, COUNT(*), COUNT(DISTINCT "user"), COUNT(DISTINCT event), MAX(timestamp)
          FROM {UsageEvent._meta.db_table}
         WHERE day >= %s AND day <= %s
         GROUP BY account_id
    """

    def scan() -> None:
        with connection.cursor() as cursor:
            cursor.execute(scan_sql, [window_start, day])
            cursor.fetchall()

    scan_s = _timed(scan)
    return {
        "nightly_s": round(nightly_s, 2),
        "scan_s": round(scan_s, 2),
        "nightly_vs_scan": round(nightly_s / scan_s, 2),
    }


def measure_pages() -> dict[str, float]:
    manager = Client()
    manager.force_login(User.objects.get(email="manager@bench.example"))
    csm = Client()
    csm.force_login(User.objects.get(email="csm0@bench.example"))
    rng = random.Random(5)
    yesterday = timezone.localdate() - timedelta(days=1)
    external_ids = list(
        Account.objects.filter(health_scores__isnull=False)
        .distinct()
        .values_list("external_id", flat=True)[:2000]
    )
    pages: dict[str, tuple[Client, Callable[[], str]]] = {
        "today": (csm, lambda: reverse("home")),
        "today_manager": (manager, lambda: reverse("home")),
        "queue": (csm, lambda: reverse("risk:list")),
        "queue_manager": (manager, lambda: reverse("risk:list")),
        "account_detail": (
            manager,
            lambda: reverse("accounts:detail", args=[rng.choice(external_ids)]),
        ),
        "account_list": (manager, lambda: reverse("accounts:list") + "?sort=-mrr"),
        "account_list_red": (manager, lambda: reverse("accounts:list") + "?band=red&sort=health"),
        # The KPI pages read what the warm-up nightly run wrote (refresh_kpis, churn records,
        # health scores); "kpis" is the overview.
        "kpis": (manager, lambda: reverse("kpis:overview")),
        "kpi_cohorts": (manager, lambda: reverse("kpis:cohorts")),
        "kpi_churn": (manager, lambda: reverse("kpis:churn")),
        "kpi_health": (manager, lambda: reverse("kpis:health")),
        # The month of the nightly run's day: its snapshots and cadence counts are stored.
        "kpi_scoreboard": (
            manager,
            lambda: reverse("kpis:scoreboard") + f"?month={yesterday:%Y-%m}",
        ),
        "kpi_goals": (manager, lambda: reverse("kpis:goals")),
    }
    results: dict[str, float] = {}
    for name, (client, make_url) in pages.items():
        client.get(make_url())  # warm-up
        timings = []
        queries = 0
        for _ in range(PAGE_SAMPLES):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(make_url())
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            queries = len(captured)
        timings.sort()
        results[f"{name}_p50_ms"] = round(statistics.median(timings), 1)
        results[f"{name}_p95_ms"] = round(timings[int(len(timings) * 0.95) - 1], 1)
        results[f"{name}_queries"] = queries
    return results


def run_bench(
    *, accounts: int, events: int, ingest_events: int, log: Callable[[str], None]
) -> dict[str, Any]:
    day = timezone.localdate() - timedelta(days=1)
    with scratch_database():
        started = time.perf_counter()
        build_book(accounts=accounts, events=events, day=day, log=log)
        result: dict[str, Any] = {
            "accounts": accounts,
            "events": events,
            "setup_s": round(time.perf_counter() - started, 1),
        }
        result.update(measure_ingest(count=ingest_events, day=day))
        log(f"ingest: {result['ingest_events_per_s']} events/s vs COPY {result['copy_rows_per_s']}")
        result.update(
            measure_segment(count=ingest_events, day=day, copy_rows_per_s=result["copy_rows_per_s"])
        )
        log(f"segment: {result['segment_events_per_s']} events/s through /v1/batch")
        result.update(measure_nightly(day=day))
        log(f"nightly: {result['nightly_s']} s vs scan {result['scan_s']} s")
        result.update(measure_pages())
    return result
