"""A customer answers a survey on a phone: opens the emailed link, picks 3, writes a comment and
sees the thank-you page; the link then says it was answered; the owning CSM finds the detractor
on Today."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Role
from feedback.models import Response
from feedback.services import send_invitation
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory, UserFactory
from tests.surveys import survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def shoot(page, name):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_customer_answers_on_a_phone_and_the_csm_sees_the_detractor(live_server, phone, page):
    cache.clear()  # the public pages' rate-limit counters
    csm = UserFactory(
        email="maya@example.com", name="Maya Chen", role=Role.CSM, password="demo-pass"
    )
    today = timezone.localdate()
    account = AccountFactory(
        name="Northwind Inc", tier="B", owner=csm, contract_start=today - timedelta(days=400)
    )
    SubscriptionFactory(
        account=account, start_date=today - timedelta(days=400), amount=Decimal(900)
    )
    contact = ContactFactory(account=account, name="Ana Lima", is_primary=True)
    invitation = send_invitation(
        survey=survey(
            question="How likely are you to recommend Acme Analytics to a friend or colleague?",
            comment_prompt="What is the main reason for your score?",
        ),
        contact=contact,
    )
    link = invitation.outbox.body.split("http://127.0.0.1:8000")[1].split()[0]

    # The customer, on a phone.
    phone.goto(live_server.url + link)
    phone.get_by_role("heading", name="How likely are you to recommend").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(phone, "survey-phone-form")

    # Submitting without a score names the field and keeps the comment.
    phone.get_by_label("What is the main reason for your score?").fill("Reports are too slow")
    phone.get_by_role("button", name="Send my answer").click()
    phone.get_by_role("alert").wait_for()
    assert "Choose a score from 0 to 10." in phone.get_by_role("alert").inner_text()
    shoot(phone, "survey-phone-error")

    # The score buttons are real radio buttons: reachable by their label and by keyboard.
    phone.get_by_role("radio", name="3", exact=True).check(force=True)
    assert phone.get_by_role("radio", name="3", exact=True).is_checked()
    assert (
        phone.get_by_label("What is the main reason for your score?").input_value()
        == "Reports are too slow"
    )
    phone.get_by_role("radio", name="3", exact=True).focus()
    shoot(phone, "survey-phone-chosen")
    phone.get_by_role("button", name="Send my answer").click()
    phone.get_by_role("heading", name="Thank you!").wait_for()
    shoot(phone, "survey-phone-thanks")

    phone.goto(live_server.url + link)
    phone.get_by_role("heading", name="Thanks, you already answered").wait_for()
    shoot(phone, "survey-phone-already-answered")
    assert Response.objects.get().score == 3

    # The owning CSM sees the detractor at the top of Today.
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("demo-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    risks = page.locator("#risks")
    assert risks.locator(".risk-item").first.inner_text().startswith("Northwind Inc")
    today_text = risks.inner_text()
    assert f"NPS 3 from Ana Lima on {today.isoformat()}: 'Reports are too slow'" in today_text
    shoot(page, "survey-today-detractor")

    # … and the answer on the account's timeline.
    page.goto(f"{live_server.url}/accounts/{account.external_id}/")
    timeline = page.locator("#timeline")
    assert "NPS 3 (0–10) from Ana Lima · detractor" in timeline.inner_text()


def test_a_csm_sends_a_survey_from_the_account_page_and_marks_it_bounced(live_server, page):
    csm = UserFactory(
        email="maya@example.com", name="Maya Chen", role=Role.CSM, password="demo-pass"
    )
    UserFactory(email="sam@example.com", name="Sam Lead", role=Role.MANAGER, password="demo-pass")
    account = AccountFactory(name="Globex Inc", owner=csm)
    # A transactional test starts from an empty database: no starting surveys.
    survey("csat", name="Support CSAT", question="How satisfied are you with our help?")
    ContactFactory(account=account, name="Ana Lima", email="ana@globex.example", is_primary=True)

    page.goto(f"{live_server.url}/")
    page.get_by_label("Email").fill("maya@example.com")
    page.get_by_label("Password").fill("demo-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/accounts/{account.external_id}/")
    page.get_by_role("button", name="Send survey").click()
    page.wait_for_url("**/surveys/")

    page.get_by_label("Survey").select_option(label="Support CSAT")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Sent “Support CSAT” to ana@globex.example.").wait_for()
    row = page.locator("#invitations tbody").first
    assert "Support CSAT" in row.inner_text() and "sent" in row.inner_text()

    # htmx swaps just the row.
    row.get_by_role("button", name="Mark bounced").click()
    page.get_by_text("Marked bounced.").wait_for()
    assert "bounced" in page.locator("#invitations tbody").first.inner_text()
    shoot(page, "survey-account-page")

    # The manager's survey list counts it.
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Password").fill("demo-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.locator("summary", has_text="Setup").click()  # the managers' Setup menu
    page.get_by_role("link", name="Surveys", exact=True).click()
    page.wait_for_url("**/surveys/")
    csat = page.locator("tr", has_text="Support CSAT")
    assert csat.locator("td.num").all_inner_texts()[:4] == ["1", "0", "0", "1"]
    shoot(page, "survey-list")
    csat.get_by_role("link", name="Edit").click()
    page.get_by_label("Send every (days)").fill("0")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Send every (days): Give a number of days of at least 1").wait_for()
    shoot(page, "survey-edit-error")
