"""Goals (issue 6): a manager's short-term target for one KPI, in a scope, over a period, and the
progress against it.

The value of a goal's metric over its period, month by month as DESIGN §4 defines the monthly
KPIs, pooled over the months of the period that have begun:

- rates (customer churn, gross and net MRR churn, GRR, NRR, quick ratio) sum their numerators and
  denominators over the months, so a three-month period gives the mean monthly rate weighted by
  customers (or MRR) at each month's start;
- levels (MRR at month end, ARPA, NPS) are the latest month's.

Scope "all" and a CSM's book read the nightly KPI snapshots ("all", "owner:<user id>"); a tier or
segment sums MrrMovement rows joined to the account (its current tier and segment) in SQL, and
NPS answers of its accounts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.models import ScopeKind, User
from accounts.scopes import SCOPE_ALL, owner_scope, scope_label
from csm.kpis.models import Goal, KpiSnapshot, Movement, MrrMovement
from csm.lib.numbers import money_text
from feedback.models import Response, SurveyKind
from feedback.scores import NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN, nps_from_counts


@dataclass(frozen=True)
class Metric:
    key: str
    label: Any
    lower_is_better: bool
    unit: str  # "rate" (0.05 = 5%), "money", "ratio", "score"


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("customer_churn_rate", gettext_lazy("Logo churn rate (monthly)"), True, "rate"),
        Metric("gross_mrr_churn_rate", gettext_lazy("Gross MRR churn rate"), True, "rate"),
        Metric("net_mrr_churn_rate", gettext_lazy("Net MRR churn rate"), True, "rate"),
        Metric("grr", gettext_lazy("Gross revenue retention (GRR)"), False, "rate"),
        Metric("nrr", gettext_lazy("Net revenue retention (NRR)"), False, "rate"),
        Metric("quick_ratio", gettext_lazy("Quick ratio"), False, "ratio"),
        Metric("arpa", gettext_lazy("ARPA"), False, "money"),
        Metric("nps", gettext_lazy("NPS"), False, "score"),
        Metric("mrr_end", gettext_lazy("MRR at month end"), False, "money"),
    )
}

# The values a target can take, as a manager enters it (rates in percent); None = no bound.
# GRR and the churn rates cannot leave 0–100%, NPS runs from −100 to 100, money and ratios are
# never negative; net MRR churn is negative when expansion outweighs losses, but never above 100%.
TARGET_RANGES: dict[str, tuple[Decimal | None, Decimal | None]] = {
    "customer_churn_rate": (Decimal(0), Decimal(100)),
    "gross_mrr_churn_rate": (Decimal(0), Decimal(100)),
    "net_mrr_churn_rate": (None, Decimal(100)),
    "grr": (Decimal(0), Decimal(100)),
    "nrr": (Decimal(0), None),
    "quick_ratio": (Decimal(0), None),
    "arpa": (Decimal(0), None),
    "nps": (Decimal(-100), Decimal(100)),
    "mrr_end": (Decimal(0), None),
}

# The snapshot keys a goal's value is made of (money keys as decimal strings).
COMPONENT_KEYS = (
    "customers_start",
    "churned_customers",
    "mrr_start",
    "mrr_new",
    "mrr_expansion",
    "mrr_contraction",
    "mrr_churn",
    "mrr_reactivation",
)

MET, MISSED, ON_TRACK, OFF_TRACK, NO_DATA = "met", "missed", "on_track", "off_track", "no_data"
STATUS_LABELS = {
    MET: gettext_lazy("Met"),
    MISSED: gettext_lazy("Missed"),
    ON_TRACK: gettext_lazy("On track"),
    OFF_TRACK: gettext_lazy("Off track"),
    NO_DATA: gettext_lazy("No data yet"),
}
# Goals whose period ended this many days ago still show on the overview (met or missed).
RECENT_DAYS = 31


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    """First days of the months from `first`'s to `last`'s, inclusive."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal("0")


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if not denominator else numerator / denominator


def metric_value(metric: str, c: dict[str, Any]) -> Decimal | None:
    """Pure: the metric from pooled components (DESIGN §4 formulas); None where undefined."""
    churn, contraction = _dec(c.get("mrr_churn")), _dec(c.get("mrr_contraction"))
    expansion, reactivation = _dec(c.get("mrr_expansion")), _dec(c.get("mrr_reactivation"))
    start = _dec(c.get("mrr_start"))
    if metric == "customer_churn_rate":
        return _ratio(_dec(c.get("churned_customers")), _dec(c.get("customers_start")))
    if metric == "gross_mrr_churn_rate":
        return _ratio(churn + contraction, start)
    if metric == "net_mrr_churn_rate":
        return _ratio(churn + contraction - expansion - reactivation, start)
    if metric == "grr":
        return _ratio(start - churn - contraction, start)
    if metric == "nrr":
        return _ratio(start - churn - contraction + expansion, start)
    if metric == "quick_ratio":
        return _ratio(_dec(c.get("mrr_new")) + expansion, churn + contraction)
    if metric == "arpa":
        return _ratio(_dec(c.get("mrr_end")), _dec(c.get("customers_end")))
    if metric == "mrr_end":
        return None if c.get("mrr_end") is None else _dec(c["mrr_end"])
    if metric == "nps":
        return None if c.get("nps") is None else _dec(c["nps"])
    raise ValueError(f"unknown metric {metric!r}")


