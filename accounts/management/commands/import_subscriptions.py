"""`manage.py import_subscriptions FILE.csv`: upsert subscriptions by subscription_id,
all-or-nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.management.commands.import_accounts import import_file
from accounts.models import ImportKind


class Command(BaseCommand):
    help = (
        "Import subscriptions from a CSV file with the header "
        "subscription_id,account_external_id,start_date,end_date,amount,interval. "
        "Upserts by subscription_id; any bad row means nothing is written and the exit code is 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV file (UTF-8)")

    def handle(self, *args: Any, **options: Any) -> None:
        import_file(self, ImportKind.SUBSCRIPTIONS, options["file"])
