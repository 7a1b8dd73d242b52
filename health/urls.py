from __future__ import annotations

from django.urls import path

from health import api, backtest_views, segment_api, views

app_name = "health"
urlpatterns = [
    # The JSON API (DESIGN §5): no trailing slash, as the contract writes the paths.
    path("api/v1/events", api.events, name="events"),
    path(
        "api/v1/accounts/<str:external_id>/health",
        api.account_health,
        name="account_health",
    ),
    # Segment's HTTP tracking API (health.segment_api), at the paths its clients call.
    *[
        path(
            f"v1/{endpoint}",
            segment_api.receive,
            {"endpoint": endpoint},
            name=f"segment_{endpoint}",
        )
        for endpoint in segment_api.ENDPOINTS
    ],
    # Managers' configuration pages.
    path("settings/api-keys/", views.api_keys, name="api_keys"),
    path("settings/api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api_key_revoke"),
    path("settings/ingestion-warnings/", views.ingestion_warnings, name="ingestion_warnings"),
    path("settings/scorecard/backtest/", backtest_views.backtest, name="backtest"),
    path(
        "accounts/<str:external_id>/health/override/",
        views.health_override,
        name="override",
    ),
    path(
        "health/overrides/<int:pk>/remove/",
        views.health_override_remove,
        name="override_remove",
    ),
]
