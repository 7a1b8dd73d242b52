"""Acting on answers: a detractor opens or updates the account's risk item in words with the
numbers and emails the owner, at once and through the nightly rule "detractor answer in the last
30 days"; every answer shows on the timeline and feeds the health score's sentiment measure."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from csm.lib.models import OutboxEmail
from csm.workflow.models import RiskItem
from csm.workflow.reasons import reason_text
from csm.workflow.risk import refresh_risk_items
from csm.workflow.timeline import account_timeline
from feedback.models import Response
from feedback.services import record_response, send_invitation
from feedback.tagging import ensure_default_keyword_rules
from health.models import HealthScore
from health.services import recompute_health_scores
from tests import surveys
from tests.factories import HealthScoreFactory, RiskItemFactory, used_on
from tests.surveys import survey

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def customer(owner, **fields):
    """A customer using the product (so only the detractor rule fires)."""
    account, contact = surveys.customer(owner, **fields)
    used_on(account, date(2026, 10, 15), date(2026, 11, 10), date(2026, 11, 20))
    return account, contact


def texts(item, today=date(2026, 11, 20)):
    return [reason_text(reason, today=today) for reason in item.reasons]


def answer(account_contact, score, comment="", kind="nps"):
    _account, contact = account_contact
    invitation = send_invitation(survey=survey(kind, name=f"{kind} {score}"), contact=contact)
    return record_response(invitation=invitation, score=score, comment=comment, answers={})


def test_an_nps_detractor_opens_a_risk_item_in_words_and_emails_the_owner(alice):
    account, contact = customer(alice, mrr="1000")
    answer((account, contact), 3, "too slow")
    item = RiskItem.objects.open().get(account=account)
    assert texts(item) == ["NPS 3 from Ana Lima on 2026-11-20: 'too slow'"]
    assert item.reasons[0]["since"] == "2026-11-20"
    assert item.assignee == alice and item.opened_on == date(2026, 11, 20)
    assert item.priority == Decimal("700.00")  # MRR 1,000 × detractor weight 0.7
    assert item.tasks.order_by("step").first().title == (
        "Call the person who answered within 2 days"
    )
    email = OutboxEmail.objects.get(kind="detractor")
    assert email.to == alice.email and email.account == account
    assert "NPS 3 from Ana Lima on 2026-11-20: 'too slow'" in email.body
    assert f"/accounts/{account.external_id}/" in email.body


def test_a_detractor_joins_the_open_item_and_replaces_an_older_detractor_reason(alice):
    pair = customer(alice, mrr="1000")
    ensure_default_keyword_rules()  # "price" is a churn cause the comment names
    HealthScoreFactory(account=pair[0], day=date(2026, 11, 19), score=30)
    item = RiskItemFactory(
        account=pair[0], cleared_on=date(2026, 11, 19), updated_on=date(2026, 11, 19)
    )
    answer(pair, 5, "price went up")
    item.refresh_from_db()
    assert [reason["key"] for reason in item.reasons] == ["red_band", "detractor", "price"]
    answer(pair, 2, "")
    item.refresh_from_db()
    assert texts(item) == [
        "health score 30 (red)",
        "NPS 2 from Ana Lima on 2026-11-20 (and 1 more detractor answer)",
    ]
    # The price cause of the first answer's comment is no longer the latest answer's.
    assert [(r["key"], r["until"]) for r in item.past_reasons] == [("price", "2026-11-20")]
    assert item.cleared_on is None
    assert item.priority == Decimal("1100.00")  # 1,000 × (1.0 red + 0.1 for a second reason)
    assert RiskItem.objects.count() == 1
    assert OutboxEmail.objects.filter(kind="detractor").count() == 2


@pytest.mark.parametrize(
    ("kind", "score", "detractor"),
    [
        ("nps", 6, True),
        ("nps", 7, False),
        ("nps", 10, False),
        ("csat", 2, True),
        ("csat", 3, False),
        ("ces", 1, True),
        ("ces", 5, False),
    ],
)
def test_which_answers_are_detractors(alice, kind, score, detractor):
    pair = customer(alice)
    answer(pair, score, kind=kind)
    assert RiskItem.objects.exists() is detractor
    assert OutboxEmail.objects.filter(kind="detractor").exists() is detractor


def test_an_unowned_account_gets_the_item_but_no_email(db):
    pair = customer(None)
    answer(pair, 0, "")
    assert RiskItem.objects.open().get().assignee is None
    assert not OutboxEmail.objects.filter(kind="detractor").exists()


# --- The nightly rule ---------------------------------------------------------------------------


def answered_on(pair, day, score, comment=""):
    with time_machine.travel(datetime(day.year, day.month, day.day, 9, tzinfo=UTC), tick=False):
        return answer(pair, score, comment)


def test_the_nightly_rule_fires_for_a_detractor_in_the_last_30_days(alice):
    pair = customer(alice)
    answered_on(pair, date(2026, 10, 22), 4, "missing the export we need")
    RiskItem.objects.all().delete()  # only the nightly rule now
    HealthScoreFactory(account=pair[0], day=date(2026, 11, 20), score=90)
    refresh_risk_items(day=date(2026, 11, 20))
    item = RiskItem.objects.open().get(account=pair[0])
    assert texts(item) == ["NPS 4 from Ana Lima on 2026-10-22: 'missing the export we need'"]


def test_the_nightly_rule_names_the_latest_and_counts_the_others(alice):
    pair = customer(alice)
    answered_on(pair, date(2026, 11, 1), 4)
    answered_on(pair, date(2026, 11, 10), 1, "support never answers")
    HealthScoreFactory(account=pair[0], day=date(2026, 11, 20), score=90)
    refresh_risk_items(day=date(2026, 11, 20))
    assert texts(RiskItem.objects.open().get())[0] == (
        "NPS 1 from Ana Lima on 2026-11-10: 'support never answers' (and 1 more detractor answer)"
    )


def test_the_nightly_rule_does_not_fire_after_30_days_or_for_passives(alice):
    old, passive = customer(alice), customer(alice, contact_name="Bo Chen")
    answered_on(old, date(2026, 10, 21), 2)
    answered_on(passive, date(2026, 11, 19), 8)
    RiskItem.objects.all().delete()
    for pair in (old, passive):
        HealthScoreFactory(account=pair[0], day=date(2026, 11, 20), score=90)
    refresh_risk_items(day=date(2026, 11, 20))
    assert not RiskItem.objects.exists()


def test_the_nightly_rule_clears_when_the_answer_ages_out(alice):
    pair = customer(alice)
    answered_on(pair, date(2026, 10, 20), 3)
    HealthScoreFactory(account=pair[0], day=date(2026, 11, 18), score=90)
    HealthScoreFactory(account=pair[0], day=date(2026, 11, 19), score=90)
    refresh_risk_items(day=date(2026, 11, 18))  # 2026-10-20 is within the 30 days to 11-18
    assert RiskItem.objects.open().get().cleared_on is None
    refresh_risk_items(day=date(2026, 11, 19))  # … and out of the 30 days to 11-19
    assert RiskItem.objects.open().get().cleared_on == date(2026, 11, 19)


# --- Timeline and health --------------------------------------------------------------------------


def test_an_answer_shows_on_the_account_timeline(alice):
    pair = customer(alice)
    answer(pair, 9, "love the reports")
    entry = account_timeline(pair[0])[0]
    assert entry.kind == "survey"
    assert entry.title == "NPS 9 (0–10) from Ana Lima"
    assert "“love the reports”" in entry.detail


def test_a_detractor_is_labelled_on_the_timeline(alice):
    pair = customer(alice)
    answer(pair, 1)
    assert [e.title for e in account_timeline(pair[0]) if e.kind == "survey"] == [
        "NPS 1 (0–10) from Ana Lima · detractor"
    ]


def sentiment(account, day=date(2026, 11, 20)):
    recompute_health_scores(day=day)
    measures = {m["key"]: m for m in HealthScore.objects.get(account=account, day=day).measures}
    return measures.get("sentiment")


def test_the_latest_nps_or_csat_answer_feeds_the_sentiment_measure(alice):
    pair = customer(alice)
    answered_on(pair, date(2026, 6, 1), 10)
    answered_on(pair, date(2026, 11, 2), 3)
    measure = sentiment(pair[0])
    assert (measure["raw"], measure["score"], measure["weight"]) == (30, 15, 10)


def test_csat_is_put_on_the_same_0_to_100_scale_and_ces_does_not_count(alice):
    pair = customer(alice)
    with time_machine.travel(datetime(2026, 11, 1, 9, tzinfo=UTC), tick=False):
        answer(pair, 4, kind="csat")
    with time_machine.travel(datetime(2026, 11, 5, 9, tzinfo=UTC), tick=False):
        answer(pair, 1, kind="ces")
    assert sentiment(pair[0])["raw"] == 75


def test_answers_older_than_180_days_do_not_count(alice):
    pair = customer(alice)
    answered_on(pair, date(2026, 5, 23), 10)  # 181 days before
    recompute_health_scores(day=date(2026, 11, 20))
    score = HealthScore.objects.get(account=pair[0], day=date(2026, 11, 20))
    assert "sentiment" not in {m["key"] for m in score.measures}
    assert Response.objects.count() == 1
