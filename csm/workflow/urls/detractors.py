"""Detractors without follow-up, in the "feedback_reports" namespace beside feedback/report_urls.py
(csm/urls.py joins them): the list reads touches, so its view sits in the workflow."""

from __future__ import annotations

from django.urls import path

from csm.workflow.views import detractors as views

urlpatterns = [
    path("feedback/detractors/", views.detractors, name="detractors"),
]
