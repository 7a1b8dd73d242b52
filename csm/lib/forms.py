"""The project's form renderer: Django's default one (widgets render in a small template engine
of their own, not the site's, whose loaders django-template-partials wraps), that also finds the
project's templates/django/forms/ (field.html, div.html: label, widget, help text, each error
naming its field) and the includes they use."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates
from django.template.backends.base import BaseEngine
from django.utils.functional import cached_property


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
