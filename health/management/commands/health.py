from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Account
from health import scoring
from health.queries import health_payload, latest_score


class Command(BaseCommand):
    help = "Show an account's latest health score and how each measure contributes to it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("external_id", help="the account's external id")
        parser.add_argument("--json", action="store_true", help="print the JSON of DESIGN §5")

    def handle(self, *args: object, external_id: str, **options: object) -> None:
        account = Account.objects.filter(external_id=external_id).first()
        if account is None:
            raise CommandError(f"external_id: no account {external_id!r}")
        score = latest_score(account)
        if score is None:
            raise CommandError(f"{external_id}: no health score yet (run run_nightly)")
        payload = health_payload(score)
        if options["json"]:
            self.stdout.write(json.dumps(payload, indent=2))
            return
        self.stdout.write(
            f"{account.name} ({external_id}) on {payload['date']}: {payload['score']} "
            f"({payload['band']}); trend 1d {payload['trend']['1d']}, "
            f"7d {payload['trend']['7d']}, 30d {payload['trend']['30d']}"
        )
        for measure in payload["measures"]:
            words = scoring.explain(measure["key"], measure["raw"])
            self.stdout.write(
                f"  {measure['key']:<18} {measure['score']:>3} × {measure['weight']:>3} → "
                f"{measure['contribution']:>6.2f}   {words}"
            )
