"""Tasks: one list of a CSM's work with due dates (docs/definitions.md, "Tasks").

A task comes from a save-play step of a risk item (`sync_play_tasks`), the next step of a touch
(`add_touch_task`, called by csm.workflow.touches.add_touch), an experiment play
(`add_experiment_tasks`, called by csm.kpis.experiments when the groups are drawn), or is typed by
hand (`add_task`). An experiment play's task and its assignment's `play_done_at` move together:
completing the task marks the play done, reopening it takes that back while the experiment runs.

People complete and reopen tasks (`complete_task`, `reopen_task`): managers on every task, a CSM
on the tasks of their own book and on tasks assigned to them. Those writes are
audited on the account's trail; the automatic ones (save plays following reasons) are not, as
the nightly's other writes are not.

(Not named tasks.py: Celery autodiscovers that name for its task functions.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import check_can_change
from accounts.audit import record_changes
from accounts.models import Account, Role, User
from csm.lib.bulk import chunks, update_rows
from csm.workflow.models import (
    Experiment,
    ExperimentAssignment,
    ExperimentGroup,
    RiskItem,
    SavePlay,
    Task,
    TaskSource,
    TaskStatus,
    Touch,
)

TITLE_MAX_CHARS = 300
# A save-play step written without a due offset is due this many days after its reason appears.
DEFAULT_STEP_DUE_DAYS = 7
STEP_DUE_MAX_DAYS = 365
# An experiment play is due this many days after the experiment starts (at the latest on its end).
EXPERIMENT_PLAY_DUE_DAYS = 7
# A task typed by hand is due today or later, at most this many days ahead.
TASK_DUE_MAX_DAYS = 2 * 366
# Items per round of sync_play_tasks_bulk (SQLite takes 32,766 parameters a statement).
SYNC_CHUNK = 2000


# --- Save-play steps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    text: str
    due_days: int


def play_steps(raw: Iterable[Any]) -> list[Step]:
    """A SavePlay's stored steps as Steps: `{"text", "due_days"}` (a plain string, as written
    before steps had due offsets, is due in DEFAULT_STEP_DUE_DAYS)."""
    steps = []
    for entry in raw or []:
        if isinstance(entry, dict):
            text, days = str(entry.get("text", "")).strip(), entry.get("due_days")
        else:
            text, days = str(entry).strip(), None
        if text:
            steps.append(Step(text, int(days) if days is not None else DEFAULT_STEP_DUE_DAYS))
    return steps


def current_reason_keys(item: RiskItem) -> list[str]:
    """The reasons whose plays an item's tasks follow: none once the rules stopped firing
    (cleared_on) or the item is resolved, else its reasons in order."""
    if item.cleared_on is not None or item.resolved_at is not None:
        return []
    return [str(reason.get("key")) for reason in item.reasons if reason.get("key")]


# --- Save plays → tasks ---------------------------------------------------------------------------


def sync_play_tasks(item: RiskItem, *, day: date) -> dict[str, int]:
    """Make the item's save-play tasks follow its current reasons (see sync_play_tasks_bulk)."""
    return sync_play_tasks_bulk([item], day=day)


def sync_play_tasks_bulk(items: Iterable[RiskItem], *, day: date) -> dict[str, int]:
    """For each item, its save-play tasks follow its current reason keys:

    1. A step of a current reason's play with no task gets one: due `day` + the step's offset,
       assigned to the item's assignee (else the account's owner). A step two current reasons
       share is one task (the first reason's).
    2. A step whose task is "no longer needed" (its reason had cleared) and whose reason is back
       is reopened, due again `day` + offset; a done step stays done.
    3. An open task of a step no current reason holds becomes "no longer needed" (kept, visible).

    Idempotent: a second call with the same reasons writes nothing. A few queries whatever the
    number of items (the plays, the items' tasks, the owners of unassigned items), so the nightly
    calls it once for every item it opened, updated or cleared (in chunks of SYNC_CHUNK items,
    so no statement names more rows than a database takes parameters)."""
    counts = {"tasks_added": 0, "tasks_reopened": 0, "tasks_not_needed": 0}
    items = [item for item in items if item.pk is not None]
    if not items:
        return counts
    plays = {
        reason: play_steps(steps)
        for reason, steps in SavePlay.objects.values_list("reason", "steps")
    }
    for chunk in chunks(items, SYNC_CHUNK):
        for key, n in _sync_chunk(list(chunk), plays, day=day).items():
            counts[key] += n
    return counts


