"""Segment's HTTP tracking API: `POST /v1/batch|track|identify|group|page|screen|alias`, so the
official Segment and RudderStack clients work unchanged when their host is this app's URL.
What the messages mean is health.segment's; this module is the HTTP side:

- auth: the write key is an ingest API key, as HTTP Basic user (empty password) or `writeKey` in
  the body; 401 when missing, unknown or revoked; the events API's rate limit per key (429);
- the body may be gzip-encoded (`Content-Encoding: gzip`); limits apply to the decompressed body,
  which is never inflated beyond them (a gzip bomb costs at most MAX_BATCH_BYTES + 1 of memory):
  a single call or one message of a batch over MAX_MESSAGE_BYTES → 400 (as Segment answers), a
  batch over MAX_BATCH_BYTES → 413; a body that is not JSON or not an object → 400;
- batch-level `context` and `integrations` merge into each message (the message's keys win);
- success is exactly 200 `{"success": true}`; messages that cannot be stored are ingestion
  warnings, not errors (clients ignore the body and would otherwise retry forever).

Every error is JSON `{"error": "…"}`. Key-authenticated, so CSRF-exempt; no session is used.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from health.api import active_api_key, check_key
from health.models import ApiKey, ApiScope
from health.segment import MESSAGE_TYPES, process_messages

# Segment's limits: 32 KB a call or a message of a batch, 500 KB a batch.
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
ENDPOINTS = ("batch", *MESSAGE_TYPES)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, headers=headers)


class _BadBody(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _read_body(request: HttpRequest, limit: int, too_large: int) -> bytes:
    """The decompressed body, at most `limit` bytes (else _BadBody with `too_large`)."""
    over = _BadBody(too_large, f"the body is larger than {limit} bytes once decompressed")
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise _BadBody(400, f"Content-Encoding: {encoding} is not supported; use gzip")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise _BadBody(400, "the Content-Length header is not a number") from None
    # Compressed JSON is smaller than the JSON; twice the limit is generous for gzip's overhead.
    raw_limit = limit if encoding == "identity" else 2 * limit
    if declared > raw_limit:
        raise over
    raw = request.read(raw_limit + 1)
    if len(raw) > raw_limit:
        raise over
    if encoding == "identity":
        return raw
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise _BadBody(400, "the body is not valid gzip") from None
    if len(body) > limit:
        raise over
    if not inflater.eof:
        raise _BadBody(400, "the gzip body is truncated")
    return body


def _write_key(request: HttpRequest, payload: dict[str, Any]) -> str:
    scheme, _space, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and credentials.strip():
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[0]
    key = payload.get("writeKey")
    return key if isinstance(key, str) else ""


def _authenticate(request: HttpRequest, payload: dict[str, Any]) -> ApiKey | JsonResponse:
    challenge = {"WWW-Authenticate": 'Basic realm="segment"'}
    key = _write_key(request, payload).strip()
    if not key:
        message = "missing write key: send it as the HTTP Basic user, or as writeKey in the body"
        return _error(401, message, challenge)
    api_key = active_api_key(key)
    if isinstance(api_key, str):
        return _error(401, api_key, challenge)
    return check_key(api_key, (ApiScope.INGEST,)) or api_key


def _merge(batch: dict[str, Any], message: object) -> object:
    """The message with the batch's context and integrations under its own."""
    if not isinstance(message, dict):
        return message
    for name in ("context", "integrations"):
        shared = batch.get(name)
        if isinstance(shared, dict) and shared:
            own = message.get(name)
            message[name] = {**shared, **(own if isinstance(own, dict) else {})}
    return message


@csrf_exempt
def receive(request: HttpRequest, endpoint: str) -> HttpResponse:
    """One of ENDPOINTS (the URL names it): `batch` takes `{"batch": [...]}`, the others one
    message of that type."""
    if request.method != "POST":
        return _error(405, "method not allowed: use POST", {"Allow": "POST"})
    received_at = timezone.now()
    is_batch = endpoint == "batch"
    limit = MAX_BATCH_BYTES if is_batch else MAX_MESSAGE_BYTES
    try:
        body = _read_body(request, limit, too_large=413 if is_batch else 400)
    except _BadBody as bad:
        return _error(bad.status, str(bad))
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _error(400, "the body is not valid JSON")
    if not isinstance(payload, dict):
        return _error(400, "the body must be a JSON object")

    api_key = _authenticate(request, payload)
    if isinstance(api_key, JsonResponse):
        return api_key

    if is_batch:
        messages = payload.get("batch")
        if not isinstance(messages, list):
            return _error(400, 'batch: the body must be {"batch": [messages]}')
        # A body within 32 KB cannot hold a message over it: measure messages only otherwise.
        for index, message in enumerate(messages if len(body) > MAX_MESSAGE_BYTES else ()):
            size = len(json.dumps(message, separators=(",", ":")).encode())
            if size > MAX_MESSAGE_BYTES:
                return _error(
                    400, f"batch[{index}]: the message is larger than {MAX_MESSAGE_BYTES} bytes"
                )
        messages = [_merge(payload, message) for message in messages]
        sent_at = payload.get("sentAt")
    else:
        payload["type"] = endpoint  # the path says what the call is
        payload.pop("writeKey", None)
        messages = [payload]
        sent_at = payload.get("sentAt")
    process_messages(messages, sent_at=sent_at, received_at=received_at)
    return JsonResponse({"success": True})
