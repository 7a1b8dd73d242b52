"""`manage.py tasks [--account EXTERNAL_ID] [--user EMAIL] [--all] --json`: the task list."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Account, User
from csm.workflow.task_list import task_rows


class Command(BaseCommand):
    help = (
        "List tasks: open ones unless --all, of one account (--account) and/or assigned to one "
        "person (--user), by due date."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", metavar="EXTERNAL_ID", help="one account's tasks")
        parser.add_argument("--user", metavar="EMAIL", help="the tasks assigned to this person")
        parser.add_argument(
            "--all", action="store_true", help="done and no-longer-needed tasks too"
        )
        parser.add_argument("--json", action="store_true", help="print the JSON of DESIGN §5")

    def handle(self, *args: Any, **options: Any) -> None:
        account = user = None
        if options["account"] is not None:
            account = Account.objects.filter(external_id=options["account"]).first()
            if account is None:
                raise CommandError(f"account: no account {options['account']!r}")
        if options["user"] is not None:
            user = User.objects.filter(email__iexact=options["user"].strip()).first()
            if user is None:
                raise CommandError(f"user: no user {options['user']!r}")
        rows = task_rows(account=account, user=user, include_closed=options["all"])
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        for row in rows:
            mark = "x" if row["done"] else " "
            self.stdout.write(
                f"[{mark}] {row['due_on']}  {row['account']:<16} {row['title']}  "
                f"({row['assignee'] or '-'}, {row['source']})"
            )
        if not rows:
            self.stdout.write("No tasks.")
