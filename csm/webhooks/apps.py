from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outbound webhooks and Slack alerts: endpoints, deliveries and the events they report. At
    the top of the layers (README "Architecture"): it listens to every app below it."""

    name = "csm.webhooks"
    label = "webhooks"
    verbose_name = "Outbound webhooks"

    def ready(self) -> None:
        # Importing the module connects its receivers to the lower layers' signals.
        from csm.webhooks import receivers  # noqa: F401
