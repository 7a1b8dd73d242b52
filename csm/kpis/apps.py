from __future__ import annotations

from django.apps import AppConfig


class KpisConfig(AppConfig):
    """MRR movements, KPI and cohort snapshots, goals, and the report pages that read them."""

    name = "csm.kpis"
    label = "kpis"
    verbose_name = "KPIs and reports"
