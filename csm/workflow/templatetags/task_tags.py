"""`{% task_when task today %}`: where a task stands in words ("overdue since 11/20", "due
12/02", "done 11/28", "no longer needed"), for csm/_task.html. In Python: a task row is on Today,
the queue's rows and the account page, and these words were the costliest nodes of each."""

from __future__ import annotations

from datetime import date

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from csm.workflow.models import Task, TaskStatus

register = template.Library()


@register.simple_tag
def task_when(task: Task, today: date | None) -> str:
    """`today`: the page's day (today's date when the page does not say)."""
    if task.status == TaskStatus.OPEN:
        due = date_format(task.due_on, "SHORT_DATE_FORMAT")
        if task.due_on < (today or timezone.localdate()):
            return format_html(
                '<span class="overdue">{}</span>', _("overdue since %(d)s") % {"d": due}
            )
        return _("due %(d)s") % {"d": due}
    if task.status == TaskStatus.DONE:
        if task.done_at is None:
            return _("done")
        return f"{_('done')} {date_format(timezone.localtime(task.done_at), 'SHORT_DATE_FORMAT')}"
    return _("no longer needed")
