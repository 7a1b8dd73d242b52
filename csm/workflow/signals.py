"""Signals of the workflow: events the layers above answer (connected in their
AppConfig.ready(); README "Architecture"), and, inside the workflow, where a direct call would
make an import cycle (the risk rules read the cadence of csm.workflow.touches, so touches cannot
call the rules). Each is sent inside the transaction that made it."""

from __future__ import annotations

from django.dispatch import Signal

# Risk items opened, changed or were resolved: sent with `items` (a list of RiskItem) and
# `change` ("opened", "updated" or "resolved"). Outbound webhooks report them (csm.webhooks).
risk_items_changed = Signal()

# A touch was written (csm.workflow.touches.add_touch, the one path of every single touch: the
# page, imports, the tips emails): sent with `account_id`, inside that transaction. The risk
# rules re-evaluate the account (touch overdue).
touch_added = Signal()
