"""A manager reads the feedback pages: the NPS trend over twelve months, the tables by group, the
comment stream filtered to a competitor with htmx, and an account's churn card completed inline."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.mrr import Month
from csm.demo.churns import ensure_demo_competitors
from feedback.churn import record_churn_events
from feedback.models import ChurnEvent, Invitation, Response, Survey
from feedback.tagging import ensure_default_keyword_rules, retag_all_responses
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMMENTS = [
    "Too expensive for what we use, we are looking at Retainly",
    "Support team never answered our ticket",
    "Great product, the onboarding was smooth",
    "Reports are slow and a missing feature blocks us",
    "GW Suite offered us a discount",
    "Love the new dashboards",
    "",
    "",
]


def build_feedback():
    rng = random.Random(7)
    manager = UserFactory(
        email="sam@example.com", name="Sam Lead", role=Role.MANAGER, password="demo-pass"
    )
    csms = [
        UserFactory(email=f"csm{n}@example.com", name=name, role=Role.CSM)
        for n, name in enumerate(["Maya Chen", "Leo Park"])
    ]
    ensure_default_keyword_rules()
    ensure_demo_competitors()
    nps = Survey.objects.filter(kind="nps", is_exit_survey=False).first() or Survey.objects.create(
        name="Quarterly NPS", kind="nps", question="How likely are you to recommend us?"
    )
    csat = Survey.objects.create(name="Support CSAT", kind="csat", question="How satisfied?")
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    this_month = Month.of(today)
    accounts = [
        AccountFactory(
            owner=csms[n % 2],
            tier="ABC"[n % 3],
            segment=["basic", "advanced", "strategic"][n % 3],
            contract_start=today - timedelta(days=20 + n * 23),
        )
        for n in range(30)
    ]
    responses = []
    for back in range(12):
        month = this_month.minus(back)
        # NPS climbs from about -10 a year ago to about +35 now.
        promoter_share = 0.35 + (11 - back) * 0.03
        detractor_share = max(0.1, 0.4 - (11 - back) * 0.025)
        for _n in range(14):
            account = accounts[rng.randrange(len(accounts))]
            day = min(month.first_day + timedelta(days=rng.randrange(27)), today)
            at = datetime.combine(day, time(10), tzinfo=zone)
            draw = rng.random()
            score = (
                rng.choice([9, 10])
                if draw < promoter_share
                else rng.choice([2, 4, 5, 6])
                if draw < promoter_share + detractor_share
                else rng.choice([7, 8])
            )
            invitation = Invitation.objects.create(
                survey=nps,
                account=account,
                email="x@customer.example",
                nonce=secrets.token_hex(8),
                created_at=at - timedelta(days=2),
                expires_at=at + timedelta(days=30),
                answered_at=at,
            )
            responses.append(
                Response(
                    invitation=invitation,
                    survey=nps,
                    account=account,
                    kind="nps",
                    score=score,
                    scale_min=0,
                    scale_max=10,
                    comment=rng.choice(COMMENTS),
                    answered_at=at,
                )
            )
            csat_score = rng.choice([2, 3, 4, 4, 5, 5])
            responses.append(
                Response(
                    survey=csat,
                    account=account,
                    kind="csat",
                    score=csat_score,
                    scale_min=1,
                    scale_max=5,
                    answered_at=at,
                )
            )
        for _ in range(6):  # unanswered invitations
            Invitation.objects.create(
                survey=nps,
                account=accounts[0],
                email="y@customer.example",
                nonce=secrets.token_hex(8),
                created_at=datetime.combine(month.first_day, time(9), tzinfo=zone),
                expires_at=datetime.combine(month.first_day, time(9), tzinfo=zone)
                + timedelta(days=30),
            )
    Response.objects.bulk_create(responses)
    retag_all_responses()

    churned = accounts[1]
    ContactFactory(account=churned, is_primary=True)
    SubscriptionFactory(
        account=churned,
        start_date=today - timedelta(days=300),
        end_date=today - timedelta(days=3),
        amount=Decimal("900"),
    )
    record_churn_events(day=today - timedelta(days=3))
    return manager, churned


def test_a_manager_reads_the_feedback_pages(live_server, page, screenshot):
    manager, churned = build_feedback()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill("demo-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("link", name="Feedback", exact=True).click()
    page.wait_for_url("**/feedback/")
    page.locator("#nps-chart[data-drawn='1']").wait_for()
    assert "NPS by month" in page.inner_text("main")
    screenshot("feedback-overview-manager")

    page.get_by_role("link", name="Comments").click()
    page.wait_for_url("**/feedback/comments/")
    page.locator("#id_competitor").select_option(label="Retainly")
    page.wait_for_url("**competitor=*")
    stream = page.locator("#comment-stream")
    stream.get_by_text("Retainly", exact=True).first.wait_for()
    assert "we are looking at Retainly" in stream.inner_text()
    assert "Support team never answered" not in stream.inner_text()
    screenshot("feedback-comments-retainly")

    page.goto(f"{live_server.url}/accounts/{churned.external_id}/")
    card = page.locator("#churn-card")
    card.locator("select[name=category]").select_option("competitor")
    card.locator("select[name=competitor]").select_option(label="Gainwise")
    card.get_by_label("Note").fill("Bundled with their CRM")
    card.get_by_role("button", name="Save the reason").click()
    card.get_by_text("Saved why").wait_for()
    screenshot("account-churn-completed")

    page.goto(f"{live_server.url}/feedback/detractors/")
    page.locator("#detractor-table").wait_for()
    screenshot("feedback-detractors")

    page.goto(f"{live_server.url}/feedback/churns/?show=all")
    assert "Gainwise" in page.locator("#churn-table").inner_text()
    screenshot("feedback-churns")

    page.goto(f"{live_server.url}/settings/keyword-rules/")
    screenshot("feedback-keyword-rules")
    event = ChurnEvent.objects.get(account=churned)
    assert (event.category, event.competitor.name) == ("competitor", "Gainwise")
