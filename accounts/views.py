from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import mrr as mrr_rules
from accounts.forms import SORTS, AccountFilterForm, AccountForm, ContactForm
from accounts.models import Account, User
from accounts.services import update_account
from csm.auth import AuthenticatedHttpRequest
from csm.blueprints import blueprint_for
from csm.forms import TouchForm
from csm.timeline import account_timeline
from health.forms import HealthOverrideForm
from health.queries import health_card, in_band, latest_scored_day, with_health

PAGE_SIZE = 50
CHART_MONTHS = 24


def _get_account(external_id: str) -> Account:
    return get_object_or_404(Account.objects.select_related("owner"), external_id=external_id)


def _get_account_for_edit(request: AuthenticatedHttpRequest, external_id: str) -> Account:
    """The account, or 403 when it is not in the CSM's own book (managers edit every account)."""
    account = _get_account(external_id)
    if not account.can_be_edited_by(request.user):
        raise PermissionDenied("not your account")
    return account


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

    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(account, account.lifecycle_stage(today)) for account in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = request.GET.copy()
    for key in ("page", "sort"):
        sort_query.pop(key, None)
    template = "accounts/account_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#account-table"
    return TemplateResponse(
        request,
        template,
        {
            "form": form,
            "page": page,
            "rows": rows,
            "sort": sort,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "health_day": health_day,
        },
    )


@login_required
def account_detail(request: AuthenticatedHttpRequest, external_id: str) -> TemplateResponse:
    today = timezone.localdate()
    account = _get_account(external_id)
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
    audit = list(account.audit_entries.select_related("actor")[:50])
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
            "audit": audit,
            "can_edit": account.can_be_edited_by(request.user),
            "contact_form": ContactForm(account=account),
            "health": health_card(account),
            "blueprint": blueprint_for(account, today=today),
            "override_form": HealthOverrideForm() if request.user.is_manager else None,
            "timeline": account_timeline(account, audit=audit, subscriptions=subscriptions),
            "touch_form": TouchForm(account=account),
        },
    )


@login_required
def account_edit(request: AuthenticatedHttpRequest, external_id: str) -> TemplateResponse:
    account = _get_account_for_edit(request, external_id)
    if request.method == "POST":
        form = AccountForm(
            request.POST, instance=Account.objects.get(pk=account.pk), user=request.user
        )
        if form.is_valid():
            update_account(
                account=account,
                actor=request.user,
                changes=form.changed_values(),
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, _("Saved the changes to %(name)s.") % {"name": account.name})
            return redirect("accounts:detail", external_id=account.external_id)
    else:
        form = AccountForm(instance=account, user=request.user)
    return TemplateResponse(
        request, "accounts/account_edit.html", {"account": account, "form": form}
    )


@require_POST
@login_required
def contact_add(request: AuthenticatedHttpRequest, external_id: str) -> TemplateResponse:
    account = _get_account_for_edit(request, external_id)
    form = ContactForm(request.POST, account=account)
    if form.is_valid():
        with transaction.atomic():
            contact = form.save(commit=False)
            contact.account = account
            if contact.is_primary:
                account.contacts.filter(is_primary=True).update(is_primary=False)
            contact.save()
        messages.success(request, _("Added %(name)s.") % {"name": contact.name})
        return redirect("accounts:detail", external_id=account.external_id)
    return TemplateResponse(
        request, "accounts/contact_add.html", {"account": account, "contact_form": form}
    )
