"""The managers' survey definitions: the starting surveys, the list with its counts, creating
and editing with errors naming the field; CSMs are kept out."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from feedback.models import Invitation, Survey
from feedback.services import record_response, send_invitation
from tests.surveys import customer, invite, survey


def test_a_fresh_install_starts_with_four_surveys(db):
    surveys = {s.name: s for s in Survey.objects.all()}
    assert set(surveys) == {"Quarterly NPS", "Support CSAT", "Onboarding CES", "Exit survey"}
    assert (surveys["Quarterly NPS"].kind, surveys["Quarterly NPS"].every_days) == ("nps", 90)
    assert surveys["Onboarding CES"].audience_stage == "onboarding"
    assert surveys["Exit survey"].is_exit_survey and surveys["Exit survey"].every_days is None


def test_csms_cannot_see_or_change_survey_definitions(alice_client):
    assert alice_client.get(reverse("feedback:surveys")).status_code == 403
    assert alice_client.get(reverse("feedback:survey_new")).status_code == 403
    response = alice_client.post(
        reverse("feedback:survey_new"), {"name": "x", "kind": "nps", "question": "q"}
    )
    assert response.status_code == 403
    assert Survey.objects.count() == 4


def test_the_list_counts_sent_opened_answered_bounced_and_the_response_rate(maggie_client):
    nps = survey(name="Counted")
    invitations = [send_invitation(survey=nps, contact=customer()[1]) for _ in range(5)]
    Invitation.objects.filter(pk=invitations[0].pk).update(bounced_at=timezone.now())
    Invitation.objects.filter(pk=invitations[1].pk).update(opened_at=timezone.now())
    record_response(invitation=invitations[2], score=9, comment="", answers={})
    record_response(invitation=invitations[3], score=4, comment="", answers={})
    page = maggie_client.get(reverse("feedback:surveys"))
    row = next(s for s in page.context["surveys"] if s.name == "Counted")
    assert (row.sent, row.opened, row.answered, row.bounced) == (5, 3, 2, 1)
    assert row.response_rate == 50  # 2 answers of 4 delivered
    assert "Surveys" in page.content.decode()


@pytest.mark.parametrize("extra", [0, 10])
def test_the_list_takes_a_fixed_number_of_queries(maggie_client, extra, django_assert_num_queries):
    for n in range(extra):
        survey(name=f"Extra {n}")
    # session, user, surveys with their invitation counts (one grouped query)
    with django_assert_num_queries(3):
        maggie_client.get(reverse("feedback:surveys"))


def test_a_manager_creates_a_scheduled_survey_with_extra_questions(maggie_client):
    response = maggie_client.post(
        reverse("feedback:survey_new"),
        {
            "name": "Tier A NPS",
            "kind": "nps",
            "question": "How likely are you to recommend us?",
            "comment_prompt": "Why?",
            "extra_questions_text": "What should we build next?\n\n  Who else uses it?  ",
            "every_days": "60",
            "audience_tier": "A",
            "audience_segment": "",
            "audience_stage": "",
            "active": "on",
        },
    )
    assert response.status_code == 302
    created = Survey.objects.get(name="Tier A NPS")
    assert created.extra_questions == ["What should we build next?", "Who else uses it?"]
    assert (created.every_days, created.audience_tier, created.active) == (60, "A", True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"every_days": "0"}, "Send every (days): Give a number of days of at least 1"),
        ({"kind": "stars"}, "Kind: Select a valid choice."),
        ({"audience_tier": "Z"}, "Tier: Select a valid choice."),
        ({"question": ""}, "Question: This field is required."),
        ({"is_exit_survey": "on", "every_days": "30"}, "An exit survey goes out after a churn"),
        ({"extra_questions_text": "a\na"}, "Each question once, please."),
        ({"every_days": "1096"}, "Send every (days): At most every 1095 days (3 years)"),
        ({"name": "quarterly nps "}, "Name: Another survey already has this name."),
    ],
)
def test_bad_input_is_named_and_nothing_is_saved(maggie_client, fields, message):
    data = {"name": "Bad", "kind": "nps", "question": "q?", "active": "on", **fields}
    response = maggie_client.post(reverse("feedback:survey_new"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Survey.objects.filter(name="Bad").exists()
    assert Survey.objects.count() == 4  # the starting surveys only


def test_a_manager_edits_and_switches_off_a_survey(maggie_client):
    nps = Survey.objects.get(name="Quarterly NPS")
    page = maggie_client.get(reverse("feedback:survey_edit", args=[nps.pk]))
    assert "How likely are you to recommend us" in page.content.decode()
    response = maggie_client.post(
        reverse("feedback:survey_edit", args=[nps.pk]),
        {"name": nps.name, "kind": "nps", "question": nps.question, "every_days": "120"},
    )
    assert response.status_code == 302
    nps.refresh_from_db()
    assert (nps.every_days, nps.active) == (120, False)


def test_the_kind_of_a_survey_with_answers_cannot_change(maggie_client):
    invitation = invite()
    record_response(invitation=invitation, score=8)
    answered = invitation.survey
    response = maggie_client.post(
        reverse("feedback:survey_edit", args=[answered.pk]),
        {"name": answered.name, "kind": "csat", "question": answered.question, "active": "on"},
    )
    assert response.status_code == 200
    assert "Kind: This survey has 1 answer on its current scale" in response.content.decode()
    answered.refresh_from_db()
    assert answered.kind == "nps"


def test_the_nav_shows_surveys_to_managers_only(maggie_client, client, alice):
    assert (
        reverse("feedback:surveys") in maggie_client.get(reverse("accounts:list")).content.decode()
    )
    client.force_login(alice)
    assert reverse("feedback:surveys") not in client.get(reverse("accounts:list")).content.decode()


def test_renaming_a_survey_to_another_ones_name_is_refused_but_keeping_its_own_is_fine(
    maggie_client,
):
    csat = Survey.objects.get(name="Support CSAT")
    data = {"kind": "csat", "question": csat.question, "active": "on"}
    url = reverse("feedback:survey_edit", args=[csat.pk])
    response = maggie_client.post(url, {**data, "name": "Exit Survey"})
    assert response.context["form"].errors == {"name": ["Another survey already has this name."]}
    assert maggie_client.post(url, {**data, "name": "SUPPORT csat"}).status_code == 302
    assert Survey.objects.get(pk=csat.pk).name == "SUPPORT csat"


def test_the_admin_refuses_a_second_survey_with_one_name_too(maggie):
    duplicate = Survey(name="Quarterly nps", kind="nps", question="Again?")
    with pytest.raises(ValidationError) as refused:
        duplicate.full_clean()
    assert refused.value.message_dict == {"name": ["Another survey already has this name."]}


def test_the_database_refuses_a_second_survey_with_one_name_in_any_case(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.create(name="QUARTERLY NPS", kind="nps", question="Again?")


@pytest.mark.django_db(transaction=True)
def test_the_migration_renames_existing_duplicates_instead_of_failing():
    executor = MigrationExecutor(connection)
    before, after = (
        [("feedback", "0003_outbox_in_lib")],
        [("feedback", "0004_survey_name_and_interval")],
    )
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("feedback", "Survey")
    for name in ("Weekly pulse", "weekly pulse", "Weekly Pulse ", "weekly pulse (2)"):
        old.objects.create(name=name, kind="nps", question="?")
    executor.loader.build_graph()
    executor.migrate(after)
    names = set(Survey.objects.filter(name__istartswith="weekly").values_list("name", flat=True))
    assert names == {"Weekly pulse", "weekly pulse (3)", "Weekly Pulse (4)", "weekly pulse (2)"}
