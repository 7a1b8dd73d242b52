"""The outbox (csm/lib/outbox.py, csm/lib/tasks.py): draining, retries, outages and the beat
schedule. The usage tips it carries: tests/test_usage_tips.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from celery.schedules import crontab
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from csm.celery import app
from csm.lib.models import OutboxEmail
from csm.lib.outbox import drain_outbox, queue_email
from csm.lib.tasks import drain_outbox_task, request_drain
from csm.workflow.models import Touch, TouchKind
from csm.workflow.tips import queue_usage_tips
from tests.tips import (
    DAY,
    LOCMEM,
    NOW,
    c_customer,
)

# Every test here runs on the night the tips are queued.
pytestmark = pytest.mark.usefixtures("tips_night")


class SmtpDown(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server unreachable")


# --- Draining ---------------------------------------------------------------------------------


def test_it_sends_queued_email_and_marks_it_sent(db):
    queue_email(kind="note", to="pat@customer.example", subject="Hi", body="Hello")
    assert drain_outbox() == 1
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["pat@customer.example"], "Hi", "Hello")
    ]
    email = OutboxEmail.objects.get()
    assert email.sent_at == NOW and email.attempts == 1
    assert drain_outbox() == 0 and len(mail.outbox) == 1
    assert not Touch.objects.exists()  # only usage tips are touches


def test_it_waits_for_send_after(db, tips_night):
    email = queue_email(kind="note", to="pat@customer.example", subject="Hi", body="Hello")
    OutboxEmail.objects.filter(pk=email.pk).update(send_after=NOW + timedelta(hours=1))
    assert drain_outbox() == 0
    tips_night.shift(timedelta(hours=1))
    assert drain_outbox() == 1


def test_it_sends_at_most_limit_oldest_first(db):
    for n in range(5):
        queue_email(kind="note", to=f"p{n}@customer.example", subject=f"#{n}", body="")
    assert drain_outbox(limit=3) == 3
    assert [m.subject for m in mail.outbox] == ["#0", "#1", "#2"]
    assert drain_outbox() == 2


def test_an_smtp_outage_delays_tip_emails_and_loses_none(db, settings, tips_night):
    accounts = [c_customer(name=f"Co {n}", contact=f"Contact {n}") for n in range(3)]
    assert queue_usage_tips(day=DAY) == 3

    settings.EMAIL_BACKEND = "tests.test_outbox.SmtpDown"
    assert drain_outbox() == 0
    assert drain_outbox_task.apply().get() == 0  # the beat task, run here as a worker would
    emails = list(OutboxEmail.objects.all())
    assert all(e.sent_at is None for e in emails)
    assert {e.attempts for e in emails} == {1}  # the second drain waited for send_after
    assert {e.last_error for e in emails} == {"ConnectionRefusedError: SMTP server unreachable"}
    assert {e.send_after for e in emails} == {NOW + timedelta(minutes=5)}
    tips_night.shift(timedelta(minutes=5))
    assert drain_outbox() == 0
    assert {e.send_after for e in OutboxEmail.objects.all()} == {
        NOW + timedelta(minutes=5 + 10)
    }  # backed off exponentially
    assert not Touch.objects.exists() and mail.outbox == []

    settings.EMAIL_BACKEND = LOCMEM
    tips_night.shift(timedelta(minutes=10))
    assert drain_outbox() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(e.to for e in emails)
    assert all(e.sent_at is not None and e.attempts == 3 for e in OutboxEmail.objects.all())
    touches = Touch.objects.filter(kind=TouchKind.AUTOMATED)
    assert sorted(t.account_id for t in touches) == sorted(a.pk for a in accounts)
    assert drain_outbox() == 0
    assert Touch.objects.count() == 3 and len(mail.outbox) == 3


def test_retries_back_off_to_at_most_12_hours(db, settings, tips_night):
    settings.EMAIL_BACKEND = "tests.test_outbox.SmtpDown"
    email = queue_email(kind="note", to="pat@customer.example", subject="Hi", body="Hello")
    for _ in range(12):
        tips_night.move_to(OutboxEmail.objects.get(pk=email.pk).send_after)
        drain_outbox()
    email.refresh_from_db()
    assert email.attempts == 12 and email.sent_at is None
    assert email.send_after - datetime.now(UTC) == timedelta(hours=12)


def test_a_redis_outage_only_delays_the_drain(db):
    queue_email(kind="note", to="pat@customer.example", subject="Hi", body="Hello")
    before = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    app.conf.update(broker_url="redis://127.0.0.1:1/0", task_always_eager=False)
    try:
        request_drain()  # logs, does not raise
    finally:
        app.conf.update(**before)
    assert OutboxEmail.objects.get().sent_at is None
    drain_outbox_task.apply()  # Redis is back: a worker runs the next drain
    assert OutboxEmail.objects.get().sent_at is not None


def test_beat_drains_the_outbox_every_5_minutes():
    entry = app.conf.beat_schedule["drain-outbox"]
    assert entry["task"] == "csm.lib.tasks.drain_outbox_task"
    assert entry["schedule"] == crontab(minute="*/5")
    assert 0 < entry["options"]["expires"] <= 5 * 60
