"""Tasks on the pages: ticking one done (or undoing that) from Today or an account's page, and
adding one by hand on an account's page.

Every action works as a plain POST that redirects back (`next`); with htmx, ticking answers with
the task's row (partial "task-row" of csm/_task.html)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import AuthenticatedHttpRequest, get_account_for_user
from accounts.scopes import team
from csm.lib.http import next_url
from csm.workflow import task_list
from csm.workflow.models import Task
from csm.workflow.task_forms import TaskForm


@login_required
@require_POST
def task_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    """POST done/reopen. Someone else's task answers 403; ticking a task already done is no
    error (a double click), the row just shows it done."""
    task = get_object_or_404(Task.objects.select_related("account", "assignee"), pk=pk)
    if action == "done":
        changed = task_list.complete_task(actor=request.user, task=task)
        words = _("Done: %(task)s.") if changed else _("Already done: %(task)s.")
    else:
        changed = task_list.reopen_task(actor=request.user, task=task)
        words = _("Back on the list: %(task)s.")
    if request.htmx:
        return TemplateResponse(
            request,
            "csm/_task.html#task-row",
            {
                "task": task,
                "can_act": True,
                "next": next_url(request, reverse("home")),
                "show_account": bool(request.POST.get("show_account")),
                "today_day": timezone.localdate(),
            },
        )
    messages.success(request, words % {"task": task.title})
    return redirect(next_url(request, reverse("home")))


@login_required
@require_http_methods(["GET", "POST"])
def task_add(request: AuthenticatedHttpRequest, external_id: str) -> HttpResponse:
    """GET: a page with the form. POST: add the task and go back to `next` (the account's page,
    which lists it); errors come back on this page with the form."""
    account = get_account_for_user(request.user, external_id, write=True)
    back = next_url(request, reverse("accounts:detail", args=[account.external_id]))
    people = team()
    form = TaskForm(request.POST or None, people=people, me=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            task_list.add_task(actor=request.user, account=account, **form.cleaned_data)
        except ValidationError as error:  # the service's checks, keyed by the form's fields
            form.add_error(None, error)
        else:
            messages.success(request, _("Added the task."))
            return redirect(back)
    context = {"account": account, "next": back, "task_form": form}
    return TemplateResponse(request, "csm/task_add.html", context)
