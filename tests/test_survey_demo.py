"""The demo's survey history (feedback/demo.py): deterministic for a seed, believable response
rates, scores that lean on the account's fate, and nothing left for the schedule to catch up on
at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db.models import Q

from csm.demo.seed import seed_demo
from csm.demo.surveys import seed_survey_history
from feedback.models import Invitation, Response
from feedback.scores import nps
from feedback.services import queue_scheduled_surveys

TODAY = date(2026, 3, 15)


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 3, 15, 12, tzinfo=UTC), tick=False):
        yield


def seeded(seed=1):
    seed_demo(accounts=150, months=24, seed=seed, today=TODAY, usage_days=14)
    return seed_survey_history(seed=seed, today=TODAY)


def history():
    return sorted(
        Response.objects.values_list(
            "account__external_id", "kind", "score", "comment", "answered_at"
        )
    )


def test_the_same_seed_gives_the_same_history(db):
    counts = seeded()
    first = history()
    Response.objects.all().delete()
    Invitation.objects.all().delete()
    assert seed_survey_history(seed=1, today=TODAY) == counts
    assert history() == first


def test_response_rates_and_bounces_are_believable(db):
    counts = seeded()
    assert counts["invitations"] > 300
    rate = counts["responses"] / counts["invitations"]
    assert 0.35 <= rate <= 0.55
    bounced = Invitation.objects.filter(bounced_at__isnull=False).count()
    assert 0 < bounced < counts["invitations"] * 0.06
    assert not Invitation.objects.filter(bounced_at__isnull=False, answered_at__isnull=False)
    assert set(Response.objects.values_list("kind", flat=True)) == {"nps", "csat", "ces"}
    oldest = Invitation.objects.order_by("created_at").first().created_at.date()
    assert oldest >= TODAY - timedelta(days=540)


def test_accounts_that_churned_answered_worse(db):
    seeded()
    churned = Q(account__subscriptions__end_date__isnull=False) & ~Q(
        account__subscriptions__end_date__isnull=True
    )
    nps_answers = Response.objects.filter(kind="nps")
    left = list(nps_answers.filter(churned).distinct().values_list("score", flat=True))
    stayed = list(nps_answers.exclude(churned).values_list("score", flat=True))
    assert left and stayed
    assert nps(left) < nps(stayed)


def test_comments_name_the_churn_causes_and_competitors(db):
    seeded()
    comments = " ".join(Response.objects.values_list("comment", flat=True)).lower()
    for word in ("price", "slow", "missing", "support", "onboarding", "retainly", "gainwise"):
        assert word in comments


def test_the_quarterly_nps_is_not_due_for_existing_customers_right_after_seeding(db):
    seeded()
    already = set(Invitation.objects.values_list("email", flat=True))
    queue_scheduled_surveys(day=TODAY)
    fresh = Invitation.objects.filter(outbox__isnull=False, survey__name="Quarterly NPS")
    # Only customers whose quarterly slot fell before they signed get one now.
    assert fresh.count() < len(already) * 0.1
