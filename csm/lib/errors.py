"""The site's error views (csm/urls.py's handler400/403/404/500): JSON for the API's paths, as
the API's own errors are (DESIGN §8: every API error is JSON, a 500 included), Django's pages
everywhere else. An API client parsing the body of a failed request gets `{"error": "…"}`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

# Paths whose clients are programs, not people.
# /v1/ is the Segment-compatible tracking API (health.segment_api), /hooks/ the Stripe webhook.
API_PATH_PREFIXES = ("/api/", "/hooks/", "/v1/")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PATH_PREFIXES)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": "bad request"}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": "forbidden"}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": "not found: no API endpoint at this path"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django logged the exception (logger django.request) before calling this."""
    if _is_api(request):
        return JsonResponse(
            {"error": "internal server error; the request may be retried"}, status=500
        )
    return defaults.server_error(request)
