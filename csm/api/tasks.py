"""Tasks (list, get): the CSMs' work with due dates (csm.workflow.task_list), read-only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from pydantic import Field

from csm.api.core import ERRORS, READ, WITH_404, AccountRowsPage, Text
from csm.workflow.models import Task, TaskStatus

router = Router(tags=["tasks"])


class TaskOut(Schema):
    id: int
    account: str
    title: str
    assignee: str | None = Field(description="the assignee's email")
    due_on: date
    status: Literal["open", "done", "not_needed"]
    done: bool
    done_at: datetime | None
    source: Literal["save_play", "touch", "experiment", "manual"]
    risk_item: int | None = Field(description="the risk item a save-play step belongs to")


class TaskList(Schema):
    count: int
    items: list[TaskOut]


class TaskFilters(AccountRowsPage):
    status: Literal["open", "done", "not_needed", "all"] = Field(
        "open", description="open tasks unless asked otherwise"
    )
    assignee: Text | None = Field(None, description="the assignee's email")


def task_out(task: Task) -> TaskOut:
    return TaskOut(
        id=task.pk,
        account=task.account.external_id,
        title=task.title,
        assignee=task.assignee.email if task.assignee else None,
        due_on=task.due_on,
        status=task.status,
        done=task.status == TaskStatus.DONE,
        done_at=task.done_at,
        source=task.source,
        risk_item=task.risk_item_id,
    )


@router.get("/tasks", response={200: TaskList, **ERRORS}, auth=READ)
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]) -> TaskList:
    """Tasks by due date (the oldest first), open ones unless `status` says otherwise."""
    tasks = filters.rows_of(Task.objects.select_related("account", "assignee"))
    if filters.status != "all":
        tasks = tasks.filter(status=filters.status)
    if filters.assignee is not None:
        tasks = tasks.filter(assignee__email__iexact=filters.assignee.strip())
    return TaskList(**filters.of(tasks.order_by("due_on", "pk"), task_out))


@router.get("/tasks/{task_id}", response={200: TaskOut, **WITH_404}, auth=READ)
def get_task(request: HttpRequest, task_id: int) -> TaskOut:
    if not 0 < task_id < 2**63:  # beyond any id (and beyond what SQLite can compare)
        raise Http404("no such task")
    return task_out(
        get_object_or_404(Task.objects.select_related("account", "assignee"), pk=task_id)
    )
