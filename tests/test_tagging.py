"""Keyword tagging of survey comments: whole words and phrases, case, accents and punctuation,
competitor aliases, several categories at once, and the database side (idempotent re-tagging)."""

from __future__ import annotations

import pytest

from feedback.models import (
    ChurnCategory,
    Competitor,
    KeywordRule,
    Response,
    ResponseTag,
    Survey,
    SurveyKind,
)
from feedback.tagging import (
    DEFAULT_KEYWORD_RULES,
    build_matcher,
    ensure_default_keyword_rules,
    retag_all_responses,
    tag_response,
    tag_text,
)
from tests.factories import AccountFactory

RULES = [
    (ChurnCategory.PRICE, ["price", "too expensive", "coût"]),
    (ChurnCategory.SUPPORT, ["support team", "no response"]),
    (ChurnCategory.FUNCTIONALITY, ["slow", "missing feature"]),
    (ChurnCategory.ONBOARDING, ["上手"]),
]
COMPETITORS = [("retainly", ["Retainly", "Retain.ly"]), ("gainwise", ["Gainwise", "GW Suite"])]
MATCHER = build_matcher(RULES, COMPETITORS)


def categories(text):
    return tag_text(text, MATCHER)[0]


def competitors(text):
    return tag_text(text, MATCHER)[1]


def test_a_keyword_matches_as_a_whole_word_only():
    assert categories("The price went up") == {"price"}
    assert categories("Prices went up") == set()
    assert categories("priceless product") == set()
    assert categories("It is slowly getting better") == set()


def test_case_accents_and_punctuation_do_not_matter():
    assert categories("PRICE!!!") == {"price"}
    assert categories("le cout est trop eleve") == {"price"}
    assert categories("Le COÛT, vraiment.") == {"price"}
    assert categories("(slow)") == {"functionality"}


def test_a_phrase_matches_across_punctuation_and_spaces_but_not_split_words():
    assert categories("Way too   expensive.") == {"price"}
    assert categories("too-expensive for a team our size") == {"price"}
    assert categories("too expensively priced") == set()


def test_a_comment_can_have_several_categories():
    assert categories("Too expensive and the support team gave no response; also slow.") == {
        "price",
        "support",
        "functionality",
    }


def test_competitors_match_by_name_or_alias_and_tag_the_competitor_category():
    assert competitors("We are moving to retain.ly next month") == {"retainly"}
    assert competitors("GW suite does this for less") == {"gainwise"}
    assert categories("GW suite does this for less") == {"competitor"}
    assert competitors("Retainly or Gainwise, we'll see") == {"retainly", "gainwise"}
    assert competitors("We gain wisely") == set()


def test_keywords_in_chinese_match_inside_a_sentence():
    assert categories("产品很难上手") == {"onboarding"}


def test_an_empty_comment_has_no_tags():
    assert tag_text("", MATCHER) == (set(), set())
    assert tag_text("   ", build_matcher([], [])) == (set(), set())


# --- the database side ---------------------------------------------------------------------------


@pytest.fixture
def response(db):
    survey = Survey.objects.create(name="NPS", kind=SurveyKind.NPS, question="Recommend us?")
    return Response.objects.create(
        survey=survey,
        account=AccountFactory(),
        kind=SurveyKind.NPS,
        score=3,
        scale_min=0,
        scale_max=10,
        comment="Too expensive, we switch to Retainly",
    )


def tags_of(response):
    return sorted(
        (tag.category, tag.competitor.name if tag.competitor else "")
        for tag in ResponseTag.objects.filter(response=response).select_related("competitor")
    )


def test_tagging_a_response_writes_its_tags_once(response):
    KeywordRule.objects.create(category="price", keywords="too expensive\nprice")
    retainly = Competitor.objects.create(name="Retainly", aliases="retain.ly")

    tag_response(response)
    tag_response(response)

    assert tags_of(response) == [("", "Retainly"), ("competitor", ""), ("price", "")]
    assert ResponseTag.objects.filter(competitor=retainly).count() == 1


def test_retagging_follows_changed_rules_and_ignores_inactive_ones(response):
    rule = KeywordRule.objects.create(category="price", keywords="too expensive")
    tag_response(response)
    assert tags_of(response) == [("price", "")]

    rule.active = False
    rule.save()
    KeywordRule.objects.create(category="competitor", keywords="switch to")
    assert retag_all_responses() == 1
    assert tags_of(response) == [("competitor", "")]


def test_default_rules_are_written_only_into_an_empty_table(db):
    assert ensure_default_keyword_rules() == len(DEFAULT_KEYWORD_RULES)
    assert ensure_default_keyword_rules() == 0
    assert set(KeywordRule.objects.values_list("category", flat=True)) == set(DEFAULT_KEYWORD_RULES)


def test_the_answers_to_extra_questions_are_tagged_too(response):
    KeywordRule.objects.create(category="onboarding", keywords="setup")
    response.comment = ""
    response.answers = {"Why did you leave?": "The setup never finished"}
    response.save()
    tag_response(response)
    assert tags_of(response) == [("onboarding", "")]
    assert retag_all_responses() == 1
    assert tags_of(response) == [("onboarding", "")]
