"""Scheduled surveys (the nightly step): each scheduled survey goes to the primary contacts of
its audience, never twice within its `every_days`, never more often than
SURVEY_MIN_INTERVAL_DAYS for any survey, and not for a backfilled day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from csm.lib.models import OutboxEmail
from csm.nightly import run_one_day
from feedback.models import Invitation, Survey
from feedback.services import queue_scheduled_surveys, send_invitation
from tests.factories import AccountFactory, ContactFactory
from tests.surveys import customer, survey

TODAY = date(2026, 11, 23)
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture(autouse=True)
def frozen(db, settings):
    settings.SURVEY_MIN_INTERVAL_DAYS = 30
    Survey.objects.update(active=False)  # the starting surveys of the data migration
    with time_machine.travel(datetime(2026, 11, 23, 2, tzinfo=UTC), tick=False):
        yield


def sent_to(survey_=None):
    invitations = Invitation.objects.all()
    if survey_ is not None:
        invitations = invitations.filter(survey=survey_)
    return sorted(invitations.values_list("email", flat=True))


def sent_days_ago(days, survey_, contact):
    with time_machine.travel(datetime(2026, 11, 23, 2, tzinfo=UTC) - timedelta(days=days)):
        return send_invitation(survey=survey_, contact=contact)


def test_it_sends_to_the_primary_contacts_of_customers_in_the_audience():
    nps = survey(every_days=90, audience_tier="A")
    _a, in_audience = customer(tier="A", email="ana@a.example")
    customer(tier="B", email="bo@b.example")
    ContactFactory(account=_a, email="second@a.example")  # not primary
    prospect = AccountFactory(tier="A")  # no subscription: not a customer
    ContactFactory(account=prospect, is_primary=True, email="p@prospect.example")
    assert queue_scheduled_surveys(day=YESTERDAY) == 1
    assert sent_to(nps) == ["ana@a.example"]
    email = OutboxEmail.objects.get()
    assert email.kind == "survey" and email.to == "ana@a.example"


def test_rerunning_the_day_sends_nothing_twice():
    survey(every_days=90)
    customer(email="ana@a.example")
    assert queue_scheduled_surveys(day=YESTERDAY) == 1
    assert queue_scheduled_surveys(day=YESTERDAY) == 0
    assert queue_scheduled_surveys(day=TODAY) == 0


def test_it_waits_every_days_since_the_last_time_this_survey_went():
    nps = survey(every_days=90)
    _account, contact = customer(email="ana@a.example")
    sent_days_ago(89, nps, contact)
    assert queue_scheduled_surveys(day=YESTERDAY) == 0
    Invitation.objects.update(created_at=datetime(2026, 8, 25, 1, tzinfo=UTC))  # 90 days before
    assert queue_scheduled_surveys(day=YESTERDAY) == 1


def test_no_survey_goes_more_often_than_the_minimum_interval(settings):
    weekly = survey("csat", every_days=7)
    other = survey("ces", name="Other")
    _account, contact = customer(email="ana@a.example")
    sent_days_ago(29, other, contact)  # any survey counts
    assert queue_scheduled_surveys(day=YESTERDAY) == 0
    Invitation.objects.update(created_at=datetime(2026, 10, 24, 12, tzinfo=UTC))  # 30 days
    assert queue_scheduled_surveys(day=YESTERDAY) == 1
    assert sent_to(weekly) == ["ana@a.example"]
    settings.SURVEY_MIN_INTERVAL_DAYS = 60  # a stricter setting holds the weekly one back more
    Invitation.objects.filter(survey=weekly).update(
        created_at=datetime(2026, 10, 1, 12, tzinfo=UTC)
    )
    assert queue_scheduled_surveys(day=YESTERDAY) == 0


def test_two_surveys_due_the_same_night_send_one_and_the_narrower_audience_goes_first():
    everybody = survey(every_days=90, name="Quarterly")
    onboarding = survey("ces", every_days=30, name="Onboarding", audience_stage="onboarding")
    customer(email="new@a.example", contract_start=TODAY - timedelta(days=10))
    customer(email="old@b.example")
    assert queue_scheduled_surveys(day=YESTERDAY) == 2
    assert sent_to(onboarding) == ["new@a.example"]
    assert sent_to(everybody) == ["old@b.example"]


def test_exit_surveys_inactive_surveys_and_bounced_addresses_are_left_out():
    survey(every_days=30, is_exit_survey=True, name="Exit")
    survey(every_days=30, active=False, name="Off")
    nps = survey(every_days=90)
    _account, contact = customer(email="gone@a.example")
    old = sent_days_ago(200, nps, contact)
    Invitation.objects.filter(pk=old.pk).update(bounced_at=old.created_at)
    customer(email="ok@b.example")
    assert queue_scheduled_surveys(day=YESTERDAY) == 1
    assert sent_to() == ["gone@a.example", "ok@b.example"]  # the old one, and today's


def test_one_person_primary_for_two_accounts_gets_one_email():
    survey(every_days=90)
    customer(email="same@x.example")
    customer(email="same@x.example")
    assert queue_scheduled_surveys(day=YESTERDAY) == 1


def test_the_nightly_sends_for_yesterday_but_not_for_a_backfilled_day():
    survey(every_days=90)
    customer(email="ana@a.example")
    assert run_one_day(YESTERDAY - timedelta(days=5))["surveys_queued"] == 0
    summary = run_one_day(YESTERDAY)
    assert summary["surveys_queued"] == 1
    assert summary["surveys_bounced"] == 0
