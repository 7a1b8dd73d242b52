"""Retention experiments: a play tried on accounts drawn at random from a scope, against
a holdout control group, and the comparison at the end of the window.

- `assign_experiment` draws the groups (seeded, so the same data and seed give the same draw).
- Each treatment account's play is a task of its owner (csm.workflow.task_list), on Today with
  the other tasks; marking one done is the workflow's (csm.workflow.plays).
- `experiment_results` compares churn and health change between the groups, with
  `two_proportion_test` (pure: the normal approximation, no scipy) and a plain sentence.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Account
from accounts.scopes import scope_q
from csm.kpis.models import Movement, MrrMovement
from csm.lib.dates import years_after
from csm.workflow.models import Experiment, ExperimentAssignment, ExperimentGroup
from csm.workflow.task_list import add_experiment_tasks
from feedback.models import ChurnEvent
from health.models import HealthScore

# Two-sided 95%: the standard normal's 97.5th percentile.
Z_95 = 1.959963984540054
SIGNIFICANCE = 0.05
# The fewest accounts per group whose churn rates the test judges. Below it the normal
# approximation the two-proportion test rests on does not hold (a handful of accounts gives
# "p = 1.00, CI +0.0 to +0.0", which reads as certainty), so the page says it is too small to
# judge instead; the experiment form and the results page say so too.
MIN_GROUP_TO_JUDGE = 30
# A new experiment's window: it starts within a year and lasts at most two (a 9999 date is a typo).
EXPERIMENT_MAX_YEARS_AHEAD = 1
EXPERIMENT_MAX_YEARS_LONG = 2


# --- Assignment ---------------------------------------------------------------------------------


def eligible_accounts(*, kind: str, value: str, day: date) -> QuerySet[Account]:
    """The scope's paying accounts on `day` (MRR > 0), in a stable order for the seeded draw."""
    return (
        Account.objects.filter(scope_q(kind, value))
        .with_mrr(day)
        .filter(mrr__gt=Decimal("0"))
        .order_by("pk")
    )


def draw_day(experiment: Experiment, today: date | None = None) -> date:
    """The day whose paying accounts are eligible: the start, or today when the start is ahead."""
    today = today or timezone.localdate()
    return min(experiment.starts_on, today)


def draw(ids: list[int], *, treatment: int, control: int, seed: int) -> tuple[list[int], list[int]]:
    """Pure: a seeded random sample of treatment + control ids from `ids` (sorted first, so the
    order the database returns does not matter), the first `treatment` of it being treatment."""
    chosen = random.Random(seed).sample(sorted(ids), treatment + control)
    return chosen[:treatment], chosen[treatment:]


def assign_experiment(*, experiment: Experiment, today: date | None = None) -> dict[str, int]:
    """Draw the experiment's treatment and control accounts and record each one's health at the
    start (its latest score on or before the draw day). All or nothing; refuses (ValidationError)
    when the experiment is already assigned or the scope has too few paying accounts."""
    day = draw_day(experiment, today)
    needed = experiment.treatment_size + experiment.control_size
    if experiment.treatment_size < 1 or experiment.control_size < 1:
        raise ValidationError(_("Treatment and control need at least one account each."))
    with transaction.atomic():
        # Lock the experiment row: two managers pressing "assign" at once draw once.
        Experiment.objects.select_for_update().filter(pk=experiment.pk).first()
        if ExperimentAssignment.objects.filter(experiment=experiment).exists():
            raise ValidationError(_("This experiment already has its groups."))
        ids = list(
            eligible_accounts(
                kind=experiment.scope_kind, value=experiment.scope_value, day=day
            ).values_list("pk", flat=True)
        )
        if len(ids) < needed:
            raise ValidationError(
                _(
                    "The scope has only %(n)s paying accounts on %(day)s; treatment + control "
                    "needs %(needed)s. Make the groups smaller or the scope wider."
                )
                % {"n": len(ids), "day": day.isoformat(), "needed": needed}
            )
        treatment, control = draw(
            ids,
            treatment=experiment.treatment_size,
            control=experiment.control_size,
            seed=experiment.seed,
        )
        health = dict(
            Account.objects.filter(pk__in=treatment + control)
            .annotate(
                start=Subquery(
                    HealthScore.objects.filter(account=OuterRef("pk"), day__lte=day)
                    .order_by("-day")
                    .values("score")[:1]
                )
            )
            .values_list("pk", "start")
        )
        ExperimentAssignment.objects.bulk_create(
            [
                ExperimentAssignment(
                    experiment=experiment, account_id=pk, group=group, health_start=health.get(pk)
                )
                for group, pks in (
                    (ExperimentGroup.TREATMENT, treatment),
                    (ExperimentGroup.CONTROL, control),
                )
                for pk in pks
            ]
        )
        # Each treatment account's play becomes a task of its owner (listed on Today).
        add_experiment_tasks(experiment, day=today or timezone.localdate())
    return {"treatment": len(treatment), "control": len(control)}


