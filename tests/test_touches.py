"""Logging touches: inline with htmx, as a plain POST, on any page (csm/touch_views.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse

from csm.workflow.models import Touch
from csm.workflow.touches import log_touch
from tests.factories import AccountFactory

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def account(alice):
    return AccountFactory(name="Acme", owner=alice, tier="A")


def log_url(account):
    return reverse("touches:log", args=[account.external_id])


def detail_url(account):
    return reverse("accounts:detail", args=[account.external_id])


def good(**extra):
    return {
        "kind": "call",
        "summary": "Walked through the reports",
        "outcome": "positive",
        "next_step": "Send the training deck",
        "next_step_due": "2026-11-30",
        "next": "/",
        **extra,
    }


def test_it_logs_a_touch_inline_with_htmx(alice_client, alice, account):
    response = alice_client.post(log_url(account), good(), headers=HTMX)
    assert response.status_code == 200
    assert json.loads(response.headers["HX-Trigger"]) == {
        "touchLogged": {"account": account.external_id}
    }
    body = response.content.decode()
    assert body.lstrip().startswith(f'<form id="touch-form-{account.pk}"')
    assert "Touch logged." in body and "<html" not in body
    touch = Touch.objects.get()
    assert (touch.account, touch.author, touch.kind, touch.outcome) == (
        account,
        alice,
        "call",
        "positive",
    )
    assert touch.next_step_due == date(2026, 11, 30)
    assert touch.happened_at == datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_a_plain_post_redirects_back_to_next(alice_client, account):
    response = alice_client.post(log_url(account), good(next="/accounts/?tier=A"))
    assert response.status_code == 302 and response.url == "/accounts/?tier=A"
    assert Touch.objects.count() == 1
    page = alice_client.get(detail_url(account)).content.decode()
    assert "Logged the touch with Acme." in page
    assert "Walked through the reports" in page  # on the timeline


def test_a_foreign_next_url_goes_back_to_the_account_instead(alice_client, account):
    response = alice_client.post(log_url(account), good(next="https://evil.example/"))
    assert response.url == detail_url(account)


def test_it_takes_the_time_of_a_touch_logged_later(alice_client, account):
    alice_client.post(log_url(account), good(happened_at="2026-11-20T15:30"))
    assert Touch.objects.get().happened_at == datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (good(summary="  "), "What happened: This field is required."),
        (good(kind="automated"), "Kind: Select a valid choice."),
        (good(next_step=""), "Next step: Say what the next step is"),
        (good(next_step_due="2026-11-01"), "Next step due: The next step cannot be due before"),
        (good(next_step_due="soon"), "Next step due: Enter a valid date."),
        (good(happened_at="2026-12-01T10:00"), "When (blank = now): A touch cannot be in the"),
        (good(happened_at="0001-01-01T00:00"), "When (blank = now): A touch cannot be before 2000"),
        (good(happened_at="1999-12-31T23:59"), "When (blank = now): A touch cannot be before 2000"),
        (
            good(next_step_due="9999-12-31"),
            "Next step due: The next step cannot be due more than 2 years after the touch.",
        ),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_bad_input_names_the_field_and_writes_nothing(alice_client, account, data, message, htmx):
    response = alice_client.post(log_url(account), data, headers=HTMX if htmx else {})
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert ("<html" in body) is not htmx  # htmx gets the form partial, a plain POST the page
    assert "HX-Trigger" not in response.headers
    assert not Touch.objects.exists()


def test_a_csm_cannot_log_on_another_csms_account(client, bob, account):
    client.force_login(bob)
    assert client.post(log_url(account), good(), headers=HTMX).status_code == 403
    assert client.post(log_url(account), good()).status_code == 403
    assert client.get(log_url(account)).status_code == 403
    assert not Touch.objects.exists()
    with pytest.raises(PermissionDenied):
        log_touch(
            actor=bob,
            account=account,
            kind="call",
            summary="Hello",
            outcome="",
            next_step="",
            next_step_due=None,
        )


def test_a_manager_can_log_on_any_account(maggie_client, maggie, account):
    assert maggie_client.post(log_url(account), good()).status_code == 302
    assert Touch.objects.get().author == maggie


def test_logging_needs_a_login(client, account):
    response = client.post(log_url(account), good())
    assert response.status_code == 302 and "/login/" in response.url
    assert not Touch.objects.exists()


def test_the_form_page_works_without_javascript(alice_client, account):
    response = alice_client.get(log_url(account) + "?next=/")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert 'name="next" value="/"' in body


def test_the_account_page_has_the_form_for_who_may_log_only(client, alice, bob, account):
    client.force_login(alice)
    body = client.get(detail_url(account)).content.decode()
    assert 'id="log-touch"' in body and f'hx-post="{log_url(account)}"' in body
    assert f'name="next" value="{detail_url(account)}"' in body
    client.force_login(bob)
    assert 'id="log-touch"' not in client.get(detail_url(account)).content.decode()


def test_the_compact_form_loads_when_opened_with_a_link_without_javascript(rf, alice, db):
    first, second = AccountFactory(owner=alice), AccountFactory(owner=alice)
    request = rf.get("/")
    request.user = alice
    html = Template(
        "{% for a in accounts %}"
        '{% include "csm/_touch_form.html" with account=a next="/today/?x=1" compact=True %}'
        "{% endfor %}"
    ).render(Context({"accounts": [first, second], "request": request}))
    for account in (first, second):
        lazy = f"{log_url(account)}?next=/today/%3Fx%3D1"
        assert f'hx-get="{lazy}"' in html and f'href="{lazy}"' in html
    assert 'id="log-touch"' not in html and html.count("<details") == 2
    assert "<form" not in html  # no form is rendered until one is opened


def test_the_lazy_load_gets_just_the_form_with_its_next(alice_client, account):
    response = alice_client.get(log_url(account) + "?next=/queue/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<form id="touch-form-{account.pk}"')
    assert 'name="next" value="/queue/"' in body


@pytest.mark.parametrize(
    ("happened_at", "due", "field"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), None, "happened_at"),
        (datetime(2026, 11, 23, 9, 6, tzinfo=UTC), None, "happened_at"),
        (datetime(2026, 11, 23, 9, tzinfo=UTC), date(2028, 11, 24), "next_step_due"),
    ],
)
def test_the_service_refuses_dates_out_of_bounds_whatever_the_path(
    alice, account, happened_at, due, field
):
    with pytest.raises(ValidationError) as refused:
        log_touch(
            actor=alice,
            account=account,
            kind="call",
            summary="x",
            outcome="",
            next_step="Follow up" if due else "",
            next_step_due=due,
            happened_at=happened_at,
        )
    assert set(refused.value.message_dict) == {field}
    assert not Touch.objects.exists()


def test_the_bounds_themselves_are_accepted(alice, account):
    for happened_at, due in [
        (datetime(2000, 1, 1, tzinfo=UTC), None),
        (datetime(2026, 11, 23, 9, 4, tzinfo=UTC), date(2028, 11, 23)),
    ]:
        log_touch(
            actor=alice,
            account=account,
            kind="call",
            summary="x",
            outcome="",
            next_step="Follow up" if due else "",
            next_step_due=due,
            happened_at=happened_at,
        )
    assert Touch.objects.count() == 2


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles"])
def test_a_year_one_touch_is_refused_in_any_time_zone_without_a_500(alice_client, account, zone):
    with override_settings(TIME_ZONE=zone):
        response = alice_client.post(log_url(account), good(happened_at="0001-01-01T00:00"))
    assert response.status_code == 200
    assert "When (blank = now): A touch cannot be before 2000-01-01." in response.content.decode()
    assert not Touch.objects.exists()
