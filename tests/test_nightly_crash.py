"""A nightly run that dies never blocks the next one (DESIGN §8; csm/nightly_lock.py). Real
`manage.py run_nightly` processes against a real database: one is paused mid-run, a second is
refused, the first is killed with SIGKILL (or its PostgreSQL backend terminated, as a database
restart does), and the next run starts and finishes.

A run is paused by holding what it needs next: on PostgreSQL an EXCLUSIVE lock on the table of
finished days (a run blocks writing its day), on SQLite the database's write lock."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
D = date(2026, 11, 20)
IS_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith("postgres")


def wait_until(condition: Callable[[], object], what: str, *, bound: float = 120) -> object:
    """Poll until `condition` is true. The bound only stops a broken test from hanging."""
    give_up = time.monotonic() + bound
    while time.monotonic() < give_up:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    pytest.fail(f"gave up waiting for {what}")


@dataclass
class Database:
    """The database the subprocesses use, and a way to pause a run on it."""

    url: str
    env: dict[str, str]
    query: Callable[[str], list[tuple]]
    hold: Callable[[], Callable[[], None]]  # take the pause; returns its release

    def manage(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess:
        process = self.manage(*args)
        stdout, stderr = process.communicate(timeout=600)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def days_done(self) -> int:
        return self.query("SELECT count(*) FROM health_nightlyrun")[0][0]


def _sqlite_database(tmp_path: Path) -> Database:
    path = tmp_path / "nightly.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{path}"

    def query(sql: str) -> list[tuple]:
        with sqlite3.connect(path, timeout=60) as db:
            return db.execute(sql).fetchall()

    def hold() -> Callable[[], None]:
        db = sqlite3.connect(path, timeout=60, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")  # the write lock: a run waits at its next write
        return lambda: (db.execute("ROLLBACK"), db.close())

    database = Database(url=env["DATABASE_URL"], env=env, query=query, hold=hold)
    migrate = database.run("migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stderr
    return database


def _postgresql_database() -> Database:
    name = connection.settings_dict["NAME"]  # the test database
    url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))
    env = {**os.environ, "DATABASE_URL": url}

    def query(sql: str) -> list[tuple]:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as db:
            return db.execute(sql).fetchall()

    def hold() -> Callable[[], None]:
        db = psycopg.connect(url.replace("postgres://", "postgresql://", 1))
        db.execute("LOCK TABLE health_nightlyrun IN EXCLUSIVE MODE")  # writes of a day wait
        return lambda: (db.rollback(), db.close())

    return Database(url=url, env=env, query=query, hold=hold)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> Iterator[Database]:
    if request.param == "postgresql":
        if not IS_POSTGRESQL:
            pytest.skip("DATABASE_URL is not PostgreSQL")
        request.getfixturevalue("transactional_db")  # the subprocesses see committed rows only
        yield _postgresql_database()
    else:
        yield _sqlite_database(tmp_path)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    """Subprocesses to kill if a test fails half-way."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _waiting_backends(database: Database) -> list[tuple]:
    """The sessions on the test database that wait for a lock: a run paused by the hold."""
    return database.query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_killed_run_never_blocks_the_next_and_a_live_one_refuses_a_second(database, processes):
    # A long backfill (a year of days), paused once it has finished at least one.
    first = database.manage("run_nightly", "--date", D.isoformat(), "--from", "2025-11-20")
    processes.append(first)
    wait_until(lambda: first.poll() is not None or database.days_done() >= 1, "a finished day")
    assert first.poll() is None, first.communicate()
    release = database.hold()
    try:
        # While the first run lives, a second is refused, at once and in one line.
        second = database.run("run_nightly", "--date", D.isoformat())
        assert _one_line_error(second).startswith(
            "CommandError: another nightly run holds the lock ("
        )
        assert first.poll() is None, "the first run should still be alive (paused)"
        if database.url.startswith("postgres"):
            wait_until(lambda: _waiting_backends(database), "the first run to wait (paused)")

        first.send_signal(signal.SIGKILL)  # no finally, no atexit: as the OOM killer does
        first.wait()
        if database.url.startswith("postgres"):
            # The killed run's backend notices its client is gone even while it waits
            # (client_connection_check_interval), and its lock goes with it.
            wait_until(lambda: not _waiting_backends(database), "the killed run's backend to end")
    finally:
        release()
    days_before = database.days_done()
    assert 1 <= days_before < 366  # the killed run stopped half-way, whole days kept

    third = database.run("run_nightly", "--date", D.isoformat())
    assert third.returncode == 0, third.stderr
    assert f"Nightly run for {D.isoformat()}:" in third.stdout
    assert database.query(f"SELECT count(*) FROM health_nightlyrun WHERE day = '{D}'") == [(1,)]
    assert database.query("SELECT count(*) FROM health_pipelinelock") == [(0,)]


@pytest.mark.skipif(not IS_POSTGRESQL, reason="DATABASE_URL is not PostgreSQL")
def test_a_database_restart_mid_run_ends_the_command_with_one_line_and_a_rerun_succeeds(
    transactional_db, processes
):
    database = _postgresql_database()
    release = database.hold()
    try:
        run = database.manage(
            "run_nightly", "--date", D.isoformat(), "--from", (D - timedelta(days=2)).isoformat()
        )
        processes.append(run)
        [(pid,)] = wait_until(
            lambda: _waiting_backends(database),
            "the run to wait mid-run (after its lock, in its first day)",
        )
        # What a restart does to each session; only this run's backend, on the test database.
        assert database.query(f"SELECT pg_terminate_backend({pid})") == [(True,)]
        stdout, stderr = run.communicate(timeout=600)
    finally:
        release()
    result = subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)
    line = _one_line_error(result)
    assert line.startswith("CommandError: the nightly run stopped on a database error: ")
    assert "terminating connection due to administrator command" in line
    assert database.days_done() == 0  # the day it was in was rolled back

    rerun = database.run("run_nightly", "--date", D.isoformat())
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.count("Nightly run for ") == 1  # --date alone: no run finished before
    assert database.days_done() == 1
