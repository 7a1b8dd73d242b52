from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, AuditEntry, Contact
from accounts.services import add_contact, update_account
from feedback.models import Invitation, Survey
from tests.factories import AccountFactory, SubscriptionFactory


def edit_url(account):
    return reverse("accounts:edit", args=[account.external_id])


def form_data(account, **changes):
    data = {
        "name": account.name,
        "segment": account.segment,
        "renewal_date": "",
        "seats": "",
        "reason": "",
    }
    data.update(changes)
    return data


def test_a_csm_edits_the_profile_of_their_own_account(alice_client, alice):
    account = AccountFactory(owner=alice, name="Old name")
    response = alice_client.post(edit_url(account), form_data(account, name="New name", seats="12"))
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.seats) == ("New name", 12)
    fields = set(AuditEntry.objects.filter(account=account).values_list("field", flat=True))
    assert fields == {"name", "seats"}


def test_a_csm_cannot_edit_another_csms_account(alice_client, bob):
    account = AccountFactory(owner=bob, name="Bob's")
    assert alice_client.get(edit_url(account)).status_code == 403
    assert (
        alice_client.post(edit_url(account), form_data(account, name="Hijacked")).status_code == 403
    )
    account.refresh_from_db()
    assert account.name == "Bob's"


def test_a_csm_cannot_change_owner_or_tier_even_by_posting_them(alice_client, alice, bob):
    account = AccountFactory(owner=alice, tier="C")
    alice_client.post(
        edit_url(account),
        form_data(account, owner=bob.pk, tier_override="A", tier_override_reason="x"),
    )
    account.refresh_from_db()
    assert account.owner == alice and account.tier_override == "" and account.tier == "C"


def test_a_manager_reassigns_an_account_and_it_is_audited(maggie_client, maggie, alice, bob):
    account = AccountFactory(owner=alice)
    maggie_client.post(
        edit_url(account),
        form_data(account, owner=bob.pk, reason="Alice is on leave", tier_override=""),
    )
    account.refresh_from_db()
    assert account.owner == bob
    entry = AuditEntry.objects.get(account=account, field="owner")
    assert (entry.actor, entry.old_value, entry.new_value, entry.reason) == (
        maggie,
        "Alice Archer",
        "Bob Baker",
        "Alice is on leave",
    )


def test_a_tier_override_needs_a_reason(maggie_client):
    account = AccountFactory(tier="C")
    response = maggie_client.post(edit_url(account), form_data(account, tier_override="A"))
    assert response.status_code == 200
    assert "Say why this account gets a different tier." in response.content.decode()
    account.refresh_from_db()
    assert account.tier_override == ""


def test_a_tier_override_wins_at_once_and_clearing_it_returns_to_the_rule(maggie_client):
    account = AccountFactory(tier="C")
    SubscriptionFactory(account=account, amount="600")  # B by the rule
    maggie_client.post(
        edit_url(account),
        form_data(account, tier_override="A", tier_override_reason="Reference customer"),
    )
    account.refresh_from_db()
    assert (account.tier, account.tier_override_reason) == ("A", "Reference customer")
    entry = AuditEntry.objects.get(account=account, field="tier_override")
    assert (entry.new_value, entry.reason) == ("A", "Reference customer")
    maggie_client.post(
        edit_url(account), form_data(account, tier_override="", tier_override_reason="")
    )
    account.refresh_from_db()
    assert (account.tier, account.tier_override, account.tier_override_reason) == ("B", "", "")


