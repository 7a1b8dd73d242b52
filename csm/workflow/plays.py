"""Experiment plays (csm.kpis.experiments draws the groups): each treatment account's play is a
task of its owner (csm.workflow.task_list.add_experiment_tasks), listed on Today with the other
tasks. Marking the play done completes that task, and completing the task marks the play done."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import check_can_change
from accounts.models import User
from csm.workflow.models import ExperimentAssignment, ExperimentGroup, Task
from csm.workflow.task_list import complete_task


def play_task(assignment: ExperimentAssignment) -> Task | None:
    """The task holding a treatment account's play (none for an experiment drawn after its end)."""
    return Task.objects.filter(assignment=assignment).select_related("account", "assignee").first()


def mark_play_done(*, actor: User, assignment: ExperimentAssignment) -> bool:
    """Record that the play was done for a treatment account, completing its task in the same
    transaction (complete_task sets `play_done_at`). Returns False when it was already done
    (conditional UPDATEs, so a double click writes once)."""
    check_can_change(actor, assignment.account)
    if assignment.group != ExperimentGroup.TREATMENT:
        raise ValidationError(_("Only treatment accounts get the play."))
    with transaction.atomic():
        task = play_task(assignment)
        if task is not None:
            done = complete_task(actor=actor, task=task)
        else:
            done = bool(
                ExperimentAssignment.objects.filter(
                    pk=assignment.pk, play_done_at__isnull=True
                ).update(play_done_at=timezone.now())
            )
    assignment.refresh_from_db(fields=["play_done_at"])
    return done
