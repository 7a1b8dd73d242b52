"""The nightly pipeline's lock (csm.nightly): two runs never overlap, and a run that dies (the
database restarted, the process killed with kill -9 or by the out-of-memory killer) never blocks
the next one (DESIGN §8: a database lock that dies with its holder).

- **PostgreSQL**: a session-level advisory lock taken on the run's own connection. The server
  releases it when that session ends, however it ends. The session also checks every few seconds
  that its client is still there (client_connection_check_interval), so a backend whose process
  was killed in the middle of a long statement ends, and frees the lock, without finishing it.
- **SQLite** (one machine by nature): a PipelineLock row naming its holder: host, process id, the
  process's start time and a token. A run that finds the row takes it over when the holder is
  gone: no such process, a zombie, another process that got the same id, or this very process
  when it no longer holds that token. A holder that cannot be checked (another host, a row
  written by an older version) is taken over after NIGHTLY_LOCK_STALE_HOURS, and so is a row
  that a live process forgot to delete.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from health.models import PipelineLock

log = logging.getLogger(__name__)

LOCK_NAME = "nightly"
# The advisory lock's key (pg_try_advisory_lock(bigint)): "csmn" in ASCII, used for nothing else.
# Below 2**32, so pg_locks shows it as objid with classid 0.
ADVISORY_KEY = 0x63736D6E
# How soon a PostgreSQL backend notices that the run's process is gone (PostgreSQL 14+).
CLIENT_CHECK_INTERVAL = "2s"


class NightlyAlreadyRunning(Exception):
    """Another nightly run holds the lock."""


@contextmanager
def nightly_lock() -> Iterator[None]:
    """Hold the pipeline's lock for the duration; raise NightlyAlreadyRunning when another live
    run holds it."""
    lock = _advisory_lock if connection.vendor == "postgresql" else _row_lock
    with lock():
        yield


def first_line(error: BaseException) -> str:
    """An error's message on one line (database errors add DETAIL and HINT lines)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --- PostgreSQL: an advisory lock ---------------------------------------------------------------


@contextmanager
def _advisory_lock() -> Iterator[None]:
    name = f"csm nightly run {_this_process()} since {timezone.now():%Y-%m-%d %H:%M:%S %Z}"
    with connection.cursor() as cursor:
        if connection.pg_version >= 140000:
            cursor.execute(f"SET client_connection_check_interval = '{CLIENT_CHECK_INTERVAL}'")
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
        (locked,) = cursor.fetchone()
        if not locked:
            raise NightlyAlreadyRunning(f"another nightly run holds the lock ({_pg_holder()})")
        # Named in pg_stat_activity, so a refused run (and an operator) can say who holds it.
        cursor.execute(
            "SELECT current_setting('application_name'), set_config('application_name', %s, false)",
            [name[:63]],
        )
        previous_name = cursor.fetchone()[0]
    session = connection.connection  # the lock belongs to this session, and dies with it
    try:
        yield
    finally:
        _advisory_unlock(session, previous_name)


def _advisory_unlock(session: object, previous_name: str) -> None:
    if connection.connection is not session:
        return  # the session ended (a lost connection is closed): the server released the lock
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s), set_config('application_name', %s, false)",
                [ADVISORY_KEY, previous_name],
            )
    except DatabaseError as error:
        # The connection died (a restart, a terminated backend): the lock went with the session.
        log.info("nightly lock: the connection is gone, and its lock with it (%s)", error)


def _pg_holder() -> str:
    """Who holds the advisory lock, from pg_locks and pg_stat_activity."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s"
            " AND l.objsubid = 1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [ADVISORY_KEY],
        )
        row = cursor.fetchone()
    if row is None:
        return "it was just released"
    pid, name = row
    return f"{name or 'a session'}, PostgreSQL backend {pid}"


# --- SQLite (and any other database): a lock row naming a process ------------------------------

# Tokens of the row locks this process holds now (a row naming this process with another token
# was left by one of its earlier runs that could not delete it).
_held_tokens: set[str] = set()


@contextmanager
def _row_lock() -> Iterator[None]:
    token = secrets.token_hex(4)
    holder = f"{_this_process()}:{token}"
    now = timezone.now()
    # A plain read first: refusing a live holder must not wait for its write transaction.
    current = PipelineLock.objects.filter(name=LOCK_NAME).first()
    if current is None:
        try:
            with transaction.atomic():
                PipelineLock.objects.create(name=LOCK_NAME, holder=holder, acquired_at=now)
        except IntegrityError:
            current = PipelineLock.objects.filter(name=LOCK_NAME).first()
            raise NightlyAlreadyRunning(
                f"another nightly run holds the lock ({current or 'it was just released'})"
            ) from None
    else:
        if not _holder_is_gone(current, now):
            raise NightlyAlreadyRunning(f"another nightly run holds the lock ({current})")
        # Conditional UPDATE: of two runs taking over the same dead holder's row, one gets it.
        taken = PipelineLock.objects.filter(name=LOCK_NAME, holder=current.holder).update(
            holder=holder, acquired_at=now
        )
        if not taken:
            raise NightlyAlreadyRunning("another nightly run holds the lock (it just took it)")
        log.warning("nightly run: took over the lock of a run that is gone (%s)", current)
    _held_tokens.add(token)
    try:
        yield
    finally:
        _held_tokens.discard(token)
        try:
            PipelineLock.objects.filter(name=LOCK_NAME, holder=holder).delete()
        except DatabaseError as error:
            log.warning("nightly lock: could not delete the lock row (%s)", first_line(error))


def _holder_is_gone(lock: PipelineLock, now: datetime) -> bool:
    if lock.acquired_at < now - timedelta(hours=settings.NIGHTLY_LOCK_STALE_HOURS):
        return True
    parts = lock.holder.rsplit(":", 3)
    if len(parts) != 4 or not parts[1].isdigit():
        return False  # not a holder this version wrote: only staleness tells
    host, pid, started, token = parts[0], int(parts[1]), parts[2], parts[3]
    if host != socket.gethostname():
        return False  # another machine's process cannot be checked from here
    if pid == os.getpid() and started == _process_start(pid):
        return token not in _held_tokens
    now_started = _process_start(pid)
    if now_started is None:
        return True  # no such process (or a zombie): the holder died
    if now_started == "?" or started == "-":
        return False  # alive, and its start time cannot be compared
    return now_started != started  # another process got the dead holder's id


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_process_start(os.getpid()) or '-'}"


def _process_start(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, field 22 of /proc/<pid>/stat), so a
    new process that got a dead one's id is told apart; None when there is no such live process
    (a zombie is dead); "?" when alive but the start time is unknown (no /proc)."""
    if not os.path.isdir("/proc/self"):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, another user's
        return "?"
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    state, started = fields[0], fields[19]
    return None if state in ("Z", "X") else started
