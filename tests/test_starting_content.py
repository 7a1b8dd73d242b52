"""The starting content the migrations create is shown in the reader's language while it is
unchanged; what a manager wrote is shown as written."""

from __future__ import annotations

import importlib

from django.test import Client
from django.urls import reverse
from django.utils import translation

from csm.lib.models import OutboxEmail
from csm.lib.starting_content import DEFAULT_TEXTS, in_readers_language
from csm.workflow.models import BlueprintTemplate, MilestoneTemplate, SavePlay, UsageTip
from feedback.models import Survey
from feedback.services import send_invitation
from tests.surveys import customer, token_of

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}


def _migration(name: str):
    return importlib.import_module(name)


def test_every_text_the_migrations_write_is_a_known_starting_text():
    content = _migration("csm.workflow.migrations.0002_starting_content")
    surveys = _migration("feedback.migrations.0002_starting_surveys")
    written = {name for name, _extra in content.BY_SEGMENT.values()}
    written |= {text for row in content.COMMON for text in row[1:3] if text}
    written |= {
        t for _n, extra in content.BY_SEGMENT.values() for row in extra for t in row[1:3] if t
    }
    written |= {step for steps in content.SAVE_PLAYS.values() for step in steps}
    written |= {text for pair in content.TIPS.values() for text in pair}
    for survey in surveys.SURVEYS:
        written |= {survey["name"], survey["question"], survey["comment_prompt"]}
        written |= set(survey.get("extra_questions", []))
    assert written - DEFAULT_TEXTS == set()


def test_every_starting_text_has_a_chinese_translation():
    with translation.override("zh-hans"):
        untranslated = {text for text in DEFAULT_TEXTS if in_readers_language(text) == text}
    assert untranslated == set()


def test_an_edited_text_is_shown_as_written(db):
    with translation.override("zh-hans"):
        assert in_readers_language("Basic problems solved") != "Basic problems solved"
        assert (
            in_readers_language("Basic problems solved, mostly") == "Basic problems solved, mostly"
        )


def test_the_managers_pages_show_the_defaults_in_chinese(maggie_client):
    tip = UsageTip.objects.get(feature="export_csv")
    tip.title = "Our own words"
    tip.save(update_fields=["title"])
    body = maggie_client.get(reverse("touches:tips"), **CHINESE).content.decode()
    assert "Our own words" in body
    assert "Build your own dashboard" not in body  # other tips are still the defaults
    with translation.override("zh-hans"):
        assert translation.gettext("Build your own dashboard") in body
    body = maggie_client.get(reverse("blueprints:templates"), **CHINESE).content.decode()
    assert "First data report delivered" not in body and "Basic needs" not in body
    assert BlueprintTemplate.objects.exists() and MilestoneTemplate.objects.exists()
    assert SavePlay.objects.exists()


def test_a_chinese_customer_gets_the_starting_survey_in_chinese(db):
    _account, contact = customer()
    contact.language = "zh-hans"
    contact.save(update_fields=["language"])
    survey = Survey.objects.get(name="Exit survey")
    invitation = send_invitation(survey=survey, contact=contact)
    email = OutboxEmail.objects.get(kind="survey")
    assert survey.question not in email.body and survey.question not in email.subject
    body = Client().get(reverse("feedback:answer", args=[token_of(invitation)])).content.decode()
    for text in (survey.name, survey.question, survey.comment_prompt, *survey.extra_questions):
        assert text not in body
        with translation.override("zh-hans"):
            assert translation.gettext(text) in body
