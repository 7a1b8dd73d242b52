"""The survey link (/s/<token>/): signed and unguessable, answers once, expires, and a tampered
or revoked link gets a page that reveals nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from csm.lib.models import OutboxEmail
from feedback.models import Response
from feedback.services import InvitationClosed, record_response, revoke_invitation
from feedback.tokens import read_token
from tests.surveys import invite, token_of


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def url(invitation):
    return reverse("feedback:answer", args=[token_of(invitation)])


def test_the_email_carries_a_signed_link_naming_the_invitation(db):
    invitation = invite()
    email = OutboxEmail.objects.get(pk=invitation.outbox_id)
    assert email.kind == "survey" and email.to == invitation.email
    token = email.body.split("/s/")[1].split("/")[0]
    assert read_token(token) == invitation.nonce
    assert len(invitation.nonce) >= 22  # 16 random bytes, URL-safe


def test_two_invitations_never_share_a_token(db):
    assert token_of(invite()) != token_of(invite())


def test_a_tampered_token_gets_the_not_found_page(client, db):
    invitation = invite()
    token = token_of(invitation)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get(reverse("feedback:answer", args=[tampered]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "This link does not work" in body
    assert invitation.survey.question not in body and invitation.account.name not in body


def test_a_token_for_another_purpose_is_refused(client, db):
    from django.core import signing

    invitation = invite()
    forged = signing.dumps(invitation.nonce, salt="blueprint")
    assert client.get(reverse("feedback:answer", args=[forged])).status_code == 404


def test_the_link_expires_after_survey_token_days(client, db, settings):
    settings.SURVEY_TOKEN_DAYS = 30
    invitation = invite()
    with time_machine.travel(timezone.now() + timedelta(days=29, hours=23)):
        assert client.get(url(invitation)).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=30, seconds=1)):
        response = client.get(url(invitation))
        assert response.status_code == 404
        assert invitation.survey.question not in response.content.decode()
        with pytest.raises(InvitationClosed):
            record_response(invitation=invitation, score=9, comment="", answers={})


def test_a_revoked_link_gets_the_same_page(client, db, alice):
    invitation = invite(owner=alice)
    revoke_invitation(actor=alice, invitation=invitation)
    response = client.get(url(invitation))
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    # Not sent yet, so its email is withdrawn too.
    assert not OutboxEmail.objects.filter(kind="survey").exists()


def test_the_link_answers_once(client, db):
    invitation = invite()
    # One token for the whole visit: a token carries its signing time, so two made a second
    # apart differ.
    token = token_of(invitation)
    first = client.post(
        reverse("feedback:answer", args=[token]), {"score": "9", "comment": "Great"}
    )
    assert first.status_code == 302
    assert first["Location"] == reverse("feedback:thanks", args=[token])

    again = client.get(url(invitation))
    assert again.status_code == 200
    assert "Thanks, you already answered" in again.content.decode()
    resubmit = client.post(url(invitation), {"score": "0", "comment": "changed my mind"})
    assert "Thanks, you already answered" in resubmit.content.decode()
    assert list(Response.objects.values_list("score", flat=True)) == [9]


def test_a_double_submit_makes_one_response(db):
    invitation = invite()
    record_response(invitation=invitation, score=8, comment="", answers={})
    with pytest.raises(InvitationClosed):
        record_response(invitation=invitation, score=8, comment="", answers={})
    assert Response.objects.count() == 1


def test_the_first_visit_marks_the_invitation_opened_and_later_ones_keep_it(client, db):
    invitation = invite()
    assert invitation.opened_at is None
    client.get(url(invitation))
    invitation.refresh_from_db()
    first = invitation.opened_at
    assert first is not None
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        client.get(url(invitation))
    invitation.refresh_from_db()
    assert invitation.opened_at == first


def test_the_public_pages_keep_the_token_out_of_referers_and_caches(client, db):
    response = client.get(url(invite()))
    # same-origin: no other site sees the token, and the form's POST keeps a real Origin.
    assert response["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
