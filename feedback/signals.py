"""Signals of the feedback app: events the layers above answer (connected in their
AppConfig.ready(); README "Architecture"). Each is sent inside the transaction that made it."""

from __future__ import annotations

from django.dispatch import Signal

# A survey answer came in as a detractor: sent with `response`. The workflow opens or updates the
# account's risk item and emails its owner.
detractor_answered = Signal()

# The nightly run found accounts whose MRR reached 0 on `day`: sent with `account_ids` and
# `day`. Receivers return how many open items they closed (the workflow's risk items).
accounts_churned = Signal()

# A survey answer was stored (any score): sent with `response`. Outbound webhooks report it.
survey_answered = Signal()

# Churns were recorded on `day` (by the nightly run, or marked by hand): sent with `account_ids`
# and `day`. Outbound webhooks report them.
churn_recorded = Signal()
