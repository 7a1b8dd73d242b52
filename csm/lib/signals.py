"""Signals of the ground layer. Higher layers connect to them in their AppConfig.ready()."""

from __future__ import annotations

from django.dispatch import Signal

# An outbox email went out: sent with `email` (the OutboxEmail, sent_at set), inside the
# transaction that marks it sent. The workflow logs a usage-tips email as an automated touch.
email_sent = Signal()
