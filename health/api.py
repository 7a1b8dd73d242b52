"""The JSON API (DESIGN §5), authenticated by `Authorization: Bearer <api key>`:

- `POST /api/v1/events` stores usage events through health.ingest;
- `GET /api/v1/accounts/<external_id>/health` returns an account's latest health score.

Every answer is JSON, errors included (`{"error": "…"}`): 400 bad body, 401 missing, unknown or
revoked key, 403 a key without the endpoint's scope, 404 unknown account or no score yet, 405
wrong method, 413 body over INGEST_MAX_BYTES, 429 over API_RATE_LIMIT_PER_MINUTE requests per key
and minute. The REST API (csm/api/) authenticates with the same functions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.models import Account
from csm.lib.ratelimit import seconds_over_limit
from health.ingest import ingest_events
from health.models import ApiKey, ApiScope, hash_api_key
from health.queries import health_payload, latest_score

log = logging.getLogger(__name__)

# last_used_at is for people ("was this key used this week?"): writing it at most once a minute
# keeps a busy sender from turning every request into an extra UPDATE.
LAST_USED_RESOLUTION = timedelta(minutes=1)

ApiView = Callable[..., HttpResponse]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, headers=headers)


def authenticate(request: HttpRequest) -> ApiKey | JsonResponse:
    """The request's active key, or the 401 to send."""
    scheme, _space, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    challenge = {"WWW-Authenticate": "Bearer"}
    if scheme.lower() != "bearer" or not key:
        return _error(
            401, "missing API key: send the header Authorization: Bearer <key>", challenge
        )
    api_key = active_api_key(key)
    if isinstance(api_key, str):
        return _error(401, api_key, challenge)
    return api_key


def active_api_key(key: str) -> ApiKey | str:
    """The active ApiKey of this key (its last use noted), or why it is refused: the one key check
    for the events API and the Segment endpoints (health.segment_api)."""
    try:
        api_key = ApiKey.objects.only(
            "pk", "hashed_key", "scopes", "last_used_at", "revoked_at"
        ).get(hashed_key=hash_api_key(key))
    except ApiKey.DoesNotExist:
        return "unknown API key"
    if not api_key.is_active:
        return "this API key was revoked"

    now = timezone.now()
    if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
        # Conditional, so concurrent requests of one key write it once.
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ApiKey.objects.filter(stale, pk=api_key.pk).update(last_used_at=now)
    return api_key


def rate_limit_response(api_key: ApiKey) -> JsonResponse | None:
    """The 429 to send when the key is over API_RATE_LIMIT_PER_MINUTE (csm.lib.ratelimit), else
    None. One budget per key, whichever endpoint (events API or Segment's) it calls."""
    limit = settings.API_RATE_LIMIT_PER_MINUTE
    retry_after = seconds_over_limit(f"api:{api_key.hashed_key[:16]}", limit)
    if retry_after is None:
        return None
    message = f"rate limit exceeded: at most {limit} requests per minute per key"
    return _error(429, message, {"Retry-After": str(retry_after)})


def check_key(api_key: ApiKey, scopes: tuple[str, ...]) -> JsonResponse | None:
    """The 403 (a key without any of `scopes`) or 429 (over the rate limit) to send, else None."""
    if not any(api_key.has_scope(scope) for scope in scopes):
        return _error(403, f"this API key lacks the {' or '.join(scopes)} scope")
    return rate_limit_response(api_key)


def api_view(method: str, *scopes: str) -> Callable[[ApiView], ApiView]:
    """Answer 405 to other methods, authenticate the key, check it has one of `scopes` and apply
    the rate limit; the view gets the ApiKey after the request. Key-authenticated, so exempt from
    CSRF (no cookies involved)."""

    def decorator(view: ApiView) -> ApiView:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != method:
                return _error(405, f"method not allowed: use {method}", {"Allow": method})
            api_key = authenticate(request)
            if isinstance(api_key, JsonResponse):
                return api_key
            refused = check_key(api_key, scopes)
            if refused is not None:
                return refused
            return view(request, api_key, *args, **kwargs)

        return wrapped

    return decorator


@api_view("POST", ApiScope.INGEST)
def events(request: HttpRequest, api_key: ApiKey) -> HttpResponse:
    """Store a batch of usage events; 200 with what was accepted even when some events fail."""
    max_bytes = settings.INGEST_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "the Content-Length header is not a number")
    too_large = f"the body is larger than {max_bytes} bytes; send fewer events per request"
    if declared > max_bytes:
        return _error(413, too_large)
    # Read the stream ourselves (not request.body), at most one byte over the limit: the size
    # rule is ours whatever DATA_UPLOAD_MAX_MEMORY_SIZE says, and what counts is the bytes
    # actually read, not only what the header claims.
    body = request.read(max_bytes + 1)
    if len(body) > max_bytes:
        return _error(413, too_large)

    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # ValueError covers bad UTF-8 and bad JSON
        return _error(400, "the body is not valid JSON")
    batch = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(batch, list):
        return _error(400, 'the body must be a JSON object {"events": [...]}')
    max_events = settings.INGEST_MAX_EVENTS
    if len(batch) > max_events:
        return _error(
            400, f"too many events: at most {max_events} per request, this one has {len(batch)}"
        )
    return JsonResponse(ingest_events(batch).as_json())


# Readable with an ingest key too, as it was before keys had scopes.
@api_view("GET", ApiScope.READ, ApiScope.INGEST)
def account_health(request: HttpRequest, api_key: ApiKey, external_id: str) -> HttpResponse:
    """The account's latest health score, as `manage.py health ACCOUNT --json` prints it."""
    account = Account.objects.filter(external_id=external_id).first()
    if account is None:
        return _error(404, "unknown account")
    score = latest_score(account)
    if score is None:
        return _error(404, "this account has no health score yet")
    return JsonResponse(health_payload(score))