def _sync_chunk(
    items: list[RiskItem], plays: dict[str, list[Step]], *, day: date
) -> dict[str, int]:
    """sync_play_tasks_bulk for one chunk of items: three queries and the writes."""
    existing: dict[int, dict[str, Task]] = {item.pk: {} for item in items}
    for task in Task.objects.filter(
        source=TaskSource.SAVE_PLAY, risk_item__in=[item.pk for item in items]
    ):
        existing[task.risk_item_id][task.title] = task  # type: ignore[index]
    unassigned = [item.account_id for item in items if item.assignee_id is None]
    owners = dict(Account.objects.filter(pk__in=unassigned).values_list("pk", "owner_id"))

    added: list[Task] = []
    reopened: list[Task] = []
    not_needed: list[Task] = []
    for item in items:
        wanted: dict[str, tuple[str, int, Step]] = {}
        for key in current_reason_keys(item):
            for position, step in enumerate(plays.get(key, [])):
                wanted.setdefault(step.text, (key, position, step))
        tasks = existing[item.pk]
        for text, (key, position, step) in wanted.items():
            task = tasks.get(text)
            if task is None:
                added.append(
                    Task(
                        account_id=item.account_id,
                        title=text,
                        assignee_id=item.assignee_id or owners.get(item.account_id),
                        due_on=day + timedelta(days=step.due_days),
                        source=TaskSource.SAVE_PLAY,
                        risk_item_id=item.pk,
                        reason=key,
                        step=position,
                    )
                )
            elif task.status == TaskStatus.NOT_NEEDED:
                task.status = TaskStatus.OPEN
                task.due_on = day + timedelta(days=step.due_days)
                task.reason, task.step = key, position
                reopened.append(task)
        for text, task in tasks.items():
            if text not in wanted and task.status == TaskStatus.OPEN:
                task.status = TaskStatus.NOT_NEEDED
                not_needed.append(task)
    with transaction.atomic():
        Task.objects.bulk_create(added, batch_size=1000)
        update_rows(Task, [(task, ["status", "due_on", "reason", "step"]) for task in reopened])
        update_rows(Task, [(task, ["status"]) for task in not_needed])
    return {
        "tasks_added": len(added),
        "tasks_reopened": len(reopened),
        "tasks_not_needed": len(not_needed),
    }


def reassign_play_tasks(item: RiskItem, assignee: User) -> int:
    """The item's open save-play tasks follow the item to its new assignee."""
    return (
        Task.objects.open()
        .filter(source=TaskSource.SAVE_PLAY, risk_item=item)
        .update(assignee=assignee)
    )


# --- Touches → tasks ------------------------------------------------------------------------------


def add_touch_task(touch: Touch) -> Task | None:
    """A touch's next step with a due date becomes a task of whoever logged it (a next step
    without a date stays on the touch only). Called inside add_touch's transaction."""
    title = (touch.next_step or "").strip()
    if not title or touch.next_step_due is None:
        return None
    return Task.objects.create(
        account_id=touch.account_id,
        title=title[:TITLE_MAX_CHARS],
        assignee=touch.author,
        due_on=touch.next_step_due,
        source=TaskSource.TOUCH,
        touch=touch,
        created_by=touch.author,
    )


# --- Experiment plays → tasks --------------------------------------------------------------------


def experiment_play_due(experiment: Experiment, *, day: date) -> date:
    """An experiment play's due date: a week into the experiment, at the latest its last day,
    and not before `day` (the day the groups are drawn)."""
    due = min(experiment.starts_on + timedelta(days=EXPERIMENT_PLAY_DUE_DAYS), experiment.ends_on)
    return max(due, day)


