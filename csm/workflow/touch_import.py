"""Importing the touch history of the tool a team used before (`manage.py import_touches`).

The CSV header is exactly `external_id,kind,date,user_email,note,next_step,next_step_due`
(docs/commands.md). Same rules as the account and subscription imports (accounts.imports): the
whole file is checked first and every bad row reported as `line N: field: problem`; one bad row
means nothing is written. Each touch then goes through csm.workflow.touches.add_touch, the path
a touch logged on the page takes, so it counts for cadence, its dated next step becomes a task,
and whatever add_touch triggers happens for it too (the live risk re-evaluation: once for all
the accounts touched, at the end).

A row that matches a touch already stored (same account, kind, day, person and note) is skipped,
so importing the same file twice writes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.functions import Lower, TruncDate
from django.utils import timezone

from accounts.import_values import Invalid, choice, optional, parse_date, text_of
from accounts.imports import ImportErrors, NothingToImport, read_csv
from accounts.models import Account, User
from csm.lib.dates import years_after
from csm.workflow.models import Touch, TouchKind
from csm.workflow.risk import evaluation_deferred
from csm.workflow.task_list import TITLE_MAX_CHARS
from csm.workflow.touches import NEXT_STEP_MAX_YEARS, TOUCH_EARLIEST, add_touch

COLUMNS = ("external_id", "kind", "date", "user_email", "note", "next_step", "next_step_due")
KINDS = (TouchKind.CALL, TouchKind.MEETING, TouchKind.EMAIL, TouchKind.NOTE)
NOTE_MAX_CHARS = 10_000
# An imported touch has a day, not a time: it is put at noon (or now, for one dated today).
TOUCH_HOUR = time(12, 0)


@dataclass
class TouchRow:
    line: int
    account: Account
    kind: str
    day: date
    author: User
    note: str
    next_step: str
    next_step_due: date | None


@dataclass
class TouchImport:
    rows: list[TouchRow] = field(default_factory=list)
    duplicates: int = 0
    tasks: int = 0


def _lookups(rows: list[tuple[int, dict[str, str]]]) -> tuple[dict[str, Account], dict[str, User]]:
    """The file's accounts and people, two queries for the whole file (a file of a few thousand
    rows names a few hundred accounts at most)."""
    ids = {values["external_id"] for _line, values in rows}
    emails = {values["user_email"].lower() for _line, values in rows}
    accounts = {a.external_id: a for a in Account.objects.filter(external_id__in=ids)}
    # In any letter case, as the account import reads owner_email.
    people = User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=emails)
    users = {u.email.lower(): u for u in people}
    return accounts, users


def _take(
    values: dict[str, str],
    problems: list[tuple[str, str]],
    column: str,
    parse: Any,
    *,
    required: bool = False,
) -> Any:
    """One cell parsed, or None with its problem noted."""
    text = values[column]
    if required and not text:
        problems.append((column, "required"))
        return None
    try:
        return parse(text)
    except Invalid as exc:
        problems.append((column, str(exc)))
        return None


def check_rows(text: str, *, today: date) -> TouchImport:
    """Every row checked; ImportErrors with all problems, or the rows to write."""
    raw_rows, errors = read_csv(text, columns=COLUMNS, required=COLUMNS)
    if errors:
        raise ImportErrors(errors)
    if not raw_rows:
        raise NothingToImport()
    accounts, users = _lookups(raw_rows)
    parse_kind = choice(KINDS)
    result = TouchImport()
    for line, values in raw_rows:
        problems: list[tuple[str, str]] = []

        take = partial(_take, values, problems)
        account = accounts.get(values["external_id"])
        if not values["external_id"]:
            problems.append(("external_id", "required"))
        elif account is None:
            problems.append(("external_id", "unknown account"))
        kind = take("kind", parse_kind, required=True)
        day = take("date", parse_date, required=True)
        if day is not None and day > today:
            problems.append(("date", "in the future"))
        elif day is not None and day < TOUCH_EARLIEST:
            problems.append(("date", f"before {TOUCH_EARLIEST.isoformat()}"))
        author = users.get(values["user_email"].lower())
        if not values["user_email"]:
            problems.append(("user_email", "required"))
        elif author is None:
            problems.append(("user_email", "unknown user"))
        note = take("note", text_of(NOTE_MAX_CHARS))
        next_step = take("next_step", text_of(TITLE_MAX_CHARS))
        due = take("next_step_due", optional(parse_date))
        if next_step and due is None and not values["next_step_due"]:
            problems.append(("next_step_due", "required when next_step is given"))
        if due is not None and not next_step:
            problems.append(("next_step", "required when next_step_due is given"))
        if due is not None and day is not None:
            if due < day:
                problems.append(("next_step_due", "before the touch's date"))
            elif due > years_after(day, NEXT_STEP_MAX_YEARS):
                problems.append(
                    ("next_step_due", f"more than {NEXT_STEP_MAX_YEARS} years after the touch")
                )
        if problems:
            errors.extend(f"line {line}: {column}: {problem}" for column, problem in problems)
            continue
        result.rows.append(
            TouchRow(line, account, kind, day, author, note or "", next_step or "", due)  # type: ignore[arg-type]
        )
    if errors:
        raise ImportErrors(errors)
    return result


def _stored_keys(rows: list[TouchRow]) -> set[tuple[Any, ...]]:
    """(account, kind, day, author, note) of the touches already stored for the file's accounts
    on the file's days: one query."""
    if not rows:
        return set()
    stored = (
        Touch.objects.filter(
            account__in={row.account.pk for row in rows}, kind__in={row.kind for row in rows}
        )
        .annotate(day=TruncDate("happened_at"))
        .filter(day__in={row.day for row in rows})
        .values_list("account_id", "kind", "day", "author_id", "summary")
    )
    return set(stored)


def import_touches(text: str, *, today: date | None = None) -> TouchImport:
    """Check the whole file, then write its new touches through add_touch in one transaction
    (all or nothing). Raises ImportErrors / NothingToImport."""
    today = today or timezone.localdate()
    result = check_rows(text, today=today)
    zone = timezone.get_current_timezone()
    now = timezone.now()
    # One risk evaluation for the accounts touched, after the rows (not one per row).
    with transaction.atomic(), evaluation_deferred():
        seen = _stored_keys(result.rows)
        for row in result.rows:
            key = (row.account.pk, row.kind, row.day, row.author.pk, row.note)
            if key in seen:
                result.duplicates += 1
                continue
            seen.add(key)
            add_touch(
                account_id=row.account.pk,
                kind=row.kind,
                happened_at=min(datetime.combine(row.day, TOUCH_HOUR, tzinfo=zone), now),
                summary=row.note,
                author=row.author,
                next_step=row.next_step,
                next_step_due=row.next_step_due,
            )
            result.tasks += int(bool(row.next_step and row.next_step_due))
    return result
