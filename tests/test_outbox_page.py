"""The managers' Outbox page (accounts/outbox_views.py): queued, failed and sent emails, filtered
and paged, one to read, a failed one retried (audited); and the embedded default's mail backend,
which sends and prints nothing so the page is where emails are read."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from csm.lib.models import OutboxEmail
from csm.lib.outbox import drain_outbox, queue_email
from csm.lib.tasks import request_drain
from tests.factories import AccountFactory

ROOT = Path(__file__).resolve().parent.parent
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


class SmtpRefuses(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server unreachable")


@pytest.fixture
def emails(db, settings):
    """One sent, one failed, one queued."""
    settings.EMAIL_BACKEND = LOCMEM
    sent = queue_email(kind="usage_tips", to="sent@customer.example", subject="Tips", body="Tip")
    drain_outbox()
    settings.EMAIL_BACKEND = f"{__name__}.SmtpRefuses"
    failed = queue_email(
        kind="survey", to="failed@customer.example", subject="Survey", body="Answer here"
    )
    drain_outbox()
    queued = queue_email(
        kind="detractor_alert", to="owner@example.com", subject="Alert", body="A detractor"
    )
    OutboxEmail.objects.filter(pk=queued.pk).update(send_after=timezone.now() + timedelta(hours=1))
    settings.EMAIL_BACKEND = LOCMEM
    return {
        "sent": OutboxEmail.objects.get(pk=sent.pk),
        "failed": OutboxEmail.objects.get(pk=failed.pk),
        "queued": OutboxEmail.objects.get(pk=queued.pk),
    }


def listed(response) -> list[str]:
    return [email.to for email in response.context["page"].object_list]


def test_it_is_for_managers_only(client, alice_client, emails):
    url = reverse("outbox:list")
    assert alice_client.get(url).status_code == 403
    assert alice_client.get(reverse("outbox:detail", args=[emails["sent"].pk])).status_code == 403
    response = alice_client.post(reverse("outbox:retry", args=[emails["failed"].pk]))
    assert response.status_code == 403
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_it_lists_every_email_newest_first_with_its_status(maggie_client, emails):
    response = maggie_client.get(reverse("outbox:list"))
    assert response.status_code == 200
    assert listed(response) == [
        "owner@example.com",
        "failed@customer.example",
        "sent@customer.example",
    ]
    html = response.content.decode()
    for status in ("Queued", "Failed", "Sent"):
        assert f">{status}</span>" in html
    assert 'href="/settings/outbox/"' in html  # in the managers' Setup menu


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "queued"}, ["owner@example.com"]),
        ({"status": "failed"}, ["failed@customer.example"]),
        ({"status": "sent"}, ["sent@customer.example"]),
        ({"kind": "survey"}, ["failed@customer.example"]),
        ({"to": "CUSTOMER.example"}, ["failed@customer.example", "sent@customer.example"]),
    ],
)
def test_it_filters_by_status_kind_and_address(maggie_client, emails, query, expected):
    assert listed(maggie_client.get(reverse("outbox:list"), query)) == expected


def test_it_pages_the_list_and_htmx_gets_only_the_table(
    maggie_client, emails, django_assert_num_queries
):
    for n in range(60):
        queue_email(kind="survey", to=f"p{n}@customer.example", subject=f"#{n}", body="")
    # Session, user, the kinds for the filter, the count and the page: not one per email.
    with django_assert_num_queries(5):
        first = maggie_client.get(reverse("outbox:list"))
    assert len(listed(first)) == 50
    second = maggie_client.get(reverse("outbox:list"), {"page": 2}, headers={"HX-Request": "true"})
    assert len(listed(second)) == 13
    html = second.content.decode()
    assert html.lstrip().startswith('<section id="outbox-table">')
    assert "Page 2 of 2" in html


def test_a_manager_reads_one_email(maggie_client, emails):
    response = maggie_client.get(reverse("outbox:detail", args=[emails["failed"].pk]))
    html = response.content.decode()
    assert "Answer here" in html
    assert "failed@customer.example" in html
    assert "SMTP server unreachable" in html
    assert "Retry now" in html
    sent = maggie_client.get(reverse("outbox:detail", args=[emails["sent"].pk])).content.decode()
    assert "Retry now" not in sent


def test_retrying_a_failed_email_sends_it_now_and_is_audited(
    maggie_client, maggie, emails, django_capture_on_commit_callbacks
):
    failed = emails["failed"]
    assert failed.send_after > timezone.now()  # the drain would wait five minutes
    mail.outbox.clear()
    url = reverse("outbox:retry", args=[failed.pk])
    assert maggie_client.get(url).status_code == 405  # a change is a POST
    assert drain_outbox() == 0  # not due yet
    with django_capture_on_commit_callbacks() as callbacks:
        response = maggie_client.post(url)
    assert response.status_code == 302
    assert response.url == reverse("outbox:detail", args=[failed.pk])
    # It asks a worker for a drain once committed (in-process without Redis); the email is due.
    assert callbacks == [request_drain]
    assert drain_outbox() == 1
    failed.refresh_from_db()
    assert failed.sent_at is not None and failed.attempts == 2
    assert [m.to for m in mail.outbox] == [["failed@customer.example"]]
    entry = AuditEntry.objects.get(action="outbox.retry")
    assert entry.actor == maggie and entry.object_id == str(failed.pk)


def test_retrying_a_sent_email_sends_nothing_again(maggie_client, emails):
    mail.outbox.clear()
    maggie_client.post(reverse("outbox:retry", args=[emails["sent"].pk]))
    assert mail.outbox == []
    assert not AuditEntry.objects.filter(action="outbox.retry").exists()


def test_the_retry_of_an_account_email_is_on_the_accounts_trail(maggie_client, settings, db):
    account = AccountFactory()
    settings.EMAIL_BACKEND = f"{__name__}.SmtpRefuses"
    email = queue_email(
        kind="survey", to="x@customer.example", subject="S", body="B", account_id=account.pk
    )
    drain_outbox()
    settings.EMAIL_BACKEND = LOCMEM
    maggie_client.post(reverse("outbox:retry", args=[email.pk]))
    assert account.audit_entries.filter(action="outbox.retry").count() == 1


def _settings_value(expression: str, **env: str) -> str:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"EMAIL_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {expression}"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "csm.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_embedded_default_sends_and_prints_no_email():
    """`make run` used to print every demo email to the console; now the outbox keeps them."""
    out = _settings_value(
        "from django.conf import settings; print(settings.EMAIL_BACKEND);"
        "from django.core.mail import EmailMessage;"
        "EmailMessage('Hello', 'Body text', 'a@example.com', ['b@example.com']).send()"
    )
    assert out.strip() == "django.core.mail.backends.dummy.EmailBackend"
    assert "Body text" not in out


def test_email_url_still_selects_smtp():
    out = _settings_value(
        "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_HOST)",
        EMAIL_URL="smtp+tls://user:secret@smtp.example.com:587",
    )
    assert out.split() == ["django.core.mail.backends.smtp.EmailBackend", "smtp.example.com"]


def test_the_page_says_when_emails_are_kept_rather_than_sent(maggie_client, settings, db):
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    html = maggie_client.get(reverse("outbox:list")).content.decode()
    assert "EMAIL_URL is not set" in html
    settings.EMAIL_BACKEND = LOCMEM
    html = maggie_client.get(reverse("outbox:list")).content.decode()
    assert "EMAIL_URL is not set" not in html
