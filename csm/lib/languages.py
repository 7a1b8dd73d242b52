"""The installation's languages (settings.LANGUAGES) and who reads which: a user's own choice
(User.language, blank = the browser's), a contact's (Contact.language, blank = the browser's on
the public pages, the installation's LANGUAGE_CODE in emails)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation


def language_choices() -> list[tuple[str, str]]:
    """Each language named in its own words ("English", "简体中文"): a reader who cannot read the
    page's language still finds theirs."""
    return [
        (code, translation.get_language_info(code)["name_local"]) for code, _ in settings.LANGUAGES
    ]


def is_language(code: str) -> bool:
    return code in {c for c, _ in settings.LANGUAGES}


def activate_for_request(request: HttpRequest, code: str) -> None:
    """Show the rest of this request in `code` (a user's or a contact's language); blank keeps
    what LocaleMiddleware chose from the cookie or the browser."""
    if code and is_language(code):
        translation.activate(code)
        request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]


@contextmanager
def language_of_recipient(code: str) -> Iterator[None]:
    """Render something sent to a person (an email) in their language, else the installation's:
    no request is around to ask a browser."""
    with translation.override(code if code and is_language(code) else settings.LANGUAGE_CODE):
        yield


def language_from_locale(locale: object) -> str:
    """The installation's language for a locale an integration sends (Segment's `context.locale`,
    "zh-CN", "en_US"), as the browser's Accept-Language is matched; "" when none fits."""
    if not isinstance(locale, str) or not locale.strip() or len(locale) > 35:
        return ""
    try:
        return translation.get_supported_language_variant(locale.strip().replace("_", "-").lower())
    except LookupError:
        return ""
