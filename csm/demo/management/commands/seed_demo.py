"""Fill an empty database with a believable demo book (`make run` calls this on every start)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import Account, User
from csm.demo.accounts import DEMO_CSM_EMAIL, DEMO_MANAGER_EMAIL, DEMO_PASSWORD, MAX_MONTHS
from csm.demo.churns import seed_churn_records
from csm.demo.history import HISTORY_MONTHS, score_history, usage_days_needed
from csm.demo.localise import LOCALES, localise_demo
from csm.demo.seed import seed_demo
from csm.demo.surveys import seed_survey_history
from csm.demo.workflow import simulate_risk_work
from csm.nightly import run_nightly
from health.queries import HISTORY_DAYS


class Command(BaseCommand):
    help = (
        "Seed demo users, accounts, contacts, subscription histories and usage events (180 "
        "days, or more for the health history the backtest reads), unless the database already "
        "has accounts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=500, help="number of accounts (500)")
        parser.add_argument(
            "--months", type=int, default=24, help="months of subscription history (24)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
        parser.add_argument(
            "--locale",
            default="en",
            help="language of the names, comments and notes: en (default) or zh-hans",
        )

    def handle(
        self, *args: Any, accounts: int, months: int, seed: int, locale: str, **options: Any
    ) -> None:
        locale = locale.lower().replace("_", "-")
        if locale not in LOCALES:
            raise CommandError(f"--locale must be one of: {', '.join(LOCALES)}")
        if accounts < 1:
            raise CommandError("--accounts must be at least 1")
        if not 1 <= months <= MAX_MONTHS:
            raise CommandError(f"--months must be between 1 and {MAX_MONTHS}")

        if Account.objects.exists():
            self.stdout.write("The database already has accounts: not seeding demo data.")
            if User.objects.filter(email=DEMO_CSM_EMAIL).exists():
                self.stdout.write(self._logins())
            return

        today = timezone.localdate()
        counts = seed_demo(
            accounts=accounts,
            months=months,
            seed=seed,
            today=today,
            usage_days=usage_days_needed(today),
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {counts['users']} users, {counts['accounts']} accounts, "
                f"{counts['contacts']} contacts, {counts['subscriptions']} subscriptions "
                f"and {counts['usage_events']} usage events."
            )
        )
        surveys = seed_survey_history(seed=seed, today=timezone.localdate())
        self.stdout.write(
            f"Seeded {surveys['invitations']} survey invitations and "
            f"{surveys['responses']} answers."
        )
        # Before the nightly run, which writes names and comments into risk reasons.
        localise_demo(locale)
        # The same pipeline as every night, over the days the health chart shows, so the demo's
        # accounts have a health history to show.
        yesterday = timezone.localdate() - timedelta(days=1)
        # Before the nightly backfill (it deletes raw events past the retention): scores on the
        # first day of the months before, for the backtest.
        score_history(yesterday=yesterday)
        self.stdout.write(
            f"Scored the first day of each of the {HISTORY_MONTHS} months before the last "
            f"{HISTORY_DAYS} days (for the backtest)."
        )
        days = run_nightly(day=yesterday, first_day=yesterday - timedelta(days=HISTORY_DAYS - 1))
        self.stdout.write(f"Ran the nightly pipeline for the last {len(days)} days.")
        simulate_risk_work(seed=seed, today=yesterday)
        seed_churn_records(seed=seed, today=yesterday)  # every churn, most with a reason
        localise_demo(locale)  # the churn notes and risk resolutions written since
        self.stdout.write(self._logins())

    def _logins(self) -> str:
        return (
            f"Log in as {DEMO_CSM_EMAIL} (CSM) or {DEMO_MANAGER_EMAIL} (manager), "
            f"password: {DEMO_PASSWORD}"
        )
