"""Signals inside the workflow, where a direct call would make an import cycle (the risk rules
read the cadence of csm.workflow.touches, so touches cannot call the rules)."""

from __future__ import annotations

from django.dispatch import Signal

# A touch was written (csm.workflow.touches.add_touch, the one path of every single touch: the
# page, imports, the tips emails): sent with `account_id`, inside that transaction. The risk
# rules re-evaluate the account (touch overdue).
touch_added = Signal()
