"""`manage.py import_events FILE.jsonl`: usage events, one JSON object per line, through the same
validation and storage as the ingest API (health.ingest)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from health.ingest import ingest_events

# A line that could not be read as an event: (line number, problem).
LineError = tuple[int, str]


def read_lines(file: BinaryIO) -> Iterator[tuple[int, object | None, str | None]]:
    """(line number, parsed event or None, problem or None) for each non-blank line."""
    for number, raw in enumerate(file, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None, "not UTF-8 text"
            continue
        if number == 1:
            text = text.removeprefix("\ufeff")
        if not text.strip():
            continue
        try:
            yield number, json.loads(text), None
        except (ValueError, RecursionError) as exc:
            # ValueError: JSONDecodeError, and integers too long to convert.
            detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "not valid JSON"
            yield number, None, f"not valid JSON ({detail})"


class Command(BaseCommand):
    help = (
        "Import usage events from a JSON Lines file: one event per line in the ingest API's shape "
        '{"id", "account", "user"?, "event", "timestamp", "properties"?}, with the same checks. '
        "Events whose id is already stored count as duplicates. A bad line is reported as "
        "`line N: <problem>` and makes the exit code 1, but the valid lines are still stored, "
        "as with the API (re-running the fixed file is safe: stored ids are skipped)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the .jsonl file (UTF-8)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        accepted = duplicates = 0
        errors: list[LineError] = []
        chunk: list[tuple[int, object]] = []

        def flush() -> None:
            nonlocal accepted, duplicates
            result = ingest_events([event for _line, event in chunk])
            accepted += result.accepted
            duplicates += result.duplicates
            errors.extend((chunk[error["index"]][0], error["error"]) for error in result.errors)
            chunk.clear()

        try:
            with path.open("rb") as file:
                for number, event, problem in read_lines(file):
                    if problem is not None:
                        errors.append((number, problem))
                        continue
                    chunk.append((number, event))
                    if len(chunk) >= settings.INGEST_MAX_EVENTS:
                        flush()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
        if chunk:
            flush()

        for number, problem in sorted(errors):
            self.stderr.write(f"line {number}: {problem}")
        self.stdout.write(f"accepted {accepted}, duplicates {duplicates}, errors {len(errors)}")
        if errors:
            raise CommandError(
                f"{len(errors)} line(s) with errors in {path}; the other lines were stored.",
                returncode=1,
            )
