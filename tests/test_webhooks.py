"""Outbound webhooks (issue 13): events reach a real receiver over HTTP, signed per the Standard
Webhooks spec (checked with the `standardwebhooks` reference library) or as a Slack message; a
receiver that is down gets the delivery once it is back; nothing is sent twice; Redis down loses
nothing; an endpoint failing for a day is paused."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation
from standardwebhooks.webhooks import Webhook

from csm.webhooks.delivery import PAUSE_AFTER_FAILURES, drain_webhooks
from csm.webhooks.events import emit_band_changes, emit_overdue_tasks
from csm.webhooks.models import DeliveryStatus, EndpointKind, WebhookDelivery, WebhookEndpoint
from csm.webhooks.services import create_endpoint, resume_endpoint
from csm.workflow.risk import refresh_risk_items
from csm.workflow.risk_actions import resolve
from feedback.services import record_response
from tests import surveys
from tests.factories import (
    AccountFactory,
    HealthScoreFactory,
    SubscriptionFactory,
    TaskFactory,
    used_on,
)
from tests.test_redis_down import redis_down  # noqa: F401 (a fixture)
from tests.webhook_receiver import Receiver, free_port

D = date(2026, 11, 22)
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def the_day_after_d():
    """The nightly for D runs on the morning after: its events are recent, so they are sent."""
    with time_machine.travel(START, tick=True):
        yield


def endpoint(url, *, kind=EndpointKind.STANDARD, events=("risk.opened", "risk.resolved")):
    return create_endpoint(url=url, events=list(events), kind=kind, actor=None)


def open_red_item(account=None):
    """The nightly's risk rules open an item for a red paying account (the real path, its
    signal); it used the product the day before, so red is its only reason."""
    account = account or AccountFactory(name="Acme Corp", external_id="acme")
    SubscriptionFactory(account=account, start_date=date(2025, 1, 1))
    used_on(account, D - timedelta(days=1))
    HealthScoreFactory(account=account, day=D, score=30)
    refresh_risk_items(day=D)
    return account


def test_a_risk_item_opening_reaches_a_standard_endpoint_signed(
    db,
    receiver,
    settings,
    django_capture_on_commit_callbacks,
    tasks_in_process,
):
    settings.SITE_URL = "https://csm.example.com"
    created = endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        open_red_item()
    # The commit asked for a drain; without Redis it ran in-process and POSTed the event.
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    payload = Webhook(created.secret).verify(request.body, request.headers)
    assert payload["type"] == "risk.opened"
    data = payload["data"]
    assert data["account"] == {
        "external_id": "acme",
        "name": "Acme Corp",
        "url": "https://csm.example.com/accounts/acme/",
    }
    assert [reason["key"] for reason in data["reasons"]] == ["red_band"]
    assert "30" in data["reasons"][0]["text"]
    delivery = WebhookDelivery.objects.get()
    assert request.headers["webhook-id"] == delivery.event_id
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 1, 200)


def test_a_tampered_body_fails_verification(
    db,
    receiver,
    django_capture_on_commit_callbacks,
    tasks_in_process,
):
    created = endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        open_red_item()
    request = receiver.requests[0]
    with pytest.raises(Exception, match="(?i)signature"):
        Webhook(created.secret).verify(request.body.replace(b"acme", b"acmf"), request.headers)


def test_a_slack_endpoint_gets_text_and_blocks_with_a_link(
    db,
    receiver,
    settings,
    django_capture_on_commit_callbacks,
    tasks_in_process,
):
    settings.SITE_URL = "https://csm.example.com"
    endpoint(receiver.url, kind=EndpointKind.SLACK)
    with django_capture_on_commit_callbacks(execute=True):
        open_red_item()
    request = receiver.requests[0]
    assert "webhook-signature" not in request.headers
    message = json.loads(request.body)
    assert message["text"].startswith("Acme Corp: ")
    sections = [block for block in message["blocks"] if block["type"] == "section"]
    assert "*Acme Corp*" in sections[0]["text"]["text"]
    assert "30" in sections[1]["text"]["text"]  # the reason in words
    (button,) = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    assert button["url"] == "https://csm.example.com/accounts/acme/"


def test_a_receiver_that_is_down_gets_the_delivery_once_it_is_back(db):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    created = endpoint(url)
    with time_machine.travel(START, tick=False) as traveller:
        open_red_item()
        # 1. Nothing listens: connection refused, retried later.
        assert drain_webhooks() == 0
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            DeliveryStatus.FAILED,
            1,
            None,
        )
        assert "Refused" in delivery.last_error or "refused" in delivery.last_error
        assert drain_webhooks() == 0  # not due yet: no attempt
        assert WebhookDelivery.objects.get().attempts == 1
        # 2. It is up but answers 500.
        server = Receiver(port=port, status=500).start()
        try:
            traveller.shift(timedelta(minutes=1))
            assert drain_webhooks() == 0
            delivery.refresh_from_db()
            assert (delivery.attempts, delivery.last_status_code) == (2, 500)
            # 3. It works again: the next due attempt is delivered, with the same id.
            server.status = 200
            traveller.shift(timedelta(minutes=2))
            assert drain_webhooks() == 1
            delivery.refresh_from_db()
            assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
                DeliveryStatus.SENT,
                3,
                200,
            )
            assert [r.headers["webhook-id"] for r in server.requests] == [delivery.event_id] * 2
            Webhook(created.secret).verify(server.requests[-1].body, server.requests[-1].headers)
            # 4. Sent once: later drains send nothing more.
            traveller.shift(timedelta(hours=12))
            assert drain_webhooks() == 0
            assert len(server.requests) == 2
        finally:
            server.stop()
    assert WebhookEndpoint.objects.get().consecutive_failures == 0


def test_rerunning_the_nightly_day_queues_nothing_twice(db, receiver):
    endpoint(receiver.url)
    account = open_red_item()
    refresh_risk_items(day=D)  # the same day again: the item exists, unchanged
    assert WebhookDelivery.objects.count() == 1
    assert drain_webhooks() == 1
    assert drain_webhooks() == 0
    assert len(receiver.requests) == 1
    assert account.risk_items.count() == 1


def test_redis_down_keeps_the_delivery_pending_for_beats_drain(
    redis_down,  # noqa: F811 (the fixture imported above)
    db,
    receiver,
    django_capture_on_commit_callbacks,
):
    endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        open_red_item()  # the drain cannot be enqueued: it only logs
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert receiver.requests == []
    # Beat's drain (here called directly) sends it once a worker runs.
    assert drain_webhooks() == 1
    assert len(receiver.requests) == 1


def test_an_endpoint_failing_for_a_day_is_paused_and_its_events_wait(db):
    port = free_port()
    endpoint(f"http://127.0.0.1:{port}/hook")
    with time_machine.travel(START, tick=False) as traveller:
        open_red_item()
        for _hour in range(0, 36, 3):
            drain_webhooks()
            traveller.shift(timedelta(hours=3))
        hook = WebhookEndpoint.objects.get()
        assert hook.paused_at is not None
        assert hook.consecutive_failures >= PAUSE_AFTER_FAILURES
        assert hook.paused_at - hook.failing_since >= timedelta(hours=24)
        assert "Paused automatically" in hook.paused_reason
        attempts = WebhookDelivery.objects.get().attempts
        traveller.shift(timedelta(hours=12))
        assert drain_webhooks() == 0  # paused: not tried
        assert WebhookDelivery.objects.get().attempts == attempts
        # Fixed and resumed: the waiting delivery goes out.
        server = Receiver(port=port).start()
        try:
            resume_endpoint(endpoint=hook, actor=None)
            assert drain_webhooks() == 1
            assert len(server.requests) == 1
        finally:
            server.stop()


def test_a_few_failures_in_an_hour_do_not_pause(db):
    endpoint(f"http://127.0.0.1:{free_port()}/hook")
    with time_machine.travel(START, tick=False) as traveller:
        open_red_item()
        for _minute in range(60):
            drain_webhooks()
            traveller.shift(timedelta(minutes=1))
    hook = WebhookEndpoint.objects.get()
    assert hook.consecutive_failures >= 5
    assert hook.paused_at is None


def test_a_backfilled_past_day_sends_no_risk_events(db, receiver):
    endpoint(receiver.url)
    with time_machine.travel(START + timedelta(days=3)):
        open_red_item()
    assert WebhookDelivery.objects.count() == 0


def test_payload_words_are_in_the_installations_language(db, receiver, settings):
    """The band's name in the summary is translated (the catalogue has it); the keys are not."""
    settings.LANGUAGE_CODE = "zh-hans"
    endpoint(receiver.url, events=["health.band_changed"])
    account = AccountFactory()
    HealthScoreFactory(account=account, day=D - timedelta(days=1), score=80)
    HealthScoreFactory(account=account, day=D, score=40)
    with translation.override("en"):  # the request of a manager who reads English
        emit_band_changes(day=D)
    data = WebhookDelivery.objects.get().payload["data"]
    assert "红" in data["summary"]
    assert data["band"] == "red"


