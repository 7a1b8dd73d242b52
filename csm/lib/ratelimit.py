"""Rate limits: a fixed one-minute window per key, counted in the cache (Redis when there is one).
A burst of up to twice the limit across a window boundary is possible, which is fine for abuse
protection. When the cache is down the request is served: the limit protects the service, it
must not take it down."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from csm.lib.http import client_ip

log = logging.getLogger(__name__)


def seconds_over_limit(key: str, limit: int) -> int | None:
    """Count one request for `key` in this minute; the seconds until the next window when that
    makes more than `limit`, else None (also when `limit` is 0, which turns the limit off)."""
    if not limit:
        return None
    now = time.time()
    window = int(now // 60)
    cache_key = f"rate:{key}:{window}"
    try:
        cache.add(cache_key, 0, timeout=120)
        count = cache.incr(cache_key)
    except Exception:  # a cache outage, or the window's key expired between add and incr
        log.warning("rate limit %s not checked: cache unavailable", key, exc_info=True)
        return None
    if count <= limit:
        return None
    return max(1, int((window + 1) * 60 - now))


def public_page_wait(request: HttpRequest, page: str) -> int | None:
    """The public pages (survey answers, blueprints; no login): the seconds this client address
    must wait when it asked for `page` more than SURVEY_RATE_LIMIT_PER_MINUTE times this minute,
    else None."""
    key = f"{page}:{client_ip(request)}"
    return seconds_over_limit(key, settings.SURVEY_RATE_LIMIT_PER_MINUTE)