def test_bad_input_names_the_field_and_writes_nothing(maggie_client):
    account = AccountFactory(name="Keep", seats=5)
    response = maggie_client.post(
        edit_url(account), form_data(account, name="", seats="-3", segment="gold")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Name: This field is required." in body and "Seats:" in body and "Segment:" in body
    account.refresh_from_db()
    assert (account.name, account.seats) == ("Keep", 5)
    assert not AuditEntry.objects.exists()


def test_the_owner_adds_a_contact_and_a_new_primary_replaces_the_old(alice_client, alice):
    account = AccountFactory(owner=alice)
    url = reverse("accounts:contact_add", args=[account.external_id])
    alice_client.post(url, {"name": "First", "email": "first@x.example", "is_primary": "on"})
    alice_client.post(url, {"name": "Second", "email": "second@x.example", "is_primary": "on"})
    assert list(account.contacts.values_list("name", "is_primary")) == [
        ("Second", True),
        ("First", False),
    ]


def test_a_duplicate_contact_email_is_refused_with_a_message(alice_client, alice):
    account = AccountFactory(owner=alice)
    url = reverse("accounts:contact_add", args=[account.external_id])
    alice_client.post(url, {"name": "First", "email": "same@x.example"})
    response = alice_client.post(url, {"name": "Again", "email": "SAME@x.example"})
    assert response.status_code == 200
    assert "already has a contact with this email" in response.content.decode()
    assert Contact.objects.count() == 1


def test_a_csm_cannot_add_contacts_to_another_book(alice_client, bob):
    account = AccountFactory(owner=bob)
    url = reverse("accounts:contact_add", args=[account.external_id])
    assert alice_client.post(url, {"name": "X", "email": "x@x.example"}).status_code == 403
    assert not Account.objects.get(pk=account.pk).contacts.exists()


def test_a_renewal_before_the_contract_start_is_refused_next_to_the_field(alice_client, alice):
    account = AccountFactory(owner=alice, contract_start=date(2026, 3, 1), renewal_date=None)
    response = alice_client.post(edit_url(account), form_data(account, renewal_date="2026-02-28"))
    assert response.status_code == 200
    assert response.context["form"].errors["renewal_date"] == [
        "The renewal date cannot be before the contract start (2026-03-01)."
    ]
    assert "Renewal date: The renewal date cannot be before the contract start" in (
        response.content.decode()
    )
    account.refresh_from_db()
    assert account.renewal_date is None
    assert not AuditEntry.objects.exists()


def test_the_service_refuses_a_renewal_before_the_contract_start_too(alice):
    account = AccountFactory(owner=alice, contract_start=date(2026, 3, 1), renewal_date=None)
    with pytest.raises(ValidationError) as refused:
        update_account(account=account, actor=alice, changes={"renewal_date": date(2025, 3, 1)})
    assert set(refused.value.message_dict) == {"renewal_date"}
    assert Account.objects.get(pk=account.pk).renewal_date is None
    # On the contract start itself is fine.
    update_account(account=account, actor=alice, changes={"renewal_date": date(2026, 3, 1)})
    assert Account.objects.get(pk=account.pk).renewal_date == date(2026, 3, 1)


def test_the_service_refuses_a_second_contact_with_one_email_in_any_case(alice):
    account = AccountFactory(owner=alice)
    first = add_contact(actor=alice, account=account, name="Ann", email="Ann@X.example")
    assert first.email == "ann@x.example"
    with pytest.raises(ValidationError) as refused:
        add_contact(actor=alice, account=account, name="Ann again", email=" ANN@x.EXAMPLE ")
    assert refused.value.message_dict == {
        "email": ["This account already has a contact with this email."]
    }
    assert Contact.objects.count() == 1
    # Another account may have the same person.
    add_contact(actor=alice, account=AccountFactory(owner=alice), name="Ann", email="ann@x.example")
    assert Contact.objects.count() == 2


def test_a_contact_stored_in_mixed_case_still_blocks_a_duplicate_on_the_page(alice_client, alice):
    account = AccountFactory(owner=alice)
    Contact.objects.create(account=account, name="Old", email="Old@X.example")
    url = reverse("accounts:contact_add", args=[account.external_id])
    response = alice_client.post(url, {"name": "New", "email": "old@x.example"})
    assert response.status_code == 200
    assert response.context["contact_form"].errors["email"] == [
        "This account already has a contact with this email."
    ]
    assert "Email: This account already has a contact with this email." in (
        response.content.decode()
    )
    assert Contact.objects.count() == 1


def test_the_database_refuses_one_email_twice_on_an_account_in_any_case(alice):
    account = AccountFactory(owner=alice)
    Contact.objects.create(account=account, name="Ann", email="ann@x.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(account=account, name="Ann", email="ANN@x.example")


def test_the_admin_check_names_the_email_field(alice):
    account = AccountFactory(owner=alice)
    Contact.objects.create(account=account, name="Ann", email="ann@x.example")
    duplicate = Contact(account=account, name="Ann", email="Ann@X.example")
    with pytest.raises(ValidationError) as refused:
        duplicate.full_clean()
    assert refused.value.message_dict == {
        "email": ["This account already has a contact with this email."]
    }


@pytest.mark.django_db(transaction=True)
def test_the_migration_merges_existing_duplicates_instead_of_failing():
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0005_kpis_moved")])
    # The contact as it was then (later migrations add fields the table does not have yet).
    old_contact = executor.loader.project_state(("accounts", "0005_kpis_moved")).apps.get_model(
        "accounts", "Contact"
    )
    try:
        account, other = AccountFactory(), AccountFactory()
        # The old constraint told cases apart: three spellings of one person on one account.
        first = old_contact.objects.create(account_id=account.pk, name="Ann", email="ann@x.example")
        primary = old_contact.objects.create(
            account_id=account.pk, name="Ann L.", email="Ann@X.example", is_primary=True
        )
        third = old_contact.objects.create(account_id=account.pk, name="A.", email="ANN@x.example ")
        elsewhere = old_contact.objects.create(
            account_id=other.pk, name="Ann", email="Ann@x.example"
        )
        survey = Survey.objects.create(name="Migration NPS", kind="nps", question="?")
        invitation = Invitation.objects.create(
            survey=survey,
            account=account,
            contact_id=third.pk,
            email=third.email,
            nonce="migration-test",
            expires_at=timezone.now(),
        )
        executor.loader.build_graph()
        executor.migrate([("accounts", "0007_contact_email_any_case")])
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert list(account.contacts.values_list("pk", "email")) == [(primary.pk, "ann@x.example")]
    assert not Contact.objects.filter(pk__in=[first.pk, third.pk]).exists()
    invitation.refresh_from_db()
    assert invitation.contact_id == primary.pk  # what pointed at a duplicate points at the keeper
    assert Contact.objects.get(pk=elsewhere.pk).email == "ann@x.example"
