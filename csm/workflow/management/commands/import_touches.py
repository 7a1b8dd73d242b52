"""`manage.py import_touches FILE.csv`: bring in the touch history of the tool a team used
before, all-or-nothing (csm.workflow.touch_import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import import_values, imports
from csm.workflow.touch_import import import_touches


class Command(BaseCommand):
    help = (
        "Import touches from a CSV file with the header "
        "external_id,kind,date,user_email,note,next_step,next_step_due. Any bad row means "
        "nothing is written and the exit code is 1; rows already imported are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV file (UTF-8)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = import_values.decode(path.read_bytes())
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise CommandError(f"{path}: {exc}") from None
        try:
            result = import_touches(text)
        except imports.ImportErrors as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(
                f"{len(exc.errors)} problem(s) in {path}; nothing was imported.", returncode=1
            ) from None
        except imports.NothingToImport:
            self.stdout.write(f"touches: nothing to import ({path} has a header but no rows)")
            return
        written = len(result.rows) - result.duplicates
        self.stdout.write(
            f"touches: {written} imported, {result.duplicates} already there, "
            f"{result.tasks} next steps became tasks"
        )
