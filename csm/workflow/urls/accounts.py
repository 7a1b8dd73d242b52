"""The account list and page, in the "accounts" namespace beside accounts/urls.py (csm/urls.py
joins them): the pages show health, blueprints and risk, so their views sit in the workflow."""

from __future__ import annotations

from django.urls import path

from csm.workflow.views import accounts as views

urlpatterns = [
    path("accounts/", views.account_list, name="list"),
    path("accounts/<str:external_id>/", views.account_detail, name="detail"),
]
