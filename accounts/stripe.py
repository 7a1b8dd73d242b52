"""Stripe's billing objects as this app's accounts and subscriptions (the webhook itself, which
verifies the signature and records each event once, is health.stripe_hooks).

- The account of a Stripe object: the one whose `external_id` is the object's (or its
  customer's) `metadata.external_id`, else the one already linked to its customer id. An account
  found by metadata is linked to the customer id (StripeCustomer), so later events of that
  customer need no metadata.
- A subscription's terms: each item's price `unit_amount` (in the currency's minor unit) ×
  `quantity`, per `recurring.interval` (month or year) × `interval_count`, in the installation's
  currency (CURRENCY_CODE). `trialing`, `incomplete`, `incomplete_expired` and `paused` carry no
  MRR; `canceled` ends on `ended_at` (else `cancel_at`, `canceled_at`); a scheduled cancellation
  (`cancel_at`) ends an active subscription on that day.

What cannot be stored raises `Refused` with a cause (listed in docs/api.md); the webhook records
it as an ingestion warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts import mrr as mrr_rules
from accounts.billing import Outcome, Terms, record_subscription
from accounts.models import Account, StripeCustomer

# Currencies whose amounts Stripe gives in whole units, and those with three decimals
# (Stripe's "zero-decimal" and "three-decimal" currency lists); every other has cents.
ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
NO_MRR_STATUSES = frozenset({"trialing", "incomplete", "incomplete_expired", "paused"})

UNKNOWN_CUSTOMER = "unknown_customer"
OTHER_CURRENCY = "other_currency"
UNSUPPORTED_PRICE = "unsupported_price"
BAD_OBJECT = "bad_object"


class Refused(Exception):
    """A Stripe object this app cannot store; `cause` is the ingestion warning's slug."""

    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message


def moment(value: Any, name: str) -> datetime:
    """A Stripe timestamp (seconds since the epoch) as an aware datetime."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused(BAD_OBJECT, f"{name}: not a Unix timestamp")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise Refused(BAD_OBJECT, f"{name}: out of range") from None


def day_of(value: Any, name: str) -> date:
    """A Stripe timestamp's date in the installation's time zone."""
    return timezone.localdate(moment(value, name))


def _metadata_external_id(*objects: Any) -> str:
    for obj in objects:
        metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
        value = metadata.get("external_id") if isinstance(metadata, Mapping) else None
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def customer_id_of(obj: Mapping[str, Any]) -> str:
    """The object's customer id, whether `customer` is an id or the expanded customer."""
    customer = obj.get("customer")
    if isinstance(customer, Mapping):
        customer = customer.get("id")
    return customer if isinstance(customer, str) else ""


def account_for(obj: Mapping[str, Any], *more_metadata: Any) -> Account:
    """The account of a Stripe object (see the module docstring), linking its customer id when
    the account was found by metadata; Refused when there is none."""
    customer_id = customer_id_of(obj)
    customer = obj.get("customer")
    external_id = _metadata_external_id(obj, *more_metadata, customer)
    account = Account.objects.filter(external_id=external_id).first() if external_id else None
    if account is not None:
        if customer_id:
            StripeCustomer.objects.update_or_create(
                customer_id=customer_id, defaults={"account": account}
            )
        return account
    link = StripeCustomer.objects.select_related("account").filter(customer_id=customer_id)
    found = link.first() if customer_id else None
    if found is not None:
        return found.account
    if external_id:
        message = f"no account has the external id {external_id!r} (customer {customer_id!r})"
    else:
        message = (
            f"customer {customer_id!r} is linked to no account: set metadata.external_id on the "
            "Stripe customer or subscription to the account's external id"
        )
    raise Refused(UNKNOWN_CUSTOMER, message)


def link_customer(customer: Mapping[str, Any]) -> Account | None:
    """`customer.created|updated`: link the customer to the account its metadata names. A
    customer without `metadata.external_id` is none of this app's business (None)."""
    if not _metadata_external_id(customer):
        return None
    return account_for({**customer, "customer": customer.get("id")})


# --- Subscriptions -------------------------------------------------------------------------------


def _major_units(minor: Decimal, currency: str) -> Decimal:
    if currency in ZERO_DECIMAL:
        return minor
    return minor / (1000 if currency in THREE_DECIMAL else 100)


