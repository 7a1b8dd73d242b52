from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from csm.nightly import run_nightly
from csm.nightly_lock import NightlyAlreadyRunning, first_line


def _date_option(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{name}: {value!r} is not a date like 2026-03-31") from None


class Command(BaseCommand):
    help = (
        "Run the whole nightly pipeline for one date, synchronously, plus any days missed since "
        "the last completed run (catch-up). Idempotent: re-running a date gives the same rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", help="YYYY-MM-DD; default yesterday (the last complete day) in TIME_ZONE"
        )
        parser.add_argument(
            "--from",
            dest="first_day",
            help="YYYY-MM-DD; run every day from this one to --date (a backfill)",
        )

    def handle(self, *args: object, **options: object) -> None:
        day = timezone.localdate() - timedelta(days=1)
        if options["date"]:
            day = _date_option("--date", str(options["date"]))
        first_day = None
        if options["first_day"]:
            first_day = _date_option("--from", str(options["first_day"]))
            if first_day > day:
                raise CommandError("--from: must not be after --date")
        try:
            summaries = run_nightly(day=day, first_day=first_day)
        except NightlyAlreadyRunning as running:
            raise CommandError(str(running)) from None
        except DatabaseError as error:
            # The database went away mid-run (a restart, a terminated backend): one line, not a
            # traceback. Each day commits on its own and the lock died with the connection, so
            # running the command again finishes the job.
            raise CommandError(
                f"the nightly run stopped on a database error: {first_line(error)}; the days "
                "it finished are kept, run it again to do the rest"
            ) from None
        for each, summary in summaries.items():
            self.stdout.write(
                f"Nightly run for {each}: " + ", ".join(f"{k} {v}" for k, v in summary.items())
            )
