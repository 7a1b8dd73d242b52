"""The REST API v1 (/api/v1/): scopes, the house error format, and each resource's reads and
writes, the writes agreeing with the CSV imports and the Stripe path."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, AuditEntry, Contact, Subscription
from csm.workflow.models import RiskItem, Touch
from health.services_keys import create_api_key
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory, TaskFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def reader(db):
    return create_api_key(name="reader", actor=None, scopes=["read"]).key


@pytest.fixture
def writer(db):
    return create_api_key(name="writer", actor=None, scopes=["read", "write"]).key


@pytest.fixture
def ingester(db):
    return create_api_key(name="product", actor=None).key


def call(client, method: str, path: str, key: str | None, body: object = None, **params):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if method == "get":
        return client.get(API + path, params, headers=headers)
    return getattr(client, method)(
        API + path,
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        headers=headers,
    )


# --- Auth and errors -----------------------------------------------------------------------------


def test_without_a_key_it_answers_401_in_json(client, db):
    response = call(client, "get", "/accounts", None)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    assert "missing API key" in response.json()["error"]
    assert call(client, "get", "/accounts", "csm_nope").json() == {"error": "unknown API key"}


def test_reads_need_the_read_scope(client, ingester, reader):
    response = call(client, "get", "/accounts", ingester)
    assert response.status_code == 403
    assert response.json() == {"error": "this API key lacks the read scope"}
    assert call(client, "get", "/accounts", reader).status_code == 200


def test_writes_need_the_write_scope(client, reader, writer):
    body = {"name": "Acme", "segment": "basic", "contract_start": "2025-01-01"}
    response = call(client, "put", "/accounts/acme", reader, body)
    assert response.status_code == 403 and "write scope" in response.json()["error"]
    assert not Account.objects.exists()
    assert call(client, "put", "/accounts/acme", writer, body).status_code == 201


def test_a_revoked_key_gets_401(client, writer):
    from health.models import ApiKey  # noqa: PLC0415 - test-only lookup

    ApiKey.objects.update(revoked_at=timezone.now())
    assert call(client, "get", "/accounts", writer).status_code == 401


def test_an_unknown_path_and_a_wrong_method_answer_json(client, reader):
    assert call(client, "get", "/nothing-here", reader).json()["error"].startswith("not found")
    response = call(client, "delete", "/accounts", reader)
    assert response.status_code == 405 and response.json()["error"] == "method not allowed: use GET"


def test_a_type_error_names_the_field_in_the_house_format(client, writer):
    response = call(client, "put", "/accounts/acme", writer, {"name": 5, "seats": "many"})
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"name", "seats"}
    assert "name:" in response.json()["error"]


def test_a_body_that_is_not_json_is_a_clear_400(client, writer):
    response = client.put(
        f"{API}/accounts/acme",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {writer}"},
    )
    assert response.status_code in (400, 422) and "error" in response.json()


def test_the_schema_and_docs_page_are_served(client, db):
    schema = client.get(f"{API}/openapi.json").json()
    assert {"/api/v1/accounts", "/api/v1/subscriptions/{subscription_id}"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"
    page = client.get(f"{API}/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()


# --- Accounts ------------------------------------------------------------------------------------


def test_it_lists_accounts_with_filters_and_mrr(client, reader, alice):
    mine = AccountFactory(external_id="a-1", owner=alice, tier="A")
    AccountFactory(external_id="b-2", tier="B")
    SubscriptionFactory(account=mine, start_date=date(2024, 1, 1), amount=Decimal("1200"),
                        interval="year")  # fmt: skip
    response = call(client, "get", "/accounts", reader)
    assert response.json()["count"] == 2
    assert [a["external_id"] for a in response.json()["items"]] == ["a-1", "b-2"]
    first = response.json()["items"][0]
    assert first["mrr"] == "100.00" and first["owner_email"] == "alice@example.com"
    only = call(client, "get", "/accounts", reader, owner="alice@example.com").json()
    assert [a["external_id"] for a in only["items"]] == ["a-1"]
    assert call(client, "get", "/accounts", reader, tier="B").json()["count"] == 1
    assert call(client, "get", "/accounts", reader, owner="").json()["count"] == 1
    paged = call(client, "get", "/accounts", reader, limit=1, offset=1).json()
    assert paged["count"] == 2 and [a["external_id"] for a in paged["items"]] == ["b-2"]


def test_a_bad_filter_names_it(client, reader):
    response = call(client, "get", "/accounts", reader, tier="Z", limit=0)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"tier", "limit"}


def test_list_queries_do_not_grow_with_rows(client, reader, django_assert_max_num_queries):
    for _ in range(5):
        AccountFactory()
    # key lookup, last-used update, the page, the count (+ the rate limit's cache, no query)
    with django_assert_max_num_queries(4):
        assert call(client, "get", "/accounts", reader).status_code == 200


def test_it_gets_one_account_or_404(client, reader):
    AccountFactory(external_id="acme", name="Acme")
    assert call(client, "get", "/accounts/acme", reader).json()["name"] == "Acme"
    missing = call(client, "get", "/accounts/nope", reader)
    assert missing.status_code == 404 and "error" in missing.json()


def test_an_upsert_creates_then_updates_with_the_imports_rules(client, writer, alice):
    body = {
        "name": "Acme",
        "segment": "advanced",
        "owner_email": "alice@example.com",
        "contract_start": "2025-01-01",
        "renewal_date": "2026-01-01",
        "tier": "A",
        "seats": 25,
        "strategic": True,
    }
    created = call(client, "put", "/accounts/acme", writer, body)
    assert created.status_code == 201 and created.json()["result"] == "created"
    account = Account.objects.get(external_id="acme")
    assert (account.owner, account.tier, account.seats, account.strategic) == (alice, "A", 25, True)
    # The blueprint receiver and the audit trail ran, as for an import.
    assert AuditEntry.objects.filter(account=account, field="owner").exists()

    updated = call(client, "put", "/accounts/acme", writer, {"name": "Acme Inc", "seats": None})
    assert updated.status_code == 200 and updated.json()["result"] == "updated"
    account.refresh_from_db()
    assert (account.name, account.seats, account.segment) == ("Acme Inc", None, "advanced")
    same = call(client, "put", "/accounts/acme", writer, {"name": "Acme Inc"})
    assert same.json()["result"] == "unchanged"


def test_an_upsert_refuses_what_an_import_refuses_naming_fields(client, writer):
    body = {
        "name": "Acme",
        "segment": "gold",
        "owner_email": "nobody@example.com",
        "contract_start": "2025-02-30",
        "seats": -1,
    }
    response = call(client, "put", "/accounts/acme", writer, body)
    assert response.status_code == 422
    errors = {e["field"]: e["error"] for e in response.json()["errors"]}
    assert errors == {
        "segment": "must be one of basic, advanced, strategic",
        "owner_email": "unknown user",
        "contract_start": "not a date (YYYY-MM-DD)",
        "seats": "must not be negative",
    }
    assert not Account.objects.exists()


def test_a_new_account_needs_the_required_fields(client, writer):
    response = call(client, "put", "/accounts/acme", writer, {"name": "Acme"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"segment", "contract_start"}


def test_a_nul_in_a_text_is_refused_not_a_500(client, writer):
    body = {"name": "Ac\u0000me", "segment": "basic", "contract_start": "2025-01-01"}
    response = call(client, "put", "/accounts/acme", writer, body)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "name"


# --- Contacts ------------------------------------------------------------------------------------


def test_it_lists_and_adds_contacts(client, writer):
    account = AccountFactory(external_id="acme")
    ContactFactory(account=account, name="Old", email="old@acme.example", is_primary=True)
    body = {"name": "Ana", "email": "Ana@Acme.example", "is_primary": True}
    created = call(client, "post", "/accounts/acme/contacts", writer, body)
    assert created.status_code == 201 and created.json()["email"] == "ana@acme.example"
    assert Contact.objects.get(is_primary=True).name == "Ana"
    listed = call(client, "get", "/accounts/acme/contacts", writer).json()
    assert [c["name"] for c in listed] == ["Ana", "Old"]

    again = call(
        client, "post", "/accounts/acme/contacts", writer, {**body, "email": "ANA@acme.example"}
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "email"
    bad = call(client, "post", "/accounts/acme/contacts", writer, {"name": "X", "email": "nope"})
    assert bad.json()["errors"] == [{"field": "email", "error": "not an email address"}]
    assert Contact.objects.count() == 2


def test_a_contacts_language_is_set_and_checked(client, writer):
    AccountFactory(external_id="acme")
    body = {"name": "李娜", "email": "li.na@acme.example", "language": "zh-Hans"}
    created = call(client, "post", "/accounts/acme/contacts", writer, body)
    assert created.status_code == 201 and created.json()["language"] == "zh-hans"
    assert Contact.objects.get().language == "zh-hans"
    bad = call(client, "post", "/accounts/acme/contacts", writer, {**body, "language": "klingon"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "language"
    assert Contact.objects.count() == 1


# --- Subscriptions -------------------------------------------------------------------------------


def test_a_subscription_upsert_creates_and_keeps_history_on_a_change(client, writer):
    AccountFactory(external_id="acme")
    body = {"account": "acme", "start_date": "2025-01-05", "amount": "100.00", "interval": "month"}
    created = call(client, "put", "/subscriptions/sub-9", writer, body)
    assert created.status_code == 201 and created.json()["subscription"]["mrr"] == "100.00"

    changed = {**body, "amount": "300", "changed_on": "2025-03-10"}
    response = call(client, "put", "/subscriptions/sub-9", writer, changed)
    assert response.json()["result"] == "updated"
    assert Subscription.objects.get(subscription_id="sub-9").start_date == date(2025, 3, 10)
    assert Subscription.objects.get(period_of="sub-9").end_date == date(2025, 3, 10)
    listed = call(client, "get", "/subscriptions", writer, account="acme").json()
    assert listed["count"] == 2


def test_a_quarterly_subscription_has_a_third_as_mrr(client, writer):
    AccountFactory(external_id="acme")
    body = {"account": "acme", "start_date": "2025-01-05", "amount": "300", "interval": "month",
            "interval_count": 3}  # fmt: skip
    assert (
        call(client, "put", "/subscriptions/q-1", writer, body).json()["subscription"]["mrr"]
        == "100.00"
    )


def test_an_older_push_is_stale(client, writer):
    AccountFactory(external_id="acme")
    body = {"account": "acme", "start_date": "2025-01-05", "amount": "100", "interval": "month"}
    call(client, "put", "/subscriptions/s", writer, {**body, "as_of": "2025-02-01T00:00:00Z"})
    older = {**body, "amount": "5", "as_of": "2025-01-01T00:00:00Z"}
    assert call(client, "put", "/subscriptions/s", writer, older).json()["result"] == "stale"
    assert Subscription.objects.get().amount == Decimal("100.00")


def test_a_subscription_upsert_refuses_bad_values_naming_fields(client, writer):
    body = {
        "account": "nope",
        "start_date": "2025-01-05",
        "end_date": "2025-01-01",
        "amount": "1.234",
        "interval": "month",
    }
    response = call(client, "put", "/subscriptions/s", writer, body)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"account", "amount", "end_date"}
    weekly = call(client, "put", "/subscriptions/s", writer, {**body, "interval": "week"})
    assert [e["field"] for e in weekly.json()["errors"]] == ["interval"]
    assert not Subscription.objects.exists()


# --- Touches and risk items ----------------------------------------------------------------------


def test_it_creates_and_lists_touches(client, writer):
    account = AccountFactory(external_id="acme")
    when = timezone.now() - timedelta(hours=2)
    body = {"account": "acme", "kind": "call", "happened_at": when.isoformat(), "summary": "QBR"}
    created = call(client, "post", "/touches", writer, body)
    assert created.status_code == 201
    account.refresh_from_db()
    assert account.last_csm_touch_at == when  # through add_touch: the cadence sees it
    listed = call(client, "get", "/touches", writer, account="acme").json()
    assert listed["count"] == 1 and listed["items"][0]["summary"] == "QBR"


def test_a_touch_in_the_future_or_for_an_unknown_account_is_refused(client, writer):
    AccountFactory(external_id="acme")
    future = (timezone.now() + timedelta(days=2)).isoformat()
    body = {"account": "acme", "kind": "call", "happened_at": future, "summary": "x"}
    response = call(client, "post", "/touches", writer, body)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "happened_at"
    unknown = call(client, "post", "/touches", writer, {**body, "account": "nope"})
    assert unknown.json()["errors"] == [{"field": "account", "error": "unknown account"}]
    naive = {**body, "happened_at": "2025-01-01T10:00:00"}
    assert call(client, "post", "/touches", writer, naive).status_code == 422
    assert not Touch.objects.exists()


def test_it_lists_and_gets_risk_items(client, reader):
    account = AccountFactory(external_id="acme")
    item = RiskItem.objects.create(
        account=account,
        opened_on=date(2025, 5, 1),
        updated_on=date(2025, 5, 1),
        reasons=[{"key": "red_band", "text": "Health is red (40)"}],
        priority=Decimal("500"),
    )
    listed = call(client, "get", "/risk-items", reader, open="true").json()
    assert listed["count"] == 1 and listed["items"][0]["reasons"][0]["key"] == "red_band"
    one = call(client, "get", f"/risk-items/{item.pk}", reader).json()
    assert one["open"] is True and one["account"] == "acme"
    assert call(client, "get", "/risk-items/99999", reader).status_code == 404
    assert call(client, "get", "/risk-items", reader, open="false").json()["count"] == 0


def test_it_lists_and_gets_tasks(client, reader, alice):
    account = AccountFactory(external_id="acme", owner=alice)
    later = TaskFactory(account=account, title="Send the deck", due_on=date(2026, 12, 3))
    TaskFactory(account=account, title="Call Ana", due_on=date(2026, 12, 1))
    TaskFactory(account=account, title="Old", status="done")
    TaskFactory(title="Elsewhere")
    listed = call(client, "get", "/tasks", reader, account="acme").json()
    assert [row["title"] for row in listed["items"]] == ["Call Ana", "Send the deck"]
    assert listed["items"][0] | {"id": 0} == {
        "id": 0, "account": "acme", "title": "Call Ana", "assignee": "alice@example.com",
        "due_on": "2026-12-01", "status": "open", "done": False, "done_at": None,
        "source": "manual", "risk_item": None,
    }  # fmt: skip
    assert call(client, "get", "/tasks", reader, account="acme", status="all").json()["count"] == 3
    mine = call(client, "get", "/tasks", reader, assignee="ALICE@example.com").json()
    assert mine["count"] == 2
    assert call(client, "get", f"/tasks/{later.pk}", reader).json()["title"] == "Send the deck"
    assert call(client, "get", "/tasks/99999", reader).status_code == 404
    bad = call(client, "get", "/tasks", reader, status="finished")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


def test_the_events_and_health_endpoints_answer_as_documented(client, ingester, reader):
    AccountFactory(external_id="acme")
    event = {"id": "e1", "account": "acme", "event": "login",
             "timestamp": datetime(2025, 1, 1, tzinfo=UTC).isoformat()}  # fmt: skip
    response = call(client, "post", "/events", ingester, {"events": [event]})
    assert response.json() == {"accepted": 1, "duplicates": 0, "errors": []}
    assert call(client, "post", "/events", reader, {"events": []}).status_code == 403
    health = call(client, "get", "/accounts/acme/health", reader)
    assert health.json() == {"error": "this account has no health score yet"}
