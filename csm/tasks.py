"""The nightly task, beside the pipeline it runs (csm.nightly). Thin: it calls run_nightly."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from csm.nightly import run_nightly
from csm.nightly_lock import NightlyAlreadyRunning

log = logging.getLogger(__name__)


@shared_task
def run_nightly_task() -> list[str]:
    """Beat runs this at 02:00: the last complete day, plus any days a down worker missed."""
    yesterday = timezone.localdate() - timedelta(days=1)
    try:
        return [day.isoformat() for day in run_nightly(day=yesterday)]
    except NightlyAlreadyRunning as running:
        log.warning("nightly run skipped: %s", running)
        return []
