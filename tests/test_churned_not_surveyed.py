"""A churned account is never surveyed (only its exit survey asks why it left): not by the
nightly schedule, not by a send to a segment, not by a send to one contact. An account marked
churned by hand still has a running subscription, which is how a restart of `make run` (its
nightly run) once surveyed an account just marked churned."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from csm.nightly import run_nightly
from feedback.churn import mark_churned, send_exit_survey
from feedback.models import ChurnEvent, Invitation, Survey
from feedback.services import (
    SendError,
    customers_on,
    queue_scheduled_surveys,
    send_invitation,
    send_to_accounts,
)
from tests.surveys import customer, survey

TODAY = date(2026, 11, 23)
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture(autouse=True)
def frozen(db):
    Survey.objects.update(active=False)  # the starting surveys of the data migration
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def book(alice):
    """Two paying customers of Alice's; Gone Ltd was just marked churned (still paying)."""
    _kept, kept = customer(alice, name="Kept Co", email="ana@kept.example")
    gone_account, gone = customer(alice, name="Gone Ltd", email="bo@gone.example")
    mark_churned(account=gone_account, by=alice, day=TODAY, note="Cancellation notice")
    return kept, gone


def surveyed() -> list[str]:
    return sorted(Invitation.objects.values_list("email", flat=True))


def test_the_nightly_schedule_skips_a_churned_account(book):
    survey(every_days=90)
    assert queue_scheduled_surveys(day=YESTERDAY) == 1
    assert surveyed() == ["ana@kept.example"]


def test_a_restart_of_make_run_does_not_survey_an_account_just_marked_churned(book):
    """`make run` runs the nightly pipeline on every start: the same step, through run_nightly."""
    survey(every_days=90)
    run_nightly(day=YESTERDAY)
    assert surveyed() == ["ana@kept.example"]


def test_a_send_to_a_segment_skips_churned_accounts_and_says_so(book, alice):
    nps = survey()
    result = send_to_accounts(survey=nps, accounts=customers_on(TODAY), sent_by=alice)
    assert (result.sent, result.skipped_churned) == (1, 1)
    assert surveyed() == ["ana@kept.example"]


def test_the_send_page_reports_the_churned_accounts_skipped(book, alice_client):
    nps = survey()
    response = alice_client.post(reverse("feedback:send"), {"survey": nps.pk}, follow=True)
    assert "1 churned account was not surveyed." in response.content.decode()
    assert surveyed() == ["ana@kept.example"]


def test_a_survey_to_one_contact_of_a_churned_account_is_refused(book, alice_client):
    _kept, gone = book
    nps = survey()
    with pytest.raises(SendError, match="churned"):
        send_invitation(survey=nps, contact=gone)
    response = alice_client.post(
        reverse("feedback:account", args=[gone.account.external_id]),
        {"survey": nps.pk, "contact": gone.pk},
    )
    assert response.status_code == 200
    assert "only the exit survey" in response.content.decode()
    assert surveyed() == []


def test_the_exit_survey_still_goes_to_a_churned_account(book, alice):
    _kept, gone = book
    survey(is_exit_survey=True, name="Why did you leave?")
    event = send_exit_survey(event=ChurnEvent.objects.get(account=gone.account), by=alice)
    assert event.exit_invitation.email == "bo@gone.example"


def test_a_reactivated_account_is_surveyed_again(book):
    _kept, gone = book
    ChurnEvent.objects.filter(account=gone.account).update(reactivated_on=TODAY)
    survey(every_days=90)
    assert queue_scheduled_surveys(day=YESTERDAY) == 2
