"""A NUL byte in a URL (/accounts/%00/) is a 404, never a 500: PostgreSQL refuses NUL in text, so
a lookup by it raised before csm.lib.request_guards answered first. Every route with a free-text
segment (account external ids, tokens, admin object ids, …) is found from the URLconf and tried,
so a route added later is covered too."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import PathConverter, StringConverter

from health.services_keys import create_api_key
from tests.factories import AccountFactory


def routes(resolver=None, prefix=""):
    """(route, converters) of every path() in the URLconf, includes expanded."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = getattr(entry.pattern, "_route", None)
        if route is None:  # a regex pattern (admin's app index): no free-text segment
            continue
        if isinstance(entry, URLResolver):
            yield from routes(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            yield prefix + route, entry.pattern.converters


def with_nul_segments():
    """Every route with a str or path segment, written with %00 there and 1 in int segments."""
    found = set()
    for route, converters in routes():
        free_text = {
            name
            for name, converter in converters.items()
            if isinstance(converter, StringConverter | PathConverter)
        }
        if free_text:
            parts = re.split(r"<(?:\w+:)?(\w+)>", route)
            # re.split keeps the captured names at the odd positions.
            found.add(
                "/"
                + "".join(
                    ("%00" if part in free_text else "1") if i % 2 else part
                    for i, part in enumerate(parts)
                )
            )
    return sorted(found)


URLS = with_nul_segments()


def test_the_routes_with_free_text_segments_are_found():
    # The routes this file exists for, so a change to the discovery cannot empty the list.
    for url in [
        "/accounts/%00/",
        "/accounts/%00/edit/",
        "/accounts/%00/timeline/",
        "/api/v1/accounts/%00/health",
        "/s/%00/",
        "/b/%00/",
        "/settings/blueprints/%00/",
        "/admin/accounts/account/%00/change/",
    ]:
        assert url in URLS
    assert len(URLS) >= 15


def test_a_nul_byte_in_any_segment_is_a_404(maggie, client):
    """GET and POST, as a manager (every page lets them in) with a working API key, so no login,
    role or key check answers first; one test, so the database is set up once for all."""
    AccountFactory(external_id="acme", owner=maggie)
    client.force_login(maggie)
    client.raise_request_exception = False
    headers = {"Authorization": f"Bearer {create_api_key(name='product', actor=None).key}"}

    answers = {
        (method, url): getattr(client, method)(url, headers=headers).status_code
        for url in URLS
        for method in ("get", "post")
    }

    assert {request: status for request, status in answers.items() if status != 404} == {}


def test_a_nul_byte_anywhere_in_the_path_is_a_404(client):
    assert client.get("/login/%00").status_code == 404
    assert client.get("/%00/").status_code == 404


def test_other_addresses_still_answer(maggie, client):
    AccountFactory(external_id="acme", owner=maggie)
    client.force_login(maggie)
    assert client.get("/accounts/acme/").status_code == 200