def test_only_endpoints_wanting_the_event_get_it(db, receiver):
    endpoint(receiver.url, events=["churn.recorded"])
    open_red_item()
    assert WebhookDelivery.objects.count() == 0


def test_resolving_sends_risk_resolved_with_the_resolution(db, receiver, maggie):
    endpoint(receiver.url, events=["risk.resolved"])
    account = open_red_item()
    item = account.risk_items.get()
    resolve(actor=maggie, item=item, resolution="saved", note="Call went well")
    payload = WebhookDelivery.objects.get().payload
    assert payload["type"] == "risk.resolved"
    assert payload["data"]["risk_item"]["resolution"] == "saved"
    assert payload["data"]["risk_item"]["resolution_note"] == "Call went well"


def test_a_band_change_is_sent_once_per_account_and_day(db, receiver):
    endpoint(receiver.url, events=["health.band_changed"])
    changed, same = AccountFactory(), AccountFactory()
    for account, before, after in ((changed, 80, 40), (same, 80, 85)):
        HealthScoreFactory(account=account, day=D - timedelta(days=1), score=before)
        HealthScoreFactory(account=account, day=D, score=after)
    assert emit_band_changes(day=D) == 1
    emit_band_changes(day=D)  # a re-run of the day
    (delivery,) = WebhookDelivery.objects.all()
    data = delivery.payload["data"]
    assert data["account"]["external_id"] == changed.external_id
    assert (data["previous_band"], data["band"]) == ("green", "red")
    assert (data["previous_score"], data["score"]) == (80, 40)


