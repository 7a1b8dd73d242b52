"""The ground layer's one table: the outbox every email goes through (csm.lib.outbox)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


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

    class Meta:
        ordering = ["created_at", "pk"]
        # The drain task reads unsent mail in order.
        indexes = [models.Index(fields=["sent_at", "send_after"], name="outbox_unsent")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}"
