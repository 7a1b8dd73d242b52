"""seed_demo --locale zh-hans: the same story as the English demo, told with Chinese names,
comments and notes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from accounts.models import Account, Contact, User
from csm.demo import accounts as demo_accounts
from csm.demo import churns as demo_churns
from csm.demo import surveys as demo_surveys
from csm.demo import texts_zh
from csm.demo import workflow as demo_workflow
from csm.demo.localise import company_name, person
from csm.workflow.models import Touch
from feedback.models import ChurnEvent, Response
from health.models import HealthScore

HAN = re.compile(r"[\u4e00-\u9fff]")
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


def seed(locale: str) -> dict[str, object]:
    call_command(
        "seed_demo", "--accounts", "30", "--months", "6", "--locale", locale, stdout=StringIO()
    )
    return {
        "mrr": sorted(
            (a.external_id, a.mrr)
            for a in Account.objects.with_mrr(NOW.date())  # type: ignore[attr-defined]
        ),
        "scores": sorted(HealthScore.objects.values_list("account__external_id", "day", "score")),
        "churns": sorted(ChurnEvent.objects.values_list("account__external_id", "churned_on")),
        "answers": Response.objects.count(),
        "touches": Touch.objects.count(),
    }


def test_every_english_word_the_generators_draw_has_its_chinese_one():
    assert set(demo_accounts.COMPANY_WORDS) <= set(texts_zh.COMPANY_WORDS)
    assert set(demo_accounts.COMPANY_TRADES) <= set(texts_zh.COMPANY_TRADES)
    assert set(demo_accounts.COMPANY_FORMS) <= set(texts_zh.COMPANY_FORMS)
    assert set(demo_accounts.FIRST_NAMES) <= set(texts_zh.FIRST_NAMES)
    assert set(demo_accounts.LAST_NAMES) <= set(texts_zh.LAST_NAMES)
    roles = {*demo_accounts.PRIMARY_ROLES, *demo_accounts.OTHER_ROLES}
    assert roles <= set(texts_zh.ROLES)
    people = {name for name, _email in demo_accounts.DEMO_CSMS + demo_accounts.DEMO_MANAGERS}
    assert people <= set(texts_zh.USERS)
    comments = [
        *demo_surveys.DETRACTOR_COMMENTS,
        *demo_surveys.PASSIVE_COMMENTS,
        *demo_surveys.PROMOTER_COMMENTS,
        *[s for summaries in demo_workflow.SUMMARIES.values() for s in summaries],
        *demo_churns.INVOLUNTARY_NOTES,
    ]
    for notes in demo_churns.NOTES.values():
        for note in notes:
            comments += [note.format(competitor=c) for c in [*demo_churns.DEMO_COMPETITORS, ""]]
    assert set(comments) - set(texts_zh.TEXTS) == set()


def test_names_become_chinese_and_addresses_stay_distinct():
    assert company_name("Polaris Logistics Co") == "北辰物流有限公司"
    assert company_name("Acme Labs") == "顶峰实验室"
    assert person("Ana Lima") is None  # not a demo family name
    assert person("Ana Adams") == ("王安娜", "anna.wang")
    for table in (texts_zh.FIRST_NAMES, texts_zh.LAST_NAMES):
        assert len({pinyin for _han, pinyin in table.values()}) == len(table)


@time_machine.travel(NOW, tick=False)
def test_the_chinese_demo_tells_the_same_story_in_chinese(db):
    chinese = seed("zh-hans")
    accounts = list(Account.objects.values_list("name", flat=True))
    assert accounts and all(HAN.search(name) for name in accounts)
    contacts = list(Contact.objects.values_list("name", "email", "language"))
    assert all(HAN.search(name) and email.isascii() for name, email, _l in contacts)
    assert {language for _n, _e, language in contacts} == {"zh-hans"}
    assert HAN.search(User.objects.get(email="maya@demo.example").name)
    comments = list(Response.objects.exclude(comment="").values_list("comment", flat=True))
    assert comments and all(HAN.search(c) for c in comments)
    assert all(HAN.search(s) for s in Touch.objects.values_list("summary", flat=True))
    notes = list(ChurnEvent.objects.exclude(note="").values_list("note", flat=True))
    assert all(HAN.search(n) for n in notes)

    # The same draw in English: the same money, scores, churns, answers and touches.
    for model in (Account, User):
        model.objects.all().delete()
    english = seed("en")
    assert english == chinese


def test_an_unknown_locale_is_refused(db):
    with pytest.raises(CommandError, match="--locale"):
        call_command("seed_demo", "--locale", "fr", stdout=StringIO())
    assert not Account.objects.exists()
