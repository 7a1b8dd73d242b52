from __future__ import annotations

from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    """The CSM's day: Today, touches, blueprints, the at-risk queue, save plays, usage tips and
    experiments. The label stays "csm" (the tables were created under it)."""

    name = "csm.workflow"
    label = "csm"
    verbose_name = "CSM workflow"

    def ready(self) -> None:
        # Lower layers announce events with signals; this layer answers them (README
        # "Architecture"). Importing the module connects its receivers.
        from csm.workflow import receivers  # noqa: F401
