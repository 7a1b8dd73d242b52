"""Small request helpers every page uses: the htmx partial a view renders, a safe way back, and
the client's address (behind TRUSTED_PROXY_COUNT proxies)."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def partial_template(request: HttpRequest, name: str, partial: str) -> str:
    """`name#partial` for an htmx request that swaps a region (not a boosted page load), else the
    whole page: django-template-partials renders only that region."""
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted:
        return f"{name}#{partial}"
    return name


def next_url(request: HttpRequest, default: str) -> str:
    """Where a form goes back to: its `next` (POST, then GET) when that is a page of this site,
    else `default`. Never another host: an open redirect would let a link send a user anywhere."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def query_without(request: HttpRequest, *keys: str) -> str:
    """The page's query string without `keys` (e.g. "page"), for links that keep the filters."""
    query = request.GET.copy()
    for key in keys:
        query.pop(key, None)
    return query.urlencode()


def paged(request: HttpRequest, items: Any, per_page: int) -> tuple[Page, str]:
    """The list's page the request asks for (`?page=`; a bad number gives the first or last
    page), and the query string its pager keeps (the filters, without `page`)."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    return page, query_without(request, "page")


def client_ip(request: HttpRequest) -> str:
    """The address the request came from, for login throttling and the public pages' rate
    limits. With TRUSTED_PROXY_COUNT = n > 0 (n reverse proxies in front of the app, each
    appending the address it saw to X-Forwarded-For), the client is the n-th address from the
    right of that header: the entries left of it are whatever the client sent, so they are never
    trusted. Without proxies, or with a header too short or not an address: REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The email a login attempt is for, lower-cased: "Alice@…" and "alice@…" are one account to
    the login throttle (emails are stored lower-cased)."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    return username.strip().lower() if isinstance(username, str) else None
