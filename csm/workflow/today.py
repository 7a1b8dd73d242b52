"""The Today page's reads: a CSM's work for the day in a constant number of queries, or the same
across the team for a manager (with a count per CSM)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from accounts.access import book_q
from accounts.models import Account, Role, Subscription, User, active_on
from csm.workflow.models import (
    Blueprint,
    ExperimentAssignment,
    Milestone,
    MilestoneStatus,
    RiskItem,
)
from csm.workflow.plays import plays_for
from csm.workflow.touches import with_next_touch_due
from health.models import HealthScore
from health.queries import latest_scored_day, with_health

LIST_LIMIT = 10
MILESTONES_AHEAD_DAYS = 14
RENEWALS_AHEAD_DAYS = 90
# A fall of at least this many points since the day before shows in "yesterday's score drops".
DROP_POINTS = 5


@dataclass
class Today:
    day: date
    risk_items: list[RiskItem]
    risk_count: int
    touches_due: list[Account]
    milestones: list[Milestone]
    renewals: list[Account]
    drops: list[HealthScore]
    scored_day: date | None
    per_csm: list[dict[str, Any]] = field(default_factory=list)
    # Experiment plays on the user's own treatment accounts (csm/workflow/plays.py).
    plays: list[ExperimentAssignment] = field(default_factory=list)


def today_for(*, user: User, day: date) -> Today:
    """What `user` should do on `day`: their own book for a CSM, everybody's for a manager."""

    def customer(account: str) -> Q:
        """`account` (a path to an account from the queried model) is a customer on `day` and,
        for a CSM, theirs. A correlated EXISTS on each list's own rows: an `IN (customers)`
        subquery built a hash of every account with a subscription for each list (50 ms at
        50,000 accounts, four times a page)."""
        active = Subscription.objects.filter(active_on(day), account=OuterRef(account))
        return Q(Exists(active)) & book_q(user, "" if account == "pk" else f"{account}__")

    # Items whose rules no longer fire leave Today at once (the queue keeps them to resolve).
    open_items = RiskItem.objects.open().awake(day).filter(cleared_on__isnull=True).book_of(user)
    # list(): shown in order and counted below without a second query per row.
    risk_items = list(
        open_items.select_related("account", "assignee").order_by("-priority", "pk")[:LIST_LIMIT]
    )
    per_csm: list[dict[str, Any]] = []
    if user.is_manager:  # the team's counts per CSM add up to the total: no COUNT of its own
        per_csm, risk_count = _per_csm(day, open_items)
    else:
        risk_count = open_items.count()

    touches_due = list(
        with_next_touch_due(
            Account.objects.filter(customer("pk"), tier__in=["A", "B"]).select_related("owner")
        )
        .filter(next_touch_due__lte=day)
        .order_by("next_touch_due", "name")[:LIST_LIMIT]
    )

    milestones = list(
        Milestone.objects.filter(
            customer("blueprint__account"),
            status=MilestoneStatus.OPEN,
            due_on__lte=day + timedelta(days=MILESTONES_AHEAD_DAYS),
        )
        .select_related("blueprint__account", "owner")
        .order_by("due_on", "pk")[:LIST_LIMIT]
    )

    scored_day = latest_scored_day()
    renewals = list(
        with_health(
            Account.objects.filter(
                customer("pk"),
                renewal_date__gte=day,
                renewal_date__lte=day + timedelta(days=RENEWALS_AHEAD_DAYS),
            ),
            scored_day,
        )
        .select_related("owner")
        .order_by("renewal_date", "name")[:LIST_LIMIT]
    )

    drops: list[HealthScore] = []
    if scored_day is not None:
        drops = list(
            HealthScore.objects.filter(
                customer("account"), day=scored_day, trend_1__lte=-DROP_POINTS
            )
            .select_related("account")
            .order_by("trend_1", "account__name")[:LIST_LIMIT]
        )

    result = Today(
        day=day,
        risk_items=risk_items,
        risk_count=risk_count,
        touches_due=touches_due,
        milestones=milestones,
        renewals=renewals,
        drops=drops,
        scored_day=scored_day,
        plays=list(plays_for(user=user, day=day, limit=LIST_LIMIT)),
        per_csm=per_csm,
    )
    return result


def _per_csm(day: date, open_items: QuerySet[RiskItem]) -> tuple[list[dict[str, Any]], int]:
    """Open risk items and overdue milestones per CSM, and the open risk items in all (two
    grouped queries and the users)."""
    risks = Counter(
        dict(
            open_items.order_by()
            .values_list("assignee")
            .annotate(n=Count("pk"))
            .values_list("assignee", "n")
        )
    )
    # Each overdue milestone's book owner from a correlated subquery (an index probe per
    # milestone): joining the milestones to their blueprints and accounts made PostgreSQL hash
    # all 50,000 blueprints (55-80 ms at reference scale; 16-21 ms this way).
    book_owner = Blueprint.objects.filter(pk=OuterRef("blueprint")).values("account__owner")[:1]
    overdue = Counter(
        dict(
            Milestone.objects.overdue(day)
            .order_by()
            .annotate(book_owner=Subquery(book_owner))
            .values_list("book_owner")
            .annotate(n=Count("pk"))
            .values_list("book_owner", "n")
        )
    )
    users = User.objects.filter(is_active=True).filter(
        Q(role=Role.CSM) | Q(pk__in=list(risks)) | Q(pk__in=list(overdue))
    )
    rows = [
        {"user": user, "risks": risks.get(user.pk, 0), "overdue": overdue.get(user.pk, 0)}
        for user in users.order_by("name")
    ]
    return rows, sum(risks.values())
