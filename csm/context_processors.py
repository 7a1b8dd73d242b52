from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def app(request: HttpRequest) -> dict[str, object]:
    return {"CURRENCY_SYMBOL": settings.CURRENCY_SYMBOL, "CURRENCY_CODE": settings.CURRENCY_CODE}
