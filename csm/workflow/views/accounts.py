"""The account list and an account's page. They live in the workflow, not in accounts, because
they show what the layers above accounts know: health scores, the blueprint, the timeline and the
touch form. Editing an account and its contacts is accounts' (accounts/views.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts import mrr as mrr_rules
from accounts.access import AuthenticatedHttpRequest, get_account_for_user
from accounts.forms import ContactForm
from accounts.models import Account, User
from csm.lib.http import paged, partial_template, query_without
from csm.workflow.blueprints import blueprint_for
from csm.workflow.forms import SORTS, AccountFilterForm, TouchForm
from csm.workflow.timeline import account_timeline
from health.forms import HealthOverrideForm
from health.queries import health_card, in_band, latest_scored_day, with_health

PAGE_SIZE = 50
CHART_MONTHS = 24


@login_required
def account_list(request: AuthenticatedHttpRequest) -> TemplateResponse:
    today = timezone.localdate()
    # list(): the owners fill the filter's choices and are rendered once.
    owners = list(User.objects.filter(is_active=True, accounts__isnull=False).distinct())
    form = AccountFilterForm(request.GET, owners=owners)
    form.is_valid()  # a bad value drops only that filter; its error is shown next to it
    filters = form.cleaned_data

    health_day = latest_scored_day()
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
    sort = filters.get("sort") or "-mrr"
    accounts = accounts.order_by(*SORTS[sort])

    page, query = paged(request, accounts, PAGE_SIZE)
    rows = [(account, account.lifecycle_stage(today)) for account in page.object_list]
    sort_query = query_without(request, "page", "sort")
    template = partial_template(request, "accounts/account_list.html", "account-table")
    return TemplateResponse(
        request,
        template,
        {
            "form": form,
            "page": page,
            "rows": rows,
            "sort": sort,
            "query": query,
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
    return TemplateResponse(
        request,
        "accounts/account_detail.html",
        {
            "account": account,
            "stage": account.lifecycle_stage(today),
            "mrr_today": mrr_rules.mrr_on(subscriptions, today),
            "subscriptions": [(s, mrr_rules.is_active(s, today)) for s in subscriptions],
            "contacts": contacts,
            "chart": chart,
            "can_edit": account.can_be_edited_by(request.user),
            "contact_form": ContactForm(account=account),
            "health": health_card(account),
            "blueprint": blueprint_for(account, today=today),
            "override_form": HealthOverrideForm() if request.user.is_manager else None,
            "timeline": account_timeline(account, subscriptions=subscriptions),
            "touch_form": TouchForm(account=account),
        },
    )