# --- Statistics -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwoProportionTest:
    """p1 − p2 with its 95% confidence interval, the z statistic and the two-sided p-value."""

    p1: float
    p2: float
    difference: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANCE


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> TwoProportionTest:
    """Compare x1/n1 with x2/n2 by the normal approximation.

    z uses the pooled proportion (the null hypothesis says both are equal); the confidence
    interval uses the unpooled standard error (it describes the difference as observed). When
    every account or none churned in both groups the difference is 0 with z = 0 and p = 1.
    """
    for name, value in (("x1", x1), ("n1", n1), ("x2", x2), ("n2", n2)):
        if value < 0:
            raise ValueError(f"{name} must not be negative")
    if n1 == 0 or n2 == 0:
        raise ValueError("both groups need at least one account")
    if x1 > n1 or x2 > n2:
        raise ValueError("a group cannot have more events than accounts")
    p1, p2 = x1 / n1, x2 / n2
    difference = p1 - p2
    pooled = (x1 + x2) / (n1 + n2)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se_pooled == 0:
        z, p_value = 0.0, 1.0
    else:
        z = difference / se_pooled
        p_value = min(1.0, 2 * (1 - normal_cdf(abs(z))))
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return TwoProportionTest(
        p1=p1,
        p2=p2,
        difference=difference,
        ci_low=difference - Z_95 * se,
        ci_high=difference + Z_95 * se,
        z=z,
        p_value=p_value,
    )


def _points(value: float) -> str:
    return f"{abs(value) * 100:.1f}"


def format_p(p_value: float) -> str:
    """Two decimals, three near the 0.05 threshold (so 0.048 never reads as 0.05)."""
    if p_value < 0.001:
        return "p < 0.001"
    return f"p = {p_value:.2f}" if p_value >= 0.1 else f"p = {p_value:.3f}"


def result_sentence(test: TwoProportionTest) -> str:
    """What the churn comparison means, in words (treatment is group 1)."""
    p = format_p(test.p_value)
    if not test.significant:
        return _("Not significant: the difference could be chance (%(p)s).") % {"p": p}
    if test.difference < 0:
        return _(
            "Significant: treatment accounts churned %(t)s%% against %(c)s%% in control, "
            "%(d)s points fewer (95%% CI %(lo)s to %(hi)s points fewer; %(p)s)."
        ) % {
            "t": _points(test.p1),
            "c": _points(test.p2),
            "d": _points(test.difference),
            "lo": _points(test.ci_high),
            "hi": _points(test.ci_low),
            "p": p,
        }
    return _(
        "Significant: treatment accounts churned %(t)s%% against %(c)s%% in control, "
        "%(d)s points more (95%% CI %(lo)s to %(hi)s points more; %(p)s)."
    ) % {
        "t": _points(test.p1),
        "c": _points(test.p2),
        "d": _points(test.difference),
        "lo": _points(test.ci_low),
        "hi": _points(test.ci_high),
        "p": p,
    }


def verdict(test: TwoProportionTest, *, treatment_n: int, control_n: int) -> tuple[bool, str]:
    """(judged, sentence): the test's sentence when both groups have MIN_GROUP_TO_JUDGE accounts
    and somebody churned; else why there is nothing to judge yet."""
    if min(treatment_n, control_n) < MIN_GROUP_TO_JUDGE:
        return False, _(
            "Too small to judge: each group needs at least %(min)s accounts for the test "
            "(treatment has %(t)s, control %(c)s)."
        ) % {"min": MIN_GROUP_TO_JUDGE, "t": treatment_n, "c": control_n}
    if test.p1 == 0 and test.p2 == 0:
        return False, _("Nothing to judge yet: no account has churned in either group.")
    return True, result_sentence(test)


# --- Checking a new experiment --------------------------------------------------------------------


