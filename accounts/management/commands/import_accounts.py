"""`manage.py import_accounts FILE.csv`: upsert accounts by external_id, all-or-nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import import_values, imports
from accounts.models import ImportKind


def import_file(command: BaseCommand, kind: str, path: Path) -> None:
    """Read, validate and apply one file; every problem goes to stderr and the exit code is 1."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = import_values.decode(data)
    except ValueError as exc:
        raise CommandError(f"{path}: {exc}") from None
    try:
        plan = imports.run_import(kind, text, filename=path.name, actor=None)
    except imports.ImportErrors as exc:
        for error in exc.errors:
            command.stderr.write(error)
        raise CommandError(
            f"{len(exc.errors)} problem(s) in {path}; nothing was imported.", returncode=1
        ) from None
    except imports.NothingToImport:
        # Not an error: an export of a quiet day may hold only its header.
        command.stdout.write(f"{kind}: nothing to import ({path} has a header but no rows)")
        return
    command.stdout.write(imports.describe(kind, plan.summary))


class Command(BaseCommand):
    help = (
        "Import accounts from a CSV file with the header "
        "external_id,name,segment,owner_email,contract_start[,renewal_date,strategic,tier,seats]. "
        "Upserts by external_id; any bad row means nothing is written and the exit code is 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV file (UTF-8)")

    def handle(self, *args: Any, **options: Any) -> None:
        import_file(self, ImportKind.ACCOUNTS, options["file"])
