"""The NinjaAPI of /api/v1/: its routers, the house error format for every failure, and its URL
patterns (csm/urls.py includes `urls`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from csm.api import accounts, subscriptions, tasks, workflow
from csm.api.core import (
    FieldErrors,
    Refused,
    django_field_errors,
    field_errors_response,
    pydantic_field_errors,
)

api = NinjaAPI(
    title="CSM REST API",
    version="1",
    description=(
        "Accounts, contacts, subscriptions, touches, risk items, tasks and health. "
        "Authenticate with `Authorization: Bearer <API key>`; a key's scopes decide what it may "
        "do: read (GET), "
        'write (PUT/POST), ingest (the events endpoint). Errors are JSON: `{"error": "…"}`, '
        "and 422 adds `errors: [{field, error}]`. See docs/api.md."
    ),
    urls_namespace="api_v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
api.add_router("", accounts.router)
api.add_router("", subscriptions.router)
api.add_router("", workflow.router)
api.add_router("", tasks.router)


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@api.exception_handler(Refused)
def _refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    return exc.response


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(401, "missing API key: send the header Authorization: Bearer <key>")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(FieldErrors)
def _field_errors(request: HttpRequest, exc: FieldErrors) -> HttpResponse:
    return field_errors_response(exc.errors)


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return field_errors_response(pydantic_field_errors(exc.errors))


@api.exception_handler(DjangoValidationError)
def _model_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return field_errors_response(django_field_errors(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(404, str(exc) or "not found")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(exc.status_code, str(exc))


def _json_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """ninja answers a method a path lacks with a plain-text 405; the API's errors are JSON."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type", "").startswith("text/"):
            allowed = response.get("Allow", "")
            json_response = _error(405, f"method not allowed: use {allowed}")
            json_response["Allow"] = allowed
            return json_response
        return response

    return wrapped


def _urls() -> tuple[list[Any], str, str]:
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _json_405(pattern.callback)
    return patterns, app_name, namespace


# For path("api/v1/", urls) in csm/urls.py.
urls = _urls()
