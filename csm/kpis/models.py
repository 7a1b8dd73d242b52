"""What the KPI pages read: each account's monthly MRR movement, the monthly KPI and cohort
snapshots the nightly run writes (DESIGN §4, docs/definitions.md), and the managers' goals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, ScopeKind
from csm.lib.dates import years_after


class Movement(models.TextChoices):
    """MRR movements of an account in a month (DESIGN §4)."""

    NEW = "new", _("New")
    REACTIVATION = "reactivation", _("Reactivation")
    EXPANSION = "expansion", _("Expansion")
    CONTRACTION = "contraction", _("Contraction")
    CHURN = "churn", _("Churn")


class MrrMovement(models.Model):
    """An account's month: month-end MRR of the month before and of this month, and the movement
    between them (blank when unchanged or zero throughout). Written by the nightly run, so the KPI
    pages can break churn and expansion down by tier, segment and owner in SQL."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="mrr_months")
    month = models.DateField()  # the first day of the month
    mrr_start = models.DecimalField(max_digits=12, decimal_places=2)
    mrr_end = models.DecimalField(max_digits=12, decimal_places=2)
    movement = models.CharField(max_length=16, choices=Movement.choices, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        ordering = ["month", "account_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="one_mrr_movement_per_month"),
        ]
        # KPI pages: a month's movements of one kind.
        indexes = [models.Index(fields=["month", "movement"], name="mrr_movement_month")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m} {self.movement or '-'} {self.amount}"


class KpiSnapshot(models.Model):
    """The monthly KPIs of DESIGN §4 for one month and scope ("all", or "owner:<user id>" for a
    CSM's book), as `kpis --json` prints them. Closed months are written once; the current month
    is rewritten every night."""

    month = models.DateField()  # the first day of the month
    scope = models.CharField(max_length=32, default="all")
    values = models.JSONField()
    closed = models.BooleanField(default=False)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scope", "month"]
        constraints = [
            models.UniqueConstraint(fields=["month", "scope"], name="one_kpi_snapshot_per_scope"),
        ]

    def __str__(self) -> str:
        return f"KPIs {self.scope} {self.month:%Y-%m}"


class CohortSnapshot(models.Model):
    """The cohort cells of one scope as of a month (DESIGN §4), written by the nightly run with
    the KPI snapshots, so the cohorts page reads one row instead of aggregating every account's
    months. `cells`: [cohort month, month, customers with E > 0, their MRR] per (cohort, month),
    months as ISO dates, MRR as a decimal string."""

    month = models.DateField()  # the table's last month (its first day)
    scope = models.CharField(max_length=32, default="all")
    cells = models.JSONField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scope", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "scope"], name="one_cohort_snapshot_per_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"Cohorts {self.scope} {self.month:%Y-%m}"


# --- Goals ----------------------------------------------------------------------------------------

# How far a goal's period may reach into the past or the future, in years from today.
GOAL_PERIOD_MAX_YEARS = 5


class Goal(models.Model):
    """A manager's short-term target for one KPI over a period, in a scope (all / tier / segment /
    one CSM's book); the overview shows progress against it."""

    metric = models.CharField(_("metric"), max_length=32)  # a key of the `kpis` JSON
    scope_kind = models.CharField(_("scope"), max_length=8, choices=ScopeKind.choices)
    scope_value = models.CharField(_("scope value"), max_length=32, blank=True)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=6)
    at_most = models.BooleanField(
        _("lower is better"), default=True, help_text=_("met when the value is at most the target")
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period_end", "pk"]

    def __str__(self) -> str:
        return f"{self.metric} {self.scope_kind} {self.period_start}–{self.period_end}"

    def clean(self) -> None:
        """A period that ends on or after its start, within GOAL_PERIOD_MAX_YEARS of today (the
        KPI history and any plan worth tracking fit in it; 0001 or 9999 are typos). Run by the
        goal form (a ModelForm) before anything is written."""
        start, end = self.period_start, self.period_end
        if start is None or end is None:
            return
        today = timezone.localdate()
        earliest = years_after(today, -GOAL_PERIOD_MAX_YEARS)
        latest = years_after(today, GOAL_PERIOD_MAX_YEARS)
        errors = {}
        if not earliest <= start <= latest:
            errors["period_start"] = _outside_message(earliest, latest)
        if not earliest <= end <= latest:
            errors["period_end"] = _outside_message(earliest, latest)
        elif end < start:
            errors["period_end"] = _("The period must end on or after its start.")
        if errors:
            raise ValidationError(errors)


def _outside_message(earliest: date, latest: date) -> str:
    return _("Choose a day from %(earliest)s to %(latest)s (%(n)s years either side of today).") % {
        "earliest": earliest.isoformat(),
        "latest": latest.isoformat(),
        "n": GOAL_PERIOD_MAX_YEARS,
    }
