"""Ingestion warnings: what an integration (Segment/RudderStack calls, Stripe webhooks) sent that
could not be stored. One function writes them, so every source records them the same way."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from health.models import IngestionWarning, IngestionWarningSource

# An example payload is kept up to this many characters of JSON (a warning is evidence, not a copy
# of the traffic); a longer one is stored as {"truncated": "<the first characters>"}.
MAX_EXAMPLE_CHARS = 4000
MAX_MESSAGE = IngestionWarning._meta.get_field("message").max_length


@dataclass(frozen=True)
class Warning:
    source: IngestionWarningSource | str
    cause: str
    message: str
    example: Any = None


def _example(example: Any) -> Any:
    if example is None:
        return None
    text = json.dumps(example, default=str)
    if len(text) <= MAX_EXAMPLE_CHARS:
        return json.loads(text)
    return {"truncated": text[:MAX_EXAMPLE_CHARS]}


def record_ingestion_warnings(warnings: Iterable[Warning]) -> int:
    """Store the warnings (one INSERT); returns how many."""
    rows = [
        IngestionWarning(
            source=str(w.source),
            cause=w.cause,
            message=w.message[:MAX_MESSAGE],
            example=_example(w.example),
        )
        for w in warnings
    ]
    IngestionWarning.objects.bulk_create(rows)
    return len(rows)


def record_ingestion_warning(
    *, source: IngestionWarningSource | str, cause: str, message: str, example: Any = None
) -> None:
    record_ingestion_warnings([Warning(source, cause, message, example)])
