"""The project's form renderer: Django's default one (widgets render in a small template engine
of their own, not the site's, whose loaders django-template-partials wraps), that also finds the
project's templates/django/forms/ (field.html, div.html: label, widget, help text, each error
naming its field) and the includes they use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates
from django.forms.utils import flatatt
from django.template.backends.base import BaseEngine
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


class FormRenderer(DjangoTemplates):
    @cached_property
    def engine(self) -> BaseEngine:
        return self.backend(
            {
                "APP_DIRS": True,
                # Ours first, so they override Django's own widget and field templates.
                "DIRS": [
                    settings.BASE_DIR / "templates",
                    Path(forms.__file__).parent / "templates",
                ],
                "NAME": "csm-forms",
                "OPTIONS": {},
            }
        )


class QuickSelect(forms.Select):
    """A flat <select> rendered in Python, for the people pickers (the risk page's "Assigned to",
    the account list's owner, the reports' CSM) and the at-risk queue's other selects. Django
    renders every <option> through two template includes, which made a 150-person picker 40 ms
    of each page."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> str:
        chosen = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if str(key) in chosen else "", label)
                for key, label in self.choices
            ),
        )
        final_attrs = self.build_attrs(self.attrs, attrs) | {"name": name}
        return format_html("<select{}>{}</select>", flatatt(final_attrs), options)
