"""Stripe's webhook signature (the `Stripe-Signature` header), checked without Stripe's library.

The header reads `t=<unix time>,v1=<hex>[,v1=<hex>…][,v0=…]`; a `v1` is the HMAC-SHA256, keyed
with the endpoint's signing secret (`whsec_…`, used as it is written), of `"<t>.<raw body>"`. A
delivery is genuine when one of its `v1` signatures matches one of the secrets (several during a
rotation) and `t` is within the tolerance of our clock, either way. tests/test_stripe_signature.py
cross-checks this with the official library.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """Why a delivery's signature is refused (said in the 400's body)."""


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The `v1` signature of `payload` sent at `timestamp`."""
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify_stripe_signature(
    payload: bytes,
    header: str,
    secrets: Sequence[str],
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """The delivery's timestamp when `header` signs `payload` with one of `secrets`; else
    SignatureError."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _equals, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("Stripe-Signature: t is not a Unix timestamp") from None
        elif name == "v1":
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("Stripe-Signature: missing or without a timestamp (t=…)")
    if not signatures:
        raise SignatureError("Stripe-Signature: no v1 signature")
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureError(
            f"Stripe-Signature: the timestamp is more than {tolerance} seconds from our clock"
        )
    expected = [stripe_signature(payload, secret, timestamp) for secret in secrets]
    if not any(
        hmac.compare_digest(candidate.encode(), signature.encode())
        for candidate in expected
        for signature in signatures
    ):
        raise SignatureError("Stripe-Signature: no signature matches the endpoint's secret")
    return timestamp
