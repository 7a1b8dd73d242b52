"""`kpis --month YYYY-MM [--json]`: the monthly KPIs of DESIGN §4, computed now from
subscriptions and survey answers (csm.kpis.snapshots.kpis_for_month)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.mrr import Month
from csm.kpis.metrics import MONEY_KEYS, RATE_KEYS
from csm.kpis.snapshots import kpis_for_month


class Command(BaseCommand):
    help = (
        "Print the monthly KPIs (MRR movements, churn, retention, ARPA, LTV, NPS) of one month. "
        "Month-end MRR is taken on the month's last day. --json prints the contract's JSON object."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-03")
        parser.add_argument("--json", action="store_true", help="one JSON object")
        parser.add_argument("--owner", help="a CSM's email: only the accounts they own")

    def handle(self, *args: Any, month: str, owner: str | None, **options: Any) -> None:
        try:
            parsed = Month.parse(month)
        except ValueError:
            raise CommandError(f"--month: {month!r} is not a month like 2026-03") from None
        user = None
        if owner:
            user = User.objects.filter(email=owner.strip().lower()).first()
            if user is None:
                raise CommandError(f"--owner: no user with the email {owner!r}")
        values = kpis_for_month(parsed, owner=user)
        if options["json"]:
            self.stdout.write(json.dumps(values))
            return
        width = max(len(key) for key in values)
        for key, value in values.items():
            self.stdout.write(f"{key.ljust(width)}  {_readable(key, value)}")


def _readable(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in RATE_KEYS and key != "quick_ratio":
        return f"{value * 100:.2f}%"
    if key in MONEY_KEYS:
        return f"{settings.CURRENCY_SYMBOL}{value}"
    return str(value)
