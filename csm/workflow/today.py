"""The Today page's reads: a CSM's work for the day in a constant number of queries, or the same
across the team for a manager (with a count per CSM)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.access import book_q
from accounts.models import Account, Role, Subscription, User, active_on
from csm.workflow.models import (
    Blueprint,
    Milestone,
    MilestoneStatus,
    RiskItem,
    Task,
)
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
    # The user's own open tasks due on the day or before, the oldest first (experiment plays
    # among them: csm/workflow/plays.py).
    tasks: list[Task] = field(default_factory=list)


def today_for(*, user: User, day: date) -> Today:
    """What `user` should do on `day`: their own book for a CSM, everybody's for a manager."""

    def customer(account: str) -> Q:
        """`account` (a path to an account from the queried model) is a customer on `day` and,
        for a CSM, theirs. A correlated EXISTS on each list's own rows: an `IN (customers)`
        subquery built a hash of every account with a subscription for each list (50 ms at
        50,000 accounts, four times a page)."""
        active = Subscription.objects.filter(active_on(day), account=OuterRef(account))
        return Q(Exists(active)) & book_q(user, "" if account == "pk" else f"{account}__")

    scored_day = latest_scored_day()
    # Items whose rules no longer fire leave Today at once (the queue keeps them to resolve).
    open_items = RiskItem.objects.open().awake(day).filter(cleared_on__isnull=True).book_of(user)
    # list(): shown in order and counted below without a second query per row. With the health
    # score Today's row shows (csm/risk.html#risk-brief; the save plays' tasks are in `tasks`).
    # Joined only what the page shows: a manager's rows and touches name the person.
    people = ("assignee",) if user.is_manager else ()
    risk_items = list(
        with_health(open_items, scored_day, account="account_id")
        .select_related("account", *people)
        .order_by("-priority", "pk")[:LIST_LIMIT]
    )
    per_csm: list[dict[str, Any]] = []
    if user.is_manager:  # the team's counts per CSM add up to the total: no COUNT of its own
        per_csm, risk_count = _per_csm(day, open_items)
    elif len(risk_items) < LIST_LIMIT:  # all of them are listed: no COUNT needed
        risk_count = len(risk_items)
    else:
        risk_count = open_items.count()

    # A person's own tasks (assigned to them, or unassigned in their book), a manager's too: the
    # team's tasks are counted per CSM below, not listed.
    tasks = list(
        Task.objects.due_by(day)
        .of(user.pk)
        .select_related("account")
        .order_by("due_on", "pk")[:LIST_LIMIT]
    )

    touches_due = list(
        with_next_touch_due(
            Account.objects.filter(customer("pk"), tier__in=["A", "B"]).select_related(
                *("owner",) if user.is_manager else ()
            )
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
        .select_related("blueprint__account")
        .order_by("due_on", "pk")[:LIST_LIMIT]
    )

    renewals = list(
        with_health(
            Account.objects.filter(
                customer("pk"),
                renewal_date__gte=day,
                renewal_date__lte=day + timedelta(days=RENEWALS_AHEAD_DAYS),
            ),
            scored_day,
        ).order_by("renewal_date", "name")[:LIST_LIMIT]
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
        per_csm=per_csm,
        tasks=tasks,
    )
    return result


def _grouped(rows: QuerySet[Any], kind: str, person: Any) -> QuerySet[Any]:
    """(kind, person id or None, n) rows of `rows` grouped by `person` (an expression naming
    who answers), to be read with the others in one UNION ALL."""
    return (
        rows.order_by()
        .annotate(person=person, kind=Value(kind))
        .values_list("kind", "person")
        .annotate(n=Count("pk"))
        .values_list("kind", "person", "n")
    )


def _per_csm(day: date, open_items: QuerySet[RiskItem]) -> tuple[list[dict[str, Any]], int]:
    """Open risk items, overdue tasks and overdue milestones per person, and the open risk items
    in all (one query of three grouped counts, and the users). Rows add up to the totals: an item
    or a task is its assignee's, else its account owner's (as on a CSM's own Today); a person who
    answers for something is listed even when no longer a CSM or active, and what nobody answers
    for is the last row, "Unassigned" (user None)."""
    who = Coalesce("assignee", "account__owner")
    # Each overdue milestone's book owner from a correlated subquery (an index probe per
    # milestone): joining the milestones to their blueprints and accounts made PostgreSQL hash
    # all 50,000 blueprints (55-80 ms at reference scale; 16-21 ms this way).
    book_owner = Blueprint.objects.filter(pk=OuterRef("blueprint")).values("account__owner")[:1]
    counts: dict[str, Counter[int | None]] = {
        "risks": Counter(),
        "tasks": Counter(),
        "overdue": Counter(),
    }
    grouped = _grouped(open_items, "risks", who).union(
        _grouped(Task.objects.overdue(day), "tasks", who),
        _grouped(Milestone.objects.overdue(day), "overdue", Subquery(book_owner)),
        all=True,
    )
    for kind, person, n in grouped:
        counts[kind][person] += n
    answering = {pk for counter in counts.values() for pk in counter if pk is not None}
    users = User.objects.filter(Q(is_active=True, role=Role.CSM) | Q(pk__in=answering))
    rows: list[dict[str, Any]] = [
        {"user": person} | {kind: counter.get(person.pk, 0) for kind, counter in counts.items()}
        # Only what the table shows (a User has many fields; 150 of them were a tenth of the page).
        for person in users.only("pk", "name", "email", "is_active").order_by("name", "pk")
    ]
    if any(counter.get(None) for counter in counts.values()):
        rows.append(
            {"user": None} | {kind: counter.get(None, 0) for kind, counter in counts.items()}
        )
    return rows, sum(counts["risks"].values())