def format_value(metric: str, value: Decimal | None, symbol: str = "") -> str:
    if value is None:
        return "—"
    unit = METRICS[metric].unit if metric in METRICS else "ratio"
    if unit == "rate":
        return f"{value * 100:.2f}%"
    if unit == "money":
        return money_text(value, symbol)
    if unit == "score":
        return f"{value:.1f}"
    return f"{value:.2f}"


def snapshot_scope(goal: Goal) -> str | None:
    if goal.scope_kind == ScopeKind.ALL:
        return SCOPE_ALL
    if goal.scope_kind == ScopeKind.CSM:
        return owner_scope(goal.scope_value)
    return None


def pool_snapshots(values: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Pure: sum the components of monthly snapshot values (oldest first); the latest month's
    mrr_end, customers_end and NPS (the latest month that has answers)."""
    pooled: dict[str, Any] = {key: Decimal("0") for key in COMPONENT_KEYS}
    pooled.update(mrr_end=None, customers_end=None, nps=None, months=0)
    for value in values:
        pooled["months"] += 1
        for key in COMPONENT_KEYS:
            pooled[key] += _dec(value.get(key))
        pooled["mrr_end"] = value.get("mrr_end")
        pooled["customers_end"] = value.get("customers_end")
        if value.get("nps") is not None:
            pooled["nps"] = value["nps"]
    return pooled


def _movement_months(kind: str, months: set[date]) -> dict[tuple[str, date], dict[str, Any]]:
    """Tier or segment: per (tier or segment, month) the components a snapshot holds, summed from
    MrrMovement joined to the account in one grouped query."""
    field = "account__tier" if kind == ScopeKind.TIER else "account__segment"
    movement = {m: Q(movement=m) for m in Movement.values}
    rows = (
        MrrMovement.objects.filter(month__in=months)
        .values(field, "month")
        .annotate(
            customers_start=Count("pk", filter=Q(mrr_start__gt=0)),
            customers_end=Count("pk", filter=Q(mrr_end__gt=0)),
            churned_customers=Count("pk", filter=movement[Movement.CHURN]),
            mrr_start=Sum("mrr_start"),
            mrr_end=Sum("mrr_end"),
            mrr_new=Sum("amount", filter=movement[Movement.NEW]),
            mrr_expansion=Sum("amount", filter=movement[Movement.EXPANSION]),
            mrr_contraction=Sum("amount", filter=movement[Movement.CONTRACTION]),
            mrr_churn=Sum("amount", filter=movement[Movement.CHURN]),
            mrr_reactivation=Sum("amount", filter=movement[Movement.REACTIVATION]),
        )
        .order_by()
    )
    return {(row.pop(field), row.pop("month")): row for row in rows}


def _nps_months(kind: str, months: set[date]) -> dict[tuple[str, date], Decimal | None]:
    """Tier or segment: NPS per (tier or segment, month) from the answers, one grouped query."""
    field = "account__tier" if kind == ScopeKind.TIER else "account__segment"
    first = min(months)
    after = (max(months) + timedelta(days=32)).replace(day=1)
    rows = (
        Response.objects.filter(
            kind=SurveyKind.NPS, answered_at__date__gte=first, answered_at__date__lt=after
        )
        .annotate(month=TruncMonth("answered_at"))
        .values(field, "month")
        .annotate(
            n=Count("pk"),
            promoters=Count("pk", filter=Q(score__gte=NPS_PROMOTER_MIN)),
            detractors=Count("pk", filter=Q(score__lte=NPS_DETRACTOR_MAX)),
        )
        .order_by()
    )
    return {
        (row[field], _as_date(row["month"])): nps_from_counts(
            row["promoters"], row["detractors"], row["n"]
        )
        for row in rows
    }


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def goal_status(goal: Goal, value: Decimal | None, today: date) -> str:
    if value is None:
        return NO_DATA
    reached = value <= goal.target if goal.at_most else value >= goal.target
    if today > goal.period_end:
        return MET if reached else MISSED
    return ON_TRACK if reached else OFF_TRACK


@dataclass
class Progress:
    goal: Goal
    value: Decimal | None
    status: str
    months: int  # months of the period with data
    through: date | None  # the last month counted
    scope: str

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def metric_label(self) -> str:
        metric = METRICS.get(self.goal.metric)
        return str(metric.label) if metric else self.goal.metric

    @property
    def display(self) -> str:
        return format_value(self.goal.metric, self.value, settings.CURRENCY_SYMBOL)

    @property
    def target_display(self) -> str:
        return format_value(self.goal.metric, self.goal.target, settings.CURRENCY_SYMBOL)


def _period_months(goal: Goal, today: date) -> list[date]:
    return months_between(goal.period_start, min(goal.period_end, today))


def progress_for(
    goals: list[Goal], *, today: date | None = None, users: dict[int, User] | None = None
) -> list[Progress]:
    """goal_progress for several goals in a constant number of queries: the snapshots of every
    "all" and CSM goal together; the movements (and NPS answers) of every tier goal grouped by
    tier and month, the same for segments."""
    today = today or timezone.localdate()
    months_of = {goal.pk or id(goal): _period_months(goal, today) for goal in goals}

    def months_for(kinds: set[str]) -> set[date]:
        return {m for g in goals if g.scope_kind in kinds for m in months_of[g.pk or id(g)]}

    # Monthly components keyed by (scope key, month): "all"/"owner:<id>", or the tier/segment.
    monthly: dict[str, dict[tuple[str, date], dict[str, Any]]] = {}
    snapshot_months = months_for({ScopeKind.ALL, ScopeKind.CSM})
    if snapshot_months:
        scopes = {snapshot_scope(g) for g in goals} - {None}
        monthly["snapshot"] = {
            (s.scope, s.month): s.values
            for s in KpiSnapshot.objects.filter(
                scope__in=scopes, month__gte=min(snapshot_months), month__lte=max(snapshot_months)
            ).only("scope", "month", "values")
        }
    for kind in (ScopeKind.TIER, ScopeKind.SEGMENT):
        kind_months = months_for({kind})
        if not kind_months:
            continue
        monthly[kind] = _movement_months(kind, kind_months)
        if any(g.scope_kind == kind and g.metric == "nps" for g in goals):
            for key, value in _nps_months(kind, kind_months).items():
                monthly[kind].setdefault(key, {})["nps"] = value

    result = []
    for goal in goals:
        months = months_of[goal.pk or id(goal)]
        source = monthly.get("snapshot" if snapshot_scope(goal) else goal.scope_kind, {})
        key = snapshot_scope(goal) or goal.scope_value
        components = pool_snapshots(source[(key, m)] for m in months if (key, m) in source)
        value = metric_value(goal.metric, components) if components["months"] else None
        result.append(
            Progress(
                goal=goal,
                value=value,
                status=goal_status(goal, value, today),
                months=components["months"],
                through=months[-1] if months else None,
                scope=scope_label(goal.scope_kind, goal.scope_value, users),
            )
        )
    return result


def goal_progress(goal: Goal, *, today: date | None = None) -> Progress:
    """The goal's current value over its period (so far), and met / missed / on track / off
    track / no data yet."""
    users = None
    if goal.scope_kind == ScopeKind.CSM and goal.scope_value.isdigit():
        users = {u.pk: u for u in User.objects.filter(pk=goal.scope_value)}
    return progress_for([goal], today=today, users=users)[0]


def goals_for_overview(owner: User | None = None, *, today: date | None = None) -> list[Progress]:
    """The goals the KPI overview shows: those running today or ended in the last RECENT_DAYS,
    with their progress. `owner` (a CSM looking at their own book) keeps the goals of that book.
    Queries: goals, users, snapshots, and one or two per tier or segment goal."""
    today = today or timezone.localdate()
    goals = Goal.objects.filter(
        period_start__lte=today, period_end__gte=today - timedelta(days=RECENT_DAYS)
    ).order_by("period_end", "pk")
    if owner is not None:
        goals = goals.filter(scope_kind=ScopeKind.CSM, scope_value=str(owner.pk))
    goal_list = list(goals)  # list(): read once, progress computed for all together
    return progress_for(goal_list, today=today, users=users_by_id(goal_list))


def users_by_id(goals: list[Goal]) -> dict[int, User]:
    ids = {
        int(g.scope_value)
        for g in goals
        if g.scope_kind == ScopeKind.CSM and g.scope_value.isdigit()
    }
    if not ids:
        return {}
    return {u.pk: u for u in User.objects.filter(pk__in=ids)}


def default_direction(metric: str) -> bool:
    """Lower is better for churn rates, higher for the rest."""
    return METRICS[metric].lower_is_better
