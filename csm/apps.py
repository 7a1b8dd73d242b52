"""The project package as an app: it holds `run_nightly` and the nightly task, the top of the
layers (README "Architecture"). Its label is "project" because the workflow app keeps "csm"."""

from __future__ import annotations

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "csm"
    label = "project"
    verbose_name = "CSM"
