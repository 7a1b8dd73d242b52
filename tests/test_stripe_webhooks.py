"""`POST /hooks/stripe/`: Stripe's subscription and invoice events become subscriptions (MRR in
`kpis`) and payment events; replays and late deliveries change nothing; a bad signature gets 400;
what cannot be stored is an ingestion warning."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
import stripe
from django.core.management import call_command

from accounts.models import StripeCustomer, StripeEvent, Subscription
from health.models import IngestionWarning, UsageEvent
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SECRET = "whsec_current"
OLD_SECRET = "whsec_rotated_out"
URL = "/hooks/stripe/"


@pytest.fixture(autouse=True)
def stripe_settings(settings):
    settings.STRIPE_WEBHOOK_SECRET = [SECRET, OLD_SECRET]
    settings.CURRENCY_CODE = "USD"


@pytest.fixture
def acme(db):
    return AccountFactory(external_id="acme", name="Acme")


def unix(*args: int) -> int:
    return int(datetime(*args, 12, tzinfo=UTC).timestamp())


def subscription(
    *,
    quantity: int = 1,
    unit_amount: int = 10000,
    status: str = "active",
    interval: str = "month",
    interval_count: int = 1,
    currency: str = "usd",
    metadata: dict | None = None,
    customer: str = "cus_acme",
    **extra: object,
) -> dict:
    return {
        "id": "sub_1",
        "object": "subscription",
        "customer": customer,
        "status": status,
        "currency": currency,
        "start_date": unix(2025, 1, 5),
        "metadata": {"external_id": "acme"} if metadata is None else metadata,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_1",
                    "quantity": quantity,
                    "price": {
                        "id": "price_1",
                        "currency": currency,
                        "unit_amount": unit_amount,
                        "recurring": {"interval": interval, "interval_count": interval_count},
                    },
                }
            ],
        },
        **extra,
    }


def event(event_id: str, event_type: str, obj: dict, created: int) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": created,
        "data": {"object": obj},
    }


def deliver(client, body: dict, *, secret: str = SECRET, timestamp: int | None = None):
    """Send the event signed as Stripe signs it (the official library's test helper)."""
    payload = json.dumps(body)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=timestamp or int(time.time())
    )
    return client.post(
        URL, payload, content_type="application/json", headers={"Stripe-Signature": header}
    )


