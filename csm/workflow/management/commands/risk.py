from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import Account
from csm.workflow.models import RiskItem
from csm.workflow.reasons import reason_rows


def risk_payload(account: Account) -> dict[str, Any]:
    """`risk EXTERNAL_ID --json` (DESIGN §5): the account's open item, its reasons in words as of
    today in the installation's language, each with the day it was first seen."""
    item = RiskItem.objects.open().filter(account=account).first()
    if item is None:
        return {
            "account": account.external_id,
            "open": False,
            "opened_on": None,
            "priority": None,
            "reasons": [],
        }
    rows = reason_rows(item.reasons, today=timezone.localdate(), opened_on=item.opened_on)
    return {
        "account": account.external_id,
        "open": True,
        "opened_on": item.opened_on.isoformat(),
        "priority": f"{item.priority:.2f}",
        "reasons": [
            {"key": row["key"], "text": row["text"], "since": row["since"].isoformat()}
            for row in rows
        ],
    }


class Command(BaseCommand):
    help = "Show an account's open at-risk item and its reasons."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("external_id", help="the account's external id")
        parser.add_argument("--json", action="store_true", help="print the JSON of DESIGN §5")

    def handle(self, *args: object, external_id: str, **options: object) -> None:
        account = Account.objects.filter(external_id=external_id).first()
        if account is None:
            raise CommandError(f"external_id: no account {external_id!r}")
        payload = risk_payload(account)
        if options["json"]:
            self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        if not payload["open"]:
            self.stdout.write(f"{account.name} ({external_id}): not in the at-risk queue")
            return
        self.stdout.write(
            f"{account.name} ({external_id}): at risk since {payload['opened_on']}, "
            f"priority {payload['priority']}"
        )
        for reason in payload["reasons"]:
            self.stdout.write(f"  {reason['key']:<18} {reason['text']} (since {reason['since']})")
