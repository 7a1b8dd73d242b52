"""`manage.py import_contacts FILE.csv`: upsert contacts by account and email, all-or-nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.management.commands.import_accounts import import_file
from accounts.models import ImportKind


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV file with the header "
        "external_id,name,email[,role,is_primary,language]. A contact of the account with the "
        "same email (any case) is updated, any other row adds one; a new primary contact takes "
        "over from the old one. Any bad row means nothing is written and the exit code is 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV file (UTF-8)")

    def handle(self, *args: Any, **options: Any) -> None:
        import_file(self, ImportKind.CONTACTS, options["file"])
