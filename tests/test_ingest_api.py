"""The JSON API (DESIGN §5): POST /api/v1/events and GET /api/v1/accounts/<external_id>/health."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from health.models import ApiKey, UsageEvent
from health.services_keys import create_api_key
from tests.factories import AccountFactory, HealthScoreFactory

EVENTS_URL = reverse("health:events")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def key(db) -> str:
    return create_api_key(name="product", actor=None).key


@pytest.fixture
def acme(db):
    return AccountFactory(external_id="acme")


def event(n: int = 1, **fields) -> dict:
    return {
        "id": f"evt-{n}",
        "account": "acme",
        "user": "ann@acme.example",
        "event": "login",
        "timestamp": "2026-11-23T09:30:00+00:00",
        **fields,
    }


def post(client, body, key: str | None, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(
        EVENTS_URL, data=data, content_type="application/json", headers=headers, **extra
    )


def errors_of(client, key: str, *events) -> list[dict]:
    response = post(client, {"events": list(events)}, key)
    assert response.status_code == 200
    return response.json()["errors"]


# --- 200 -----------------------------------------------------------------------------------------


def test_valid_events_are_stored_and_counted(client, key, acme):
    response = post(
        client,
        {
            "events": [
                event(1, properties={"plan": "pro", "seats": [1, 2], "é": None}),
                event(2, event="report.export", timestamp="2026-11-22T23:15:00.250+02:00"),
            ]
        },
        key,
    )
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "errors": []}
    first, second = UsageEvent.objects.order_by("event_id")
    assert (first.account, first.user, first.event) == (acme, "ann@acme.example", "login")
    assert first.timestamp == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert first.day == date(2026, 11, 23)
    assert first.properties == {"plan": "pro", "seats": [1, 2], "é": None}
    # Stored in UTC, so the same instant whatever offset the sender used.
    assert second.timestamp == datetime(2026, 11, 22, 21, 15, 0, 250000, tzinfo=UTC)
    assert second.properties is None and second.event == "report.export"


def test_user_and_properties_are_optional_and_null_means_none(client, key, acme):
    bare = {k: v for k, v in event(1).items() if k != "user"}
    response = post(client, {"events": [bare, event(2, user=None, properties=None)]}, key)
    assert response.json() == {"accepted": 2, "duplicates": 0, "errors": []}
    assert list(UsageEvent.objects.values_list("user", "properties")) == [("", None), ("", None)]


def test_a_z_suffix_means_utc(client, key, acme):
    post(client, {"events": [event(timestamp="2026-11-23T08:00:00Z")]}, key)
    assert UsageEvent.objects.get().timestamp == datetime(2026, 11, 23, 8, tzinfo=UTC)


def test_the_day_is_the_timestamps_date_in_the_installations_time_zone(client, key, acme, settings):
    settings.TIME_ZONE = "America/New_York"
    # 02:00 UTC on the 20th is still the evening of the 19th in New York.
    post(client, {"events": [event(timestamp="2026-11-20T02:00:00+00:00")]}, key)
    assert UsageEvent.objects.get().day == date(2026, 11, 19)


def test_text_with_quotes_backslashes_commas_and_braces_is_stored_exactly(client, key, db):
    # PostgreSQL gets each column as one array literal: no character may be lost in quoting.
    weird = 'a "b" \\c, {d} \\" NULL é 😀'
    AccountFactory(external_id=weird)
    events = [
        event(1, id=weird, account=weird, user=weird, event=weird, properties={weird: [weird]}),
        event(2, id="NULL", account=weird, user=""),
    ]
    assert post(client, {"events": events}, key).json()["accepted"] == 2
    stored = UsageEvent.objects.get(event_id=weird)
    assert (stored.account.external_id, stored.user, stored.event) == (weird, weird, weird)
    assert stored.properties == {weird: [weird]}
    assert UsageEvent.objects.get(event_id="NULL").user == ""


def test_an_empty_batch_is_fine(client, key):
    response = post(client, {"events": []}, key)
    assert response.json() == {"accepted": 0, "duplicates": 0, "errors": []}


def test_an_id_already_stored_is_a_duplicate_never_a_second_row(client, key, acme):
    post(client, {"events": [event(1), event(2)]}, key)
    response = post(client, {"events": [event(2, event="changed"), event(3)]}, key)
    assert response.json() == {"accepted": 1, "duplicates": 1, "errors": []}
    assert UsageEvent.objects.count() == 3
    assert UsageEvent.objects.get(event_id="evt-2").event == "login"  # the first one is kept


def test_a_repeated_id_within_a_batch_stores_the_first_occurrence(client, key, acme):
    response = post(
        client, {"events": [event(1, event="first"), event(1, event="second"), event(2)]}, key
    )
    assert response.json() == {"accepted": 2, "duplicates": 1, "errors": []}
    assert UsageEvent.objects.get(event_id="evt-1").event == "first"


def test_when_the_first_occurrence_of_an_id_is_invalid_a_valid_repeat_is_stored(client, key, acme):
    response = post(client, {"events": [event(1, timestamp="soon"), event(1)]}, key)
    assert response.json()["accepted"] == 1 and response.json()["duplicates"] == 0
    assert UsageEvent.objects.count() == 1


def test_valid_events_are_stored_when_others_in_the_batch_fail(client, key, acme):
    response = post(client, {"events": [event(1), event(2, account="nobody"), event(3)]}, key)
    assert response.json() == {
        "accepted": 2,
        "duplicates": 0,
        "errors": [{"index": 1, "error": "account: unknown account"}],
    }
    assert set(UsageEvent.objects.values_list("event_id", flat=True)) == {"evt-1", "evt-3"}


# --- Per-event errors ----------------------------------------------------------------------------

BAD_EVENTS = [
    pytest.param({"account": "nobody"}, "account: unknown account", id="unknown account"),
    pytest.param({"id": None}, "id: required", id="missing id"),
    pytest.param({"id": "  "}, "id: must not be blank", id="blank id"),
    pytest.param({"id": 42}, "id: must be a string", id="id not a string"),
    pytest.param({"id": "x" * 101}, "id: longer than 100 characters", id="id too long"),
    pytest.param({"account": ""}, "account: must not be blank", id="blank account"),
    pytest.param({"event": None}, "event: required", id="missing event"),
    pytest.param({"event": "e" * 101}, "event: longer than 100 characters", id="event too long"),
    pytest.param({"user": "u" * 201}, "user: longer than 200 characters", id="user too long"),
    pytest.param({"user": ["ann"]}, "user: must be a string", id="user not a string"),
    pytest.param({"timestamp": None}, "timestamp: required", id="missing timestamp"),
    pytest.param(
        {"timestamp": "yesterday"},
        "timestamp: not an ISO-8601 date and time",
        id="bad timestamp",
    ),
    pytest.param(
        {"timestamp": 1763900000}, "timestamp: must be an ISO-8601 string", id="epoch timestamp"
    ),
    pytest.param(
        {"timestamp": "2026-11-23T09:30:00"}, "timestamp: has no UTC offset", id="no offset"
    ),
    pytest.param({"timestamp": "2026-11-23"}, "timestamp: has no UTC offset", id="a date only"),
    pytest.param(
        {"timestamp": "2026-11-24T12:00:01+00:00"},
        "timestamp: more than 1 day in the future",
        id="more than a day ahead",
    ),
    pytest.param(
        {"timestamp": "0001-01-01T00:00:00+01:00"}, "timestamp: out of range", id="before year 1"
    ),
    pytest.param({"properties": [1, 2]}, "properties: must be an object", id="properties list"),
    pytest.param({"properties": "plan=pro"}, "properties: must be an object", id="properties str"),
    # What the databases cannot store is that event's error, never a 500 for the whole batch.
    pytest.param({"id": "a\x00b"}, "id: must not contain NUL characters", id="NUL in id"),
    pytest.param({"event": "\ud800"}, "event: not valid Unicode text", id="lone surrogate"),
    pytest.param(
        {"properties": {"note": "a\x00b"}},
        "properties: must not contain NUL characters",
        id="NUL in properties",
    ),
    pytest.param(
        {"properties": {"x": float("nan")}},
        "properties: numbers must be finite",
        id="NaN in properties",
    ),
]


@pytest.mark.parametrize(("fields", "error"), BAD_EVENTS)
def test_a_bad_event_gets_an_error_naming_the_field(client, key, acme, fields, error):
    # None leaves the field out. (json.dumps writes NaN as the bare word NaN, which the API's
    # parser reads back as a float.)
    bad = {k: v for k, v in event(2, **fields).items() if v is not None}
    response = post(client, {"events": [event(1), bad]}, key)
    assert response.status_code == 200
    assert response.json() == {
        "accepted": 1,
        "duplicates": 0,
        "errors": [{"index": 1, "error": error}],
    }
    assert list(UsageEvent.objects.values_list("event_id", flat=True)) == ["evt-1"]


def test_an_event_up_to_a_day_ahead_is_accepted(client, key, acme):
    ahead = (NOW + timedelta(days=1)).isoformat()
    assert errors_of(client, key, event(timestamp=ahead)) == []


def test_an_event_that_is_not_an_object_is_an_error(client, key, acme):
    errors = errors_of(client, key, "login", 7, None, [event()])
    assert [error["error"] for error in errors] == ["not a JSON object"] * 4
    assert [error["index"] for error in errors] == [0, 1, 2, 3]


def test_every_problem_of_an_event_is_listed(client, key, acme):
    errors = errors_of(client, key, {"id": "", "timestamp": "2026-11-23T09:30:00"})
    assert errors == [
        {
            "index": 0,
            "error": "id: must not be blank; account: required; event: required; "
            "timestamp: has no UTC offset",
        }
    ]


def test_an_escaped_backslash_before_u0000_is_not_a_nul(client, key, acme):
    # The text \u0000 (a backslash and five characters) is fine; only a real NUL is refused.
    assert errors_of(client, key, event(properties={"path": "C:\\u0000"})) == []
    assert UsageEvent.objects.get().properties == {"path": "C:\\u0000"}


def test_errors_come_in_index_order(client, key, acme):
    errors = errors_of(client, key, event(1, account="nobody"), "x", event(3, id=""))
    assert [error["index"] for error in errors] == [0, 1, 2]


# --- 400 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"{not json", b'{"events": ["\xff"]}', b'{"events": [' * 5000 + b"]}" * 5000],
    ids=["empty", "not json", "not utf-8", "nested too deeply"],
)
def test_a_body_that_is_not_json_is_a_400(client, key, acme, body):
    response = post(client, body, key)
    assert response.status_code == 400
    assert response.json() == {"error": "the body is not valid JSON"}


@pytest.mark.parametrize(
    "body",
    [[event()], {"event": [event()]}, {"events": event()}, {"events": None}, "events"],
    ids=["a list", "misspelt key", "an object", "null", "a string"],
)
def test_a_body_that_is_not_an_events_object_is_a_400(client, key, acme, body):
    response = post(client, json.dumps(body), key)
    assert response.status_code == 400
    assert response.json() == {"error": 'the body must be a JSON object {"events": [...]}'}


def test_more_than_1000_events_is_a_400_and_stores_nothing(client, key, acme):
    response = post(client, {"events": [event(n) for n in range(1001)]}, key)
    assert response.status_code == 400
    assert "at most 1000" in response.json()["error"]
    assert UsageEvent.objects.count() == 0


def test_1000_events_are_fine(client, key, acme):
    response = post(client, {"events": [event(n) for n in range(1000)]}, key)
    assert response.json() == {"accepted": 1000, "duplicates": 0, "errors": []}
    assert UsageEvent.objects.count() == 1000


# --- 401 -----------------------------------------------------------------------------------------


def test_a_request_without_a_key_is_a_401(client, acme):
    response = post(client, {"events": [event()]}, None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "missing API key" in response.json()["error"]
    assert UsageEvent.objects.count() == 0


def test_a_key_sent_with_another_scheme_is_a_401(client, key, acme):
    response = client.post(
        EVENTS_URL,
        data=json.dumps({"events": [event()]}),
        content_type="application/json",
        headers={"Authorization": f"Basic {key}"},
    )
    assert response.status_code == 401


def test_an_unknown_key_is_a_401(client, key, acme):
    response = post(client, {"events": [event()]}, key + "x")
    assert response.status_code == 401
    assert response.json() == {"error": "unknown API key"}
    assert UsageEvent.objects.count() == 0


def test_a_revoked_key_is_a_401(client, key, acme):
    ApiKey.objects.update(revoked_at=timezone.now())
    response = post(client, {"events": [event()]}, key)
    assert response.status_code == 401
    assert response.json() == {"error": "this API key was revoked"}
    assert UsageEvent.objects.count() == 0


# --- 405 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_a_405(client, key, method):
    response = getattr(client, method)(EVENTS_URL, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"error": "method not allowed: use POST"}


# --- 413 -----------------------------------------------------------------------------------------


def body_of_size(size: int) -> bytes:
    """A valid one-event body padded with spaces to exactly `size` bytes."""
    body = json.dumps({"events": [event()]}).encode()
    return body + b" " * (size - len(body))


def test_a_body_of_exactly_1_mib_is_accepted(client, key, acme):
    response = post(client, body_of_size(MiB), key)
    assert response.status_code == 200 and response.json()["accepted"] == 1


def test_1000_events_of_almost_1_mib_are_accepted(client, key, acme):
    padding = "p" * 880
    events = [event(n, properties={"padding": padding}) for n in range(1000)]
    body = json.dumps({"events": events}).encode()
    assert 0.9 * MiB < len(body) <= MiB
    response = post(client, body, key)
    assert response.status_code == 200 and response.json()["accepted"] == 1000


@pytest.mark.parametrize("size", [MiB + 1, 2 * MiB, 3 * MiB], ids=["1 MiB + 1", "2 MiB", "3 MiB"])
def test_a_body_over_1_mib_is_a_413(client, key, acme, size):
    # 3 MiB is over Django's DATA_UPLOAD_MAX_MEMORY_SIZE too: the answer is still ours.
    response = post(client, body_of_size(size), key)
    assert response.status_code == 413
    assert "larger than 1048576 bytes" in response.json()["error"]
    assert UsageEvent.objects.count() == 0


def test_a_content_length_over_1_mib_is_a_413_before_reading(client, key, acme):
    response = post(client, {"events": [event()]}, key, CONTENT_LENGTH=str(MiB + 1))
    assert response.status_code == 413


def test_the_key_is_checked_before_the_size(client, acme):
    assert post(client, body_of_size(2 * MiB), "wrong").status_code == 401


# --- Key bookkeeping and rate limit --------------------------------------------------------------


def test_the_keys_last_use_is_written_at_most_once_a_minute(client, key, acme):
    post(client, {"events": []}, key)
    assert ApiKey.objects.get().last_used_at == NOW
    with time_machine.travel(NOW + timedelta(seconds=59), tick=False):
        post(client, {"events": []}, key)
    assert ApiKey.objects.get().last_used_at == NOW
    with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
        post(client, {"events": []}, key)
    assert ApiKey.objects.get().last_used_at == NOW + timedelta(seconds=61)


def test_a_batch_takes_the_same_few_queries_whatever_its_size(
    client, key, acme, django_assert_num_queries
):
    post(client, {"events": []}, key)  # sets last_used_at, so no UPDATE below
    AccountFactory(external_id="globex")
    # Key, the batch's accounts in one query, one INSERT … RETURNING inside a savepoint (create
    # and release: here the test's transaction is around it; PostgreSQL retries a deadlocked
    # INSERT from it); on SQLite the INSERT runs in chunks of 142 rows and the accounts are marked
    # dirty by one more INSERT (PostgreSQL marks them in the events' statement).
    chunks = 1 if connection.vendor == "postgresql" else 8 + 1
    savepoint = 2
    events = [event(n, account="acme" if n % 2 else "globex") for n in range(1000)]
    with django_assert_num_queries(2 + chunks + savepoint):
        response = post(client, {"events": events}, key)
    assert response.json()["accepted"] == 1000


def test_a_key_over_the_rate_limit_gets_a_429(client, key, acme, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    cache.clear()
    assert post(client, {"events": []}, key).status_code == 200
    assert post(client, {"events": []}, key).status_code == 200
    response = post(client, {"events": [event()]}, key)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"  # the clock is frozen at the start of a minute
    assert UsageEvent.objects.count() == 0
    other = create_api_key(name="other", actor=None).key  # counted per key
    assert post(client, {"events": []}, other).status_code == 200
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        assert post(client, {"events": []}, key).status_code == 200


# --- GET /api/v1/accounts/<external_id>/health ---------------------------------------------------


def health_url(external_id: str) -> str:
    return reverse("health:account_health", args=[external_id])


def test_the_health_endpoint_returns_the_latest_score(client, key, acme):
    HealthScoreFactory(account=acme, day=date(2026, 11, 21), score=40)
    HealthScoreFactory(account=acme, day=date(2026, 11, 22), score=80, trend_1=40)
    response = client.get(health_url("acme"), headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.json() == {
        "account": "acme",
        "date": "2026-11-22",
        "score": 80,
        "band": "green",
        "trend": {"1d": 40, "7d": None, "30d": None},
        "measures": [
            {"key": "active_days", "raw": 20, "score": 80, "weight": 25, "contribution": 80}
        ],
    }


def test_the_health_of_an_unknown_account_is_a_404(client, key):
    response = client.get(health_url("nobody"), headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404
    assert response.json() == {"error": "unknown account"}


def test_the_health_of_an_account_without_a_score_is_a_404(client, key, acme):
    response = client.get(health_url("acme"), headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404
    assert response.json() == {"error": "this account has no health score yet"}


def test_the_health_endpoint_needs_a_key_and_a_get(client, key, acme):
    HealthScoreFactory(account=acme)
    assert client.get(health_url("acme")).status_code == 401
    revoked = create_api_key(name="old", actor=None)
    ApiKey.objects.filter(pk=revoked.api_key.pk).update(revoked_at=timezone.now())
    headers = {"Authorization": f"Bearer {revoked.key}"}
    assert client.get(health_url("acme"), headers=headers).status_code == 401
    response = client.post(health_url("acme"), headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 405 and response["Allow"] == "GET"
