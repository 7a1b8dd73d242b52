"""The at-risk queue page (DESIGN §4) and its inline actions, plus the managers' save plays.

Every action works as a plain POST that redirects back to the queue (Post/Redirect/Get); with
htmx it answers with the item's row (partial "risk-row"), errors included, at status 200.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    Q,
    QuerySet,
    TextField,
)
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import AuthenticatedHttpRequest, manager_required
from accounts.models import User
from accounts.scopes import team
from csm.lib.http import next_url, paged, partial_template
from csm.workflow import risk_actions
from csm.workflow.models import RiskItem, RiskReason, SavePlay
from csm.workflow.risk_forms import (
    SORTS,
    BulkForm,
    ReassignForm,
    ResolveForm,
    RiskFilterForm,
    SavePlaysForm,
    SnoozeForm,
    actions_for,
)
from health.queries import latest_scored_day, with_health

PAGE_SIZE = 25


# --- Reads ----------------------------------------------------------------------------------------


def _rows(items: QuerySet[RiskItem], day: date | None) -> QuerySet[RiskItem]:
    # The save play's tasks of each row: one query for the page.
    return (
        with_health(items, day, account="account_id")
        .select_related("account", "assignee")
        .with_play_tasks()
    )


def with_reason(items: QuerySet[RiskItem], key: str) -> QuerySet[RiskItem]:
    """Items whose reasons include `key`. A LIKE on the JSON text, because SQLite has no JSON
    containment (`reasons__contains`); both databases write `"key": "…"` (json.dumps and jsonb's
    text output), and a quote inside a reason's words is escaped, so the match is exact."""
    return items.alias(reasons_text=Cast("reasons", TextField())).filter(
        Q(reasons_text__contains=f'"key": "{key}"') | Q(reasons_text__contains=f'"key":"{key}"')
    )


def decorate_row(item: RiskItem, user: User, today: date) -> RiskItem:
    """What a row (partial "risk-row", on the queue and on Today) shows beyond the model's
    fields; no query (account and assignee are joined)."""
    item.can_act = risk_actions.can_act(user, item)  # type: ignore[attr-defined]
    item.is_snoozed = item.snoozed_on(today)  # type: ignore[attr-defined]
    return item


def _next_url(request: AuthenticatedHttpRequest) -> str:
    """Where an action goes back to: the risk page it came from, filters and page kept."""
    return next_url(request, reverse("risk:list"))


# --- The queue ------------------------------------------------------------------------------------


@login_required
@require_GET
def risk_list(request: AuthenticatedHttpRequest) -> TemplateResponse:
    template = partial_template(request, "csm/risk.html", "risk-table")
    return TemplateResponse(request, template, _list_context(request))


def _list_context(
    request: AuthenticatedHttpRequest, bulk_form: BulkForm | None = None
) -> dict[str, Any]:
    """The queue as the query string filters it (a bulk action's POST keeps the page's query
    string in its URL, so an error shows the same rows)."""
    today = timezone.localdate()
    user = request.user
    people = team()
    data = request.GET.copy()
    # CSMs start with their own items, managers with everybody's.
    data.setdefault("who", "all" if user.is_manager else "mine")
    form = RiskFilterForm(data, people=people)
    form.is_valid()  # a bad value drops only that filter; its error is shown next to it
    filters = form.cleaned_data

    health_day = latest_scored_day()
    items = _rows(RiskItem.objects.open(), health_day)
    if not filters.get("snoozed"):
        items = items.awake(today)
    if filters.get("cleared"):
        items = items.filter(cleared_on__isnull=False)
    who = filters.get("who") or ("all" if user.is_manager else "mine")
    if who == "none":
        items = items.filter(assignee__isnull=True, account__owner__isnull=True)
    elif who != "all":
        # An item is someone's when assigned to them, or unassigned in their book (as on Today).
        items = items.of(user.pk if who == "mine" else int(who))
    if filters.get("tier"):
        items = items.filter(account__tier=filters["tier"])
    if filters.get("reason"):
        items = with_reason(items, filters["reason"])
    sort = filters.get("sort") or "priority"
    items = items.order_by(*SORTS[sort])

    page, query = paged(request, items, PAGE_SIZE)
    # list(): each row is decorated once and rendered once.
    rows = [decorate_row(item, user, today) for item in page.object_list]
    if bulk_form is None:
        bulk_form = BulkForm(people=people, manager=user.is_manager)
    # Rows ticked before a bulk action's error stay ticked.
    ticked = (
        {int(v) for v in bulk_form.data.getlist("items") if v.isdigit()}
        if bulk_form.is_bound
        else set()
    )
    return {
        "form": form,
        "bulk_form": bulk_form,
        "ticked": ticked,
        "cleared_filter": bool(filters.get("cleared")),
        "page": page,
        "items": rows,
        "query": query,
        "people": people if user.is_manager else [],
        "health_day": health_day,
        "today": today,
        "next_url": request.get_full_path(),
        "nav": "risk",
    }


