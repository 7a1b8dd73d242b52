"""A Celery worker killed with SIGKILL in the middle of draining the outbox (csm/lib/outbox.py):
no email is lost, and only the one in flight can go twice (delivery is at least once: the mail
server took it, the worker died before its row was marked sent).

Real parts only: a `celery worker` process on PostgreSQL and Redis, sending through Django's SMTP
backend to an SMTP server run by this test, which holds its answer to one message (the worker is
then mid-send) until the worker has been killed."""

from __future__ import annotations

import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from kombu import Connection, Queue

from csm.lib.models import OutboxEmail
from csm.lib.outbox import queue_email
from csm.lib.tasks import drain_outbox_task

pytestmark = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")),
    reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)",
)

ROOT = Path(__file__).resolve().parent.parent
EMAILS = 5
HELD = 3  # the SMTP server holds its answer to the third message it receives


def wait_until(condition: Callable[[], object], what: str, *, bound: float = 120) -> object:
    """Poll until `condition` is true. The bound only stops a broken test from hanging."""
    give_up = time.monotonic() + bound
    while time.monotonic() < give_up:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


class SmtpServer(socketserver.ThreadingTCPServer):
    """Enough of SMTP (RFC 5321) for Django's SMTP backend. Records each message's Subject when
    its data is complete, before answering; the HELD-th message's answer waits for `release`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.subjects: list[str] = []
        self.holding = threading.Event()  # the held message was received, its answer waits
        self.release = threading.Event()


class SmtpHandler(socketserver.StreamRequestHandler):
    server: SmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test SMTP")
        while line := self.rfile.readline():
            command = line.decode().strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.reply("250 test")
            elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self.reply("250 OK")
            elif command == "DATA":
                self.reply("354 go ahead")
                subject = ""
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    if data.startswith(b"Subject: "):
                        subject = data.decode().removeprefix("Subject: ").strip()
                self.server.subjects.append(subject)
                if len(self.server.subjects) == HELD:
                    self.server.holding.set()
                    self.server.release.wait()
                    return  # the worker is gone; nobody reads an answer
                self.reply("250 queued")
            elif command == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A queue of this test's own, so its workers take no other test's messages."""
    name = f"csm-test-outbox-{uuid.uuid4().hex}"
    yield name
    with Connection(os.environ["REDIS_URL"]) as broker:
        Queue(name, routing_key=name)(broker.default_channel).delete()


@pytest.fixture
def start_worker(transactional_db, smtp, queue_name) -> Iterator[Callable[[], subprocess.Popen]]:
    name = connection.settings_dict["NAME"]  # the test database, where the rows are committed
    env = {
        **os.environ,
        "DATABASE_URL": urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}")),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.server_address[1]}",
    }
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        # --pool=solo: the worker's one process runs the task, so SIGKILL hits the sender.
        command = [sys.executable, "-m", "celery", "-A", "csm", "worker", "--pool=solo"]
        command += ["-Q", queue_name, "--without-gossip", "--without-mingle", "-l", "warning"]
        worker = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def _unsent() -> int:
    return OutboxEmail.objects.filter(sent_at__isnull=True).count()


def _open_transactions() -> int:
    """Sessions on the test database inside a transaction, other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state IN ('idle in transaction', 'idle in transaction (aborted)')"
            " AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_mid_drain_loses_no_email_and_sends_only_the_one_in_flight_twice(
    smtp, queue_name, start_worker
):
    for n in range(EMAILS):
        queue_email(kind="note", to=f"p{n}@customer.example", subject=f"#{n}", body="Hello")

    first = start_worker()
    drain_outbox_task.apply_async(queue=queue_name)
    wait_until(lambda: smtp.holding.is_set() or first.poll() is not None, "the held message")
    assert first.poll() is None, "the worker should be waiting for the SMTP server's answer"
    first.send_signal(signal.SIGKILL)  # mid-send: the server has message 3, the row is not sent
    first.wait()
    smtp.release.set()
    assert smtp.subjects == ["#0", "#1", "#2"]
    # PostgreSQL rolls back the dead worker's transaction (its row lock on #2 goes with it).
    wait_until(lambda: _open_transactions() == 0, "the killed worker's transaction to end")
    assert _unsent() == EMAILS - 2

    start_worker()  # another worker (after a restart, beat's next drain asks for it)
    drain_outbox_task.apply_async(queue=queue_name)
    wait_until(lambda: _unsent() == 0, "the second worker to send the rest")

    delivered = Counter(smtp.subjects)
    assert set(delivered) == {f"#{n}" for n in range(EMAILS)}  # none lost
    assert {subject for subject, times in delivered.items() if times > 1} == {"#2"}
    assert delivered["#2"] == 2  # the one in flight, at least once; every other exactly once
