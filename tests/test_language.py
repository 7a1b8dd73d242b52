"""Who reads which language: a user's own choice over the browser's, the login page's switcher,
the contact's language on the public pages and in emails, the installation's when nobody chose."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import Contact
from csm.lib.emails import render_email
from csm.lib.models import OutboxEmail
from csm.workflow.blueprints import create_blueprints, share_token
from csm.workflow.models import Blueprint
from csm.workflow.tips import queue_usage_tips
from feedback.services import record_response, send_invitation
from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.surveys import customer, survey, token_of
from tests.tips import DAY, c_customer

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def today_page(client: Client, **headers) -> str:
    return client.get(reverse("home"), **headers).content.decode()


# --- Users ------------------------------------------------------------------------------------


def test_a_user_without_a_language_follows_the_browser(client, alice):
    client.force_login(alice)
    assert "<h1>今日" in today_page(client, **CHINESE)
    assert "<h1>Today" in today_page(client, **ENGLISH)


def test_a_users_own_language_wins_over_the_browsers(client, alice):
    alice.language = "zh-hans"
    alice.save(update_fields=["language"])
    client.force_login(alice)
    body = today_page(client, **ENGLISH)
    assert "<h1>今日" in body and '<html lang="zh-hans"' in body


def test_the_profile_page_saves_the_language_and_sets_the_cookie(client, alice):
    client.force_login(alice)
    page = client.get(reverse("profile"), **ENGLISH).content.decode()
    assert (
        'name="language"' in page and "简体中文" in page and "The browser&#x27;s language" in page
    )
    response = client.post(reverse("profile"), {"language": "zh-hans"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.language == "zh-hans"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert "保存" in client.get(reverse("profile"), **ENGLISH).content.decode()


def test_choosing_the_browsers_language_forgets_the_cookie(client, alice):
    alice.language = "zh-hans"
    alice.save(update_fields=["language"])
    client.force_login(alice)
    response = client.post(reverse("profile"), {"language": ""})
    alice.refresh_from_db()
    assert alice.language == ""
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # deleted
    assert "<h1>Today" in today_page(client, **ENGLISH)


def test_an_unknown_language_is_a_form_error_naming_the_field(client, alice):
    client.force_login(alice)
    response = client.post(reverse("profile"), {"language": "klingon"})
    assert response.status_code == 200
    assert 'id="id_language_error"' in response.content.decode()
    alice.refresh_from_db()
    assert alice.language == ""


def test_the_login_page_switches_language_without_a_script(client, db):
    page = client.get(reverse("login"), **ENGLISH).content.decode()
    assert f'action="{reverse("set_language")}"' in page
    assert 'name="language" value="zh-hans"' in page and "<script>" not in page
    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("login")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("login")
    page = client.get(reverse("login"), **ENGLISH).content.decode()
    assert "留住现有客户。" in page


def test_the_topbar_links_to_the_profile(alice_client):
    assert f'href="{reverse("profile")}"' in today_page(alice_client)


# --- Contacts -----------------------------------------------------------------------------------


def test_the_contact_form_stores_a_language(alice_client, alice):
    account = AccountFactory(owner=alice)
    response = alice_client.post(
        reverse("accounts:contact_add", args=[account.external_id]),
        {"name": "Li Na", "email": "li@example.cn", "role": "", "language": "zh-hans"},
    )
    assert response.status_code == 302
    assert Contact.objects.get(account=account).language == "zh-hans"


def test_a_contacts_unknown_language_names_the_field_and_writes_nothing(alice_client, alice):
    account = AccountFactory(owner=alice)
    response = alice_client.post(
        reverse("accounts:contact_add", args=[account.external_id]),
        {"name": "Li Na", "email": "li@example.cn", "language": "fr"},
    )
    assert response.status_code == 200
    assert 'id="id_language_error"' in response.content.decode()
    assert not Contact.objects.filter(account=account).exists()


def test_the_survey_page_speaks_the_contacts_language_over_the_browsers(client, db):
    _account, contact = customer()
    contact.language = "zh-hans"
    contact.save(update_fields=["language"])
    invitation = send_invitation(survey=survey(), contact=contact)
    url = reverse("feedback:answer", args=[token_of(invitation)])
    body = client.get(url, **ENGLISH).content.decode()
    assert '<html lang="zh-hans"' in body
    response = client.post(url, {"score": "9"}, follow=True, **ENGLISH)
    assert "谢谢您！" in response.content.decode()


def test_the_survey_page_follows_the_browser_when_the_contact_has_no_language(client, db):
    _account, contact = customer()
    invitation = send_invitation(survey=survey(), contact=contact)
    url = reverse("feedback:answer", args=[token_of(invitation)])
    assert '<html lang="zh-hans"' in client.get(url, **CHINESE).content.decode()
    assert '<html lang="en"' in client.get(url, **ENGLISH).content.decode()


@time_machine.travel(date(2026, 11, 23), tick=False)
def test_the_blueprint_page_speaks_the_primary_contacts_language(client, alice):
    account = AccountFactory(owner=alice, contract_start=date(2026, 10, 1))
    ContactFactory(account=account, is_primary=True, language="zh-hans")
    ContactFactory(account=account, language="en")
    create_blueprints([account.pk])
    blueprint = Blueprint.objects.get(account=account)
    blueprint.share_enabled = True
    blueprint.save(update_fields=["share_enabled"])
    body = client.get(
        reverse("blueprints:public", args=[share_token(blueprint)]), **ENGLISH
    ).content.decode()
    assert '<html lang="zh-hans"' in body and "您的成功计划" in body


# --- Emails ---------------------------------------------------------------------------------------


def test_an_invitation_goes_out_in_the_contacts_language(db):
    _account, contact = customer()
    contact.language = "zh-hans"
    contact.save(update_fields=["language"])
    send_invitation(survey=survey(), contact=contact)
    email = OutboxEmail.objects.get(kind="survey")
    assert "回答只需不到一分钟" in email.body and "年" in email.body


def test_without_a_language_an_email_is_in_the_installations_whoever_sends_it(db):
    _account, contact = customer()
    with translation.override("zh-hans"):  # a CSM reading Chinese clicks "send"
        send_invitation(survey=survey(), contact=contact)
    email = OutboxEmail.objects.get(kind="survey")
    assert "Answering takes under a minute" in email.body


def test_a_detractor_alert_goes_out_in_the_owners_language(db):
    owner = UserFactory(language="zh-hans")
    _account, contact = customer(owner)
    invitation = send_invitation(survey=survey(), contact=contact)
    record_response(invitation=invitation, score=2, comment="", answers={})
    email = OutboxEmail.objects.get(kind="detractor")
    assert "出现贬损者" in email.subject


def test_usage_tips_go_out_in_the_contacts_language(db, tips_night):
    account = c_customer(name="小微科技", contact="王芳")
    account.contacts.update(language="zh-hans")
    assert queue_usage_tips(day=DAY) == 1
    email = OutboxEmail.objects.get()
    assert email.body.startswith("王芳，您好：")


def test_render_email_uses_the_installations_language_for_a_blank_or_unknown_one(db):
    for language in ("", "xx"):
        email = render_email("survey_invitation", _invitation_context(), language=language)
        assert email.body.startswith("Hello Ana,")
    email = render_email("survey_invitation", _invitation_context(), language="zh-hans")
    assert email.body.startswith("Ana，您好：")


def _invitation_context() -> dict[str, object]:
    return {
        "account": "Acme",
        "question": "?",
        "name": "Ana",
        "link": "https://x.example/s/t/",
        "d": date(2026, 12, 31),
    }
