"""The nightly lock (csm/nightly_lock.py), in this process: a live run refuses a second one, a run
that died never blocks the next, a failed run releases the lock. Real processes killed and
backends terminated mid-run: tests/test_nightly_crash.py."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone

from csm import nightly
from csm.nightly import run_nightly
from csm.nightly_lock import ADVISORY_KEY, NightlyAlreadyRunning
from health.models import HealthScore, NightlyRun, PipelineLock
from tests.factories import AccountFactory, SubscriptionFactory

D = date(2026, 11, 20)

on_postgresql = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="DATABASE_URL is not PostgreSQL",
)
on_sqlite = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL uses an advisory lock, not the lock row",
)


@pytest.fixture
def customer(db):
    account = AccountFactory(contract_start=date(2025, 1, 1))
    SubscriptionFactory(account=account, start_date=date(2025, 1, 1))
    return account


def _process_start(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[19]


def _dead_pid() -> int:
    """The id of a real process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def another_run(db):
    """Another live run holds the lock: on PostgreSQL another session holds the advisory lock;
    elsewhere the lock row names a live process (this test process's parent)."""
    if connection.vendor == "postgresql":
        other = connections.create_connection("default")
        with other.cursor() as cursor:
            cursor.execute("SELECT set_config('application_name', 'worker-1', false)")
            cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_KEY])
        yield "worker-1"
        # Unlocked before closing: a closed session's locks go only when its backend has exited,
        # a moment later, and the next test could find the lock still held.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
        other.close()
    else:
        parent = os.getppid()
        holder = f"{socket.gethostname()}:{parent}:{_process_start(parent)}:f00d"
        PipelineLock.objects.create(name="nightly", holder=holder, acquired_at=timezone.now())
        yield holder
        assert PipelineLock.objects.get().holder == holder  # the other run's lock is untouched


def _lock_is_free() -> bool:
    """Whether another run could take the lock now. On PostgreSQL asked from another session
    (this one would get it anyway: advisory locks are re-entrant per session)."""
    if connection.vendor != "postgresql":
        return not PipelineLock.objects.exists()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
            free = cursor.fetchone()[0]
            if free:
                # Given back at once: closing the session would free it only once its backend
                # has exited, a moment later, and the next test could still find it held.
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
            return free
    finally:
        other.close()


def test_a_second_run_is_refused_while_another_live_run_holds_the_lock(customer, another_run):
    with pytest.raises(NightlyAlreadyRunning, match="another nightly run holds the lock"):
        run_nightly(day=D)
    with pytest.raises(
        CommandError, match=f"another nightly run holds the lock .*{re.escape(another_run)}"
    ):
        call_command("run_nightly", "--date", D.isoformat())
    assert not HealthScore.objects.exists()


def test_the_lock_is_released_after_a_run(customer):
    run_nightly(day=D)
    assert HealthScore.objects.filter(day=D).exists()
    assert _lock_is_free()


def test_the_lock_is_released_when_a_run_fails(customer, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("csm.nightly.recompute_health_scores", boom)
    with pytest.raises(RuntimeError):
        run_nightly(day=D)
    assert not NightlyRun.objects.exists()  # the failed day is not marked done
    assert _lock_is_free()


@on_sqlite
def test_a_lock_row_whose_process_is_gone_is_taken_over_at_once(customer):
    dead = f"{socket.gethostname()}:{_dead_pid()}:12345:f00d"
    PipelineLock.objects.create(name="nightly", holder=dead, acquired_at=timezone.now())
    run_nightly(day=D)
    assert HealthScore.objects.filter(day=D).exists()
    assert not PipelineLock.objects.exists()


@on_sqlite
def test_a_lock_row_of_another_process_with_a_reused_id_is_taken_over(customer):
    # The parent is alive, but it is not the process that wrote the row: it started at another
    # time (its id was reused after the holder died).
    parent = os.getppid()
    holder = f"{socket.gethostname()}:{parent}:{int(_process_start(parent)) + 1}:f00d"
    PipelineLock.objects.create(name="nightly", holder=holder, acquired_at=timezone.now())
    run_nightly(day=D)
    assert not PipelineLock.objects.exists()


@on_sqlite
def test_a_lock_row_this_process_forgot_is_taken_over(customer):
    # A run of this very process that could not delete its row: its token is no longer held.
    me = os.getpid()
    holder = f"{socket.gethostname()}:{me}:{_process_start(me)}:f00d"
    PipelineLock.objects.create(name="nightly", holder=holder, acquired_at=timezone.now())
    run_nightly(day=D)
    assert not PipelineLock.objects.exists()


@on_sqlite
def test_a_lock_row_that_cannot_be_checked_waits_for_the_stale_hours(customer, settings):
    # Written on another machine, or by an older version: only its age tells.
    PipelineLock.objects.create(name="nightly", holder="worker-1", acquired_at=timezone.now())
    with pytest.raises(NightlyAlreadyRunning):
        run_nightly(day=D)
    PipelineLock.objects.update(
        acquired_at=timezone.now() - timedelta(hours=settings.NIGHTLY_LOCK_STALE_HOURS, minutes=1)
    )
    run_nightly(day=D)
    assert not PipelineLock.objects.exists()


@on_postgresql
def test_on_postgresql_the_run_holds_an_advisory_lock_not_a_row(customer, monkeypatch):
    seen = {}
    refresh_kpis = nightly.refresh_kpis

    def spy(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s"
                " AND pid = pg_backend_pid() AND granted",
                [ADVISORY_KEY],
            )
            seen["advisory"] = cursor.fetchone()[0]
        seen["rows"] = PipelineLock.objects.count()
        return refresh_kpis(**kwargs)

    monkeypatch.setattr("csm.nightly.refresh_kpis", spy)
    run_nightly(day=D)
    assert seen == {"advisory": 1, "rows": 0}
    assert _lock_is_free()
