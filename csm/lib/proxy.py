"""Behind the compose file's nginx (deploy/nginx.conf), every request comes from nginx's address;
nginx writes the client's address into X-Real-IP. With BEHIND_PROXY=true the app takes it from
there, so per-address limits (the survey pages') count each client, not the proxy."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ClientAddressFromProxyMiddleware:
    """REMOTE_ADDR := X-Real-IP when BEHIND_PROXY is on. Only then: without a proxy that
    overwrites the header, any client could claim any address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.BEHIND_PROXY:
            address = request.META.get("HTTP_X_REAL_IP", "").strip()
            if address:
                request.META["REMOTE_ADDR"] = address
        return self.get_response(request)
