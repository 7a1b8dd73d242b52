"""What every REST API endpoint shares: the key check with scopes, the house error format and the
common schemas.

- Auth: `Authorization: Bearer <key>`, the same keys and checks as the events API
  (health.api.authenticate and check_key): 401 missing/unknown/revoked, 403 a key without the
  scope (read for GETs, write for writes), 429 over the rate limit.
- Errors are JSON `{"error": "<message>"}`; a request whose fields are wrong gets 422 with
  `{"error": "field: problem; …", "errors": [{"field": "…", "error": "…"}]}`, whether pydantic
  (types) or the domain's rules (the imports' checks, model validation) refused it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Schema
from ninja.security.http import HttpBearer
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

from health.api import authenticate, check_key
from health.models import ApiKey, ApiScope

# The most a list answers at once, and its default.
MAX_LIMIT = 500
DEFAULT_LIMIT = 100


class Refused(Exception):
    """An answer decided before the endpoint ran (auth, scope, rate limit)."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


class FieldErrors(Exception):
    """The request's fields break the domain's rules: (field, problem) pairs, answered 422."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in self.errors))


class ApiKeyAuth(HttpBearer):
    """A bearer API key that has `scope` (documented as HTTP bearer in the schema)."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> ApiKey:
        api_key = authenticate(request)
        if isinstance(api_key, JsonResponse):
            raise Refused(api_key)
        refused = check_key(api_key, (self.scope,))
        if refused is not None:
            raise Refused(refused)
        return api_key

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        raise NotImplementedError  # __call__ does it all, with the events API's checks


READ = ApiKeyAuth(ApiScope.READ)
WRITE = ApiKeyAuth(ApiScope.WRITE)


def field_errors_response(errors: list[tuple[str, str]]) -> JsonResponse:
    return JsonResponse(
        {
            "error": "; ".join(f"{field}: {problem}" for field, problem in errors),
            "errors": [{"field": field, "error": problem} for field, problem in errors],
        },
        status=422,
    )


def django_field_errors(exc: DjangoValidationError) -> list[tuple[str, str]]:
    """A model ValidationError as (field, problem) pairs."""
    if hasattr(exc, "error_dict"):
        return [
            (field, " ".join(str(message) for message in messages))
            for field, messages in exc.message_dict.items()
        ]
    return [("body", " ".join(str(message) for message in exc.messages))]


def pydantic_field_errors(errors: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """ninja's validation errors (`loc` like ["body", "payload", "name"]) as (field, problem)."""
    pairs = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header"):
            where, rest = loc[0], loc[1:]
            if where in ("body", "query") and rest and rest[0] in ("payload", "filters"):
                rest = rest[1:]
            field = ".".join(rest) or where
        else:
            field = ".".join(loc) or "body"
        message = str(error.get("msg", "invalid"))
        pairs.append((field, message[0].lower() + message[1:] if message else "invalid"))
    return pairs


# --- Shared schemas ------------------------------------------------------------------------------


def _storable(value: str) -> str:
    """Refuse what no column can hold: NUL (PostgreSQL) and lone surrogates (from JSON escapes)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text") from None
    return value


# Every text the API takes in: storable as it is.
Text = Annotated[str, AfterValidator(_storable)]


def _iso_date(value: object) -> object:
    # pydantic alone would also read a number as a Unix time.
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError("not a date (YYYY-MM-DD)")
    return value


def _iso_datetime(value: object) -> object:
    if not isinstance(value, str) or not ISO_DATE.match(value):
        raise ValueError("not an ISO-8601 date and time")
    return value


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A day written YYYY-MM-DD, and a moment in ISO-8601 with a UTC offset.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]


class ErrorOut(Schema):
    error: str


class FieldErrorOut(Schema):
    field: str
    error: str


class ValidationErrorOut(Schema):
    error: str
    errors: list[FieldErrorOut]


class Page(Schema):
    """A list's paging: every list answers {"count": <matching>, "items": [...]}."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="at most this many items")
    offset: int = Field(0, ge=0, le=10**9, description="skip this many items first")

    def of(self, rows: QuerySet[Any], out: Callable[[Any], Any]) -> dict[str, Any]:
        # list(): the page is read once; the count is its own query.
        page = list(rows[self.offset : self.offset + self.limit])
        return {"count": rows.count(), "items": [out(row) for row in page]}


class AccountRowsPage(Page):
    """Paging of rows that hang off an account, filtered by its external id."""

    account: Text | None = Field(None, description="an account's external_id")

    def rows_of(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        return rows if self.account is None else rows.filter(account__external_id=self.account)


# Every operation may answer these: a body that is not JSON (400), the key checks (401, 403,
# 429), fields that break the schema or the domain's rules (422).
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    422: ValidationErrorOut,
    429: ErrorOut,
}
WITH_404 = {**ERRORS, 404: ErrorOut}
