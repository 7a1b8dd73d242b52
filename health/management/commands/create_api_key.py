"""`manage.py create_api_key NAME [--scopes ingest,read,write]`: create an API key and print it
once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from health.services_keys import clean_scopes, create_api_key


class Command(BaseCommand):
    help = (
        "Create an API key and print it. Its scopes (default ingest): ingest sends events "
        "(POST /api/v1/events, the Segment API), read and write use the REST API. The key is "
        "shown only this once; only its hash is stored. Managers can revoke it on the API keys "
        "page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="what the key is for, e.g. 'product backend'")
        parser.add_argument(
            "--scopes",
            default="ingest",
            help="comma-separated: ingest, read, write (default: ingest)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            scopes = clean_scopes(options["scopes"].split(","))
        except ValueError as exc:
            raise CommandError(f"--scopes: {exc}") from None
        try:
            created = create_api_key(name=options["name"], actor=None, scopes=scopes.split())
        except ValueError as exc:
            raise CommandError(f"name: {exc}") from None
        self.stderr.write(
            f"Created API key {created.api_key.name!r} ({created.api_key.prefix}…) with the "
            f"scopes {created.api_key.scopes}. "
            "Copy it now: it is not shown again."
        )
        # The key alone on stdout, so a script can capture it.
        self.stdout.write(created.key)
