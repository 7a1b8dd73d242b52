"""Touches (list, create through csm.workflow.touches.add_touch) and risk items (list, get).

The events API (`POST /api/v1/events`) and the health endpoint
(`GET /api/v1/accounts/{external_id}/health`) are served by health/api.py as they always were
(csm/urls.py routes those two paths there first); the operations below only describe them in
the schema, and answer exactly as those views do if they are ever reached through this API.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from accounts.models import Account
from csm.api.core import (
    ERRORS,
    READ,
    WITH_404,
    WRITE,
    AccountRowsPage,
    ErrorOut,
    FieldErrors,
    IsoDate,
    IsoDateTime,
    Text,
    django_field_errors,
)
from csm.workflow.models import RiskItem, Touch
from csm.workflow.reasons import reason_rows
from csm.workflow.touches import add_touch
from health import api as health_api

router = Router(tags=["touches and risk"])


# --- Touches -------------------------------------------------------------------------------------


class TouchOut(Schema):
    id: int
    account: str
    kind: str
    happened_at: datetime
    author_email: str | None
    summary: str
    outcome: str
    next_step: str
    next_step_due: date | None


class TouchList(Schema):
    count: int
    items: list[TouchOut]


class TouchFilters(AccountRowsPage):
    since: IsoDateTime | None = Field(None, description="touches at or after this time")


class TouchIn(Schema):
    account: Text = Field(description="the account's external_id")
    kind: Literal["call", "meeting", "email", "note", "automated"]
    happened_at: IsoDateTime = Field(description="with a UTC offset; not in the future")
    summary: Text = Field(min_length=1, max_length=10000)
    outcome: Literal["", "positive", "neutral", "negative"] = ""
    next_step: Text = Field("", max_length=300)
    next_step_due: IsoDate | None = None


def touch_out(touch: Touch) -> TouchOut:
    return TouchOut(
        id=touch.pk,
        account=touch.account.external_id,
        kind=touch.kind,
        happened_at=touch.happened_at,
        author_email=touch.author.email if touch.author else None,
        summary=touch.summary,
        outcome=touch.outcome,
        next_step=touch.next_step,
        next_step_due=touch.next_step_due,
    )


@router.get("/touches", response={200: TouchList, **ERRORS}, auth=READ)
def list_touches(request: HttpRequest, filters: Query[TouchFilters]) -> TouchList:
    """Touches, newest first."""
    touches = filters.rows_of(Touch.objects.select_related("account", "author"))
    if filters.since is not None:
        touches = touches.filter(happened_at__gte=filters.since)
    return TouchList(**filters.of(touches, touch_out))


@router.post("/touches", response={201: TouchOut, **ERRORS}, auth=WRITE)
def create_touch(request: HttpRequest, payload: TouchIn) -> Status[TouchOut]:
    """Log a touch (no author: it came from another system). It counts for the cadence as one
    logged on the account page does."""
    account = Account.objects.filter(external_id=payload.account.strip()).first()
    if account is None:
        raise FieldErrors([("account", "unknown account")])
    if not payload.summary.strip():
        raise FieldErrors([("summary", "must not be blank")])
    try:
        with transaction.atomic():
            touch = add_touch(
                account_id=account.pk,
                kind=payload.kind,
                happened_at=payload.happened_at,
                summary=payload.summary.strip(),
                outcome=payload.outcome,
                next_step=payload.next_step.strip(),
                next_step_due=payload.next_step_due,
            )
    except ValidationError as exc:
        raise FieldErrors(django_field_errors(exc)) from None
    except OverflowError:  # a time at the edge of datetime's range, moved to the local zone
        raise FieldErrors([("happened_at", "out of range")]) from None
    touch.account = account
    return Status(201, touch_out(touch))


# --- Risk items ----------------------------------------------------------------------------------


class ReasonOut(Schema):
    key: str
    text: str = Field(description="in words, as of today, in the installation's language")
    since: date = Field(description="the day the reason was first seen")


class RiskItemOut(Schema):
    id: int
    account: str
    open: bool
    opened_on: date
    updated_on: date
    cleared_on: date | None
    mrr: Decimal
    priority: Decimal
    reasons: list[ReasonOut]
    assignee_email: str | None
    snoozed_until: date | None
    resolution: str
    resolved_at: datetime | None


class RiskItemList(Schema):
    count: int
    items: list[RiskItemOut]


class RiskFilters(AccountRowsPage):
    open: bool | None = Field(None, description="true: open items only; false: resolved only")


def risk_item_out(item: RiskItem) -> RiskItemOut:
    return RiskItemOut(
        id=item.pk,
        account=item.account.external_id,
        open=item.resolved_at is None,
        opened_on=item.opened_on,
        updated_on=item.updated_on,
        cleared_on=item.cleared_on,
        mrr=item.mrr,
        priority=item.priority,
        reasons=[
            ReasonOut(key=row["key"], text=row["text"], since=row["since"])
            for row in reason_rows(
                item.shown_reasons, today=timezone.localdate(), opened_on=item.opened_on
            )
        ],
        assignee_email=item.assignee.email if item.assignee else None,
        snoozed_until=item.snoozed_until,
        resolution=item.resolution,
        resolved_at=item.resolved_at,
    )


@router.get("/risk-items", response={200: RiskItemList, **ERRORS}, auth=READ)
def list_risk_items(request: HttpRequest, filters: Query[RiskFilters]) -> RiskItemList:
    """Risk items by priority (open ones first)."""
    items = filters.rows_of(
        RiskItem.objects.select_related("account", "assignee").order_by(
            F("resolved_at").desc(nulls_first=True), "-priority", "pk"
        )
    )
    if filters.open is not None:
        items = items.filter(resolved_at__isnull=filters.open)
    return RiskItemList(**filters.of(items, risk_item_out))


@router.get("/risk-items/{item_id}", response={200: RiskItemOut, **WITH_404}, auth=READ)
def get_risk_item(request: HttpRequest, item_id: int) -> RiskItemOut:
    if not 0 < item_id < 2**63:  # beyond any id (and beyond what SQLite can compare)
        raise Http404("no such risk item")
    item = get_object_or_404(RiskItem.objects.select_related("account", "assignee"), pk=item_id)
    return risk_item_out(item)


# --- The two endpoints of health/api.py, described ----------------------------------------------


# The events API's body (docs/api.md), for the schema only: health/api.py checks it itself.
EVENT_BATCH_SCHEMA = {
    "type": "object",
    "required": ["events"],
    "properties": {
        "events": {
            "type": "array",
            "maxItems": 1000,
            # Any item: each is checked on its own and a bad one is reported in the 200's
            # `errors`, not refused with the batch (docs/api.md).
            "items": {
                "description": 'an event: {"id", "account", "user"?, "event", "timestamp", '
                '"properties"?}',
            },
        }
    },
}


class EventErrorOut(Schema):
    index: int
    error: str


class IngestOut(Schema):
    accepted: int
    duplicates: int
    errors: list[EventErrorOut]


class MeasureOut(Schema):
    key: str
    raw: float | None
    score: float | None
    weight: float
    contribution: float


class HealthOut(Schema):
    account: str
    date: date
    score: int
    band: str
    trend: dict[str, int | None] = Field(description='keys "1d", "7d", "30d"')
    measures: list[MeasureOut]


@router.post(
    "/events",
    response={200: IngestOut, 413: ErrorOut, **ERRORS},
    auth=None,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": EVENT_BATCH_SCHEMA}},
        },
        "security": [{"ApiKeyAuth": []}],
    },
    tags=["events and health"],
)
def events(request: HttpRequest) -> HttpResponse:
    """Store usage events (key scope: ingest); each event is checked on its own. Served by
    health/api.py: see docs/api.md."""
    return health_api.events(request)


@router.get(
    "/accounts/{external_id}/health",
    response={200: HealthOut, **WITH_404},
    auth=None,
    openapi_extra={"security": [{"ApiKeyAuth": []}]},
    tags=["events and health"],
)
def account_health(request: HttpRequest, external_id: str) -> HttpResponse:
    """The account's latest health score (key scope: read, or ingest). Served by health/api.py."""
    return health_api.account_health(request, external_id)
