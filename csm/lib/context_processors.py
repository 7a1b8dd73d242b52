from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

# Pages under the managers' "Setup" menu (their `nav` value), so the menu shows where one is.
SETUP_NAVS = (
    "imports",
    "scorecard",
    "blueprints",
    "save_plays",
    "tips",
    "surveys",
    "rules",
    "competitors",
    "ingestion_warnings",
    "api_keys",
    "outbox",
    "webhooks",
)


def app(request: HttpRequest) -> dict[str, object]:
    return {
        "CURRENCY_SYMBOL": settings.CURRENCY_SYMBOL,
        "CURRENCY_CODE": settings.CURRENCY_CODE,
        "setup_navs": SETUP_NAVS,
    }
