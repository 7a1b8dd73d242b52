"""`backtest [--months N] [--json] [--pairs]`: how well the scorecard predicted churn (issue 16)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from health.backtest import MIN_CHURNS, report_json
from health.backtest_data import DEFAULT_MONTHS, MAX_MONTHS, run_backtest


class Command(BaseCommand):
    help = (
        "Backtest the health score against churn: each paying account's score on the first day "
        "of each month against a churn in the 90 days after; AUC, bands, measures and "
        "suggested weights."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--months",
            type=int,
            default=DEFAULT_MONTHS,
            help=f"the most recent complete months to look at ({DEFAULT_MONTHS})",
        )
        parser.add_argument("--json", action="store_true", help="print the JSON of issue 16")
        parser.add_argument(
            "--pairs", action="store_true", help="add the (account, month, score, churned) rows"
        )

    def handle(self, *args: Any, months: int, pairs: bool, **options: Any) -> None:
        if not 1 <= months <= MAX_MONTHS:
            raise CommandError(f"--months: give a number from 1 to {MAX_MONTHS}")
        report = run_backtest(months)
        payload = report_json(report, pairs=pairs or False)
        if options["json"] or pairs:
            self.stdout.write(json.dumps(payload, indent=2))
            return
        if not report.months:
            self.stdout.write("No month to backtest yet: scores on a month's first day are needed,")
            self.stdout.write("and 90 days after it.")
            return
        self.stdout.write(
            f"Months {payload['months'][0]} to {payload['months'][-1]}: "
            f"{payload['accounts']} account-months, {payload['churned']} churned within 90 days."
        )
        if payload["auc"] is None:
            self.stdout.write(f"AUC: too few churns to judge (fewer than {MIN_CHURNS}).")
        else:
            low, high = payload["auc_ci"]  # type: ignore[misc]
            self.stdout.write(f"AUC {payload['auc']:.3f} (95% CI {low:.3f}–{high:.3f}, DeLong)")
        for band, figures in payload["bands"].items():  # type: ignore[union-attr]
            rate = "—" if figures["rate"] is None else f"{figures['rate']:.1%}"
            self.stdout.write(
                f"  {band:<7} {figures['churned']:>5} of {figures['accounts']:>6} churned: {rate}"
            )
        for measure in payload["measures"]:  # type: ignore[union-attr]
            auc = "too few churns" if measure["auc"] is None else f"{measure['auc']:.3f}"
            self.stdout.write(f"  {measure['key']:<18} AUC {auc}")
        weights = payload["suggested_weights"]
        if weights:
            self.stdout.write(
                "Suggested weights: " + ", ".join(f"{k} {v}" for k, v in weights.items())  # type: ignore[union-attr]
            )
            self.stdout.write(
                f"Test months AUC: current {payload['current_auc_test']}, "
                f"suggested {payload['suggested_auc_test']}"
            )
        else:
            self.stdout.write("Suggested weights: none (too few months or churns to fit).")
