"""Middleware that turns away requests no view should see."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse


class RefuseNulInPathMiddleware:
    """404 for a path holding a NUL byte (`/accounts/%00/`): no route of this site has one, and
    PostgreSQL refuses NUL in text, so a lookup by such a segment (an account's external id, a
    token, an admin object id) would raise and answer 500. One check here covers every route,
    those added later too (tests/test_nul_in_url.py tries them all)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            raise Http404("NUL byte in the path")
        return self.get_response(request)
