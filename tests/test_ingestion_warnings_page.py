"""The managers' ingestion warnings page: counts by source and cause, examples escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from health.ingestion_warnings import record_ingestion_warning
from health.models import IngestionWarningDay

URL = reverse("health:ingestion_warnings")


def test_it_is_for_managers_only(alice_client):
    assert alice_client.get(URL).status_code == 403


def test_it_explains_what_lands_here_when_there_is_nothing(maggie_client):
    response = maggie_client.get(URL)
    assert response.status_code == 200
    assert b"No warnings in the last 30 days" in response.content


def test_it_counts_by_cause_and_shows_examples_escaped(maggie_client, django_assert_num_queries):
    for _ in range(3):
        record_ingestion_warning(
            source="segment",
            cause="unknown_account",
            message='no account with external id "x"',
            example={"event": "<script>alert(1)</script>"},
        )
    record_ingestion_warning(source="stripe", cause="unknown_customer", message="cus_1")
    # An older day: in the 30-day count, not the 7-day one.
    IngestionWarningDay.objects.create(
        source="segment",
        cause="unknown_account",
        day=timezone.now().date() - timedelta(days=10),
        count=5,
    )
    # session + user, the day counts, the examples
    with django_assert_num_queries(4):
        response = maggie_client.get(URL)
    summary = {(row.source, row.cause): row for row in response.context["summary"]}
    row = summary[("segment", "unknown_account")]
    assert (row.last_7_days, row.last_30_days, len(row.examples)) == (3, 8, 3)
    assert summary[("stripe", "unknown_customer")].last_30_days == 1
    assert b"<script>alert(1)" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content


@pytest.mark.django_db
def test_it_needs_a_login(client):
    assert client.get(URL).status_code == 302
