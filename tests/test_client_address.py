"""Behind nginx every request comes from the proxy's address; the per-address limit of the survey
pages must still count each client (nginx appends it to X-Forwarded-For, TRUSTED_PROXY_COUNT=1
reads that entry) and must not trust the header when no proxy stands in front."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.surveys import invite, token_of

PROXY = "172.18.0.5"  # every request reaches the app from nginx's address


@pytest.fixture(autouse=True)
def fresh_rate_limit(settings):
    settings.SURVEY_RATE_LIMIT_PER_MINUTE = 2
    cache.clear()
    yield
    cache.clear()


def answer_page(client, invitation, client_address):
    url = reverse("feedback:answer", args=[token_of(invitation)])
    # What nginx forwards: whatever the client sent, then the address nginx saw.
    forwarded = f"10.9.9.9, {client_address}"
    return client.get(url, REMOTE_ADDR=PROXY, headers={"X-Forwarded-For": forwarded})


def test_behind_the_proxy_each_client_has_its_own_limit(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    invitation = invite()
    assert [answer_page(client, invitation, "203.0.113.7").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert answer_page(client, invitation, "198.51.100.9").status_code == 200


def test_without_the_proxy_the_header_is_not_trusted(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    invitation = invite()
    statuses = [answer_page(client, invitation, f"203.0.113.{n}").status_code for n in range(3)]
    assert statuses == [200, 200, 429]  # one address (the connection's), whatever the header says