def add_experiment_tasks(experiment: Experiment, *, day: date) -> int:
    """Each treatment account of the experiment gets its play as a task of the account's owner
    (titled with the play's words). Called inside the draw's transaction; an experiment already
    over on `day` gets none, an assignment that has its task keeps it. Returns how many were
    added. Two queries and one insert."""
    if experiment.ends_on < day:
        return 0
    rows = (
        ExperimentAssignment.objects.filter(
            experiment=experiment, group=ExperimentGroup.TREATMENT, task__isnull=True
        )
        .values_list("pk", "account_id", "account__owner_id", "play_done_at")
        .order_by("pk")
    )
    title = " ".join(experiment.play.split())[:TITLE_MAX_CHARS]
    due_on = experiment_play_due(experiment, day=day)
    tasks = [
        Task(
            account_id=account_id,
            title=title,
            assignee_id=owner_id,
            due_on=due_on,
            source=TaskSource.EXPERIMENT,
            assignment_id=pk,
            status=TaskStatus.DONE if done_at else TaskStatus.OPEN,
            done_at=done_at,
        )
        for pk, account_id, owner_id, done_at in rows
    ]
    Task.objects.bulk_create(tasks, batch_size=1000)
    return len(tasks)


def close_ended_experiment_tasks(*, day: date) -> int:
    """An experiment's play tasks still open when it has ended (`ends_on` before `day`) are no
    longer needed: they leave Today instead of staying overdue for good. One UPDATE; returns how
    many."""
    return Task.objects.filter(
        source=TaskSource.EXPERIMENT,
        status=TaskStatus.OPEN,
        assignment__experiment__ends_on__lt=day,
    ).update(status=TaskStatus.NOT_NEEDED)


def _follow_play(task: Task, *, done_at: datetime | None, today: date) -> None:
    """An experiment task's assignment follows the task (inside the caller's transaction):
    done → `play_done_at` set once; reopened → cleared while the experiment still runs."""
    if task.source != TaskSource.EXPERIMENT or task.assignment_id is None:
        return
    plays = ExperimentAssignment.objects.filter(pk=task.assignment_id)
    if done_at is not None:
        plays.filter(play_done_at__isnull=True).update(play_done_at=done_at)
    else:
        plays.filter(experiment__ends_on__gte=today).update(play_done_at=None)


# --- Reads ---------------------------------------------------------------------------------------


@dataclass
class AccountWork:
    """The account page's work section: the open risk item, its save play's tasks (all of them,
    done and no longer needed too) and the account's other open tasks. Two queries."""

    item: RiskItem | None
    item_tasks: list[Task]
    other_tasks: list[Task]


def account_work(account: Account, user: User) -> AccountWork:
    item = RiskItem.objects.open().filter(account=account).select_related("assignee").first()
    wanted = Q(status=TaskStatus.OPEN)
    if item is not None:
        wanted |= Q(risk_item=item, source=TaskSource.SAVE_PLAY)
    # list(): split in two and decorated below, each row once.
    tasks = list(
        Task.objects.filter(wanted, account=account)
        .select_related("assignee")
        .order_by("step", "due_on", "pk")
    )
    for task in tasks:
        task.account = account  # no query per row for the permission check
        task.can_act = can_act_on(user, task)  # type: ignore[attr-defined]
    mine = [t for t in tasks if item is not None and t.risk_item_id == item.pk]
    others = sorted((t for t in tasks if t not in mine), key=lambda t: (t.due_on, t.pk))
    return AccountWork(item=item, item_tasks=mine, other_tasks=others)


