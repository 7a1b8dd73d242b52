"""The Stripe-Signature scheme of csm.lib.stripe_signature agrees with Stripe's own library: what
the library signs we accept, what we sign the library accepts, and both refuse the same fakes."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
import stripe

from csm.lib.stripe_signature import SignatureError, stripe_signature, verify_stripe_signature

SECRET = "whsec_test_secret_one"
OTHER = "whsec_test_secret_two"
PAYLOAD = b'{"id": "evt_1", "object": "event", "type": "customer.created", "name": "Zo\xc3\xab"}'


def our_header(payload: bytes, secret: str, timestamp: int) -> str:
    return f"t={timestamp},v1={stripe_signature(payload, secret, timestamp)}"


def library_accepts(payload: bytes, header: str, secret: str) -> bool:
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=300)
    except stripe.SignatureVerificationError:
        return False
    return True


def we_accept(payload: bytes, header: str, secrets: list[str]) -> bool:
    try:
        verify_stripe_signature(payload, header, secrets)
    except SignatureError:
        return False
    return True


def test_the_library_accepts_what_we_sign():
    now = int(time.time())
    header = our_header(PAYLOAD, SECRET, now)
    assert library_accepts(PAYLOAD, header, SECRET)
    event = stripe.Webhook.construct_event(PAYLOAD, header, SECRET)
    assert event["id"] == "evt_1"


def test_we_accept_what_the_library_signs():
    header = stripe.WebhookSignature.generate_signature_header(PAYLOAD.decode(), SECRET)
    assert verify_stripe_signature(PAYLOAD, header, [SECRET]) == int(header[2:].split(",")[0])


def test_the_signature_is_the_hmac_of_the_timestamp_dot_body():
    signed = b"1700000000." + PAYLOAD
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert stripe_signature(PAYLOAD, SECRET, 1700000000) == expected


def test_one_matching_signature_among_several_is_enough():
    """Stripe sends one v1 per active secret while the endpoint's secret is rolled."""
    now = int(time.time())
    header = f"t={now},v1={stripe_signature(PAYLOAD, OTHER, now)},v1=" + stripe_signature(
        PAYLOAD, SECRET, now
    )
    header += ",v0=deadbeef"
    assert we_accept(PAYLOAD, header, [SECRET])
    assert library_accepts(PAYLOAD, header, SECRET)


def test_any_of_several_secrets_is_enough():
    now = int(time.time())
    header = our_header(PAYLOAD, OTHER, now)
    assert we_accept(PAYLOAD, header, [SECRET, OTHER])
    assert not we_accept(PAYLOAD, header, [SECRET])


def other_last_digit(header: str) -> str:
    """The header with its signature's last hex digit changed (to another digit, always)."""
    return header[:-1] + ("1" if header[-1] == "0" else "0")


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda now: our_header(PAYLOAD, "whsec_wrong", now), id="wrong secret"),
        pytest.param(lambda now: our_header(PAYLOAD + b" ", SECRET, now), id="other body"),
        pytest.param(lambda now: our_header(PAYLOAD, SECRET, now - 301), id="stale"),
        pytest.param(
            lambda now: other_last_digit(our_header(PAYLOAD, SECRET, now)), id="one digit"
        ),
        pytest.param(
            lambda now: f"t={now},v0={stripe_signature(PAYLOAD, SECRET, now)}", id="only v0"
        ),
        pytest.param(lambda now: f"v1={stripe_signature(PAYLOAD, SECRET, now)}", id="no timestamp"),
        pytest.param(
            lambda now: our_header(PAYLOAD, SECRET, now).replace(f"t={now}", f"t={now - 1}"),
            id="other timestamp",
        ),
    ],
)
def test_we_and_the_library_refuse_the_same_fakes(forge):
    header = forge(int(time.time()))
    assert not we_accept(PAYLOAD, header, [SECRET])
    assert not library_accepts(PAYLOAD, header, SECRET)


def test_a_signature_from_too_far_ahead_is_refused_too():
    """The library checks only for old timestamps; we allow the same 300 s either way."""
    header = our_header(PAYLOAD, SECRET, int(time.time()) + 400)
    with pytest.raises(SignatureError, match="300 seconds"):
        verify_stripe_signature(PAYLOAD, header, [SECRET])


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "garbage", "t=,v1="])
def test_a_malformed_header_is_refused_with_a_reason(header):
    with pytest.raises(SignatureError, match="Stripe-Signature"):
        verify_stripe_signature(PAYLOAD, header, [SECRET])
