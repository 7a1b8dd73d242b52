"""Logins are throttled (DESIGN §8, django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one
account, or from one address, that account or address is locked out with a clear page, on the
login page and the admin's; the lock lifts after its cool-off or by the unlock commands; the
client's address is read through TRUSTED_PROXY_COUNT proxies and never from a header the client
made up."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from csm.lib.http import client_ip
from tests.factories import UserFactory

LOGIN = reverse("login")
ADMIN_LOGIN = "/admin/login/"
LIMIT = 10


@pytest.fixture
def carol(db):
    return UserFactory(email="carol@example.com", password="correct horse", is_staff=True)


def login(client, email, password, address="10.0.0.1", url=LOGIN):
    return client.post(url, {"username": email, "password": password}, REMOTE_ADDR=address)


def test_wrong_passwords_lock_the_account_with_a_clear_page(client, carol):
    for _ in range(LIMIT - 1):
        assert login(client, carol.email, "nope").status_code == 200
    locked = login(client, carol.email, "nope")
    assert locked.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in locked.templates]
    body = locked.content.decode()
    assert "Login locked" in body
    assert "After 10 wrong passwords" in body and "locked for 30 minutes" in body
    # Now even the right password is refused, and no session is opened.
    refused = login(client, carol.email, "correct horse")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_fifty_wrong_passwords_get_the_lockout_not_a_normal_answer(client, carol):
    statuses = [login(client, carol.email, f"guess-{n}").status_code for n in range(50)]
    assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1)
    assert set(statuses[LIMIT - 1 :]) == {429}


def test_the_account_is_locked_whatever_address_and_case_the_guesses_come_from(client, carol):
    for n in range(LIMIT):
        login(client, "Carol@Example.com" if n % 2 else carol.email, "nope", address=f"10.0.1.{n}")
    assert login(client, carol.email, "correct horse", address="10.9.9.9").status_code == 429


def test_an_address_is_locked_whatever_accounts_it_guesses(client, carol):
    for n in range(LIMIT):
        login(client, f"user{n}@example.com", "nope", address="10.0.0.66")
    assert login(client, carol.email, "correct horse", address="10.0.0.66").status_code == 429
    # Carol herself, from her own address, still gets in.
    response = login(client, carol.email, "correct horse", address="10.0.0.1")
    assert response.status_code == 302 and response.url == reverse("home")


def test_the_admin_login_is_throttled_too(client, carol):
    for _ in range(LIMIT):
        login(client, carol.email, "nope", url=ADMIN_LOGIN)
    response = login(client, carol.email, "correct horse", url=ADMIN_LOGIN)
    assert response.status_code == 429
    assert "Login locked" in response.content.decode()
    # And it counts with the login page's failures: one account, one lock.
    assert login(client, carol.email, "correct horse").status_code == 429


def test_the_lock_lifts_after_its_cool_off(client, carol):
    for _ in range(LIMIT):
        login(client, carol.email, "nope")
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert login(client, carol.email, "correct horse").status_code == 302


def test_axes_reset_username_unlocks_an_account_at_once(client, carol):
    for _ in range(LIMIT):
        login(client, carol.email, "nope")
    call_command("axes_reset_username", carol.email)
    assert login(client, carol.email, "correct horse").status_code == 302


def test_axes_reset_ip_unlocks_an_address(client, carol):
    for n in range(LIMIT):
        login(client, f"user{n}@example.com", "nope", address="10.0.0.66")
    call_command("axes_reset_ip", "10.0.0.66")
    assert login(client, carol.email, "correct horse", address="10.0.0.66").status_code == 302


def test_one_wrong_password_still_gets_the_plain_message(client, carol):
    response = login(client, carol.email, "nope")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


# --- the client's address ------------------------------------------------------------------------


def request_from(remote, forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_without_proxies_the_address_is_the_connections(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from("203.0.113.5", "198.51.100.1")) == "203.0.113.5"


def test_behind_one_proxy_the_address_is_the_one_it_appended(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client sent a made-up X-Forwarded-For; the proxy appended the address it saw.
    request = request_from("10.0.0.2", "1.2.3.4, 198.51.100.7")
    assert client_ip(request) == "198.51.100.7"


def test_behind_two_proxies_the_second_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_from("10.0.0.3", "6.6.6.6, 198.51.100.7, 10.0.0.2")) == (
        "198.51.100.7"
    )


@pytest.mark.parametrize("forwarded", [None, "", "not-an-address"])
def test_a_missing_or_bad_header_falls_back_to_the_connection(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from("10.0.0.2", forwarded)) == "10.0.0.2"


def test_behind_a_proxy_guesses_are_counted_per_client_not_per_proxy(client, carol, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(LIMIT):
        client.post(
            LOGIN,
            {"username": f"user{n}@example.com", "password": "nope"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"9.9.9.{n}, 198.51.100.66",
        )
    blocked = client.post(
        LOGIN,
        {"username": carol.email, "password": "correct horse"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.66",
    )
    assert blocked.status_code == 429
    # Another client behind the same proxy is not locked out.
    other = client.post(
        LOGIN,
        {"username": carol.email, "password": "correct horse"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.8",
    )
    assert other.status_code == 302
