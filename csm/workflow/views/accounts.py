"""The account list and an account's page. They live in the workflow, not in accounts, because
they show what the layers above accounts know: health scores, the blueprint, the timeline and the
touch form. Editing an account and its contacts is accounts' (accounts/views.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts import mrr as mrr_rules
from accounts.access import AuthenticatedHttpRequest, get_account_for_user
from accounts.forms import ContactForm
from accounts.models import Account, LifecycleStage, User
from accounts.scopes import team
from csm.lib.csv_export import csv_response
from csm.lib.http import paged, partial_template, query_without
from csm.workflow.blueprints import blueprint_for
from csm.workflow.forms import SORTS, AccountFilterForm, TouchForm
from csm.workflow.risk_actions import can_act
from csm.workflow.task_forms import TaskForm
from csm.workflow.task_list import account_work
from csm.workflow.timeline import account_timeline
from health.forms import HealthOverrideForm
from health.queries import (
    ACCOUNT_PAGE_EVENTS,
    health_card,
    in_band,
    latest_events,
    latest_scored_day,
    not_enough_usage_yet,
    with_health,
)

PAGE_SIZE = 50
CHART_MONTHS = 24
CENT = Decimal("0.01")
CSV_HEADER = [
    "external_id",
    "name",
    "tier",
    "health",
    "health_band",
    "segment",
    "stage",
    "owner",
    "owner_email",
    "mrr",
    "renewal_date",
]


def _filtered_accounts(
    request: AuthenticatedHttpRequest, filters: dict[str, Any], today: date, health_day: date | None
) -> QuerySet[Account]:
    """The accounts the list's filters and sort select, with MRR, health and owner."""
    accounts = with_health(Account.objects.with_mrr(today), health_day).select_related("owner")
    accounts = accounts.search(filters.get("q") or "")
    if filters.get("tier"):
        accounts = accounts.filter(tier=filters["tier"])
    if filters.get("segment"):
        accounts = accounts.filter(segment=filters["segment"])
    if filters.get("stage"):
        accounts = accounts.in_stage(filters["stage"], today)
    owner = filters.get("owner")
    if owner == "me":
        accounts = accounts.owned_by(request.user)
    elif owner == "none":
        accounts = accounts.filter(owner__isnull=True)
    elif owner:
        accounts = accounts.filter(owner_id=owner)
    band = filters.get("band")
    if band == "none":
        accounts = accounts.filter(health_score__isnull=True)
    elif band:
        accounts = in_band(accounts, health_day, band)
    return accounts.order_by(*SORTS[filters.get("sort") or "-mrr"])


def _account_csv(accounts: QuerySet[Account], today: date) -> HttpResponse:
    """`?format=csv`: every account the filters select (not one page), the list's columns with
    their keys untranslated (DESIGN §5, "Language of contracts")."""
    return csv_response(
        f"accounts-{today.isoformat()}",
        CSV_HEADER,
        (
            [
                account.external_id,
                account.name,
                account.tier,
                account.health_score,
                account.health_band,
                account.segment,
                account.lifecycle_stage(today),
                account.owner.name if account.owner else "",
                account.owner.email if account.owner else "",
                # SQLite sums to 500, PostgreSQL to 500.00: always two places.
                Decimal(account.mrr or 0).quantize(CENT),
                account.renewal_date.isoformat() if account.renewal_date else "",
            ]
            for account in accounts.iterator(chunk_size=2000)
        ),
    )


@login_required
def account_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    today = timezone.localdate()
    # list(): the owners fill the filter's choices and are rendered once.
    owners = list(User.objects.filter(is_active=True, accounts__isnull=False).distinct())
    form = AccountFilterForm(request.GET, owners=owners)
    form.is_valid()  # a bad value drops only that filter; its error is shown next to it
    filters = form.cleaned_data
    health_day = latest_scored_day()
    accounts = _filtered_accounts(request, filters, today, health_day)
    if request.GET.get("format") == "csv":
        return _account_csv(accounts, today)

    page, query = paged(request, accounts, PAGE_SIZE)
    # The stage's name in the reader's language (the CSV keeps the key).
    rows = [
        (account, LifecycleStage(account.lifecycle_stage(today)).label)
        for account in page.object_list
    ]
    sort_query = query_without(request, "page", "sort")
    template = partial_template(request, "accounts/account_list.html", "account-table")
    return TemplateResponse(
        request,
        template,
        {
            "form": form,
            "page": page,
            "rows": rows,
            "sort": filters.get("sort") or "-mrr",
            "query": query,
            "csv_query": query_without(request, "page", "format"),
            "sort_query": sort_query,
            "health_day": health_day,
        },
    )


@login_required
def account_detail(request: AuthenticatedHttpRequest, external_id: str) -> TemplateResponse:
    today = timezone.localdate()
    account = get_account_for_user(request.user, external_id)
    subscriptions = list(account.subscriptions.all())
    contacts = list(account.contacts.all())
    this_month = mrr_rules.Month.of(today)
    series = mrr_rules.month_end_series(
        subscriptions, this_month.minus(CHART_MONTHS - 1), this_month
    )
    chart = {
        "labels": [str(month) for month in series],
        "values": [float(value) for value in series.values()],
    }
    work = account_work(account, request.user)
    can_edit = account.can_be_edited_by(request.user)
    health = health_card(account)
    return TemplateResponse(
        request,
        "accounts/account_detail.html",
        {
            "account": account,
            "stage": LifecycleStage(account.lifecycle_stage(today)).label,
            "mrr_today": mrr_rules.mrr_on(subscriptions, today),
            "subscriptions": [(s, mrr_rules.is_active(s, today)) for s in subscriptions],
            "contacts": contacts,
            "chart": chart,
            "can_edit": can_edit,
            "contact_form": ContactForm(account=account),
            "health": health,
            "usage_not_yet": not_enough_usage_yet(
                account, health["score"] if health else None, today
            ),
            "blueprint": blueprint_for(account, today=today),
            "override_form": HealthOverrideForm() if request.user.is_manager else None,
            "timeline": account_timeline(account, subscriptions=subscriptions),
            "touch_form": TouchForm(account=account),
            "work": work,
            "can_act_on_item": work.item is not None and can_act(request.user, work.item),
            "task_form": TaskForm(people=team(), me=request.user) if can_edit else None,
            "today_day": today,
            "latest_events": latest_events(account, limit=ACCOUNT_PAGE_EVENTS),
        },
    )
