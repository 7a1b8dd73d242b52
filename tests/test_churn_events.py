"""Churn records: the nightly run records one ChurnEvent per churn (idempotently), links the
reactivation, the history backfill agrees with it, a CSM marks a churn by hand (own book only),
resolving a risk as churned reuses the record, and the owner completes the why (validated,
audited)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditEntry
from csm.nightly import run_one_day
from csm.workflow import risk_actions
from feedback.churn import (
    backfill_churn_events,
    complete_churn,
    mark_churned,
    record_churn_events,
)
from feedback.models import ChurnEvent, Competitor
from tests.factories import AccountFactory, ContactFactory, RiskItemFactory, SubscriptionFactory

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def customer(owner=None, *, start=date(2025, 1, 1), end=None, amount="300.00"):
    account = AccountFactory(owner=owner)
    SubscriptionFactory(account=account, start_date=start, end_date=end, amount=Decimal(amount))
    return account


def events(account):
    return list(
        ChurnEvent.objects.filter(account=account)
        .order_by("churned_on")
        .values_list("churned_on", "mrr_lost", "reactivated_on")
    )


# --- the nightly step ----------------------------------------------------------------------------


def test_a_churn_is_recorded_on_the_day_mrr_reaches_zero(db):
    gone = customer(end=date(2026, 11, 20))
    customer()  # still paying
    customer(end=date(2026, 10, 1))  # churned long before

    assert record_churn_events(day=date(2026, 11, 19))["churns_recorded"] == 0
    assert record_churn_events(day=date(2026, 11, 20))["churns_recorded"] == 1

    assert ChurnEvent.objects.count() == 1
    assert events(gone) == [(date(2026, 11, 20), Decimal("300.00"), None)]


def test_a_churned_accounts_open_risk_item_is_resolved_as_churned(db):
    gone = customer(end=date(2026, 11, 20))
    item = RiskItemFactory(account=gone, opened_on=date(2026, 11, 10))
    kept = RiskItemFactory(account=customer(), opened_on=date(2026, 11, 10))

    assert record_churn_events(day=date(2026, 11, 20))["risk_items_churned"] == 1

    item.refresh_from_db()
    kept.refresh_from_db()
    assert item.resolution == "churned"
    assert "MRR reached 0 on 2026-11-20" in item.resolution_note
    assert kept.resolved_at is None


def test_re_running_a_day_records_the_churn_once(db):
    gone = customer(end=date(2026, 11, 20))
    for _ in range(3):
        record_churn_events(day=date(2026, 11, 20))
    run_one_day(date(2026, 11, 20))
    assert len(events(gone)) == 1


def test_a_reactivation_is_linked_to_the_churn(db):
    back = customer(end=date(2026, 9, 10))
    SubscriptionFactory(account=back, start_date=date(2026, 11, 2), amount=Decimal("150"))

    record_churn_events(day=date(2026, 9, 10))
    assert record_churn_events(day=date(2026, 11, 1))["churns_reactivated"] == 0
    assert record_churn_events(day=date(2026, 11, 2))["churns_reactivated"] == 1
    record_churn_events(day=date(2026, 11, 2))

    assert events(back) == [(date(2026, 9, 10), Decimal("300.00"), date(2026, 11, 2))]


def test_churning_again_after_a_reactivation_is_a_second_churn(db):
    account = customer(end=date(2026, 6, 1))
    SubscriptionFactory(
        account=account, start_date=date(2026, 8, 1), end_date=date(2026, 11, 1), amount=Decimal(50)
    )
    for day in (date(2026, 6, 1), date(2026, 8, 1), date(2026, 11, 1)):
        record_churn_events(day=day)
    assert events(account) == [
        (date(2026, 6, 1), Decimal("300.00"), date(2026, 8, 1)),
        (date(2026, 11, 1), Decimal("50.00"), None),
    ]


def test_a_yearly_plan_counts_its_monthly_mrr(db):
    account = AccountFactory()
    SubscriptionFactory(
        account=account,
        start_date=date(2025, 11, 1),
        end_date=date(2026, 11, 1),
        amount=Decimal("1200"),
        interval="year",
    )
    record_churn_events(day=date(2026, 11, 1))
    assert events(account) == [(date(2026, 11, 1), Decimal("100.00"), None)]


def test_the_history_backfill_agrees_with_the_nightly_day_by_day(db):
    accounts = [
        customer(end=date(2026, 6, 1)),
        customer(start=date(2026, 2, 1), end=date(2026, 7, 15)),
        customer(),
    ]
    SubscriptionFactory(account=accounts[0], start_date=date(2026, 8, 1), amount=Decimal(70))
    # A plan change on one day (one ends as the next starts) is not a churn.
    SubscriptionFactory(
        account=accounts[2], start_date=date(2024, 6, 1), end_date=date(2025, 1, 1), amount=10
    )
    backfill_churn_events(until=TODAY)
    backfilled = sorted(
        ChurnEvent.objects.values_list("account_id", "churned_on", "mrr_lost", "reactivated_on")
    )

    ChurnEvent.objects.all().delete()
    day = date(2026, 1, 1)
    while day <= TODAY:
        record_churn_events(day=day)
        day += timedelta(days=1)
    nightly = sorted(
        ChurnEvent.objects.values_list("account_id", "churned_on", "mrr_lost", "reactivated_on")
    )

    assert backfilled == nightly
    assert len(nightly) == 2
    assert backfill_churn_events(until=TODAY) == {"churns_created": 0, "churns_updated": 0}


def test_the_backfill_closes_a_churn_whose_comeback_the_nightly_missed(db):
    account = customer(end=date(2026, 3, 1))
    SubscriptionFactory(
        account=account, start_date=date(2026, 5, 1), end_date=date(2026, 9, 1), amount=40
    )
    record_churn_events(day=date(2026, 3, 1))  # then no nightly run until after September

    backfill_churn_events(until=TODAY)

    assert events(account) == [
        (date(2026, 3, 1), Decimal("300.00"), date(2026, 5, 1)),
        (date(2026, 9, 1), Decimal("40.00"), None),
    ]


def test_the_backfill_keeps_a_churn_marked_by_hand(db, alice):
    account = customer(alice, end=date(2026, 11, 20))
    with time_machine.travel(datetime(2026, 11, 10, 9, tzinfo=UTC), tick=False):
        mark_churned(account=account, by=alice, day=date(2026, 11, 10), note="Letter")
    backfill_churn_events(until=TODAY)
    assert events(account) == [(date(2026, 11, 10), Decimal("300.00"), None)]


# --- by hand -------------------------------------------------------------------------------------


def test_a_csm_marks_their_account_churned_and_the_nightly_does_not_add_another(alice):
    account = customer(alice, end=date(2026, 12, 1))

    event = mark_churned(account=account, by=alice, day=TODAY, note="Cancellation letter")

    assert (event.churned_on, event.mrr_lost, event.marked_by) == (TODAY, Decimal("300.00"), alice)
    assert AuditEntry.objects.filter(account=account, action="churn.mark").count() == 1
    record_churn_events(day=date(2026, 12, 1))
    assert ChurnEvent.objects.filter(account=account).count() == 1
    # Still paying until the end date: marking it does not count as a reactivation.
    record_churn_events(day=date(2026, 11, 24))
    assert ChurnEvent.objects.get(account=account).reactivated_on is None


def test_marking_an_account_with_an_open_churn_is_refused(alice):
    account = customer(alice, end=date(2026, 11, 20))
    record_churn_events(day=date(2026, 11, 20))
    with pytest.raises(ValidationError, match="already recorded as churned on 2026-11-20"):
        mark_churned(account=account, by=alice, day=TODAY, note="Letter")
    assert ChurnEvent.objects.filter(account=account).count() == 1


def test_a_churn_date_in_the_future_is_refused(alice):
    account = customer(alice)
    with pytest.raises(ValidationError) as error:
        mark_churned(account=account, by=alice, day=TODAY + timedelta(days=1), note="Letter")
    assert "day" in error.value.message_dict
    assert not ChurnEvent.objects.exists()


def test_a_csm_cannot_mark_another_csms_account(alice, bob, maggie):
    account = customer(bob)
    with pytest.raises(PermissionDenied):
        mark_churned(account=account, by=alice, day=TODAY, note="Letter")
    assert mark_churned(account=account, by=maggie, day=TODAY, note="Letter").marked_by == maggie


def test_marking_another_csms_account_on_the_page_is_403(alice_client, bob):
    account = customer(bob)
    response = alice_client.post(f"/feedback/accounts/{account.external_id}/churn/", {})
    assert response.status_code == 403
    assert not ChurnEvent.objects.exists()


def test_marking_on_the_account_page_redirects_back_and_htmx_gets_the_card(alice_client, alice):
    account = customer(alice)
    other = customer(alice)
    url = f"/feedback/accounts/{account.external_id}/churn/"
    response = alice_client.post(url, {"day": "2026-11-20", "note": "Cancelled"})
    assert response.status_code == 302
    assert response.url == f"/accounts/{account.external_id}/"
    assert ChurnEvent.objects.get(account=account).churned_on == date(2026, 11, 20)

    response = alice_client.post(
        f"/feedback/accounts/{other.external_id}/churn/",
        {"day": "2031-01-01", "note": "Cancelled"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<article id="churn-card"')
    assert "Churned on: The churn date cannot be in the future." in body


def test_marking_a_churn_with_an_empty_form_is_refused_naming_the_fields(alice_client, alice):
    account = customer(alice)
    url = f"/feedback/accounts/{account.external_id}/churn/"
    page = alice_client.get(url).content.decode()
    assert 'value="2026-11-23"' in page  # the day starts as today
    for headers in ({}, {"HX-Request": "true"}):
        response = alice_client.post(url, {"day": "", "note": "  "}, headers=headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Churned on: Give the day the customer churned." in body
        assert "How you know: Say how you know" in body
    assert not ChurnEvent.objects.exists()
    assert not AuditEntry.objects.filter(action="churn.mark").exists()


def test_the_service_refuses_a_churn_without_a_day_or_a_note(alice):
    account = customer(alice)
    with pytest.raises(ValidationError) as refused:
        mark_churned(account=account, by=alice, day=None, note="")
    assert set(refused.value.message_dict) == {"day", "note"}
    assert not ChurnEvent.objects.exists()


def test_the_account_page_shows_the_churn_card(alice_client, alice):
    account = customer(alice, end=date(2026, 11, 20))
    record_churn_events(day=date(2026, 11, 20))
    body = alice_client.get(f"/accounts/{account.external_id}/").content.decode()
    assert 'id="churn-card"' in body
    assert "why did they leave?" in body


def test_resolving_a_risk_as_churned_reuses_the_open_churn(alice):
    account = customer(alice, end=date(2026, 11, 20))
    record_churn_events(day=date(2026, 11, 20))
    item = RiskItemFactory(account=account)
    risk_actions.resolve(actor=alice, item=item, resolution="churned", note="Gone")
    assert ChurnEvent.objects.filter(account=account).count() == 1


def test_resolving_a_risk_as_churned_records_a_churn_when_there_is_none(alice):
    account = customer(alice)
    item = RiskItemFactory(account=account)
    risk_actions.resolve(actor=alice, item=item, resolution="churned", note="Signed with Retainly")
    event = ChurnEvent.objects.get(account=account)
    assert (event.churned_on, event.marked_by) == (TODAY, alice)
    # The nightly seeing the MRR end later does not add a second record.
    record_churn_events(day=TODAY)
    assert ChurnEvent.objects.filter(account=account).count() == 1


# --- completing ----------------------------------------------------------------------------------


@pytest.fixture
def churned(alice):
    account = customer(alice, end=date(2026, 11, 20))
    record_churn_events(day=date(2026, 11, 20))
    return ChurnEvent.objects.get(account=account)


def test_the_owner_completes_the_churn_and_it_is_audited(churned, alice):
    retainly = Competitor.objects.create(name="Retainly")
    complete_churn(
        event=churned,
        by=alice,
        category="competitor",
        churn_type="voluntary",
        competitor=retainly,
        note="Cheaper seats",
    )
    churned.refresh_from_db()
    assert (churned.category, churned.churn_type, churned.competitor, churned.completed_by) == (
        "competitor",
        "voluntary",
        retainly,
        alice,
    )
    assert churned.completed_at is not None
    fields = set(AuditEntry.objects.filter(action="churn.complete").values_list("field", flat=True))
    assert fields == {"churn category", "churn type", "churn competitor", "churn note"}


def test_completion_is_validated_and_writes_nothing_when_bad(churned, alice):
    with pytest.raises(ValidationError) as error:
        complete_churn(event=churned, by=alice, category="competitor", churn_type="maybe")
    assert set(error.value.message_dict) == {"churn_type", "competitor"}
    churned.refresh_from_db()
    assert churned.completed_at is None and churned.category == ""
    assert not AuditEntry.objects.filter(action="churn.complete").exists()


def test_a_csm_cannot_complete_another_csms_churn(churned, bob, client):
    with pytest.raises(PermissionDenied):
        complete_churn(event=churned, by=bob, category="price", churn_type="voluntary")
    client.force_login(bob)
    response = client.post(
        f"/feedback/churns/{churned.pk}/complete/", {"category": "price", "churn_type": "voluntary"}
    )
    assert response.status_code == 403


def test_the_completion_form_names_the_bad_field(churned, alice_client):
    response = alice_client.post(
        f"/feedback/churns/{churned.pk}/complete/",
        {"category": "competitor", "churn_type": "voluntary"},
    )
    assert response.status_code == 200
    assert "Competitor: Name the competitor the customer left for." in response.content.decode()
    response = alice_client.post(
        f"/feedback/churns/{churned.pk}/complete/",
        {"category": "price", "churn_type": "involuntary", "next": "/feedback/churns/"},
    )
    assert response.status_code == 302 and response.url == "/feedback/churns/"
    churned.refresh_from_db()
    assert churned.churn_type == "involuntary"


def test_htmx_gets_the_card_with_the_form_of_a_churn_already_completed(
    churned, alice_client, alice
):
    complete_churn(event=churned, by=alice, category="price", churn_type="voluntary")
    url = f"/feedback/churns/{churned.pk}/complete/"
    response = alice_client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<article id="churn-card"')
    assert f'hx-post="{url}"' in body
    # A bad answer comes back as the card with the field named, not an error page.
    response = alice_client.post(
        url, {"category": "competitor", "churn_type": "voluntary"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Competitor: Name the competitor the customer left for." in response.content.decode()


def test_the_churns_to_complete_list_shows_a_csm_their_own(churned, alice_client, bob):
    theirs = customer(bob, end=date(2026, 11, 20))
    record_churn_events(day=date(2026, 11, 20))
    response = alice_client.get("/feedback/churns/")
    assert [e.account for e in response.context["page"].object_list] == [churned.account]
    assert theirs.name not in response.content.decode()
    csv = alice_client.get("/feedback/churns/", {"format": "csv"})
    assert csv.getvalue().decode().splitlines()[0].startswith("account,external_id")


# --- exit survey ---------------------------------------------------------------------------------


def test_the_exit_survey_goes_to_the_primary_contact_once(churned, alice_client):
    from feedback.models import Survey

    Survey.objects.create(
        name="Why did you leave?",
        kind="csat",
        question="How satisfied were you?",
        is_exit_survey=True,
    )
    url = f"/feedback/churns/{churned.pk}/exit-survey/"
    response = alice_client.post(url, HTTP_HX_REQUEST="true")
    assert "no primary contact" in response.content.decode()

    ContactFactory(account=churned.account, is_primary=True, email="cfo@customer.example")
    response = alice_client.post(url, {"next": "/feedback/churns/"})
    assert response.status_code == 302
    churned.refresh_from_db()
    assert churned.exit_invitation.email == "cfo@customer.example"
    assert churned.exit_invitation.survey.is_exit_survey

    again = alice_client.post(url, HTTP_HX_REQUEST="true")
    assert "already sent" in again.content.decode()
    assert churned.account.invitations.count() == 1


def test_without_an_exit_survey_the_button_says_so(churned, alice_client):
    from feedback.models import Survey

    Survey.objects.filter(is_exit_survey=True).update(active=False)
    ContactFactory(account=churned.account, is_primary=True)
    response = alice_client.post(
        f"/feedback/churns/{churned.pk}/exit-survey/", HTTP_HX_REQUEST="true"
    )
    assert "no active exit survey" in response.content.decode()
    churned.refresh_from_db()
    assert churned.exit_invitation is None
