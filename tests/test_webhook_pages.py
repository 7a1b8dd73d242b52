"""The managers' Webhooks page and `add_webhook`: add an endpoint (secret shown once, audited),
bad input named by field, pause/resume, a test event, the delivery log and the paused warning."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from csm.webhooks.models import TEST_EVENT, WebhookDelivery, WebhookEndpoint
from csm.webhooks.services import create_endpoint


def test_a_manager_adds_an_endpoint_and_sees_its_secret_once(maggie_client):
    response = maggie_client.post(
        reverse("webhooks:list"),
        {"url": "https://hooks.example.com/csm", "events": ["risk.opened"], "kind": "standard"},
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()
    assert endpoint.events == ["risk.opened"]
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert AuditEntry.objects.filter(action="webhook.create", object_id=str(endpoint.pk)).exists()
    listing = maggie_client.get(reverse("webhooks:list")).content.decode()
    assert "hooks.example.com" in listing
    assert endpoint.secret not in listing
    detail = maggie_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in detail


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "ftp://files.example.com/", "events": ["risk.opened"], "kind": "standard"}, "url"),
        ({"url": "not a url at all", "events": ["risk.opened"], "kind": "standard"}, "url"),
        ({"url": "https://a.example.com/", "events": [], "kind": "standard"}, "events"),
        ({"url": "https://a.example.com/", "events": ["risk.exploded"], "kind": "slack"}, "events"),
        ({"url": "https://a.example.com/", "events": ["risk.opened"], "kind": "teams"}, "kind"),
    ],
)
def test_bad_input_gets_a_field_error_and_writes_nothing(maggie_client, data, field):
    response = maggie_client.post(reverse("webhooks:list"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert WebhookEndpoint.objects.count() == 0


def test_csms_cannot_see_or_change_webhooks(alice_client):
    endpoint = create_endpoint(
        url="https://a.example.com/", events=["risk.opened"], kind="standard", actor=None
    ).endpoint
    assert alice_client.get(reverse("webhooks:list")).status_code == 403
    assert alice_client.post(reverse("webhooks:delete", args=[endpoint.pk])).status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_the_test_button_delivers_and_the_log_shows_it(
    maggie_client,
    receiver,
    django_capture_on_commit_callbacks,
    tasks_in_process,
):
    endpoint = create_endpoint(
        url=receiver.url, events=["risk.opened"], kind="slack", actor=None
    ).endpoint
    with django_capture_on_commit_callbacks(execute=True):
        response = maggie_client.post(reverse("webhooks:test", args=[endpoint.pk]))
    assert response.status_code == 302
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event_type, delivery.status, delivery.last_status_code) == (
        TEST_EVENT,
        "sent",
        200,
    )
    page = maggie_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert TEST_EVENT in page
    assert ">200<" in page


def test_pause_resume_and_delete(maggie_client):
    endpoint = create_endpoint(
        url="https://a.example.com/", events=["risk.opened"], kind="standard", actor=None
    ).endpoint
    maggie_client.post(reverse("webhooks:pause", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.paused_at is not None
    page = maggie_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert 'id="paused-warning"' in page
    maggie_client.post(reverse("webhooks:resume", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.paused_at is None
    assert maggie_client.get(reverse("webhooks:delete", args=[endpoint.pk])).status_code == 200
    maggie_client.post(reverse("webhooks:delete", args=[endpoint.pk]))
    assert WebhookEndpoint.objects.count() == 0
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"webhook.pause", "webhook.resume", "webhook.delete"} <= actions


def test_an_automatically_paused_endpoint_shows_why(maggie_client):
    endpoint = create_endpoint(
        url="https://a.example.com/", events=["risk.opened"], kind="standard", actor=None
    ).endpoint
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        paused_at=timezone.now(), paused_reason="Paused automatically: 9 deliveries in a row"
    )
    page = maggie_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert "Paused automatically: 9 deliveries in a row" in page


def test_the_delivery_log_costs_the_same_queries_whatever_its_length(
    maggie_client, django_assert_num_queries
):
    endpoint = create_endpoint(
        url="https://a.example.com/", events=["risk.opened"], kind="standard", actor=None
    ).endpoint
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event_type="risk.opened", event_id=f"e{n}", payload={})
        for n in range(60)
    )
    # session, user, the endpoint (with its creator), the last 50 deliveries.
    with django_assert_num_queries(4):
        response = maggie_client.get(reverse("webhooks:detail", args=[endpoint.pk]))
    assert len(response.context["deliveries"]) == 50


def test_add_webhook_prints_the_secret_once(db):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "add_webhook",
        "https://hooks.slack.com/services/T0/B0/x",
        "--events",
        "risk.opened,churn.recorded",
        "--kind",
        "slack",
        stdout=out,
        stderr=err,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert out.getvalue().strip() == endpoint.secret
    assert endpoint.kind == "slack"
    assert endpoint.events == ["risk.opened", "churn.recorded"]
    assert AuditEntry.objects.filter(action="webhook.create").exists()


def test_add_webhook_defaults_to_every_event(db):
    call_command(
        "add_webhook", "https://a.example.com/", stdout=io.StringIO(), stderr=io.StringIO()
    )
    assert "task.overdue" in WebhookEndpoint.objects.get().events


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gopher://a.example.com/"], "url:"),
        (["https://a.example.com/", "--events", "risk.opened,nope"], "events:"),
        (["https://a.example.com/", "--kind", "teams"], "kind:"),
    ],
)
def test_add_webhook_refuses_bad_input_by_field(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_webhook", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert WebhookEndpoint.objects.count() == 0
