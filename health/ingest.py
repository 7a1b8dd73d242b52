"""Usage events in: the one validation and storage path for the ingest API and `import_events`
(DESIGN §5, event shape `{"id", "account", "user"?, "event", "timestamp", "properties"?}`).

1. Validate every event on its own; a bad event becomes `{"index": i, "error": "field: problem"}`
   and the others go on (valid events are stored even when some fail).
2. Look up the batch's account external ids in one query; an unknown one is that event's error.
3. Drop repeats of an id within the batch (the first valid occurrence wins; later ones are
   duplicates).
4. Insert the rest in one statement that skips ids already stored and returns the new ones, so an
   event sent twice is counted as a duplicate and never becomes a second row. Rows go in sorted by
   id: two batches sharing new ids then take their row locks in the same order and cannot
   deadlock each other (in batch order, 5 of 40 concurrent requests failed so). A deadlock with
   another writer is retried once.
5. Mark the batch's accounts dirty in that same statement (DirtyAccount: the risk rules look at
   them again, in a batch, csm.workflow.risk.evaluate_dirty_accounts) and send
   health.signals.usage_ingested. Every event source goes through `ingest_events`, so this
   covers them all.

Speed matters (DESIGN §7: the API must reach 0.3 × the rows/s of a raw COPY), so the per-event
work is plain Python on values the C parsers made, and the database sees two statements per batch
on PostgreSQL: the account lookup and an `INSERT … SELECT FROM unnest(arrays)`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from django.db import OperationalError, connections, router, transaction
from django.utils import timezone

from accounts.models import Account
from health.models import DirtyAccount, UsageEvent
from health.signals import usage_ingested

log = logging.getLogger(__name__)

# Lengths of the UsageEvent columns (the model is the reference; checked here so a long value is
# that event's error instead of a database error for the whole batch).
MAX_ID = UsageEvent._meta.get_field("event_id").max_length
MAX_EVENT = UsageEvent._meta.get_field("event").max_length
MAX_USER = UsageEvent._meta.get_field("user").max_length
MAX_ACCOUNT = Account._meta.get_field("external_id").max_length
# An event may be stamped up to this far ahead of our clock (clock skew), not more.
MAX_FUTURE = timedelta(days=1)

# The columns written, in the order of the arrays / VALUES tuples below.
COLUMNS = ("event_id", "account_id", "user", "event", "timestamp", "day", "properties")
# PostgreSQL array types of those columns, for `unnest(%s::text[], …)`.
PG_ARRAY_TYPES = ("text", "bigint", "text", "text", "timestamptz", "date", "jsonb")

# A JSON text holding an escaped NUL (`\u0000`) that is not itself an escaped backslash followed
# by "u0000": PostgreSQL rejects NUL in text and jsonb, so such an event is refused up front.
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


@dataclass(frozen=True)
class IngestResult:
    """What a batch did: new rows, events whose id was already stored (or repeated in the batch),
    and one `{"index", "error"}` per refused event (index into the batch as sent)."""

    accepted: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "errors": self.errors}


class _Invalid(ValueError):
    """One event's problem, worded `field: problem`."""


def _text(event: dict[str, Any], name: str, max_length: int, *, required: bool = True) -> str:
    """A string field: present (when required), a string, not blank, storable, not too long."""
    value = event.get(name)
    if value is None:
        if required:
            raise _Invalid(f"{name}: required")
        return ""
    if not isinstance(value, str):
        raise _Invalid(f"{name}: must be a string")
    if required and not value.strip():
        raise _Invalid(f"{name}: must not be blank")
    if len(value) > max_length:
        raise _Invalid(f"{name}: longer than {max_length} characters")
    # isascii() is a flag check in CPython, so the common case costs nothing. Otherwise refuse
    # what the database cannot store: NUL, and lone surrogates (from "\ud800" escapes in JSON).
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise _Invalid(f"{name}: not valid Unicode text") from None
    if "\x00" in value:
        raise _Invalid(f"{name}: must not contain NUL characters")
    return value


