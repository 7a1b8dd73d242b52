"""The managers' KPI pages (a CSM sees them for their own book)."""

from __future__ import annotations

from django.urls import path  # noqa: F401

app_name = "kpis"

urlpatterns: list = []
