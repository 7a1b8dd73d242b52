"""`{{ milestone.title|starting }}`: a starting text (csm.lib.starting_content) in the reader's
language while it is unchanged; anything a person wrote, as written."""

from __future__ import annotations

from django import template

from csm.lib.starting_content import in_readers_language

register = template.Library()


@register.filter
def starting(text: object) -> object:
    return in_readers_language(text) if isinstance(text, str) else text
