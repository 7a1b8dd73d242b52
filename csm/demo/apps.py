from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`seed_demo`, `bench` and the demo company's generators. Nothing imports this app."""

    name = "csm.demo"
    label = "demo"
    verbose_name = "Demo data and bench"
