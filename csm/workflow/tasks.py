"""The workflow's Celery task, thin: it calls csm.workflow.risk.evaluate_dirty_accounts."""

from __future__ import annotations

from celery import shared_task

from csm.workflow.risk import evaluate_dirty_accounts


@shared_task
def evaluate_dirty_accounts_task() -> int:
    """Beat runs this every minute (and ingest asks for it at once when tasks run in-process):
    re-evaluate the risk of the accounts whose usage events arrived since. Returns how many."""
    return evaluate_dirty_accounts()
