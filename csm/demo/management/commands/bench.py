from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csm.demo.bench import run_bench


class Command(BaseCommand):
    help = (
        "Measure ingest, the nightly run and the pages at a given scale (DESIGN §7), in a scratch "
        "PostgreSQL database that is dropped afterwards. Reference scale: 50,000 accounts, "
        "10,000,000 events."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=50_000)
        parser.add_argument("--events", type=int, default=10_000_000, help="in the last 90 days")
        parser.add_argument(
            "--ingest-events",
            type=int,
            default=100_000,
            help="events sent through the API (and COPYed) for the ingest figures",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        accounts, events, ingest = options["accounts"], options["events"], options["ingest_events"]
        if accounts < 1:
            raise CommandError("--accounts: must be at least 1")
        if events < 0:
            raise CommandError("--events: must not be negative")
        if ingest < 1000 or ingest % 1000:
            raise CommandError("--ingest-events: a positive multiple of 1000")
        as_json = bool(options["json"])

        def log(line: str) -> None:
            if as_json:
                self.stderr.write(line)
            else:
                self.stdout.write(line)

        try:
            result = run_bench(accounts=accounts, events=events, ingest_events=ingest, log=log)
        except RuntimeError as problem:
            raise CommandError(str(problem)) from None
        if as_json:
            self.stdout.write(json.dumps(result))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")
