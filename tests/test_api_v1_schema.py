"""schemathesis fuzzes the REST API from its own OpenAPI schema, through the WSGI app: no answer
is a 500, every answer matches the schema (status, content type, body), and what the schema
says is invalid is refused. A short, seeded run (derandomize) so it is the same on every run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from csm.workflow.models import RiskItem
from health.services_keys import create_api_key
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def keep_test_connection():
    """Requests through the WSGI app close "old" connections when they finish, the test's own
    (open transaction) included; Django's test client switches that off the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def key(db, settings, keep_test_connection) -> str:
    """A key that may read and write, and some rows for it to find."""
    settings.API_RATE_LIMIT_PER_MINUTE = 0
    account = AccountFactory(external_id="acme")
    ContactFactory(account=account)
    SubscriptionFactory(account=account, subscription_id="sub-1", start_date=date(2025, 1, 1))
    RiskItem.objects.create(
        account=account,
        opened_on=date(2025, 5, 1),
        updated_on=date(2025, 5, 1),
        reasons=[{"key": "red_band", "text": "Health is red"}],
        priority=Decimal("100"),
    )
    return create_api_key(name="fuzz", actor=None, scopes=["read", "write", "ingest"]).key


# Loaded once at collection (the schema view needs no database). pytest 9 has no
# schemathesis.pytest.from_fixture, which would load it per test.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_to_its_schema(case, key):
    # Not positive_data_acceptance: a schema-valid request may still break a domain rule (an
    # unknown account, a renewal before the contract start) and get its 422.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {key}"},
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
