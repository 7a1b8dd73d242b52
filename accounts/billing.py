"""Subscriptions pushed by a billing system (Stripe webhooks, the REST API's upsert): one write
path, so both store the same MRR and keep the same history.

1. An older state never overwrites a newer one: a push carries `as_of` (when the billing system's
   state was current, e.g. a Stripe event's `created`); one older than what is stored changes
   nothing (events delivered out of order).
2. A change of amount or interval on `changed_on`, after the stored terms started, keeps the old
   terms as their own row ending that day (`period_of` names the subscription) and starts the
   current row there, so the change is an MRR movement of that month (expansion, contraction)
   instead of rewriting the months before. Without `changed_on` (a correction) the row is updated
   in place, as a CSV import does.
3. The touched accounts' tiers are refreshed, in the same transaction.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account, Subscription
from accounts.services import refresh_tiers

MAX_ID = Subscription._meta.get_field("subscription_id").max_length


@dataclass(frozen=True)
class Terms:
    """What a billing system says a subscription is now. `start_date` is when it first started;
    `end_date` is exclusive (None = ongoing); amount per `interval_count` intervals."""

    subscription_id: str
    account: Account
    start_date: date
    end_date: date | None
    amount: Decimal
    interval: str
    interval_count: int = 1


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    STALE = "stale"  # older than the stored state: nothing written


def period_id(subscription_id: str, start: date) -> str:
    """The id of the row keeping a subscription's terms that started on `start`: the id and the
    day, within the column's 100 characters (a long id is shortened with a hash of itself)."""
    suffix = f"@{start:%Y%m%d}"
    if len(subscription_id) + len(suffix) > MAX_ID:
        digest = hashlib.sha256(subscription_id.encode()).hexdigest()[:10]
        subscription_id = f"{subscription_id[: MAX_ID - len(suffix) - 11]}~{digest}"
    return subscription_id + suffix


def _end_after_start(start: date, end: date | None) -> date | None:
    """A subscription that ended the day it started (or before) was never active: it keeps one
    day so the row is valid, and the caller stores it without MRR."""
    if end is not None and end <= start:
        return start + timedelta(days=1)
    return end


@transaction.atomic
def record_subscription(
    terms: Terms, *, changed_on: date | None = None, as_of: datetime | None = None
) -> tuple[Subscription, Outcome]:
    """Create or update the subscription `terms.subscription_id` (see the module docstring)."""
    locked = Subscription.objects.select_for_update().filter(subscription_id=terms.subscription_id)
    current = locked.first()
    amount = terms.amount
    if terms.end_date is not None and terms.end_date <= terms.start_date:
        amount = Decimal("0.00")
    if current is None:
        subscription = Subscription(
            subscription_id=terms.subscription_id,
            account=terms.account,
            start_date=terms.start_date,
            end_date=_end_after_start(terms.start_date, terms.end_date),
            amount=amount,
            interval=terms.interval,
            interval_count=terms.interval_count,
            billing_as_of=as_of,
        )
        subscription.set_mrr()
        try:
            with transaction.atomic():
                subscription.save(force_insert=True)
        except IntegrityError:
            # A concurrent push created it first (Stripe's created and updated events of a new
            # subscription can arrive together): update that row instead.
            current = locked.get()
        else:
            refresh_tiers(today=timezone.localdate(), account_ids=[terms.account.pk])
            return subscription, Outcome.CREATED
    if as_of is not None and current.billing_as_of is not None and as_of < current.billing_as_of:
        return current, Outcome.STALE

    touched = {current.account_id, terms.account.pk}
    earlier_periods = Subscription.objects.filter(period_of=current.subscription_id)
    # After a split the current row starts on the day of the change, not when the subscription
    # first started (which is what `terms.start_date` says).
    start = current.start_date if earlier_periods.exists() else terms.start_date
    new_terms = (amount, terms.interval, terms.interval_count)
    old_terms = (current.amount, current.interval, current.interval_count)
    if (
        changed_on is not None
        and new_terms != old_terms
        and start < changed_on
        and (terms.end_date is None or changed_on < terms.end_date)
    ):
        Subscription.objects.create(
            subscription_id=period_id(current.subscription_id, start),
            period_of=current.subscription_id,
            account_id=current.account_id,
            start_date=start,
            end_date=changed_on,
            amount=current.amount,
            interval=current.interval,
            interval_count=current.interval_count,
            mrr=current.mrr,
            billing_as_of=current.billing_as_of,
        )
        start = changed_on
    if terms.end_date is not None and terms.end_date <= start:
        amount = Decimal("0.00")
    values = {
        "account_id": terms.account.pk,
        "start_date": start,
        "end_date": _end_after_start(start, terms.end_date),
        "amount": amount,
        "interval": terms.interval,
        "interval_count": terms.interval_count,
    }
    changed = {name for name, value in values.items() if getattr(current, name) != value}
    for name, value in values.items():
        setattr(current, name, value)
    current.set_mrr()
    if as_of is not None:
        current.billing_as_of = as_of
    current.save()
    refresh_tiers(today=timezone.localdate(), account_ids=sorted(touched))
    return current, Outcome.UPDATED if changed else Outcome.UNCHANGED
