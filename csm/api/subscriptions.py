"""Subscriptions: list, get, and upsert by id so any billing system can push them. The values are
checked by the subscription import's rules (accounts.import_values) and written by
accounts.billing.record_subscription, the same path (and MRR) as Stripe's webhooks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from accounts.billing import Outcome, Terms, record_subscription
from accounts.import_values import Invalid, choice, parse_amount, parse_date, text_of
from accounts.models import Account, Interval, Subscription
from csm.api.core import (
    READ,
    WITH_404,
    WRITE,
    AccountRowsPage,
    FieldErrors,
    IsoDate,
    IsoDateTime,
    Text,
)

router = Router(tags=["subscriptions"])

MAX_INTERVAL_COUNT = 1000


class SubscriptionOut(Schema):
    subscription_id: str
    account: str = Field(description="the account's external_id")
    start_date: date
    end_date: date | None = Field(description="exclusive; null = ongoing")
    amount: Decimal
    interval: str
    interval_count: int
    mrr: Decimal
    period_of: str = Field(description='"" or the subscription whose earlier terms this row keeps')


class SubscriptionList(Schema):
    count: int
    items: list[SubscriptionOut]


class SubscriptionFilters(AccountRowsPage):
    active_on: IsoDate | None = Field(None, description="only those active on this day")


class SubscriptionIn(Schema):
    account: Text = Field(min_length=1, description="the account's external_id")
    start_date: Text = Field(min_length=1, description="YYYY-MM-DD")
    end_date: Text | None = Field(None, description="YYYY-MM-DD, exclusive; null = ongoing")
    amount: Text = Field(min_length=1, description='per period, a decimal string like "99.00"')
    interval: Literal["month", "year"]
    interval_count: int = Field(1, ge=1, le=MAX_INTERVAL_COUNT, description="billed every N")
    changed_on: Text | None = Field(
        None,
        description="YYYY-MM-DD: the day a change of amount or interval took effect; the "
        "earlier terms are kept as history (an expansion or contraction that month). Without "
        "it the stored terms are corrected in place.",
    )
    as_of: IsoDateTime | None = Field(
        None,
        description="when this state was current in the billing system; a push older than the "
        "stored one changes nothing (result stale)",
    )


class SubscriptionWritten(Schema):
    result: Literal["created", "updated", "unchanged", "stale"]
    subscription: SubscriptionOut


def subscription_out(subscription: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        subscription_id=subscription.subscription_id,
        account=subscription.account.external_id,
        start_date=subscription.start_date,
        end_date=subscription.end_date,
        amount=subscription.amount,
        interval=subscription.interval,
        interval_count=subscription.interval_count,
        mrr=subscription.mrr,
        period_of=subscription.period_of,
    )


@router.get("/subscriptions", response={200: SubscriptionList, **WITH_404}, auth=READ)
def list_subscriptions(
    request: HttpRequest, filters: Query[SubscriptionFilters]
) -> SubscriptionList:
    subscriptions = filters.rows_of(
        Subscription.objects.select_related("account").order_by("subscription_id")
    )
    if filters.active_on is not None:
        subscriptions = subscriptions.filter(start_date__lte=filters.active_on).exclude(
            end_date__lte=filters.active_on
        )
    page = list(subscriptions[filters.offset : filters.offset + filters.limit])
    return SubscriptionList(count=subscriptions.count(), items=[subscription_out(s) for s in page])


@router.get(
    "/subscriptions/{subscription_id}", response={200: SubscriptionOut, **WITH_404}, auth=READ
)
def get_subscription(request: HttpRequest, subscription_id: str) -> SubscriptionOut:
    return subscription_out(
        get_object_or_404(
            Subscription.objects.select_related("account"), subscription_id=subscription_id
        )
    )


def _terms(subscription_id: str, payload: SubscriptionIn) -> tuple[Terms, date | None]:
    """The pushed terms checked by the subscription import's rules; FieldErrors naming each bad
    field."""
    problems: list[tuple[str, str]] = []
    parsed: dict[str, object] = {}
    checks = {
        "subscription_id": (text_of(100), subscription_id),
        "start_date": (parse_date, payload.start_date.strip()),
        "amount": (parse_amount, payload.amount.strip()),
        "interval": (choice(Interval.values), payload.interval.strip()),
    }
    if payload.end_date:
        checks["end_date"] = (parse_date, payload.end_date.strip())
    if payload.changed_on:
        checks["changed_on"] = (parse_date, payload.changed_on.strip())
    for field, (parse, text) in checks.items():
        if not text:
            problems.append((field, "required"))
            continue
        try:
            parsed[field] = parse(text)
        except Invalid as exc:
            problems.append((field, str(exc)))
    account = Account.objects.filter(external_id=payload.account.strip()).first()
    if account is None:
        problems.append(("account", "unknown account"))
    start, end = parsed.get("start_date"), parsed.get("end_date")
    if isinstance(start, date) and isinstance(end, date) and end <= start:
        problems.append(("end_date", "must be after start_date"))
    if problems:
        raise FieldErrors(problems)
    assert account is not None
    terms = Terms(
        subscription_id=subscription_id,
        account=account,
        start_date=parsed["start_date"],  # type: ignore[arg-type]
        end_date=parsed.get("end_date"),  # type: ignore[arg-type]
        amount=parsed["amount"],  # type: ignore[arg-type]
        interval=parsed["interval"],  # type: ignore[arg-type]
        interval_count=payload.interval_count,
    )
    return terms, parsed.get("changed_on")  # type: ignore[return-value]


@router.put(
    "/subscriptions/{subscription_id}",
    response={200: SubscriptionWritten, 201: SubscriptionWritten, **WITH_404},
    auth=WRITE,
)
def put_subscription(
    request: HttpRequest, subscription_id: str, payload: SubscriptionIn
) -> Status[SubscriptionWritten]:
    """Create or update the subscription `subscription_id` (201 when created)."""
    terms, changed_on = _terms(subscription_id, payload)
    subscription, outcome = record_subscription(terms, changed_on=changed_on, as_of=payload.as_of)
    subscription = Subscription.objects.select_related("account").get(pk=subscription.pk)
    written = SubscriptionWritten(result=outcome.value, subscription=subscription_out(subscription))
    return Status(201 if outcome == Outcome.CREATED else 200, written)
