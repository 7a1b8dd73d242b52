"""Experiment plays (csm.kpis.experiments draws the groups): what the Today page shows the owner
of a treatment account, and marking a play done."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import check_can_change
from accounts.models import User
from csm.workflow.models import ExperimentAssignment, ExperimentGroup


def plays_for(*, user: User, day: date, limit: int) -> QuerySet[ExperimentAssignment]:
    """Plays waiting for `user` on `day`: treatment accounts they own in experiments running that
    day, not done yet. One query with the experiment and the account joined."""
    return (
        ExperimentAssignment.objects.filter(
            group=ExperimentGroup.TREATMENT,
            play_done_at__isnull=True,
            account__owner=user,
            experiment__starts_on__lte=day,
            experiment__ends_on__gte=day,
        )
        .select_related("experiment", "account")
        .order_by("experiment__ends_on", "account__name", "pk")[:limit]
    )


def mark_play_done(*, actor: User, assignment: ExperimentAssignment) -> bool:
    """Record that the play was done for a treatment account (nothing else is logged). Returns
    False when it was already done (a conditional UPDATE, so a double click writes once)."""
    check_can_change(actor, assignment.account)
    if assignment.group != ExperimentGroup.TREATMENT:
        raise ValidationError(_("Only treatment accounts get the play."))
    now = timezone.now()
    done = ExperimentAssignment.objects.filter(pk=assignment.pk, play_done_at__isnull=True).update(
        play_done_at=now
    )
    if done:
        assignment.play_done_at = now
    return bool(done)