def check_new_experiment(
    *,
    scope_kind: str,
    scope_value: str,
    treatment_size: int,
    control_size: int,
    starts_on: date,
    ends_on: date,
    today: date | None = None,
) -> None:
    """Refuse (ValidationError keyed by field) an experiment that cannot run: a window that
    starts before today (the play is done during it, so it cannot lie in the past) or more than
    EXPERIMENT_MAX_YEARS_AHEAD ahead, ends before it starts or lasts over
    EXPERIMENT_MAX_YEARS_LONG, empty groups, or groups larger together than the scope's paying
    accounts today (the draw would fail). The experiment form runs it before anything is
    written."""
    today = today or timezone.localdate()
    errors: dict[str, Any] = {}
    if starts_on < today:
        errors["starts_on"] = _("The window cannot start in the past: start today or later.")
    elif starts_on > years_after(today, EXPERIMENT_MAX_YEARS_AHEAD):
        errors["starts_on"] = ngettext(
            "Start within %(n)s year of today.",
            "Start within %(n)s years of today.",
            EXPERIMENT_MAX_YEARS_AHEAD,
        ) % {"n": EXPERIMENT_MAX_YEARS_AHEAD}
    if ends_on <= starts_on:
        errors["ends_on"] = _("The window must end after it starts.")
    elif ends_on > years_after(starts_on, EXPERIMENT_MAX_YEARS_LONG):
        errors["ends_on"] = _("The window can last at most %(n)s years.") % {
            "n": EXPERIMENT_MAX_YEARS_LONG
        }
    for name, size in (("treatment_size", treatment_size), ("control_size", control_size)):
        if size < 1:
            errors[name] = _("At least one account.")
    if "treatment_size" not in errors and "control_size" not in errors:
        population = (
            eligible_accounts(kind=scope_kind, value=scope_value, day=today).order_by().count()
        )
        if treatment_size + control_size > population:
            errors["treatment_size"] = _(
                "Treatment + control is %(needed)s accounts, but the scope has only %(n)s "
                "paying accounts: make the groups smaller or the scope wider."
            ) % {"needed": treatment_size + control_size, "n": population}
    if errors:
        raise ValidationError(errors)


# --- Results --------------------------------------------------------------------------------------


def experiment_status(experiment: Experiment, *, assigned: bool, today: date) -> str:
    if not assigned:
        return "draft"
    if today < experiment.starts_on:
        return "scheduled"
    if today <= experiment.ends_on:
        return "running"
    return "finished"


def churned_in_window(experiment: Experiment) -> Q:
    """An assignment whose account's MRR reached 0 during the window: a ChurnEvent dated in the
    window, or a churn movement in a month the window touches (the nightly run writes both; either
    is enough, so the result does not hang on one of them)."""
    first_month = experiment.starts_on.replace(day=1)
    events = ChurnEvent.objects.filter(
        account=OuterRef("account_id"),
        churned_on__gte=experiment.starts_on,
        churned_on__lte=experiment.ends_on,
    )
    movements = MrrMovement.objects.filter(
        account=OuterRef("account_id"),
        movement=Movement.CHURN,
        month__gte=first_month,
        month__lte=experiment.ends_on,
    )
    return Q(Exists(events)) | Q(Exists(movements))


def experiment_results(experiment: Experiment, *, today: date | None = None) -> dict[str, Any]:
    """Per group: accounts, churned, churn rate, plays done, mean health change (the latest score
    on or before the end, or today while running, minus health_start, over accounts with both);
    the two-proportion test of the churn rates, whether it is judged (`verdict`) and its
    sentence. One grouped query."""
    today = today or timezone.localdate()
    end = min(experiment.ends_on, today)
    health_end = Subquery(
        HealthScore.objects.filter(account=OuterRef("account_id"), day__lte=end)
        .order_by("-day")
        .values("score")[:1]
    )
    rows = (
        ExperimentAssignment.objects.filter(experiment=experiment)
        .alias(churned=churned_in_window(experiment), health_end=health_end)
        .values("group")
        .annotate(
            n=Count("pk"),
            churned_n=Count("pk", filter=Q(churned=True)),
            plays_done=Count("pk", filter=Q(play_done_at__isnull=False)),
            health_n=Count("pk", filter=Q(health_start__isnull=False, health_end__isnull=False)),
            health_change=Avg(
                Cast(F("health_end"), FloatField()) - Cast(F("health_start"), FloatField()),
                filter=Q(health_start__isnull=False, health_end__isnull=False),
            ),
        )
        .order_by("group")
    )
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        row["churn_rate"] = row["churned_n"] / row["n"] if row["n"] else None
        groups[row["group"]] = row
    treatment = groups.get(ExperimentGroup.TREATMENT)
    control = groups.get(ExperimentGroup.CONTROL)
    test = None
    judged, sentence = False, ""
    if treatment and control:
        test = two_proportion_test(
            treatment["churned_n"], treatment["n"], control["churned_n"], control["n"]
        )
        judged, sentence = verdict(test, treatment_n=treatment["n"], control_n=control["n"])
    status = experiment_status(experiment, assigned=bool(groups), today=today)
    health_difference = None
    if (
        treatment
        and control
        and treatment["health_change"] is not None
        and control["health_change"] is not None
    ):
        health_difference = treatment["health_change"] - control["health_change"]
    return {
        "status": status,
        "through": end,
        "treatment": treatment,
        "control": control,
        "test": test,
        "judged": judged,  # False: too small (MIN_GROUP_TO_JUDGE) or nobody churned yet
        "sentence": sentence,
        "health_difference": health_difference,
    }


def new_seed() -> int:
    """A fresh seed for a new experiment (kept on the row, so the draw can be repeated)."""
    return random.SystemRandom().randrange(1, 2**31)
