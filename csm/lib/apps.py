from __future__ import annotations

from django.apps import AppConfig


class LibConfig(AppConfig):
    """The ground layer: helpers every app may use, and the outbox. It imports no other app."""

    name = "csm.lib"
    label = "lib"
    verbose_name = "Shared helpers and the outbox"
