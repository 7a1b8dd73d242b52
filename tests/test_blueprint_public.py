"""The customer's read-only blueprint at /b/<token>/: no login, one blueprint, nothing else; a
tampered, revoked or switched-off link is a plain not-found page."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from csm.workflow.blueprints import (
    complete_milestone,
    create_blueprints,
    rotate_share_link,
    set_sharing,
    share_token,
)
from csm.workflow.models import Blueprint, Milestone
from tests.factories import AccountFactory, ContactFactory, UserFactory

TODAY = date(2026, 11, 23)
NOT_FOUND = "This link does not work"


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def blueprint(alice) -> Blueprint:
    account = AccountFactory(name="Acme Rockets", owner=alice, contract_start=date(2026, 10, 1))
    ContactFactory(account=account, name="Pat Customer", is_primary=True)
    other = AccountFactory(name="Globex Secret", owner=alice, contract_start=date(2026, 10, 1))
    create_blueprints([account.pk, other.pk])
    blueprint = Blueprint.objects.select_related("account").get(account=account)
    milestone = (
        Milestone.objects.select_related("blueprint__account").filter(blueprint=blueprint).first()
    )
    complete_milestone(
        actor=alice,
        milestone=milestone,
        status="done",
        note="Internal: they were grumpy about pricing",
        on=date(2026, 10, 3),
    )
    return blueprint


def public_url(blueprint: Blueprint) -> str:
    return reverse("blueprints:public", args=[share_token(blueprint)])


def test_a_valid_link_shows_the_plan_without_a_login(client, blueprint):
    response = client.get(public_url(blueprint))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme Rockets" in body
    assert "1 of 8 done" in body
    assert "Our commitments to you" in body and "Your commitments" in body
    assert "First data report delivered" in body and "due 2026-11-30" in body
    assert "Done on 2026-10-03" in body
    assert "Pat Customer" in body  # the customer's own contact person
    assert 'name="viewport"' in body and "<main" in body


def test_it_shows_only_the_owners_first_name_and_no_internal_data(client, blueprint, bob):
    body = client.get(public_url(blueprint)).content.decode()
    assert "Alice" in body
    assert "Archer" not in body and "alice@example.com" not in body
    assert "grumpy" not in body  # completion notes are the CSM's
    assert "Globex Secret" not in body  # nothing about other accounts
    assert "csrfmiddlewaretoken" not in body and "Log out" not in body


def test_a_csm_without_a_name_is_not_shown_by_email(client, blueprint):
    nameless = UserFactory(email="nameless@example.com", name="")
    Milestone.objects.filter(blueprint=blueprint).update(owner=nameless)
    body = client.get(public_url(blueprint)).content.decode()
    assert "nameless" not in body


def test_the_page_tells_browsers_to_keep_the_token_to_themselves(client, blueprint):
    response = client.get(public_url(blueprint))
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-2] + ("aa" if not token.endswith("aa") else "bb"),
        lambda token: "x" + token,
        lambda token: "nothing-to-see",
    ],
)
def test_a_tampered_link_is_a_not_found_page_revealing_nothing(client, blueprint, mangle):
    response = client.get(reverse("blueprints:public", args=[mangle(share_token(blueprint))]))
    assert response.status_code == 404
    body = response.content.decode()
    assert NOT_FOUND in body and "Acme Rockets" not in body


def test_a_token_signed_for_something_else_is_refused(client, blueprint):
    for token in [
        signing.dumps([blueprint.pk, blueprint.share_key], salt="survey"),
        signing.dumps([blueprint.pk, "guessed-key"], salt="blueprint"),
        signing.dumps({"pk": blueprint.pk}, salt="blueprint"),
        signing.dumps([str(blueprint.pk), blueprint.share_key], salt="blueprint"),
        signing.dumps([blueprint.pk + 1000, blueprint.share_key], salt="blueprint"),
    ]:
        response = client.get(reverse("blueprints:public", args=[token]))
        assert response.status_code == 404, token
        assert NOT_FOUND in response.content.decode()


def test_rotating_revokes_the_old_link_and_the_new_one_works(client, blueprint, alice):
    old = public_url(blueprint)
    rotate_share_link(actor=alice, blueprint=blueprint)
    assert client.get(old).status_code == 404
    assert client.get(public_url(blueprint)).status_code == 200


def test_a_link_is_dead_while_sharing_is_off(client, blueprint, maggie):
    url = public_url(blueprint)
    set_sharing(actor=maggie, blueprint=blueprint, enabled=False)
    response = client.get(url)
    assert response.status_code == 404 and "Acme Rockets" not in response.content.decode()
    set_sharing(actor=maggie, blueprint=blueprint, enabled=True)
    assert client.get(url).status_code == 200


def test_the_account_page_offers_the_current_link_to_who_may_edit(alice_client, blueprint):
    body = alice_client.get(
        reverse("accounts:detail", args=[blueprint.account.external_id])
    ).content.decode()
    assert "http://testserver" + public_url(blueprint) in body


def test_the_public_page_takes_two_queries(client, blueprint, django_assert_num_queries):
    url = public_url(blueprint)
    # the blueprint with its account, its milestones with their owners and contacts
    with django_assert_num_queries(2):
        assert client.get(url).status_code == 200


def test_requests_over_the_per_address_limit_get_429(client, blueprint, settings):
    settings.SURVEY_RATE_LIMIT_PER_MINUTE = 3
    url = public_url(blueprint)
    for _ in range(3):
        assert client.get(url).status_code == 200
    response = client.get(url)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    body = response.content.decode()
    assert "Too many requests" in body and "Acme Rockets" not in body
    # Guessing tokens counts too: a bad token is still a request.
    assert client.get("/b/not-a-token/").status_code == 429
    # Another address is not held back.
    assert client.get(url, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_behind_a_proxy_the_limit_counts_each_client(client, blueprint, settings):
    settings.SURVEY_RATE_LIMIT_PER_MINUTE = 2
    settings.TRUSTED_PROXY_COUNT = 1
    url = public_url(blueprint)
    for _ in range(2):
        client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    # Same proxy (REMOTE_ADDR), another client; a made-up left-hand entry changes nothing.
    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200
    spoofed = client.get(url, HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.1")
    assert spoofed.status_code == 429