def _item_amount(item: Any, currency: str) -> tuple[Decimal, str, int]:
    """(amount per billing period, interval, interval count) of one subscription item."""
    price = item.get("price") if isinstance(item, Mapping) else None
    if not isinstance(price, Mapping):
        raise Refused(BAD_OBJECT, "items: an item has no price")
    price_id = price.get("id", "?")
    recurring = price.get("recurring")
    if not isinstance(recurring, Mapping):
        raise Refused(UNSUPPORTED_PRICE, f"price {price_id}: not a recurring price")
    interval, count = recurring.get("interval"), recurring.get("interval_count", 1)
    if interval not in mrr_rules.MONTHS_PER_INTERVAL:
        raise Refused(
            UNSUPPORTED_PRICE, f"price {price_id}: billed per {interval}, not per month or year"
        )
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise Refused(BAD_OBJECT, f"price {price_id}: recurring.interval_count is not valid")
    if recurring.get("usage_type") == "metered":
        return Decimal(0), interval, count  # billed on usage: no fixed recurring amount
    unit = price.get("unit_amount")
    if unit is None and price.get("unit_amount_decimal") is not None:
        unit = price["unit_amount_decimal"]
    try:
        unit_amount = Decimal(str(unit))
    except ArithmeticError:
        unit_amount = Decimal("NaN")
    if unit is None or isinstance(unit, bool) or not unit_amount.is_finite() or unit_amount < 0:
        raise Refused(
            UNSUPPORTED_PRICE,
            f"price {price_id}: no unit_amount (tiered prices are not supported)",
        )
    quantity = item.get("quantity", 1)
    if quantity is None:
        quantity = 1
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise Refused(BAD_OBJECT, f"price {price_id}: quantity is not a whole number")
    return _major_units(unit_amount * quantity, currency), interval, count


def _amount(subscription: Mapping[str, Any], currency: str) -> tuple[Decimal, str, int]:
    """The whole subscription's amount per billing period. Items billed on different periods
    are summed as MRR (per month)."""
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, Mapping) else None
    if not isinstance(data, list) or not data:
        raise Refused(BAD_OBJECT, "items: the subscription has no items")
    amounts = [_item_amount(item, currency) for item in data]
    periods = {(interval, count) for _amount, interval, count in amounts}
    if len(periods) == 1:
        ((interval, count),) = periods
        total = sum((amount for amount, _i, _c in amounts), Decimal(0))
    else:
        interval, count = mrr_rules.MONTHLY, 1
        total = sum(
            (amount / (mrr_rules.MONTHS_PER_INTERVAL[i] * c) for amount, i, c in amounts),
            Decimal(0),
        )
    return total.quantize(mrr_rules.CENT, rounding=ROUND_HALF_UP), interval, count


def _currency(subscription: Mapping[str, Any]) -> str:
    currency = subscription.get("currency")
    if not isinstance(currency, str) or not currency:
        # Older API versions name it on the items' prices only.
        items = subscription.get("items")
        first = (items or {}).get("data", [{}])[0] if isinstance(items, Mapping) else {}
        price = first.get("price") if isinstance(first, Mapping) else None
        currency = price.get("currency", "") if isinstance(price, Mapping) else ""
    if not isinstance(currency, str) or not currency:
        raise Refused(BAD_OBJECT, "currency: missing")
    return currency.lower()


def subscription_terms(subscription: Mapping[str, Any], account: Account, at: datetime) -> Terms:
    """The Terms a Stripe subscription object stands for (see the module docstring); `at` is
    the event's time, the end of a canceled subscription that says no other."""
    subscription_id = subscription.get("id")
    if not isinstance(subscription_id, str) or not subscription_id or len(subscription_id) > 100:
        raise Refused(BAD_OBJECT, "id: not a subscription id")
    currency = _currency(subscription)
    if currency != settings.CURRENCY_CODE.lower():
        raise Refused(
            OTHER_CURRENCY,
            f"subscription {subscription_id} is billed in {currency.upper()}, "
            f"this installation counts MRR in {settings.CURRENCY_CODE}",
        )
    amount, interval, count = _amount(subscription, currency)
    status = subscription.get("status")
    start = day_of(subscription.get("start_date", subscription.get("created")), "start_date")
    end: date | None = None
    if status == "canceled":
        ended = next(
            (
                subscription[name]
                for name in ("ended_at", "cancel_at", "canceled_at")
                if subscription.get(name) is not None
            ),
            None,
        )
        end = day_of(ended, "ended_at") if ended is not None else timezone.localdate(at)
    elif subscription.get("cancel_at") is not None:
        end = day_of(subscription["cancel_at"], "cancel_at")
    if status in NO_MRR_STATUSES:
        amount = Decimal("0.00")
    return Terms(
        subscription_id=subscription_id,
        account=account,
        start_date=start,
        end_date=end,
        amount=amount,
        interval=interval,
        interval_count=count,
    )


def sync_subscription(subscription: Mapping[str, Any], *, at: datetime) -> Outcome:
    """`customer.subscription.created|updated|deleted`: store the subscription as Stripe says it
    is at `at` (the event's `created`): a change of amount shows from that day on, and an event
    older than the stored state changes nothing."""
    account = account_for(subscription)
    terms = subscription_terms(subscription, account, at)
    _subscription, outcome = record_subscription(terms, changed_on=timezone.localdate(at), as_of=at)
    return outcome
