from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.utils.translation import gettext_lazy as _

from csm.webhooks.models import EndpointKind, EventType, WebhookEndpoint

URL_MAX = WebhookEndpoint._meta.get_field("url").max_length


class EndpointForm(forms.Form):
    """A new endpoint: the page and `add_webhook` both check their input with this form."""

    url = forms.URLField(
        label=_("URL"),
        max_length=URL_MAX,
        assume_scheme="https",
        help_text=_("Where to POST the events: your receiver, or a Slack incoming webhook URL."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=EndpointKind.choices, initial=EndpointKind.STANDARD
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if urlsplit(url).scheme not in ("http", "https"):
            raise forms.ValidationError(_("Use an http:// or https:// address."))
        return url