def task_rows(
    *, account: Account | None = None, user: User | None = None, include_closed: bool = False
) -> list[dict[str, Any]]:
    """The `tasks --json` rows (docs/commands.md): open tasks unless `include_closed`, of one
    account and/or assigned to one person, by due date. One query."""
    tasks = Task.objects.all() if include_closed else Task.objects.open()
    if account is not None:
        tasks = tasks.filter(account=account)
    if user is not None:
        tasks = tasks.filter(assignee=user)
    rows = tasks.order_by("due_on", "pk").values_list(
        "account__external_id", "title", "assignee__email", "due_on", "status", "source"
    )
    return [
        {
            "account": external_id,
            "title": title,
            "assignee": email,
            "due_on": due_on.isoformat(),
            "done": status == TaskStatus.DONE,
            "source": source,
        }
        for external_id, title, email, due_on, status, source in rows
    ]


# --- What people do -------------------------------------------------------------------------------


def can_act_on(user: User, task: Task) -> bool:
    """Managers, the account's owner, and the person the task is assigned to."""
    return task.account.can_be_edited_by(user) or (
        task.assignee_id is not None and task.assignee_id == user.pk
    )


def check_can_act_on(user: User, task: Task) -> None:
    if not can_act_on(user, task):
        raise PermissionDenied("not your task")


def check_assignee(assignee: User | None) -> None:
    if assignee is not None and (
        not assignee.is_active or assignee.role not in (Role.CSM, Role.MANAGER)
    ):
        raise ValidationError({"assignee": _("Choose an active CSM or manager.")})


def add_task(
    *,
    actor: User,
    account: Account,
    title: str,
    due_on: date | None,
    assignee: User | None,
    today: date | None = None,
) -> Task:
    """A task typed by hand on the account's page (a CSM on their own book, managers on every
    account). Errors name the field; nothing is written then."""
    check_can_change(actor, account)
    today = today or timezone.localdate()
    title = " ".join((title or "").split())
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("Say what is to be done.")
    elif len(title) > TITLE_MAX_CHARS:
        errors["title"] = _("Keep the task under %(n)s characters.") % {"n": TITLE_MAX_CHARS}
    if due_on is None:
        errors["due_on"] = _("Give a due date.")
    elif due_on < today:
        errors["due_on"] = _("The due date cannot be in the past.")
    elif due_on > today + timedelta(days=TASK_DUE_MAX_DAYS):
        errors["due_on"] = _("Give a due date within two years.")
    if errors:
        raise ValidationError(errors)
    check_assignee(assignee)
    with transaction.atomic():
        task = Task.objects.create(
            account=account,
            title=title,
            assignee=assignee,
            due_on=due_on,
            source=TaskSource.MANUAL,
            created_by=actor,
        )
        record_changes(
            actor=actor,
            obj=task,
            action="task.add",
            changes={"task": ("", title)},
            account=account,
        )
    return task


def complete_task(*, actor: User, task: Task) -> bool:
    """Tick an open task done. False when it was not open any more (a conditional UPDATE: a
    double click, or two people at once, write once)."""
    rows = Task.objects.filter(pk=task.pk, status=TaskStatus.OPEN)
    return _change_status(actor, task, rows, TaskStatus.DONE, "task.complete")


def reopen_task(*, actor: User, task: Task) -> bool:
    """Untick a done task (or take back "no longer needed"): open again, same due date."""
    rows = Task.objects.filter(pk=task.pk).exclude(status=TaskStatus.OPEN)
    return _change_status(actor, task, rows, TaskStatus.OPEN, "task.reopen")


def _change_status(
    actor: User, task: Task, rows: QuerySet[Task], status: TaskStatus, action: str
) -> bool:
    """Move `task` to `status` when `rows` (the task, in the status it may leave) still holds it:
    the play it belongs to follows and the change is audited, in one transaction."""
    check_can_act_on(actor, task)
    done_at = timezone.now() if status == TaskStatus.DONE else None
    done_by = actor if status == TaskStatus.DONE else None
    with transaction.atomic():
        changed = rows.update(status=status, done_at=done_at, done_by=done_by)
        if changed:
            _follow_play(task, done_at=done_at, today=timezone.localdate())
            record_changes(
                actor=actor,
                obj=task,
                action=action,
                changes={"status": (task.status, status)},
                reason=task.title,
                account=task.account,
            )
    if changed:
        task.status, task.done_at, task.done_by = status, done_at, done_by
    return bool(changed)
