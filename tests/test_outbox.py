"""The outbox (csm/lib/outbox.py, csm/lib/tasks.py): draining, retries, outages and the beat
schedule. The usage tips it carries: tests/test_usage_tips.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from celery.schedules import crontab
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from csm.celery import app
from csm.lib.models import OutboxEmail
from csm.lib.outbox import drain_outbox, queue_email
from csm.lib.tasks import drain_outbox_task, request_drain
from csm.workflow.models import Touch, TouchKind
from csm.workflow.tips import queue_usage_tips
from health.models import UsageEvent
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory

DAY = date(2026, 11, 22)  # the nightly run at 02:00 on the 23rd queues tips for the 22nd
NOW = datetime(2026, 11, 23, 2, tzinfo=UTC)
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


class SmtpDown(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server unreachable")


@pytest.fixture(autouse=True)
def frozen(settings):
    settings.EMAIL_BACKEND = LOCMEM
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def c_customer(name="Tiny Co", contact="Pat Lee", tier="C", **kwargs):
    account = AccountFactory(name=name, tier=tier, contract_start=date(2025, 1, 1), **kwargs)
    SubscriptionFactory(account=account, start_date=date(2025, 1, 1))
    if contact:
        ContactFactory(account=account, name=contact, is_primary=True)
    return account


def used(account, feature, day):
    UsageEvent.objects.create(
        event_id=f"{account.pk}-{feature}-{day}",
        account=account,
        event=feature,
        timestamp=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        day=day,
    )


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


def test_it_waits_for_send_after(db, frozen):
    email = queue_email(kind="note", to="pat@customer.example", subject="Hi", body="Hello")
    OutboxEmail.objects.filter(pk=email.pk).update(send_after=NOW + timedelta(hours=1))
    assert drain_outbox() == 0
    frozen.shift(timedelta(hours=1))
    assert drain_outbox() == 1


def test_it_sends_at_most_limit_oldest_first(db):
    for n in range(5):
        queue_email(kind="note", to=f"p{n}@customer.example", subject=f"#{n}", body="")
    assert drain_outbox(limit=3) == 3
    assert [m.subject for m in mail.outbox] == ["#0", "#1", "#2"]
    assert drain_outbox() == 2


def test_an_smtp_outage_delays_tip_emails_and_loses_none(db, settings, frozen):
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
    frozen.shift(timedelta(minutes=5))
    assert drain_outbox() == 0
    assert {e.send_after for e in OutboxEmail.objects.all()} == {
        NOW + timedelta(minutes=5 + 10)
    }  # backed off exponentially
    assert not Touch.objects.exists() and mail.outbox == []

    settings.EMAIL_BACKEND = LOCMEM
    frozen.shift(timedelta(minutes=10))
    assert drain_outbox() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(e.to for e in emails)
    assert all(e.sent_at is not None and e.attempts == 3 for e in OutboxEmail.objects.all())
    touches = Touch.objects.filter(kind=TouchKind.AUTOMATED)
    assert sorted(t.account_id for t in touches) == sorted(a.pk for a in accounts)
    assert drain_outbox() == 0
    assert Touch.objects.count() == 3 and len(mail.outbox) == 3


def test_retries_back_off_to_at_most_12_hours(db, settings, frozen):
    settings.EMAIL_BACKEND = "tests.test_outbox.SmtpDown"
    email = queue_email(kind="note", to="pat@customer.example", subject="Hi", body="Hello")
    for _ in range(12):
        frozen.move_to(OutboxEmail.objects.get(pk=email.pk).send_after)
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
