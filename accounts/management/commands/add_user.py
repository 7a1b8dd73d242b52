from __future__ import annotations

import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from accounts.models import Role
from accounts.services import set_user


class Command(BaseCommand):
    help = "Create a login, or change the role of an existing one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="name of an environment variable holding the password (none is printed then)",
        )

    def handle(self, *args: object, **options: object) -> None:
        email = str(options["email"])
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"email: {email!r} is not an email address") from None
        password = None
        var = options["password_env"]
        if var:
            password = os.environ.get(str(var))
            if not password:
                raise CommandError(
                    f"--password-env: environment variable {var} is not set or empty"
                )
        user, created, one_time = set_user(
            email=email, role=str(options["role"]), name=str(options["name"]), password=password
        )
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} {user.email} ({user.get_role_display()}).")
        if one_time:
            self.stdout.write(f"One-time password: {one_time}")
