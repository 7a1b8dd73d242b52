"""Ingestion warnings: what an integration (Segment/RudderStack calls, Stripe webhooks) sent that
could not be stored. One function writes them, so every source records them the same way.

Retention, so a broken integration sending thousands of bad messages cannot fill the disk: every
warning adds to its day's count (IngestionWarningDay, one row per source, cause and day: the
page's counts stay exact), but only the latest KEEP_EXAMPLES warnings of each source and cause
are kept as rows with their message and example; older ones are deleted as new ones arrive.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connections, router, transaction
from django.db.models import F, Max, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from health.models import IngestionWarning, IngestionWarningDay, IngestionWarningSource

# An example payload is kept up to this many characters of JSON (a warning is evidence, not a copy
# of the traffic); a longer one is stored as {"truncated": "<the first characters>"}.
MAX_EXAMPLE_CHARS = 4000
MAX_MESSAGE = IngestionWarning._meta.get_field("message").max_length
# Warnings kept with their example, per source and cause (the newest ones).
KEEP_EXAMPLES = 100


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
    if not rows:
        return 0
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        counts[(row.source, row.cause)] = counts.get((row.source, row.cause), 0) + 1
    with transaction.atomic():
        IngestionWarning.objects.bulk_create(rows)
        _add_to_day_counts(counts, timezone.now().date())
        for source, cause in counts:
            _prune(source, cause)
    return len(rows)


def _add_to_day_counts(counts: dict[tuple[str, str], int], day: Any) -> None:
    """Add to today's counts in one statement; an increment on conflict, so concurrent writers
    never lose a count (PostgreSQL and SQLite both read this ON CONFLICT clause)."""
    connection = connections[router.db_for_write(IngestionWarningDay)]
    quote = connection.ops.quote_name
    table = quote(IngestionWarningDay._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(counts))
    params: list[Any] = []
    for (source, cause), count in sorted(counts.items()):
        params += [source, cause, connection.ops.adapt_datefield_value(day), count]
    key = f"{quote('source')}, {quote('cause')}, {quote('day')}"
    count = quote("count")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key}, {count}) VALUES {values} ON CONFLICT ({key})"
            f" DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count}",
            params,
        )


def _prune(source: str, cause: str) -> None:
    """Delete the warnings of this source and cause beyond the newest KEEP_EXAMPLES."""
    same = IngestionWarning.objects.filter(source=source, cause=cause)
    cutoff = same.order_by("-pk").values_list("pk", flat=True)[KEEP_EXAMPLES:][:1]
    oldest_kept = list(cutoff)
    if oldest_kept:
        same.filter(pk__lte=oldest_kept[0]).delete()


def record_ingestion_warning(
    *, source: IngestionWarningSource | str, cause: str, message: str, example: Any = None
) -> None:
    record_ingestion_warnings([Warning(source, cause, message, example)])


# --- The managers' page ---------------------------------------------------------------------------

# Examples shown per source and cause on the page.
EXAMPLES_SHOWN = 3


@dataclass
class CauseSummary:
    source: str
    source_label: str
    cause: str
    last_7_days: int
    last_30_days: int
    last_seen: Any
    examples: list[IngestionWarning]


def warnings_summary(*, today: date) -> list[CauseSummary]:
    """Counts per source and cause over the last 7 and 30 days (from the day counts, exact after
    pruning), most frequent first, each with its latest examples. Two queries, whatever the
    number of warnings: the counts, and the examples numbered per cause by a window function."""
    since_30 = today - timedelta(days=29)
    since_7 = today - timedelta(days=6)
    counts = (
        IngestionWarningDay.objects.filter(day__gte=since_30)
        .values("source", "cause")
        .annotate(
            last_30=Sum("count"),
            last_7=Sum("count", filter=Q(day__gte=since_7)),
            last_day=Max("day"),
        )
        .order_by("-last_30", "source", "cause")
    )
    numbered = IngestionWarning.objects.annotate(
        rank=Window(RowNumber(), partition_by=[F("source"), F("cause")], order_by=F("pk").desc())
    )
    examples: dict[tuple[str, str], list[IngestionWarning]] = {}
    for warning in numbered.filter(rank__lte=EXAMPLES_SHOWN).order_by("source", "cause", "-pk"):
        examples.setdefault((warning.source, warning.cause), []).append(warning)
    labels = dict(IngestionWarningSource.choices)
    return [
        CauseSummary(
            source=row["source"],
            source_label=str(labels.get(row["source"], row["source"])),
            cause=row["cause"],
            last_7_days=row["last_7"] or 0,
            last_30_days=row["last_30"],
            last_seen=row["last_day"],
            examples=examples.get((row["source"], row["cause"]), []),
        )
        for row in counts
    ]