def test_a_survey_answer_is_sent_with_the_detractor_flag(db, receiver):
    endpoint(receiver.url, events=["survey.answered"])
    invitation = surveys.invite()
    record_response(invitation=invitation, score=3, comment="too slow")
    data = WebhookDelivery.objects.get().payload["data"]
    assert data["detractor"] is True
    assert (data["score"], data["comment"], data["contact"]) == (3, "too slow", "Ana Lima")


def test_an_open_task_past_due_is_sent_once(db, receiver, alice):
    endpoint(receiver.url, events=["task.overdue"])
    account = AccountFactory(owner=alice)
    TaskFactory(
        account=account, title="Send the QBR deck", due_on=D - timedelta(days=1), assignee=alice
    )
    TaskFactory(account=account, title="Not yet due", due_on=D, assignee=alice)
    TaskFactory(account=account, title="Done", due_on=D - timedelta(days=2), status="done")
    TaskFactory(account=account, title="Long ago", due_on=D - timedelta(days=30))
    assert emit_overdue_tasks(day=D) == 1
    data = WebhookDelivery.objects.get().payload["data"]
    assert (data["title"], data["due_on"], data["assignee"]) == (
        "Send the QBR deck",
        "2026-11-21",
        "alice@example.com",
    )
    # The next night: the deck is still overdue but not sent again; the task due on D now is.
    emit_overdue_tasks(day=D + timedelta(days=1))
    titles = [d.payload["data"]["title"] for d in WebhookDelivery.objects.order_by("pk")]
    assert titles == ["Send the QBR deck", "Not yet due"]


def test_risk_updated_is_sent_when_a_reason_comes_not_when_only_a_number_moves(db, receiver):
    endpoint(receiver.url, events=["risk.updated"])
    account = open_red_item()
    # The next day the MRR changes but the reasons are the same: nothing to tell.
    account.subscriptions.update(amount=Decimal("2500"))
    used_on(account, D)
    HealthScoreFactory(account=account, day=D + timedelta(days=1), score=30, trend_7=0)
    refresh_risk_items(day=D + timedelta(days=1))
    assert not WebhookDelivery.objects.exists()
    # A day later the score also fell fast: a reason came, risk.updated goes out.
    used_on(account, D + timedelta(days=1))
    HealthScoreFactory(account=account, day=D + timedelta(days=2), score=10, trend_7=-20)
    refresh_risk_items(day=D + timedelta(days=2))
    keys = [r["key"] for r in WebhookDelivery.objects.get().payload["data"]["reasons"]]
    assert keys == ["red_band", "score_drop"]
