"""Small request helpers every page uses: the htmx partial a view renders, and a safe way back."""

from __future__ import annotations

from typing import Any

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
