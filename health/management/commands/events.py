from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Account
from health.queries import MAX_EVENTS_LIMIT, latest_events


class Command(BaseCommand):
    help = "Show an account's latest stored usage events, newest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("external_id", help="the account's external id")
        parser.add_argument(
            "--limit", default="20", help=f"how many events (1–{MAX_EVENTS_LIMIT}, default 20)"
        )
        parser.add_argument(
            "--json", action="store_true", help='print [{"id", "event", "user", "timestamp"}]'
        )

    def handle(self, *args: object, external_id: str, limit: str, **options: object) -> None:
        try:
            count = int(limit)
        except ValueError:
            raise CommandError(f"--limit: {limit!r} is not a whole number") from None
        if not 1 <= count <= MAX_EVENTS_LIMIT:
            raise CommandError(f"--limit: must be between 1 and {MAX_EVENTS_LIMIT}")
        account = Account.objects.filter(external_id=external_id).first()
        if account is None:
            raise CommandError(f"external_id: no account {external_id!r}")
        events = latest_events(account, limit=count)
        for event in events:
            event["timestamp"] = event["timestamp"].isoformat()
        if options["json"]:
            self.stdout.write(json.dumps(events, indent=2))
            return
        if not events:
            self.stdout.write(f"{account.name} ({external_id}): no stored events")
        for event in events:
            self.stdout.write(f"{event['timestamp']}  {event['event']:<24} {event['user']}")
