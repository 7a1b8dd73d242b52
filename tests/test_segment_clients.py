"""The official Segment and RudderStack Python clients, pointed at a live test server, work
unchanged: identify, group, track and page arrive as the right account's events; the same
messages sent again store nothing new; RudderStack's gzip bodies are read; a message for an
unknown group shows as an ingestion warning."""

from __future__ import annotations

import gc

import pytest
from rudderstack.analytics import request as rudder_request
from rudderstack.analytics.client import Client as RudderClient
from segment.analytics import request as segment_request
from segment.analytics.client import Client as SegmentClient
from segment.analytics.request import APIError

from accounts.models import Contact
from health.models import IngestionWarning, UsageEvent
from health.segment import PAGE_EVENT
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def close_client_connections():
    """The clients keep one HTTP session per process (keep-alive): close it after each test, so
    no connection is left open on the live server when it stops."""
    yield
    segment_request._session.close()
    rudder_request._session.close()


def _raise(error, _batch):
    raise error


@pytest.fixture
def accounts():
    return AccountFactory(external_id="acme"), AccountFactory(external_id="globex")


def send_session(client, prefix: str) -> None:
    """What a product sends for a user who signs in at Acme and uses it, with fixed message ids."""
    client.identify(
        "pat", {"email": "pat@acme.example", "name": "Pat Lee"}, message_id=f"{prefix}-i"
    )
    client.group("pat", "acme", {"name": "Acme"}, message_id=f"{prefix}-g")
    client.track("pat", "login", message_id=f"{prefix}-t1")
    client.track("pat", "report_exported", {"rows": 12}, message_id=f"{prefix}-t2")
    client.page("pat", "Docs", "Pricing", message_id=f"{prefix}-p")
    # Another user at another company names its account on the message itself.
    client.track("sam", "login", context={"groupId": "globex"}, message_id=f"{prefix}-t3")
    client.flush()


def stored(prefix: str) -> set[tuple[str, str, str, str]]:
    return set(
        UsageEvent.objects.filter(event_id__startswith=prefix).values_list(
            "event_id", "account__external_id", "user", "event"
        )
    )


def expected(prefix: str) -> set[tuple[str, str, str, str]]:
    return {
        (f"{prefix}-t1", "acme", "pat", "login"),
        (f"{prefix}-t2", "acme", "pat", "report_exported"),
        (f"{prefix}-p", "acme", "pat", PAGE_EVENT),
        (f"{prefix}-t3", "globex", "sam", "login"),
    }


@pytest.mark.parametrize("sync_mode", [True, False], ids=["sync", "batched"])
def test_the_segment_client_sends_an_accounts_events(live_server, ingest_key, accounts, sync_mode):
    client = SegmentClient(
        ingest_key, host=live_server.url, sync_mode=sync_mode, max_retries=0, on_error=_raise
    )
    # identify comes before the group call that links pat: the second round names the contact.
    send_session(client, "seg")
    send_session(client, "seg")  # the same messages again
    if not sync_mode:
        client.shutdown()  # ends the sending thread (a sync client has none)
    assert stored("seg") == expected("seg")
    assert UsageEvent.objects.count() == 4
    assert Contact.objects.get(email="pat@acme.example").account.external_id == "acme"
    assert not IngestionWarning.objects.exclude(cause="no_account").exists()


@pytest.mark.parametrize("sync_mode", [True, False], ids=["sync", "batched"])
def test_the_rudderstack_client_sends_gzip_bodies_that_are_read(
    live_server, ingest_key, accounts, sync_mode
):
    client = RudderClient(
        ingest_key, host=live_server.url, sync_mode=sync_mode, max_retries=0, on_error=_raise
    )
    assert client.gzip  # RudderStack's default
    send_session(client, "rud")
    send_session(client, "rud")
    if not sync_mode:
        client.shutdown()  # ends the sending thread (a sync client has none)
    assert stored("rud") == expected("rud")
    assert UsageEvent.objects.count() == 4
    assert Contact.objects.filter(email="pat@acme.example").count() == 1


@pytest.mark.parametrize("client_class", [SegmentClient, RudderClient], ids=["segment", "rudder"])
def test_a_message_for_an_unknown_group_is_a_warning(
    live_server, ingest_key, accounts, client_class
):
    client = client_class(ingest_key, host=live_server.url, sync_mode=True, max_retries=0)
    client.track("pat", "login", context={"groupId": "initech"}, message_id="w1")
    assert not UsageEvent.objects.exists()
    warning = IngestionWarning.objects.get()
    assert (warning.source, warning.cause) == ("segment", "unknown_account")
    assert "initech" in warning.message
    assert warning.example["messageId"] == "w1"


def test_a_wrong_write_key_is_refused_to_the_client(live_server, accounts):
    client = SegmentClient("csm_wrong", host=live_server.url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as raised:
        client.track("pat", "login", context={"groupId": "acme"})
    assert raised.value.status == 401
    # The error's traceback holds the response, and so its connection to the live server open:
    # let it go now rather than at the end of the run.
    del raised
    gc.collect()
    assert not UsageEvent.objects.exists()
