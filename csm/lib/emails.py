"""Emails are templates: `templates/emails/<name>/subject.txt` and `body.txt`, rendered here and
queued in the outbox (csm.lib.outbox). Plain text, so the templates turn autoescaping off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string

from csm.lib.languages import language_of_recipient
from csm.lib.models import OutboxEmail

SUBJECT_MAX = OutboxEmail._meta.get_field("subject").max_length or 200


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body: str


def render_email(name: str, context: dict[str, Any], *, language: str = "") -> RenderedEmail:
    """The subject (one line, cut to what the outbox stores) and the body of email `name`, in
    the recipient's `language` (a user's or a contact's), else the installation's LANGUAGE_CODE
    whoever triggered the send: the nightly run has no browser to ask, and a CSM's own language
    says nothing about the customer's."""
    with language_of_recipient(language):
        subject = render_to_string(f"emails/{name}/subject.txt", context)
        body = render_to_string(f"emails/{name}/body.txt", context).rstrip()
    subject = subject.strip().replace("\n", " ")
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    return RenderedEmail(subject=subject, body=body)