def _timestamp(event: dict[str, Any], latest: datetime, zone: tzinfo) -> tuple[datetime, date]:
    """The event's time in UTC and its date in the installation's time zone."""
    value = event.get("timestamp")
    if value is None:
        raise _Invalid("timestamp: required")
    if not isinstance(value, str):
        raise _Invalid("timestamp: must be an ISO-8601 string")
    try:
        # 3.11's fromisoformat reads ISO-8601 broadly, including a trailing "Z" for UTC.
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid("timestamp: not an ISO-8601 date and time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _Invalid("timestamp: has no UTC offset")
    try:
        moment = parsed.astimezone(UTC)
        # localdate(moment) in settings.TIME_ZONE (`zone`), without the per-call look-ups.
        day = moment.astimezone(zone).date()
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise _Invalid("timestamp: out of range") from None
    if moment > latest:
        raise _Invalid("timestamp: more than 1 day in the future")
    return moment, day


def _properties(event: dict[str, Any]) -> str | None:
    """The properties object as JSON text, or None when absent or null."""
    value = event.get("properties")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Invalid("properties: must be an object")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:  # NaN or Infinity (JSON has no such numbers; jsonb refuses them)
        raise _Invalid("properties: numbers must be finite") from None
    except RecursionError:
        raise _Invalid("properties: nested too deeply") from None
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise _Invalid("properties: not valid Unicode text") from None
    if "\\u0000" in text and _ESCAPED_NUL.search(text):
        raise _Invalid("properties: must not contain NUL characters")
    return text


# One valid event as the columns store it (order of COLUMNS), account still as external id.
_Row = tuple[str, str, str, str, datetime, date, str | None]


def _validate(event: object, latest: datetime, zone: tzinfo) -> _Row:
    if not isinstance(event, dict):
        raise _Invalid("not a JSON object")
    try:
        moment, day = _timestamp(event, latest, zone)
        return (
            _text(event, "id", MAX_ID),
            _text(event, "account", MAX_ACCOUNT),
            _text(event, "user", MAX_USER, required=False),
            _text(event, "event", MAX_EVENT),
            moment,
            day,
            _properties(event),
        )
    except _Invalid:
        pass
    # Slow path, for bad events only: check every field, so a sender fixing one problem is not
    # surprised by the next.
    problems = []
    for check in (
        lambda: _text(event, "id", MAX_ID),
        lambda: _text(event, "account", MAX_ACCOUNT),
        lambda: _text(event, "user", MAX_USER, required=False),
        lambda: _text(event, "event", MAX_EVENT),
        lambda: _timestamp(event, latest, zone),
        lambda: _properties(event),
    ):
        try:
            check()
        except _Invalid as exc:
            problems.append(str(exc))
    raise _Invalid("; ".join(problems))


def ingest_events(events: Sequence[object], *, now: datetime | None = None) -> IngestResult:
    """Validate and store a batch of events (see the module docstring). The API passes at most
    INGEST_MAX_EVENTS per call and `import_events` chunks of the same size."""
    latest = (now or timezone.now()) + MAX_FUTURE
    zone = timezone.get_default_timezone()
    errors: list[dict[str, Any]] = []
    valid: list[tuple[int, _Row]] = []
    for index, event in enumerate(events):
        try:
            valid.append((index, _validate(event, latest, zone)))
        except _Invalid as exc:
            errors.append({"index": index, "error": str(exc)})

    # One query for the batch's accounts.
    account_ids = _account_ids({row[1] for _index, row in valid})

    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    duplicates = 0
    for index, (event_id, account, *rest) in valid:
        account_id = account_ids.get(account)
        if account_id is None:
            errors.append({"index": index, "error": "account: unknown account"})
        elif event_id in seen:
            duplicates += 1  # a repeat within the batch: the first one is stored
        else:
            seen.add(event_id)
            rows.append((event_id, account_id, *rest))
    errors.sort(key=lambda error: error["index"])
    rows.sort()  # by event id (unique here): every batch locks new ids in the same order

    accepted = _insert(rows) if rows else 0
    if accepted:
        usage_ingested.send(sender=IngestResult, account_ids=sorted({row[1] for row in rows}))
    return IngestResult(
        accepted=accepted, duplicates=duplicates + len(rows) - accepted, errors=errors
    )


def _pg_array(values: Iterable[object]) -> str:
    """A PostgreSQL array literal, `{"a","b",NULL}`, to pass as one parameter cast to an array
    type. Built here because psycopg adapts a Python list element by element in Python (about
    20 ms for a batch's seven columns); these str methods take a tenth of that and the server
    parses the literal in C. Every element is double-quoted, so only backslash and double quote
    need escaping (NUL, which no PostgreSQL text can hold, was refused by validation)."""
    return (
        "{"
        + ",".join(
            "NULL"
            if value is None
            else '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            for value in values
        )
        + "}"
    )


def _account_ids(external_ids: set[str]) -> dict[str, int]:
    """{external_id: pk} of the stored accounts among `external_ids`, in one query."""
    if not external_ids:
        return {}
    connection = connections[router.db_for_read(Account)]
    if connection.vendor == "postgresql":
        # = ANY(one array) rather than the ORM's IN (one parameter per id): a batch of 1,000
        # events names up to 1,000 accounts, and resolving that many parameters costs more
        # than the query.
        quote = connection.ops.quote_name
        sql = (
            f"SELECT {quote('external_id')}, {quote('id')} FROM {quote(Account._meta.db_table)}"
            f" WHERE {quote('external_id')} = ANY(%s::text[])"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [_pg_array(external_ids)])
            return dict(cursor.fetchall())
    accounts = Account.objects.filter(external_id__in=external_ids)
    return dict(accounts.values_list("external_id", "pk"))


# PostgreSQL's SQLSTATE for "deadlock detected".
DEADLOCK_DETECTED = "40P01"


def _execute_counting(connection: Any, sql: str, params: list[str]) -> int:
    """Run an INSERT … RETURNING in its own transaction (a savepoint inside an outer one, so a
    failure leaves the caller's transaction usable for the retry); how many rows it returned."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def _insert(rows: list[tuple[Any, ...]]) -> int:
    """Insert rows whose event_id is new; the number inserted. Ids are unique within `rows`."""
    connection = connections[router.db_for_write(UsageEvent)]
    quote = connection.ops.quote_name
    table = quote(UsageEvent._meta.db_table)
    columns = ", ".join(quote(column) for column in COLUMNS)
    conflict = f"ON CONFLICT ({quote('event_id')}) DO NOTHING RETURNING {quote('event_id')}"
    dirty = quote(DirtyAccount._meta.db_table)
    account = quote("account_id")

    if connection.vendor == "postgresql":
        # One statement for the whole batch, whatever its size: each column goes as one array
        # parameter, unnest() zips them back into rows, and RETURNING lists the ids that were
        # new. Times go as ISO-8601 text with the offset and days as YYYY-MM-DD, unambiguous
        # whatever the session's settings; properties as JSON text, cast to jsonb.
        event_ids, account_ids, users, names, moments, days, properties = zip(*rows, strict=True)
        params = [
            _pg_array(event_ids),
            _pg_array(account_ids),
            _pg_array(users),
            _pg_array(names),
            _pg_array(moment.isoformat() for moment in moments),
            _pg_array(day.isoformat() for day in days),
            _pg_array(properties),
        ]
        arrays = ", ".join(f"%s::{kind}[]" for kind in PG_ARRAY_TYPES)
        # The new rows' accounts are marked dirty by the same statement (one round trip), in
        # account order after every event is in (the sort reads all of `new` first), so two
        # batches take the marks' locks in the same order too.
        sql = (
            f"WITH new AS (INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})"
            f" {conflict}, {account}),"
            f" marked AS (INSERT INTO {dirty} ({account}) SELECT DISTINCT {account} FROM new"
            f" ORDER BY {account} ON CONFLICT DO NOTHING)"
            f" SELECT {quote('event_id')} FROM new"
        )
        try:
            return _execute_counting(connection, sql, params)
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != DEADLOCK_DETECTED:
                raise
            # Sorted batches do not deadlock each other, but another writer of the table can
            # (its own order); PostgreSQL rolled this statement back, so it can simply run again.
            log.warning("ingest: deadlock on a batch of %s events, retrying once", len(rows))
            return _execute_counting(connection, sql, params)

    # SQLite (and any other backend): multi-row VALUES in chunks under the bound-parameter limit,
    # in one transaction. Values are adapted the way the ORM would store them.
    ops = connection.ops
    params_by_row = [
        (
            event_id,
            account_id,
            user,
            name,
            ops.adapt_datetimefield_value(moment),
            ops.adapt_datefield_value(day),
            properties,
        )
        for event_id, account_id, user, name, moment, day, properties in rows
    ]
    per_chunk = max(1, connection.features.max_query_params // len(COLUMNS))
    inserted = 0
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for start in range(0, len(params_by_row), per_chunk):
            chunk = params_by_row[start : start + per_chunk]
            placeholders = ", ".join(["(" + ", ".join(["%s"] * len(COLUMNS)) + ")"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {placeholders} {conflict}",
                [value for row in chunk for value in row],
            )
            inserted += len(cursor.fetchall())
        if inserted:  # every account of the batch: a cheap superset of those with new rows
            mark_dirty({row[1] for row in params_by_row})
    return inserted


def take_dirty_accounts(limit: int = 1000) -> list[int]:
    """Take (delete and return) up to `limit` accounts marked dirty by ingest, lowest id first,
    in a short transaction of its own so ingest never waits on the evaluation. Marks another
    worker is taking are skipped (SKIP LOCKED on PostgreSQL)."""
    with transaction.atomic():
        ids = list(
            DirtyAccount.objects.select_for_update(skip_locked=True)
            .order_by("account_id")
            .values_list("account_id", flat=True)[:limit]
        )
        DirtyAccount.objects.filter(account_id__in=ids).delete()
    return ids


def mark_dirty(account_ids: Iterable[int]) -> None:
    """Mark accounts dirty (SQLite ingest; and again when their evaluation failed, for a retry)."""
    DirtyAccount.objects.bulk_create(
        [DirtyAccount(account_id=pk) for pk in account_ids], ignore_conflicts=True
    )
