"""Outbound webhooks (docs/api.md "Outbound webhooks"): the endpoints managers register and the
deliveries waiting for them. A delivery is a row written in the same transaction as the change it
reports, like an outbox email (csm.lib.outbox), and a task drains the table (csm.webhooks.delivery).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    RISK_OPENED = "risk.opened", _("A risk item opened")
    RISK_UPDATED = "risk.updated", _("A risk item's reasons changed")
    RISK_RESOLVED = "risk.resolved", _("A risk item was resolved")
    HEALTH_BAND_CHANGED = "health.band_changed", _("An account's health band changed")
    SURVEY_ANSWERED = "survey.answered", _("A survey was answered")
    CHURN_RECORDED = "churn.recorded", _("A churn was recorded")
    TASK_OVERDUE = "task.overdue", _("A task is overdue")


# Sent only by the page's "Send test event" button, to the one endpoint; never subscribed to.
TEST_EVENT = "webhook.test"


class EndpointKind(models.TextChoices):
    STANDARD = "standard", _("Standard (signed JSON)")
    SLACK = "slack", _("Slack incoming webhook")


class EndpointQuerySet(models.QuerySet["WebhookEndpoint"]):
    def wanting(self, event_type: str) -> list[WebhookEndpoint]:
        """The endpoints subscribed to `event_type`, paused ones included (their deliveries wait
        for them to be resumed). Filtered in Python: an installation has a handful of endpoints,
        and JSON containment differs between SQLite and PostgreSQL."""
        return [endpoint for endpoint in self.all() if event_type in endpoint.events]


class WebhookEndpoint(models.Model):
    """A URL that gets the events it asked for: signed JSON (Standard Webhooks) or a Slack
    message. Paused by a manager, or by the drain when it keeps failing (PAUSE_AFTER_*)."""

    url = models.URLField(_("URL"), max_length=500)
    kind = models.CharField(
        _("kind"), max_length=8, choices=EndpointKind.choices, default=EndpointKind.STANDARD
    )
    events = models.JSONField(_("events"), default=list)  # EventType values
    # "whsec_" + base64 of 32 random bytes; shown once, kept to sign every delivery.
    secret = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.TextField(blank=True)
    # Failed attempts since the last success, and when the first of them happened.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.url

    @property
    def is_active(self) -> bool:
        return self.paused_at is None

    def event_labels(self) -> list[str]:
        labels = dict(EventType.choices)
        return [str(labels.get(event, event)) for event in self.events]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")


class WebhookDelivery(models.Model):
    """One event for one endpoint. Sent at least once: it stays pending (or failed, retried with
    backoff) until the receiver answers 2xx."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=40)
    # The event's id, also the `webhook-id` header: the same on every retry, so a receiver can
    # drop a repeat. Events the nightly may find again (a re-run day) get ids made from what they
    # are about, and the unique constraint stores them once.
    event_id = models.CharField(max_length=120)
    payload = models.JSONField()
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="one_delivery_per_event")
        ]
        indexes = [
            # The drain reads unsent deliveries whose time has come.
            models.Index(fields=["sent_at", "next_attempt_at"], name="webhook_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"
