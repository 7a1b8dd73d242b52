"""DESIGN §8: every API error is JSON, a 500 included (csm/lib/errors.py); pages keep their HTML
error pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from health.models import UsageEvent
from health.services_keys import create_api_key
from tests.factories import AccountFactory


@pytest.fixture
def server_client() -> Client:
    """A client that gets the 500 response, as a real client would, instead of the exception."""
    return Client(raise_request_exception=False)


@pytest.fixture
def events_table_missing(db):
    """A real fault under the view: the events table is not there (a half-applied deploy).
    Renamed inside the test's transaction, which is rolled back afterwards."""
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {connection.ops.quote_name('gone')}")


def test_an_unexpected_error_in_an_api_view_is_a_json_500(server_client, events_table_missing):
    AccountFactory(external_id="acme")
    key = create_api_key(name="product", actor=None).key
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = {"events": [{"id": "e1", "account": "acme", "event": "login", "timestamp": when}]}
    response = server_client.post(
        reverse("health:events"),
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "internal server error; the request may be retried"}


def test_an_unknown_api_path_is_a_json_404(server_client, db):
    response = server_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "not found" in response.json()["error"]


def test_pages_keep_their_html_error_pages(server_client, db):
    response = server_client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
