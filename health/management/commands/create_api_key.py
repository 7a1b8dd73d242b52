"""`manage.py create_api_key NAME`: create an ingest API key and print it once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from health.services_keys import create_api_key


class Command(BaseCommand):
    help = (
        "Create an API key for the ingest API (POST /api/v1/events) and print it. The key is "
        "shown only this once; only its hash is stored. Managers can revoke it on the API keys "
        "page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="what the key is for, e.g. 'product backend'")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = create_api_key(name=options["name"], actor=None)
        except ValueError as exc:
            raise CommandError(f"name: {exc}") from None
        self.stderr.write(
            f"Created API key {created.api_key.name!r} ({created.api_key.prefix}…). "
            "Copy it now: it is not shown again."
        )
        # The key alone on stdout, so a script can capture it.
        self.stdout.write(created.key)
