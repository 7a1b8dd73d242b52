"""Usage tips for tier C accounts (csm.workflow.tips): who gets which tips, how often, and the
managers' tips page. Sending them is the outbox's (tests/test_outbox.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from accounts.models import AuditEntry
from csm.lib.models import OutboxEmail
from csm.lib.outbox import drain_outbox
from csm.workflow.models import UsageTip
from csm.workflow.tips import queue_usage_tips
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from tests.tips import (
    DAY,
    c_customer,
    used,
)

# Every test here runs on the night the tips are queued.
pytestmark = pytest.mark.usefixtures("tips_night")


class SmtpDown(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server unreachable")


# --- Usage tips -----------------------------------------------------------------------------------


def test_tips_go_to_the_primary_contact_of_tier_c_customers_only(db):
    tiny = c_customer(name="Tiny Co", contact="Pat Lee")
    ContactFactory(account=tiny, name="Other Person", email="other@customer.example")
    c_customer(name="Big Co", tier="A")
    c_customer(name="No Contact", contact=None)
    gone = AccountFactory(name="Gone", tier="C")
    SubscriptionFactory(account=gone, start_date=date(2025, 1, 1), end_date=date(2026, 6, 1))
    ContactFactory(account=gone, is_primary=True)
    assert queue_usage_tips(day=DAY) == 1
    email = OutboxEmail.objects.get()
    primary = tiny.contacts.get(is_primary=True)
    assert (email.kind, email.account, email.to) == ("usage_tips", tiny, primary.email)
    assert email.subject == "3 tips for Tiny Co"
    assert email.body.startswith("Hello Pat Lee,\n")


def test_tips_are_for_features_not_used_in_the_last_30_days(db):
    account = c_customer()
    UsageTip.objects.filter(feature="comment_added").update(enabled=False)
    used(account, "alert_configured", DAY)
    used(account, "dashboard_created", DAY - timedelta(days=29))
    used(account, "data_imported", DAY - timedelta(days=30))  # over 30 days ago: unused
    used(account, "login", DAY)
    other = c_customer(name="Other Co")
    used(other, "data_imported", DAY)  # another account's use does not count
    queue_usage_tips(day=DAY)
    body = OutboxEmail.objects.get(account=account).body
    # tips by feature name: alert_configured, comment_added (disabled), dashboard_created used
    assert "1. Bring in more data" in body  # data_imported
    assert "2. Take your data anywhere" in body  # export_csv
    assert "3. Connect your tools" in body  # integration_synced
    assert "4." not in body
    assert "Get told, not surprised" not in body


def test_an_account_that_uses_every_feature_gets_no_email(db):
    account = c_customer()
    for tip in UsageTip.objects.all():
        used(account, tip.feature, DAY)
    assert queue_usage_tips(day=DAY) == 0


def test_tips_are_not_queued_twice_for_the_same_day(db):
    c_customer()
    assert queue_usage_tips(day=DAY) == 1
    assert queue_usage_tips(day=DAY) == 0  # the nightly re-runs the day before the drain
    drain_outbox()
    assert queue_usage_tips(day=DAY) == 0  # and after it
    assert OutboxEmail.objects.count() == 1


def test_tips_come_again_every_14_days(db, tips_night, django_assert_max_num_queries):
    for n in range(5):
        c_customer(name=f"Co {n}")
    # tips, candidates, used features, one bulk insert: not one query per account
    with django_assert_max_num_queries(4):
        assert queue_usage_tips(day=DAY) == 5
    drain_outbox()
    for days in range(1, 14):
        tips_night.shift(timedelta(days=1))
        assert queue_usage_tips(day=DAY + timedelta(days=days)) == 0
    tips_night.shift(timedelta(days=1))
    assert queue_usage_tips(day=DAY + timedelta(days=14)) == 5


def test_a_tip_email_queued_but_not_sent_yet_still_counts(db, settings, tips_night):
    c_customer()
    queue_usage_tips(day=DAY)
    settings.EMAIL_BACKEND = "tests.test_outbox.SmtpDown"
    tips_night.shift(timedelta(days=3))
    drain_outbox()
    assert queue_usage_tips(day=DAY + timedelta(days=3)) == 0


# --- The managers' tips page ----------------------------------------------------------------------


def test_a_manager_edits_a_tip_and_it_is_audited(maggie_client, maggie):
    tip = UsageTip.objects.get(feature="export_csv")
    assert "Take your data anywhere" in maggie_client.get(reverse("touches:tips")).content.decode()
    response = maggie_client.post(
        reverse("touches:tip_edit", args=[tip.pk]),
        {"feature": "hacked", "title": "Export it", "body": tip.body, "enabled": ""},
    )
    assert response.status_code == 302
    tip.refresh_from_db()
    assert (tip.feature, tip.title, tip.enabled) == ("export_csv", "Export it", False)
    changes = {
        (e.field, e.old_value, e.new_value, e.actor)
        for e in AuditEntry.objects.filter(object_type="csm.usagetip")
    }
    assert changes == {
        ("title", "Take your data anywhere", "Export it", maggie),
        ("enabled", "True", "False", maggie),
    }
    assert AuditEntry.objects.get(field="title").account is None


def test_a_manager_adds_a_tip(maggie_client):
    response = maggie_client.post(
        reverse("touches:tip_add"),
        {
            "feature": "sso_enabled",
            "title": "Sign in once",
            "body": "Turn on SSO.",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    assert UsageTip.objects.get(feature="sso_enabled").title == "Sign in once"
    assert AuditEntry.objects.filter(action="usage_tip.create").count() == 4


def test_a_bad_tip_names_the_field_and_writes_nothing(maggie_client):
    response = maggie_client.post(
        reverse("touches:tip_add"), {"feature": "export_csv", "title": "", "body": "x"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Title: This field is required." in body
    assert "Feature (event name): Usage tip with this Feature (event name) already exists." in body
    assert not AuditEntry.objects.exists()


def test_csms_cannot_edit_tips_and_do_not_see_the_link(alice_client):
    tip = UsageTip.objects.first()
    assert alice_client.get(reverse("touches:tips")).status_code == 403
    assert alice_client.post(reverse("touches:tip_edit", args=[tip.pk]), {}).status_code == 403
    assert alice_client.get(reverse("touches:tip_add")).status_code == 403
    tips = reverse("touches:tips")
    assert f'href="{tips}"' not in alice_client.get(reverse("accounts:list")).content.decode()


def test_managers_see_the_tips_link(maggie_client):
    body = maggie_client.get(reverse("accounts:list")).content.decode()
    assert f'href="{reverse("touches:tips")}"' in body
