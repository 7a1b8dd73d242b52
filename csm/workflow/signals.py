"""Signals of the workflow: events the layers above answer (connected in their
AppConfig.ready(); README "Architecture"). Each is sent inside the transaction that made it."""

from __future__ import annotations

from django.dispatch import Signal

# Risk items opened, changed or were resolved: sent with `items` (a list of RiskItem) and
# `change` ("opened", "updated" or "resolved"). Outbound webhooks report them (csm.webhooks).
risk_items_changed = Signal()
