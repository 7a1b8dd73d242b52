"""Segment's HTTP tracking API (/v1/…): auth, limits, gzip, bad bodies, account resolution and the
event time, through Django's test client (tests/test_segment_clients.py uses the real clients)."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Contact
from health import ingestion_warnings
from health.models import IngestionWarning, IngestionWarningDay, SegmentUserLink, UsageEvent
from health.segment import PAGE_EVENT, SCREEN_EVENT
from health.segment_api import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES
from health.services_keys import create_api_key, revoke_api_key
from tests.factories import AccountFactory

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BATCH_URL = reverse("health:segment_batch")
GZIP = {"Content-Encoding": "gzip"}


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def acme(db):
    return AccountFactory(external_id="acme")


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def post(client, url, payload, *, key=None, raw=None, headers=None):
    body = raw if raw is not None else json.dumps(payload)
    return client.post(
        url,
        body,
        content_type="application/json",
        headers={**(basic(key) if key else {}), **(headers or {})},
    )


def track(message_id="m1", **fields):
    return {
        "type": "track",
        "messageId": message_id,
        "userId": "u1",
        "event": "report_exported",
        "timestamp": "2026-11-23T10:00:00Z",
        "context": {"groupId": "acme"},
        **fields,
    }


def test_a_batch_stores_the_track_page_and_screen_calls_of_an_account(client, ingest_key, acme):
    batch = [
        track("m1"),
        track("m2", type="page", name="Pricing", event=None),
        track("m3", type="screen", name="Home", event=None),
    ]
    response = post(client, BATCH_URL, {"batch": batch}, key=ingest_key)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    stored = dict(UsageEvent.objects.values_list("event_id", "event"))
    assert stored == {"m1": "report_exported", "m2": PAGE_EVENT, "m3": SCREEN_EVENT}
    assert UsageEvent.objects.get(event_id="m2").properties == {"name": "Pricing"}
    assert set(UsageEvent.objects.values_list("account__external_id", "user")) == {("acme", "u1")}


def test_the_same_messages_sent_again_store_nothing_new(client, ingest_key, acme):
    payload = {"batch": [track("m1"), track("m2")]}
    post(client, BATCH_URL, payload, key=ingest_key)
    assert post(client, BATCH_URL, payload, key=ingest_key).status_code == 200
    assert UsageEvent.objects.count() == 2
    assert not IngestionWarning.objects.exists()


def test_the_write_key_may_come_in_the_body(client, ingest_key, acme):
    response = post(client, BATCH_URL, {"batch": [track()], "writeKey": ingest_key})
    assert response.status_code == 200
    assert UsageEvent.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [{}, basic("csm_not-a-key"), {"Authorization": "Basic !!!"}],
    ids=["missing", "unknown", "garbled"],
)
def test_a_missing_or_unknown_write_key_gets_401(client, ingest_key, acme, headers):
    response = post(client, BATCH_URL, {"batch": [track()]}, headers=headers)
    assert response.status_code == 401
    assert "error" in response.json()
    assert not UsageEvent.objects.exists()


def test_a_revoked_write_key_gets_401(client, acme):
    new = create_api_key(name="old", actor=None)
    revoke_api_key(api_key=new.api_key, actor=None)
    response = post(client, BATCH_URL, {"batch": [track()]}, key=new.key)
    assert response.status_code == 401
    assert response.json() == {"error": "this API key was revoked"}


def test_the_events_api_rate_limit_applies(client, ingest_key, acme, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    assert post(client, BATCH_URL, {"batch": [track("m1")]}, key=ingest_key).status_code == 200
    response = post(client, BATCH_URL, {"batch": [track("m2")]}, key=ingest_key)
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_a_single_call_takes_its_type_from_the_path(client, ingest_key, acme):
    message = track("m9", type="identify", event="ignored")
    response = post(client, reverse("health:segment_track"), message, key=ingest_key)
    assert response.status_code == 200
    assert UsageEvent.objects.get().event == "ignored"


def test_a_gzip_body_is_read(client, ingest_key, acme):
    raw = gzip.compress(json.dumps({"batch": [track()]}).encode())
    response = post(client, BATCH_URL, None, key=ingest_key, raw=raw, headers=GZIP)
    assert response.status_code == 200
    assert UsageEvent.objects.count() == 1


def test_a_gzip_bomb_is_refused_without_inflating_it(client, ingest_key, acme):
    # 50 MB of spaces compress to about 50 KB; only MAX_BATCH_BYTES + 1 are ever inflated.
    raw = gzip.compress(b'{"batch": []' + b" " * 50_000_000 + b"}")
    response = post(client, BATCH_URL, None, key=ingest_key, raw=raw, headers=GZIP)
    assert response.status_code == 413
    assert "decompressed" in response.json()["error"]


def test_a_body_that_is_not_gzip_gets_400(client, ingest_key):
    response = post(
        client,
        BATCH_URL,
        None,
        key=ingest_key,
        raw=b"not gzip",
        headers=GZIP,
    )
    assert response.status_code == 400
    assert response.json() == {"error": "the body is not valid gzip"}


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_gets_400_in_json(client, ingest_key, raw):
    response = post(client, BATCH_URL, None, key=ingest_key, raw=raw)
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_a_batch_that_is_not_a_list_gets_400(client, ingest_key):
    response = post(client, BATCH_URL, {"batch": {"type": "track"}}, key=ingest_key)
    assert response.status_code == 400
    assert response.json()["error"].startswith("batch:")


def test_a_batch_over_500_kb_gets_413(client, ingest_key, acme):
    messages = [track(f"m{n}", properties={"pad": "x" * 20_000}) for n in range(30)]
    response = post(client, BATCH_URL, {"batch": messages}, key=ingest_key)
    assert len(json.dumps({"batch": messages})) > MAX_BATCH_BYTES
    assert response.status_code == 413
    assert not UsageEvent.objects.exists()


def test_a_message_over_32_kb_in_a_batch_gets_400(client, ingest_key, acme):
    big = track("m2", properties={"pad": "x" * MAX_MESSAGE_BYTES})
    response = post(client, BATCH_URL, {"batch": [track("m1"), big]}, key=ingest_key)
    assert response.status_code == 400
    assert response.json()["error"].startswith("batch[1]:")
    assert not UsageEvent.objects.exists()


def test_a_single_call_over_32_kb_gets_400(client, ingest_key, acme):
    message = track(properties={"pad": "x" * MAX_MESSAGE_BYTES})
    response = post(client, reverse("health:segment_track"), message, key=ingest_key)
    assert response.status_code == 400


def test_other_methods_get_405_in_json(client):
    response = client.get(BATCH_URL)
    assert response.status_code == 405
    assert response.json()["error"].startswith("method not allowed")


def test_an_unknown_v1_path_is_a_json_404(client):
    response = client.post("/v1/nothing-here")
    assert response.status_code == 404
    assert "error" in response.json()


def test_batch_context_merges_into_each_message(client, ingest_key, acme):
    message = track(context={"library": {"name": "x"}})  # no groupId of its own
    response = post(
        client, BATCH_URL, {"batch": [message], "context": {"groupId": "acme"}}, key=ingest_key
    )
    assert response.status_code == 200
    assert UsageEvent.objects.get().account == acme


def test_a_group_call_links_the_user_for_later_messages(client, ingest_key, acme):
    AccountFactory(external_id="other")
    batch = [
        {"type": "group", "userId": "u7", "groupId": "other", "messageId": "g0"},
        {"type": "group", "userId": "u7", "groupId": "acme", "messageId": "g1"},
        track("m1", userId="u7", context={}),
    ]
    assert post(client, BATCH_URL, {"batch": batch}, key=ingest_key).status_code == 200
    assert UsageEvent.objects.get().account == acme
    assert SegmentUserLink.objects.get(user="u7").account == acme
    # The link is kept for later requests too, and reaches an alias.
    alias = {"type": "alias", "userId": "u8", "previousId": "u7"}
    later = [alias, track("m2", userId="u8", context={})]
    post(client, BATCH_URL, {"batch": later}, key=ingest_key)
    assert UsageEvent.objects.get(event_id="m2").account == acme


def test_an_anonymous_user_is_the_user_when_there_is_no_user_id(client, ingest_key, acme):
    message = track(userId=None, anonymousId="anon-1")
    post(client, BATCH_URL, {"batch": [message]}, key=ingest_key)
    assert UsageEvent.objects.get().user == "anon-1"


def test_identify_with_an_email_upserts_a_contact_of_the_account(client, ingest_key, acme):
    identify = {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "Pat@Acme.example", "firstName": "Pat", "lastName": "Lee"},
        "context": {"groupId": "acme"},
    }
    post(client, BATCH_URL, {"batch": [identify]}, key=ingest_key)
    identify["traits"]["name"] = "Patricia Lee"
    post(client, BATCH_URL, {"batch": [identify]}, key=ingest_key)
    contact = Contact.objects.get(account=acme)
    assert (contact.email, contact.name) == ("pat@acme.example", "Patricia Lee")


def test_identify_takes_the_contacts_language_from_the_locale(client, ingest_key, acme):
    identify = {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "li.na@acme.example", "name": "李娜"},
        "context": {"groupId": "acme", "locale": "zh-CN"},
    }
    post(client, BATCH_URL, {"batch": [identify]}, key=ingest_key)
    assert Contact.objects.get(account=acme).language == "zh-hans"
    identify["context"] = {"groupId": "acme", "locale": "fr-FR"}  # not one of ours: kept
    post(client, BATCH_URL, {"batch": [identify]}, key=ingest_key)
    assert Contact.objects.get(account=acme).language == "zh-hans"
    identify["context"] = {"groupId": "acme", "locale": "en_US"}
    post(client, BATCH_URL, {"batch": [identify]}, key=ingest_key)
    assert Contact.objects.get(account=acme).language == "en"


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        (track(context={"groupId": "nope"}), "unknown_account"),
        ({"type": "group", "userId": "u1", "groupId": "nope"}, "unknown_account"),
        (track(context={}, userId="stranger"), "no_account"),
        (
            {
                "type": "identify",
                "userId": "u1",
                "traits": {"email": "a@b.example"},
                "context": {"groupId": "nope"},
            },
            "unknown_account",
        ),
        (track(userId=None), "no_user"),
        (track(timestamp="yesterday"), "bad_timestamp"),
        (track(timestamp="2026-11-23T10:00:00"), "bad_timestamp"),
        (track(timestamp="2026-12-25T10:00:00Z"), "bad_timestamp"),
        (track(event=None), "invalid_message"),
        ({"type": "unknown"}, "invalid_message"),
        ("not an object", "invalid_message"),
        (
            {
                "type": "identify",
                "userId": "u1",
                "traits": {"email": "nope"},
                "context": {"groupId": "acme"},
            },
            "bad_email",
        ),
    ],
)
def test_a_message_that_cannot_be_stored_is_a_warning_and_the_answer_still_200(
    client, ingest_key, acme, message, cause
):
    response = post(client, BATCH_URL, {"batch": [message, track("ok")]}, key=ingest_key)
    assert response.status_code == 200
    warning = IngestionWarning.objects.get()
    assert (warning.source, warning.cause) == ("segment", cause)
    assert warning.example == message
    assert IngestionWarningDay.objects.get().count == 1
    assert list(UsageEvent.objects.values_list("event_id", flat=True)) == ["ok"]


def test_original_timestamp_is_corrected_by_sent_at(client, ingest_key, acme):
    # The sender's clock is 1 hour fast: it says it sent at 13:00 what we receive at 12:00.
    message = track(timestamp=None, originalTimestamp="2026-11-23T12:30:00+00:00")
    payload = {"batch": [message], "sentAt": "2026-11-23T13:00:00Z"}
    post(client, BATCH_URL, payload, key=ingest_key)
    assert UsageEvent.objects.get().timestamp == datetime(2026, 11, 23, 11, 30, tzinfo=UTC)


def test_timestamp_wins_over_original_timestamp(client, ingest_key, acme):
    message = track(originalTimestamp="2026-11-23T01:00:00Z")
    post(client, BATCH_URL, {"batch": [message], "sentAt": "2026-11-23T13:00:00Z"}, key=ingest_key)
    assert UsageEvent.objects.get().timestamp == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_without_any_time_the_receive_time_is_the_event_time(client, ingest_key, acme):
    post(client, BATCH_URL, {"batch": [track(timestamp=None)]}, key=ingest_key)
    assert UsageEvent.objects.get().timestamp == NOW


def test_a_message_without_message_id_is_still_stored_once(client, ingest_key, acme):
    message = track(messageId=None)
    post(client, BATCH_URL, {"batch": [message]}, key=ingest_key)
    post(client, BATCH_URL, {"batch": [message]}, key=ingest_key)
    assert UsageEvent.objects.count() == 1


def test_login_and_payment_events_keep_their_names(client, ingest_key, acme):
    batch = [track(f"m-{name}", event=name) for name in ("login", "payment_failed")]
    post(client, BATCH_URL, {"batch": batch}, key=ingest_key)
    assert set(UsageEvent.objects.values_list("event", flat=True)) == {"login", "payment_failed"}


def test_warnings_keep_only_the_latest_examples_but_count_all(db):
    for n in range(ingestion_warnings.KEEP_EXAMPLES + 5):
        ingestion_warnings.record_ingestion_warning(
            source="segment", cause="no_user", message=f"m{n}"
        )
    assert IngestionWarning.objects.count() == ingestion_warnings.KEEP_EXAMPLES
    assert IngestionWarning.objects.first().message == f"m{ingestion_warnings.KEEP_EXAMPLES + 4}"
    assert IngestionWarningDay.objects.get().count == ingestion_warnings.KEEP_EXAMPLES + 5


def test_a_timestamp_a_day_ahead_is_refused_but_sent_at_skew_is_fine(client, ingest_key, acme):
    message = track(timestamp=None, originalTimestamp="2026-11-25T12:00:00Z")
    post(client, BATCH_URL, {"batch": [message], "sentAt": "2026-11-25T12:00:00Z"}, key=ingest_key)
    assert UsageEvent.objects.get().timestamp == NOW
    assert not IngestionWarning.objects.exists()
    assert NOW - UsageEvent.objects.get().timestamp < timedelta(seconds=1)
