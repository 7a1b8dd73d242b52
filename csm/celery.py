"""The Celery app: `celery -A csm worker` and `celery -A csm beat`."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csm.settings")

app = Celery("csm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # 02:00 in the installation's time zone: after the day is over everywhere it matters and
    # before CSMs log in. Expires before the next run so a stopped worker never piles them up;
    # the pipeline itself catches up the days it missed.
    "nightly-pipeline": {
        "task": "csm.tasks.run_nightly_task",
        "schedule": crontab(hour=2, minute=0),
        "options": {"expires": 20 * 60 * 60},
    },
    # The outbox (DESIGN §8): every 5 minutes, so an email waits at most that long once Redis
    # and SMTP are up. Expires before the next one: a stopped worker does not pile drains up,
    # and each drain sends whatever is due anyway.
    "drain-outbox": {
        "task": "csm.lib.tasks.drain_outbox_task",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # Outbound webhooks (csm.webhooks.delivery): every minute, so an alert whose immediate drain
    # could not be enqueued (Redis down) or whose retry came due waits at most that long.
    # Expires before the next one, like the outbox's.
    "drain-webhooks": {
        "task": "csm.webhooks.tasks.drain_webhooks_task",
        "schedule": crontab(),
        "options": {"expires": 50},
    },
    # Live risk (issue 12): the accounts whose usage events arrived since the last run get their
    # risk re-evaluated in a batch, at most a minute after ingest marked them. Expires before the
    # next one; a run takes every mark left, so skipped runs lose nothing.
    "evaluate-dirty-accounts": {
        "task": "csm.workflow.tasks.evaluate_dirty_accounts_task",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
}