# The rows an item's actions can answer with: the queue's (the default) and Today's shorter one.
ROW_TEMPLATES = {"": "csm/risk.html#risk-row", "brief": "csm/risk.html#risk-brief"}


def _row_style(request: AuthenticatedHttpRequest) -> str:
    """Which row the action came from ("row" in the form or the query string; the queue's when
    missing or unknown)."""
    row = request.POST.get("row") or request.GET.get("row") or ""
    return row if row in ROW_TEMPLATES else ""


def _row_context(
    request: AuthenticatedHttpRequest,
    pk: int,
    *,
    next_url: str,
    forms_inline: bool,
    people: list[User] | None = None,
) -> dict[str, Any]:
    """What the item's row (partial "risk-row", or Today's "risk-brief") needs, for the item's
    page and an action's answer: the item read again with its health, decorated for
    `request.user`."""
    today = timezone.localdate()
    health_day = latest_scored_day()
    item = decorate_row(
        get_object_or_404(_rows(RiskItem.objects.all(), health_day), pk=pk), request.user, today
    )
    if people is None:
        people = team() if request.user.is_manager else []
    return {
        "item": item,
        "people": people,
        "health_day": health_day,
        "today": today,
        "next_url": next_url,
        "forms_inline": forms_inline,
        "row": _row_style(request),
        "nav": "risk",
    }


@login_required
@require_GET
def item_page(request: AuthenticatedHttpRequest, pk: int) -> TemplateResponse:
    """One item's row with all its forms: the page a queue row's action links to without
    JavaScript; with htmx (`?action=snooze`), just that action's blank form, which the row loads
    when the action is opened."""
    context = _row_context(request, pk, next_url=_next_url(request), forms_inline=True)
    item = context["item"]
    action = request.GET.get("action", "")
    if request.htmx and action:
        actions = actions_for(
            item,
            manager=request.user.is_manager,
            inline=True,
            people=context["people"],
            only=action,
        )
        if not actions or not item.can_act:  # type: ignore[attr-defined]
            raise PermissionDenied("not an action you can take on this item")
        return TemplateResponse(
            request, "csm/risk.html#risk-action", context | {"action": actions[0]}
        )
    return TemplateResponse(request, "csm/risk_item.html", context)


# --- Inline actions -------------------------------------------------------------------------------


def _get_item(pk: int) -> RiskItem:
    return get_object_or_404(RiskItem.objects.select_related("account", "assignee"), pk=pk)


def _get_item_to_act(request: AuthenticatedHttpRequest, pk: int) -> RiskItem:
    """The item, checked before its form is validated: another CSM's item answers 403 whatever
    was posted."""
    item = _get_item(pk)
    risk_actions.check_can_act(request.user, item)
    return item


def _respond(
    request: AuthenticatedHttpRequest,
    item: RiskItem,
    *,
    form: Any = None,
    people: list[User] | None = None,
    done: str = "",
) -> HttpResponse:
    """htmx: the item's row (with the form's errors, or what was done). Plain POST: redirect back
    on success, or a page with just this item's row and the errors."""
    if form is None and not request.htmx:
        messages.success(request, done)
        return redirect(_next_url(request))
    context = _row_context(
        request,
        item.pk,
        next_url=_next_url(request),
        # Without JavaScript the errors come back on the item's page, with all its forms.
        forms_inline=not request.htmx,
        people=people,
    )
    context.update(risk_form=form, done=done)
    template = ROW_TEMPLATES[context["row"]] if request.htmx else "csm/risk_item.html"
    return TemplateResponse(request, template, context)