def kpis(month: str) -> dict:
    out = StringIO()
    call_command("kpis", "--month", month, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_created_subscription_appears_as_new_mrr_in_kpis(client, acme):
    body = event(
        "evt_1", "customer.subscription.created", subscription(quantity=3), unix(2025, 1, 5)
    )
    response = deliver(client, body)
    assert response.status_code == 200
    assert response.json() == {"event": "evt_1", "result": "created"}
    stored = Subscription.objects.get(subscription_id="sub_1")
    assert (stored.account, stored.start_date, stored.amount) == (acme, date(2025, 1, 5), 300)
    assert kpis("2025-01")["mrr_new"] == "300.00"
    # The customer is linked: its later events need no metadata.
    assert StripeCustomer.objects.get(customer_id="cus_acme").account == acme


def test_a_quantity_increase_is_expansion_from_the_month_it_happened(client, acme):
    deliver(
        client, event("evt_1", "customer.subscription.created", subscription(), unix(2025, 1, 5))
    )
    later = subscription(quantity=3, metadata={})  # found by the customer's link
    deliver(client, event("evt_2", "customer.subscription.updated", later, unix(2025, 3, 10)))

    march = kpis("2025-03")
    assert (march["mrr_start"], march["mrr_end"]) == ("100.00", "300.00")
    assert march["mrr_expansion"] == "200.00"
    assert kpis("2025-02")["mrr_end"] == "100.00"  # the months before keep their MRR
    current = Subscription.objects.get(subscription_id="sub_1")
    assert (current.start_date, current.mrr) == (date(2025, 3, 10), Decimal("300.00"))
    earlier = Subscription.objects.get(period_of="sub_1")
    assert (earlier.start_date, earlier.end_date, earlier.mrr) == (
        date(2025, 1, 5),
        date(2025, 3, 10),
        Decimal("100.00"),
    )


def test_a_deleted_subscription_is_churn(client, acme):
    deliver(
        client, event("evt_1", "customer.subscription.created", subscription(), unix(2025, 1, 5))
    )
    canceled = subscription(status="canceled", ended_at=unix(2025, 4, 20))
    deliver(client, event("evt_9", "customer.subscription.deleted", canceled, unix(2025, 4, 20)))

    april = kpis("2025-04")
    assert april["mrr_churn"] == "100.00" and april["churned_customers"] == 1
    assert Subscription.objects.get(subscription_id="sub_1").end_date == date(2025, 4, 20)


def test_a_replayed_event_changes_nothing(client, acme):
    created = event("evt_1", "customer.subscription.created", subscription(), unix(2025, 1, 5))
    deliver(client, created)
    updated = subscription(quantity=2)
    deliver(client, event("evt_2", "customer.subscription.updated", updated, unix(2025, 2, 5)))
    # evt_1 again, even re-signed later: already handled.
    response = deliver(client, created)
    assert response.json()["result"] == "duplicate"
    assert Subscription.objects.get(subscription_id="sub_1").mrr == Decimal("200.00")
    assert Subscription.objects.count() == 2
    assert StripeEvent.objects.count() == 2


def test_an_older_event_arriving_late_never_rolls_back(client, acme):
    deliver(
        client, event("evt_1", "customer.subscription.created", subscription(), unix(2025, 1, 5))
    )
    newest = subscription(quantity=5)
    deliver(client, event("evt_3", "customer.subscription.updated", newest, unix(2025, 3, 1)))
    before = list(Subscription.objects.order_by("pk").values())
    older = subscription(quantity=2)
    response = deliver(
        client, event("evt_2", "customer.subscription.updated", older, unix(2025, 2, 1))
    )
    assert response.json()["result"] == "stale"
    assert list(Subscription.objects.order_by("pk").values()) == before


def test_a_late_update_never_reopens_a_canceled_subscription(client, acme):
    deliver(
        client, event("evt_1", "customer.subscription.created", subscription(), unix(2025, 1, 5))
    )
    canceled = subscription(status="canceled", ended_at=unix(2025, 4, 20))
    deliver(client, event("evt_9", "customer.subscription.deleted", canceled, unix(2025, 4, 20)))
    deliver(
        client, event("evt_5", "customer.subscription.updated", subscription(), unix(2025, 3, 1))
    )
    assert Subscription.objects.get(subscription_id="sub_1").end_date == date(2025, 4, 20)


def test_a_bad_signature_gets_400_and_changes_nothing(client, acme):
    body = event("evt_1", "customer.subscription.created", subscription(), unix(2025, 1, 5))
    response = deliver(client, body, secret="whsec_forged")
    assert response.status_code == 400
    assert "signature" in response.json()["error"]
    stale = deliver(client, body, timestamp=int(time.time()) - 301)
    assert stale.status_code == 400
    unsigned = client.post(URL, json.dumps(body), content_type="application/json")
    assert unsigned.status_code == 400
    assert not Subscription.objects.exists() and not StripeEvent.objects.exists()


def test_the_secret_being_rotated_out_still_works(client, acme):
    body = event("evt_1", "customer.subscription.created", subscription(), unix(2025, 1, 5))
    assert deliver(client, body, secret=OLD_SECRET).status_code == 200
    assert Subscription.objects.exists()


def test_without_a_secret_the_endpoint_says_it_is_not_configured(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = []
    response = client.post(URL, "{}", content_type="application/json")
    assert response.status_code == 503
    assert "STRIPE_WEBHOOK_SECRET" in response.json()["error"]


def test_other_methods_get_a_json_405(client):
    response = client.get(URL)
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "POST" in response.json()["error"]


def test_an_unknown_customer_becomes_a_warning_and_is_not_claimed(client, acme):
    stranger = subscription(metadata={}, customer="cus_stranger")
    body = event("evt_1", "customer.subscription.created", stranger, unix(2025, 1, 5))
    response = deliver(client, body)
    assert response.status_code == 200
    assert response.json()["warning"] == "unknown_customer"
    warning = IngestionWarning.objects.get()
    assert (warning.source, warning.cause) == ("stripe", "unknown_customer")
    assert "cus_stranger" in warning.message and warning.example["id"] == "evt_1"
    assert not Subscription.objects.exists() and not StripeEvent.objects.exists()

    # Once the customer is linked (a customer event with the metadata), a resend is stored.
    customer = {"id": "cus_stranger", "object": "customer", "metadata": {"external_id": "acme"}}
    deliver(client, event("evt_c", "customer.updated", customer, unix(2025, 1, 6)))
    assert deliver(client, body).json()["result"] == "created"


def test_another_currency_is_refused_as_a_warning(client, acme):
    body = event(
        "evt_1", "customer.subscription.created", subscription(currency="eur"), unix(2025, 1, 5)
    )
    assert deliver(client, body).json()["warning"] == "other_currency"
    assert IngestionWarning.objects.get().cause == "other_currency"
    assert not Subscription.objects.exists() and not StripeCustomer.objects.exists()


def test_trials_carry_no_mrr_until_they_are_paid(client, acme):
    trial = subscription(status="trialing")
    deliver(client, event("evt_1", "customer.subscription.created", trial, unix(2025, 1, 5)))
    assert kpis("2025-01")["mrr_end"] == "0.00"
    deliver(
        client, event("evt_2", "customer.subscription.updated", subscription(), unix(2025, 2, 4))
    )
    february = kpis("2025-02")
    assert february["mrr_new"] == "100.00" and february["new_customers"] == 1


@pytest.mark.parametrize(
    ("interval", "count", "unit_amount", "mrr"),
    [("year", 1, 120000, "100.00"), ("month", 3, 30000, "100.00"), ("year", 2, 240000, "100.00")],
)
def test_the_billing_period_turns_into_mrr(client, acme, interval, count, unit_amount, mrr):
    obj = subscription(interval=interval, interval_count=count, unit_amount=unit_amount)
    deliver(client, event("evt_1", "customer.subscription.created", obj, unix(2025, 1, 5)))
    assert Subscription.objects.get().mrr == Decimal(mrr)


def test_a_weekly_price_is_refused_as_a_warning(client, acme):
    obj = subscription(interval="week")
    assert deliver(client, event("evt_1", "customer.subscription.created", obj, unix(2025, 1, 5)))
    assert IngestionWarning.objects.get().cause == "unsupported_price"


@pytest.mark.parametrize(
    ("event_type", "stored"),
    [("invoice.payment_failed", "payment_failed"), ("invoice.paid", "payment_succeeded")],
)
def test_invoices_become_payment_events(client, acme, event_type, stored):
    StripeCustomer.objects.create(customer_id="cus_acme", account=acme)
    invoice = {"id": "in_1", "object": "invoice", "customer": "cus_acme", "amount_due": 5000}
    body = event("evt_7", event_type, invoice, unix(2025, 6, 1))
    assert deliver(client, body).json()["result"] == "stored"
    usage = UsageEvent.objects.get()
    assert (usage.event_id, usage.event, usage.account) == ("stripe:evt_7", stored, acme)
    assert usage.timestamp == datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert usage.properties["invoice"] == "in_1"
    # Replayed: the same single row.
    assert deliver(client, body).json()["result"] == "duplicate"
    assert UsageEvent.objects.count() == 1


def test_an_invoice_finds_its_account_by_the_subscription_metadata(client, acme):
    invoice = {
        "id": "in_1",
        "customer": "cus_new",
        "parent": {"subscription_details": {"metadata": {"external_id": "acme"}}},
    }
    deliver(client, event("evt_7", "invoice.payment_failed", invoice, unix(2025, 6, 1)))
    assert UsageEvent.objects.get().account == acme


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", '{"id": "evt_1"}', '{"id": 5, "type": "x", "data": {"object": {}}}'],
)
def test_a_body_that_is_not_an_event_gets_400(client, body):
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    response = client.post(
        URL, body, content_type="application/json", headers={"Stripe-Signature": header}
    )
    assert response.status_code == 400 and "error" in response.json()


def test_events_of_other_types_are_ignored(client):
    body = event("evt_1", "charge.refunded", {"id": "ch_1"}, unix(2025, 1, 5))
    assert deliver(client, body).json()["result"] == "ignored"
    assert not StripeEvent.objects.exists()
