"""The ground layer's one table: the outbox every email goes through (csm.lib.outbox)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    FAILED = "failed", _("Failed")
    SENT = "sent", _("Sent")


class OutboxQuerySet(models.QuerySet["OutboxEmail"]):
    def with_status(self, status: str) -> OutboxQuerySet:
        """Queued: not sent, no failed attempt yet. Failed: not sent, the last attempt failed
        (the drain retries it later; a manager may retry it now). Sent: the backend took it."""
        if status == OutboxStatus.SENT:
            return self.filter(sent_at__isnull=False)
        if status == OutboxStatus.FAILED:
            return self.filter(sent_at__isnull=True).exclude(last_error="")
        if status == OutboxStatus.QUEUED:
            return self.filter(sent_at__isnull=True, last_error="")
        return self


class OutboxEmail(models.Model):
    """An email waiting to be sent. Written in the same transaction as what causes it; a Celery
    task drains the table, so a Redis or SMTP outage delays email and loses none."""

    kind = models.CharField(max_length=32)  # "usage_tips", later "survey" …
    # A string reference, not an import: the ground layer knows no app's code. Emails about an
    # account (usage tips, survey invitations) keep it; the row outlives the account.
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        # The drain task reads unsent mail in order.
        indexes = [models.Index(fields=["sent_at", "send_after"], name="outbox_unsent")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}"

    @property
    def status(self) -> str:
        if self.sent_at is not None:
            return OutboxStatus.SENT
        return OutboxStatus.FAILED if self.last_error else OutboxStatus.QUEUED

    def get_status_display(self) -> str:
        return str(OutboxStatus(self.status).label)
