"""Sending invitations: one contact or a segment, through the outbox, CSMs for their own book
(403 otherwise) and managers for everybody; bounces and revoked links."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from csm.lib.models import OutboxEmail
from feedback.models import Invitation
from feedback.services import (
    SendError,
    mark_bounced,
    record_response,
    send_invitation,
    sync_outbox_bounces,
)
from tests.factories import ContactFactory
from tests.surveys import customer, invite, survey


def test_an_invitation_and_its_email_are_written_together(db, settings):
    settings.SURVEY_TOKEN_DAYS = 7
    settings.SITE_URL = "https://csm.example.com"
    account, contact = customer()
    nps = survey(question="Would you recommend us?")
    invitation = send_invitation(survey=nps, contact=contact)
    email = invitation.outbox
    assert (email.kind, email.to, email.account_id) == ("survey", contact.email, account.pk)
    assert email.subject == f"{account.name}: Would you recommend us?"
    assert "https://csm.example.com/s/" in email.body and "Hello Ana Lima," in email.body
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert (invitation.email, invitation.account, invitation.contact) == (
        contact.email,
        account,
        contact,
    )


def test_a_switched_off_survey_is_not_sent(db):
    _account, contact = customer()
    with pytest.raises(SendError) as error:
        send_invitation(survey=survey(active=False), contact=contact)
    assert error.value.field == "survey"
    assert not Invitation.objects.exists() and not OutboxEmail.objects.exists()


def account_url(account):
    return reverse("feedback:account", args=[account.external_id])


def test_the_owner_sends_a_survey_to_a_contact_of_the_account(alice_client, alice):
    account, contact = customer(alice)
    other = ContactFactory(account=account, name="Bo Chen")
    nps = survey()
    page = alice_client.get(account_url(account)).content.decode()
    assert "Bo Chen" in page and "primary" in page
    response = alice_client.post(account_url(account), {"survey": nps.pk, "contact": other.pk})
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.contact, invitation.sent_by) == (other, alice)


def test_a_csm_cannot_send_for_another_csms_account(client, alice, bob):
    account, contact = customer(alice)
    client.force_login(bob)
    page = client.get(account_url(account))
    assert page.status_code == 200 and "Send a survey" not in page.content.decode()
    response = client.post(account_url(account), {"survey": survey().pk, "contact": contact.pk})
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_a_manager_sends_for_any_account(maggie_client, alice):
    account, contact = customer(alice)
    nps = survey()
    response = maggie_client.post(account_url(account), {"survey": nps.pk, "contact": contact.pk})
    assert response.status_code == 302
    assert Invitation.objects.get().contact == contact


def test_a_contact_of_another_account_is_refused_naming_the_field(alice_client, alice):
    account, _contact = customer(alice)
    _elsewhere, stranger = customer(alice, contact_name="Someone Else")
    response = alice_client.post(
        account_url(account), {"survey": survey().pk, "contact": stranger.pk}
    )
    assert response.status_code == 200
    assert "To: Select a valid choice." in response.content.decode()
    assert not Invitation.objects.exists()


# --- Segments ---------------------------------------------------------------------------------


def test_a_csm_sends_to_a_segment_of_their_own_book_only(alice_client, alice, bob):
    mine_a, _ = customer(alice, tier="A")
    customer(alice, tier="C")
    customer(bob, tier="A")
    nps = survey()
    response = alice_client.post(reverse("feedback:send"), {"survey": nps.pk, "tier": "A"})
    assert response.status_code == 302
    assert list(Invitation.objects.values_list("account", flat=True)) == [mine_a.pk]


def test_a_manager_sends_to_everyone_in_the_segment_skipping_recent_and_bounced(
    maggie_client, alice, bob, settings
):
    settings.SURVEY_MIN_INTERVAL_DAYS = 30
    fresh, _ = customer(alice, segment="advanced")
    recent_pair = customer(bob, segment="advanced")
    bounced_pair = customer(bob, segment="advanced")
    customer(bob, segment="basic")
    send_invitation(survey=survey("csat", name="Support"), contact=recent_pair[1])
    old = send_invitation(survey=survey("csat", name="Old"), contact=bounced_pair[1])
    Invitation.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=200), bounced_at=timezone.now()
    )
    nps = survey()
    response = maggie_client.post(
        reverse("feedback:send"), {"survey": nps.pk, "segment": "advanced"}, follow=True
    )
    assert "Sent “Test nps” to 1 person. Skipped 2" in response.content.decode()
    assert list(Invitation.objects.filter(survey=nps).values_list("account", flat=True)) == [
        fresh.pk
    ]


def test_a_bad_segment_value_is_named(maggie_client):
    response = maggie_client.post(reverse("feedback:send"), {"survey": survey().pk, "tier": "Z"})
    assert response.status_code == 200
    assert "Tier: Select a valid choice." in response.content.decode()
    assert not Invitation.objects.exists()


# --- Bounces and revocation ---------------------------------------------------------------------


def test_the_owner_marks_an_invitation_bounced_and_another_csm_cannot(client, alice, bob):
    invitation = invite(owner=alice)
    url = reverse("feedback:bounce", args=[invitation.pk])
    client.force_login(bob)
    assert client.post(url).status_code == 403
    client.force_login(alice)
    assert client.post(url).status_code == 302
    invitation.refresh_from_db()
    assert invitation.bounced_at is not None


def test_htmx_gets_the_invitation_row_back(alice_client, alice):
    invitation = invite(owner=alice)
    response = alice_client.post(
        reverse("feedback:revoke", args=[invitation.pk]), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tbody id="invitation-{invitation.pk}">')
    assert "revoked" in body and "Link revoked." in body


def test_an_answered_invitation_cannot_be_revoked(alice_client, alice):
    invitation = invite(owner=alice)
    record_response(invitation=invitation, score=9, comment="", answers={})
    alice_client.post(reverse("feedback:revoke", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_marking_twice_keeps_the_first_time(alice):
    invitation = invite(owner=alice)
    assert mark_bounced(actor=alice, invitation=invitation) is True
    first = invitation.bounced_at
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert mark_bounced(actor=alice, invitation=invitation) is False
    invitation.refresh_from_db()
    assert invitation.bounced_at == first


def test_a_recipient_the_mail_server_refused_counts_as_bounced(db):
    refused, down, sent = invite(), invite(), invite()
    OutboxEmail.objects.filter(pk=refused.outbox_id).update(
        attempts=1, last_error="SMTPRecipientsRefused: {'x@y': (550, b'no such user')}"
    )
    OutboxEmail.objects.filter(pk=down.outbox_id).update(
        attempts=3, last_error="ConnectionRefusedError: [Errno 111] Connection refused"
    )
    OutboxEmail.objects.filter(pk=sent.outbox_id).update(sent_at=timezone.now())
    assert sync_outbox_bounces() == 1
    assert list(Invitation.objects.filter(bounced_at__isnull=False)) == [refused]
    assert sync_outbox_bounces() == 0


# --- Query counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 12])
def test_the_account_surveys_page_takes_a_fixed_number_of_queries(
    alice_client, alice, n, django_assert_num_queries
):
    account, contact = customer(alice)
    nps = survey()
    for _ in range(n):
        invitation = send_invitation(survey=nps, contact=contact)
        record_response(invitation=invitation, score=9, comment="ok", answers={})
    # session, user, account+owner, contacts, active surveys, invitations with survey, contact
    # and response
    with django_assert_num_queries(6):
        response = alice_client.get(account_url(account))
    assert response.status_code == 200
