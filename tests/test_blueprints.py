"""Success blueprints: made from the segment's template at the contract start, worked on the
account page (done / skipped, reopen, reschedule, sharing), every change audited."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse

from accounts import imports
from accounts.models import Account, AuditEntry, ImportKind
from csm.demo.seed import seed_demo
from csm.nightly import run_one_day
from csm.workflow.blueprints import (
    NEW_ACCOUNT_DAYS,
    blueprint_for,
    complete_milestone,
    create_blueprints,
    new_accounts_since,
    reopen,
    reschedule,
    rotate_share_link,
    set_sharing,
)
from csm.workflow.models import Blueprint, Milestone, MilestoneStatus, Side
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)
START = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def milestones_of(account: Account) -> dict[str, Milestone]:
    return {m.title: m for m in Milestone.objects.filter(blueprint__account=account)}


def make_blueprint(**account_fields) -> Blueprint:
    account = AccountFactory(contract_start=START, **account_fields)
    create_blueprints([account.pk])
    return Blueprint.objects.select_related("account__owner").get(account=account)


def first_milestone(blueprint: Blueprint, side: str = Side.OURS) -> Milestone:
    return (
        Milestone.objects.select_related("blueprint__account__owner")
        .filter(blueprint=blueprint, side=side)
        .first()
    )


def detail_url(account: Account) -> str:
    return reverse("accounts:detail", args=[account.external_id])


# --- Creating -------------------------------------------------------------------------------------


def test_a_basic_account_gets_its_templates_milestones_due_from_the_contract_start(alice):
    account = AccountFactory(segment="basic", contract_start=START, owner=alice)
    pat = ContactFactory(account=account, name="Pat Primary", is_primary=True)
    ContactFactory(account=account, name="Other Person")

    assert create_blueprints() == 1

    blueprint = Blueprint.objects.get(account=account)
    assert blueprint.started_on == START and blueprint.template.segment == "basic"
    assert blueprint.share_enabled and blueprint.share_key
    steps = milestones_of(account)
    assert len(steps) == 8
    # The quick-start pack is basic's extra; the 30- and 60-day promises of DESIGN §2.
    assert steps["Quick-start pack sent (videos, FAQ)"].due_on == date(2026, 10, 4)
    assert steps["Basic problems solved"].due_on == date(2026, 10, 31)
    assert steps["First data report delivered"].due_on == date(2026, 11, 30)
    assert "Product manager joins a requirements review" not in steps
    for step in steps.values():
        assert step.status == MilestoneStatus.OPEN
        if step.side == Side.OURS:
            assert (step.owner, step.contact) == (alice, None)
        else:
            assert (step.owner, step.contact) == (None, pat)


def test_a_strategic_account_gets_the_product_managers_review_at_45_days(alice):
    account = AccountFactory(segment="strategic", contract_start=START, owner=alice)
    create_blueprints()
    steps = milestones_of(account)
    assert steps["Product manager joins a requirements review"].due_on == date(2026, 11, 15)
    assert steps["Product manager joins a requirements review"].owner == alice
    assert "Quick-start pack sent (videos, FAQ)" not in steps
    assert len(steps) == 8


def test_an_advanced_account_gets_the_workshop_and_no_contact_without_a_primary_contact():
    account = AccountFactory(segment="advanced", contract_start=START)
    ContactFactory(account=account, is_primary=False)
    create_blueprints()
    steps = milestones_of(account)
    assert steps["Feature-combination workshop and data support"].due_on == date(2026, 11, 15)
    assert all(step.owner is None and step.contact is None for step in steps.values())


def test_creating_is_idempotent_and_limited_to_the_given_accounts():
    first, second = AccountFactory(), AccountFactory()
    assert create_blueprints([first.pk]) == 1
    assert not Blueprint.objects.filter(account=second).exists()
    assert create_blueprints([first.pk]) == 0
    assert create_blueprints() == 1
    assert create_blueprints() == 0
    assert Milestone.objects.filter(blueprint__account=first).count() == 8
    assert Milestone.objects.count() == 16


def test_creating_takes_a_few_queries_whatever_the_number_of_accounts(django_assert_num_queries):
    # templates, their milestones, the accounts without one; then per round of up to 1,000
    # accounts: a savepoint, the accounts, primary contacts, the blueprints insert, reading them
    # back, the milestones insert, the savepoint's release. (Kept under 100 milestones: SQLite
    # splits bigger inserts by its bound-parameter limit.)
    for batch in (2, 10):
        AccountFactory.create_batch(batch)
        with django_assert_num_queries(10):
            assert create_blueprints() == batch


def test_importing_accounts_gives_the_new_ones_a_blueprint(alice, tmp_path: Path):
    AccountFactory(external_id="old", contract_start=START)  # updated by the import: gets one too
    text = (
        "external_id,name,segment,owner_email,contract_start,renewal_date,strategic,tier,seats\n"
        "acme,Acme Inc,strategic,alice@example.com,2026-10-15,,false,,\n"
        "old,Old Co,basic,,2026-10-01,,,,\n"
    )
    path = tmp_path / "accounts.csv"
    path.write_text(text)
    call_command("import_accounts", str(path), stdout=StringIO())

    acme = milestones_of(Account.objects.get(external_id="acme"))
    assert acme["First data report delivered"].due_on == date(2026, 12, 14)
    assert acme["Kick-off call and success plan agreed"].owner == alice
    assert Blueprint.objects.filter(account__external_id="old").exists()

    # Importing the same file again changes nothing.
    imports.run_import(ImportKind.ACCOUNTS, text, filename="accounts.csv", actor=None)
    assert Blueprint.objects.count() == 2 and Milestone.objects.count() == 16


def test_importing_an_existing_book_opens_no_overdue_milestones(tmp_path: Path):
    """Only accounts whose contract started in the last 60 days get a blueprint on import: the
    older ones of a book brought in from another tool get none (and no overdue milestones)."""
    text = (
        "external_id,name,segment,owner_email,contract_start,renewal_date,strategic,tier,seats\n"
        "day60,Just New,basic,,2026-09-24,,,,\n"  # 60 days before today: still new
        "day61,Just Old,basic,,2026-09-23,,,,\n"
        "veteran,Veteran Co,strategic,,2023-05-01,,,,\n"
        "upcoming,Upcoming Co,advanced,,2026-12-01,,,,\n"
    )
    imports.run_import(ImportKind.ACCOUNTS, text, filename="accounts.csv", actor=None)

    assert set(Blueprint.objects.values_list("account__external_id", flat=True)) == {
        "day60",
        "upcoming",
    }
    assert not Milestone.objects.filter(blueprint__account__external_id="veteran").exists()


def test_the_nightly_run_gives_blueprints_only_to_new_accounts():
    new = AccountFactory(contract_start=TODAY - timedelta(days=10))
    AccountFactory(contract_start=TODAY - timedelta(days=400))
    day = TODAY - timedelta(days=1)

    assert run_one_day(day)["blueprints_created"] == 1
    assert list(Blueprint.objects.values_list("account", flat=True)) == [new.pk]
    assert new_accounts_since(day) == day - timedelta(days=NEW_ACCOUNT_DAYS) == date(2026, 9, 23)


def test_a_refused_import_writes_no_blueprint():
    text = (
        "external_id,name,segment,owner_email,contract_start,renewal_date,strategic,tier,seats\n"
        "acme,Acme Inc,basic,,2026-09-01,,,,\n"
        "bad,Bad,nope,,2026-09-01,,,,\n"
    )
    with pytest.raises(imports.ImportErrors):
        imports.run_import(ImportKind.ACCOUNTS, text, filename="accounts.csv", actor=None)
    assert not Blueprint.objects.exists()


@pytest.fixture
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def demo_state() -> list[tuple]:
    return list(
        Milestone.objects.order_by("blueprint__account__external_id", "due_on", "side", "title")
        .values_list(
            "blueprint__account__external_id", "title", "due_on", "status", "completed_on"
        )
    )  # fmt: skip


def test_the_demo_book_has_blueprints_mostly_kept_with_a_few_overdue(db, fast_hasher):
    seed_demo(accounts=150, months=12, seed=3, today=TODAY, usage_days=1)

    assert Blueprint.objects.count() == Account.objects.count() == 150
    past = Milestone.objects.filter(due_on__lt=TODAY)
    closed = past.exclude(status=MilestoneStatus.OPEN)
    assert closed.count() >= 0.9 * past.count()
    on_time = closed.filter(status=MilestoneStatus.DONE, completed_on__lte=F("due_on"))
    assert 0.75 <= on_time.count() / closed.count() <= 0.95
    overdue = Milestone.objects.overdue(TODAY)
    assert overdue.exists()
    # Only recent milestones are left open: nobody has a year-old promise hanging.
    assert not overdue.filter(due_on__lt=TODAY - timedelta(days=120)).exists()
    assert not Milestone.objects.filter(due_on__gte=TODAY).exclude(status="open").exists()
    assert not past.filter(completed_on__gte=TODAY).exists()

    # Deterministic from the seed.
    first = demo_state()
    Account.objects.all().delete()
    seed_demo(accounts=150, months=12, seed=3, today=TODAY, usage_days=1)
    assert demo_state() == first


# --- Working on milestones ------------------------------------------------------------------------


def test_completing_reopening_and_rescheduling_are_audited(alice):
    blueprint = make_blueprint(owner=alice)
    milestone = first_milestone(blueprint)

    complete_milestone(
        actor=alice,
        milestone=milestone,
        status=MilestoneStatus.DONE,
        note="Call went well",
        on=date(2026, 10, 7),
    )
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.DONE
    assert milestone.completed_on == date(2026, 10, 7)
    assert milestone.completion_note == "Call went well"

    reopen(actor=alice, milestone=milestone, reason="Customer wants a second call")
    milestone.refresh_from_db()
    assert (milestone.status, milestone.completed_on, milestone.completion_note) == (
        MilestoneStatus.OPEN,
        None,
        "",
    )

    reschedule(actor=alice, milestone=milestone, due_on=date(2026, 12, 1), reason="Holidays")
    milestone.refresh_from_db()
    assert milestone.due_on == date(2026, 12, 1)

    entries = AuditEntry.objects.filter(account=blueprint.account, object_id=str(milestone.pk))
    trail = {(e.action, e.field): (e.old_value, e.new_value, e.reason, e.actor) for e in entries}
    assert trail[("milestone.complete", "status")] == ("open", "done", "Call went well", alice)
    assert trail[("milestone.complete", "completed_on")][:2] == ("", "2026-10-07")
    assert trail[("milestone.reopen", "status")][:3] == (
        "done",
        "open",
        "Customer wants a second call",
    )
    assert trail[("milestone.reschedule", "due_on")][:3] == ("2026-10-04", "2026-12-01", "Holidays")
    assert {e.object_type for e in entries} == {"csm.milestone"}


def test_a_csm_cannot_change_another_csms_milestones_but_a_manager_can(alice, bob, maggie):
    blueprint = make_blueprint(owner=alice)
    milestone = first_milestone(blueprint)
    with pytest.raises(PermissionDenied):
        complete_milestone(actor=bob, milestone=milestone, status="done", note="", on=TODAY)
    with pytest.raises(PermissionDenied):
        reschedule(actor=bob, milestone=milestone, due_on=TODAY, reason="x")
    with pytest.raises(PermissionDenied):
        rotate_share_link(actor=bob, blueprint=blueprint)
    complete_milestone(actor=maggie, milestone=milestone, status="skipped", note="n/a", on=TODAY)
    assert Milestone.objects.get(pk=milestone.pk).status == MilestoneStatus.SKIPPED


def test_overdue_means_open_and_due_before_today(alice):
    blueprint = make_blueprint(owner=alice)  # started 2026-10-01: steps due up to 11-30
    view = blueprint_for(blueprint.account)
    overdue = {row.milestone.title for row in view.rows if row.overdue}
    upcoming = {row.milestone.title for row in view.rows if row.upcoming}
    assert "Basic problems solved" in overdue  # due 10-31
    assert "First data report delivered" in upcoming  # due 11-30, within 14 days
    assert "First data report delivered" not in overdue
    assert view.overdue == Milestone.objects.overdue(TODAY).count() == 6

    milestone = Milestone.objects.select_related("blueprint__account").get(
        blueprint=blueprint, title="Basic problems solved"
    )
    complete_milestone(actor=alice, milestone=milestone, status="done", note="", on=TODAY)
    assert blueprint_for(blueprint.account).overdue == 5


# --- The account page -----------------------------------------------------------------------------


def test_the_account_page_shows_both_sides_with_overdue_in_red(alice_client, alice):
    blueprint = make_blueprint(owner=alice, name="Acme")
    body = alice_client.get(detail_url(blueprint.account)).content.decode()
    assert 'id="blueprint"' in body
    assert "Our commitments" in body and "Customer commitments" in body
    assert "0 of 8 done" in body and "6 overdue" in body
    assert "overdue since 2026-10-31" in body and 'class="overdue"' in body
    assert "due soon: 2026-11-30" in body
    assert reverse("blueprints:complete", args=[first_milestone(blueprint).pk]) in body
    assert "Copy link" in body


def test_another_csm_sees_the_blueprint_without_the_actions(client, alice, bob):
    blueprint = make_blueprint(owner=alice)
    client.force_login(bob)
    body = client.get(detail_url(blueprint.account)).content.decode()
    assert "Our commitments" in body
    assert reverse("blueprints:complete", args=[first_milestone(blueprint).pk]) not in body
    assert "Copy link" not in body


def test_marking_done_without_javascript_redirects_back_to_the_blueprint(alice_client, alice):
    blueprint = make_blueprint(owner=alice)
    milestone = first_milestone(blueprint)
    response = alice_client.post(
        reverse("blueprints:complete", args=[milestone.pk]),
        {"status": "done", "note": "Kick-off held", "on": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(blueprint.account) + "#blueprint"
    milestone.refresh_from_db()
    assert (milestone.status, milestone.completed_on) == (MilestoneStatus.DONE, TODAY)
    body = alice_client.get(response["Location"]).content.decode()
    assert "Kick-off held" in body and "1 of 8 done" in body


def test_with_htmx_a_success_replaces_the_whole_section(alice_client, alice):
    blueprint = make_blueprint(owner=alice)
    milestone = first_milestone(blueprint)
    response = alice_client.post(
        reverse("blueprints:complete", args=[milestone.pk]),
        {"status": "done", "note": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#blueprint" and response["HX-Reswap"] == "outerHTML"
    body = response.content.decode()
    assert body.lstrip().startswith('<article id="blueprint"') and "1 of 8 done" in body


def test_with_htmx_an_error_comes_back_as_the_form_naming_the_field(alice_client, alice):
    blueprint = make_blueprint(owner=alice)
    milestone = first_milestone(blueprint)
    url = reverse("blueprints:reschedule", args=[milestone.pk])
    response = alice_client.post(
        url, {"due_on": "2026-12-01", "reason": "  "}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<form") and "Reason: This field is required." in body
    assert "HX-Retarget" not in response
    assert Milestone.objects.get(pk=milestone.pk).due_on == milestone.due_on


def test_without_javascript_an_error_shows_the_form_on_a_page(alice_client, alice):
    blueprint = make_blueprint(owner=alice)
    milestone = first_milestone(blueprint, side=Side.CUSTOMER)
    response = alice_client.post(
        reverse("blueprints:complete", args=[milestone.pk]), {"status": "skipped", "note": ""}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Completion note: Say why it is skipped." in body and milestone.title in body
    future = alice_client.post(
        reverse("blueprints:complete", args=[milestone.pk]),
        {"status": "done", "on": "2026-12-24"},
    )
    assert "On: Cannot be in the future." in future.content.decode()
    assert Milestone.objects.get(pk=milestone.pk).status == MilestoneStatus.OPEN
    alice_client.post(
        reverse("blueprints:complete", args=[milestone.pk]), {"status": "skipped", "note": "n/a"}
    )
    page = alice_client.get(detail_url(blueprint.account)).content.decode()
    assert "0 of 8 done · 1 skipped" in page


def test_reopening_and_rescheduling_through_the_page(alice_client, alice):
    blueprint = make_blueprint(owner=alice)
    milestone = first_milestone(blueprint)
    alice_client.post(reverse("blueprints:complete", args=[milestone.pk]), {"status": "done"})
    response = alice_client.post(reverse("blueprints:reopen", args=[milestone.pk]), {})
    assert response.status_code == 302
    assert Milestone.objects.get(pk=milestone.pk).status == MilestoneStatus.OPEN
    response = alice_client.post(
        reverse("blueprints:reschedule", args=[milestone.pk]),
        {"due_on": "2026-12-05", "reason": "Customer on leave"},
    )
    assert response.status_code == 302
    assert Milestone.objects.get(pk=milestone.pk).due_on == date(2026, 12, 5)
    assert AuditEntry.objects.filter(action="milestone.reschedule", reason="Customer on leave")


def test_closing_a_closed_milestone_is_a_form_error(alice_client, alice):
    blueprint = make_blueprint(owner=alice)
    milestone = first_milestone(blueprint)
    url = reverse("blueprints:complete", args=[milestone.pk])
    alice_client.post(url, {"status": "done"})
    response = alice_client.post(url, {"status": "skipped", "note": "again"})
    assert response.status_code == 200
    assert "already closed" in response.content.decode()


def test_a_csm_gets_403_on_another_csms_account_and_a_manager_does_not(client, alice, bob, maggie):
    blueprint = make_blueprint(owner=alice)
    milestone = first_milestone(blueprint)
    client.force_login(bob)
    for name, data in [
        ("blueprints:complete", {"status": "done"}),
        ("blueprints:reopen", {}),
        ("blueprints:reschedule", {"due_on": "2026-12-01", "reason": "x"}),
    ]:
        assert client.post(reverse(name, args=[milestone.pk]), data).status_code == 403
    sharing = reverse("blueprints:sharing", args=[blueprint.account.external_id])
    assert client.post(sharing, {"action": "disable"}).status_code == 403
    assert Milestone.objects.get(pk=milestone.pk).status == MilestoneStatus.OPEN

    client.force_login(maggie)
    response = client.post(reverse("blueprints:complete", args=[milestone.pk]), {"status": "done"})
    assert response.status_code == 302
    assert Milestone.objects.get(pk=milestone.pk).status == MilestoneStatus.DONE


def test_the_actions_need_a_login(client, alice):
    milestone = first_milestone(make_blueprint(owner=alice))
    response = client.post(reverse("blueprints:complete", args=[milestone.pk]), {"status": "done"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_rotating_and_switching_sharing_are_audited(alice_client, alice):
    blueprint = make_blueprint(owner=alice)
    old_key = blueprint.share_key
    url = reverse("blueprints:sharing", args=[blueprint.account.external_id])

    assert alice_client.post(url, {"action": "rotate"}).status_code == 302
    blueprint.refresh_from_db()
    assert blueprint.share_key != old_key
    entry = AuditEntry.objects.get(action="blueprint.rotate_link")
    assert entry.actor == alice and entry.account == blueprint.account
    # The audit trail is readable by every user: it must not hold a working key.
    assert old_key not in entry.old_value and blueprint.share_key not in entry.new_value

    response = alice_client.post(url, {"action": "disable"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Turn sharing on" in response.content.decode()
    blueprint.refresh_from_db()
    assert not blueprint.share_enabled
    alice_client.post(url, {"action": "enable"})
    blueprint.refresh_from_db()
    assert blueprint.share_enabled
    changes = list(
        AuditEntry.objects.filter(action="blueprint.sharing")
        .order_by("pk")
        .values_list("old_value", "new_value")
    )
    assert changes == [("True", "False"), ("False", "True")]


def test_the_services_for_sharing_check_permission(bob, alice):
    blueprint = make_blueprint(owner=alice)
    with pytest.raises(PermissionDenied):
        set_sharing(actor=bob, blueprint=blueprint, enabled=False)


def test_the_blueprint_section_takes_two_queries(alice, django_assert_num_queries):
    blueprint = make_blueprint(owner=alice)
    account = Account.objects.get(pk=blueprint.account_id)
    # the blueprint, its milestones with their owners and contacts
    with django_assert_num_queries(2):
        view = blueprint_for(account)
        [(row.milestone.owner, row.milestone.contact) for row in view.rows]


# --- Dates a milestone may take -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "message"),
    [
        (START - timedelta(days=1), "Cannot be before the blueprint started (2026-10-01)."),
        (TODAY + timedelta(days=1), "Cannot be in the future."),
    ],
)
def test_completing_before_the_blueprint_started_or_in_the_future_is_refused(alice, on, message):
    milestone = first_milestone(make_blueprint(owner=alice))
    with pytest.raises(ValidationError) as refused:
        complete_milestone(actor=alice, milestone=milestone, status="done", note="", on=on)
    assert refused.value.message_dict == {"on": [message]}
    assert Milestone.objects.get(pk=milestone.pk).status == MilestoneStatus.OPEN
    assert not AuditEntry.objects.exists()


def test_a_completion_before_the_start_is_shown_next_to_the_field(alice_client, alice):
    milestone = first_milestone(make_blueprint(owner=alice))
    response = alice_client.post(
        reverse("blueprints:complete", args=[milestone.pk]), {"status": "done", "on": "2026-09-30"}
    )
    assert response.status_code == 200
    assert "On: Cannot be before the blueprint started (2026-10-01)." in response.content.decode()
    assert Milestone.objects.get(pk=milestone.pk).status == MilestoneStatus.OPEN
    # On the start day itself is fine.
    alice_client.post(
        reverse("blueprints:complete", args=[milestone.pk]), {"status": "done", "on": "2026-10-01"}
    )
    assert Milestone.objects.get(pk=milestone.pk).completed_on == START


def test_a_reschedule_more_than_two_years_ahead_is_refused(alice):
    milestone = first_milestone(make_blueprint(owner=alice))
    with pytest.raises(ValidationError) as refused:
        reschedule(actor=alice, milestone=milestone, due_on=date(9999, 12, 31), reason="typo")
    assert refused.value.message_dict == {
        "due_on": ["Cannot be more than 2 years ahead (at the latest 2028-11-23)."]
    }
    with pytest.raises(ValidationError) as before:
        reschedule(actor=alice, milestone=milestone, due_on=date(2026, 9, 1), reason="typo")
    assert set(before.value.message_dict) == {"due_on"}
    assert Milestone.objects.get(pk=milestone.pk).due_on == milestone.due_on
    reschedule(actor=alice, milestone=milestone, due_on=date(2028, 11, 23), reason="Next cycle")
    assert Milestone.objects.get(pk=milestone.pk).due_on == date(2028, 11, 23)


def test_a_reschedule_to_9999_is_shown_next_to_the_field(alice_client, alice):
    milestone = first_milestone(make_blueprint(owner=alice))
    response = alice_client.post(
        reverse("blueprints:reschedule", args=[milestone.pk]),
        {"due_on": "9999-12-31", "reason": "Later"},
    )
    assert response.status_code == 200
    assert "New due date: Cannot be more than 2 years ahead" in response.content.decode()
    assert Milestone.objects.get(pk=milestone.pk).due_on == milestone.due_on
    assert not AuditEntry.objects.filter(action="milestone.reschedule").exists()
