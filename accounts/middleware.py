"""A logged-in user's own language (their profile's setting) over the browser's."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from csm.lib.languages import activate_for_request


class UserLanguageMiddleware:
    """After LocaleMiddleware (which chose from the language cookie or Accept-Language) and
    AuthenticationMiddleware: a user who chose a language in their profile sees it on every
    device; one who left it blank keeps the browser's. Costs no query: the pages load the user
    anyway, and an anonymous request without a session cookie has none to load."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            activate_for_request(request, user.language)
        return self.get_response(request)