def _run(
    request: AuthenticatedHttpRequest,
    item: RiskItem,
    form: Any,
    action: Callable[[dict[str, Any]], str],
    people: list[User] | None = None,
) -> HttpResponse:
    """Validate the form, run the service; its ValidationError lands on the form's field."""
    if form.is_valid():
        try:
            done = action(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _respond(request, item, people=people, done=done)
    return _respond(request, item, form=form, people=people)


def _snooze(actor: User, item: RiskItem, data: dict[str, Any]) -> str:
    risk_actions.snooze(actor=actor, item=item, until=data["until"], note=data["note"])
    return _("Snoozed %(name)s until %(day)s.") % {
        "name": item.account.name,
        "day": data["until"].isoformat(),
    }


def _reassign(actor: User, item: RiskItem, data: dict[str, Any]) -> str:
    risk_actions.reassign(actor=actor, item=item, assignee=data["assignee"])
    return _("Assigned %(name)s to %(person)s.") % {
        "name": item.account.name,
        "person": data["assignee"],
    }


def _resolve(actor: User, item: RiskItem, data: dict[str, Any]) -> str:
    risk_actions.resolve(actor=actor, item=item, resolution=data["resolution"], note=data["note"])
    return _("Resolved %(name)s as “%(resolution)s”.") % {
        "name": item.account.name,
        "resolution": item.get_resolution_display(),
    }


# Each inline action on an item: its form, what it does (returning the message), and whether
# only managers may take it. One URL each (csm/workflow/urls.py), one view.
ITEM_ACTIONS: dict[str, tuple[Any, Callable[[User, RiskItem, dict[str, Any]], str], bool]] = {
    "snooze": (SnoozeForm, _snooze, False),
    "reassign": (ReassignForm, _reassign, True),
    "resolve": (ResolveForm, _resolve, False),
}


@login_required
@require_POST
def item_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    form_class, run, managers_only = ITEM_ACTIONS[action]
    people = None
    if managers_only:
        if not request.user.is_manager:
            raise PermissionDenied("managers only")
        item = _get_item(pk)
        people = team()
        form = form_class(request.POST, item=item, people=people)
    else:
        item = _get_item_to_act(request, pk)
        form = form_class(request.POST, item=item)
    return _run(request, item, form, lambda data: run(request.user, item, data), people=people)


# --- Bulk actions ---------------------------------------------------------------------------------


@login_required
@require_POST
def bulk_action(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The queue's ticked rows (or every row shown), resolved, snoozed or reassigned together.
    Success redirects back to the queue with a message; an error shows the queue again with the
    bulk form's errors (status 200, nothing written)."""
    user = request.user
    people = team() if user.is_manager else []
    form = BulkForm(request.POST, people=people, manager=user.is_manager)
    if form.is_valid():
        data = form.cleaned_data
        if data["action"] == "reassign" and not user.is_manager:
            raise PermissionDenied("managers only")
        try:
            done = risk_actions.act_in_bulk(actor=user, ids=data["ids"], data=data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _bulk_message(data["action"], len(done)))
            return redirect(_next_url(request))
    # The queue again, its rows' actions coming back to the page the bulk form was on.
    context = _list_context(request, bulk_form=form) | {"next_url": _next_url(request)}
    return TemplateResponse(request, "csm/risk.html", context)


def _bulk_message(action: str, count: int) -> str:
    if action == "resolve":
        return ngettext("Resolved %(n)s item.", "Resolved %(n)s items.", count) % {"n": count}
    if action == "snooze":
        return ngettext("Snoozed %(n)s item.", "Snoozed %(n)s items.", count) % {"n": count}
    return ngettext("Reassigned %(n)s item.", "Reassigned %(n)s items.", count) % {"n": count}


# --- Save plays -----------------------------------------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def save_plays(request: AuthenticatedHttpRequest) -> HttpResponse:
    steps = dict(SavePlay.objects.values_list("reason", "steps"))
    form = SavePlaysForm(request.POST or None, steps=steps)
    if request.method == "POST" and form.is_valid():
        try:
            changed = risk_actions.update_save_plays(
                actor=request.user,
                steps_by_reason={
                    reason.value: form.cleaned_data[reason.value] for reason in RiskReason
                },
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "Saved the save plays (%(n)s changed). Open items' tasks take the new steps "
                    "when their reasons change."
                )
                % {"n": changed},
            )
            return redirect("risk:save_plays")
    return TemplateResponse(request, "csm/save_plays.html", {"form": form, "nav": "risk"})
