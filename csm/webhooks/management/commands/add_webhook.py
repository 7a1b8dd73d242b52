"""`manage.py add_webhook URL [--events a,b] [--kind standard|slack]`: register an outbound
endpoint and print its signing secret once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csm.webhooks.forms import EndpointForm
from csm.webhooks.models import EndpointKind, EventType
from csm.webhooks.services import create_endpoint


class Command(BaseCommand):
    help = (
        "Register an outbound webhook endpoint (what the managers' Webhooks page does) and print "
        "its signing secret. The secret is shown only this once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="where to POST the events (http or https)")
        parser.add_argument(
            "--events",
            default=",".join(EventType.values),
            help="comma-separated event types (default: all): " + ", ".join(EventType.values),
        )
        parser.add_argument(
            "--kind",
            default=EndpointKind.STANDARD,
            help="standard (signed JSON) or slack (an incoming webhook URL)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        events = [event.strip() for event in options["events"].split(",") if event.strip()]
        form = EndpointForm({"url": options["url"], "events": events, "kind": options["kind"]})
        if not form.is_valid():
            problems = [
                f"{field}: {' '.join(str(message) for message in messages)}"
                for field, messages in form.errors.items()
            ]
            raise CommandError("\n".join(problems))
        created = create_endpoint(
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            kind=form.cleaned_data["kind"],
            actor=None,
        )
        endpoint = created.endpoint
        self.stderr.write(
            f"Registered webhook endpoint {endpoint.pk} ({endpoint.kind}) for "
            f"{', '.join(endpoint.events)} at {endpoint.url}. Signing secret below; copy it now: "
            "it is not shown again."
        )
        # The secret alone on stdout, so a script can capture it.
        self.stdout.write(created.secret)
