"""The app in Simplified Chinese, on the Chinese demo (`seed_demo --locale zh-hans`): a CSM's
day (Today, the queue, an account page, logging a touch), a manager's KPI overview and cohorts,
and a customer answering a survey on a phone. On every page no English UI word may remain, and
the KPI and health figures are the same as on the English pages.

The English-word check takes everything a reader sees (the visible text, titles, labels and
placeholders), removes what comes from the database (names, addresses, comments, notes, event
names) and then looks for any word of three or more ASCII letters. Abbreviations written in
capitals (MRR, NPS, KPI, CSV) are kept in Chinese by the glossary and pass; an untranslated label
("Log touch", "Opened") does not."""

from __future__ import annotations

import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from accounts.models import Account, Contact, Subscription, User
from csm.demo.accounts import DEMO_MANAGER_EMAIL, DEMO_PASSWORD
from csm.workflow.models import RiskItem, Touch
from feedback.models import ChurnEvent, Competitor, Response, Survey
from feedback.services import send_invitation
from feedback.tokens import make_token
from health.models import UsageEvent
from health.queries import ACCOUNT_PAGE_EVENTS, latest_events
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-zh")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]{2,}")
NUMBER = re.compile(r"[-−+]?[¥$]?\d[\d,]*(?:\.\d+)?%?")
# What a reader sees, and the texts marked as written in another language (lang="en" on the
# login page's "English" button: each language is named in its own words).
SEEN = """() => {
  const attrs = [...document.querySelectorAll('[title], [aria-label], [placeholder]')]
    .flatMap(e => ['title', 'aria-label', 'placeholder'].map(a => e.getAttribute(a) || ''));
  const page = document.documentElement.lang;
  const other = [...document.body.querySelectorAll('[lang]')]
    .filter(e => e.lang !== page).map(e => e.innerText);
  return [[document.title, document.body.innerText, ...attrs].join('\\n'), other];
}"""


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


@pytest.fixture
def chinese_demo():
    call_command(
        "seed_demo", "--accounts", "40", "--months", "12", "--locale", "zh-hans", stdout=StringIO()
    )


def database_texts() -> list[str]:
    """What the pages show from the database: data and proper names, not the UI's words. (Risk
    reasons are not among them: they are stored as facts and worded from the catalogue when a
    page is shown, so an untranslated reason fails the check.)"""
    texts: set[str] = set()
    texts |= {t for pair in Account.objects.values_list("name", "external_id") for t in pair}
    for name, email, role in Contact.objects.values_list("name", "email", "role"):
        texts |= {name, email, role}
    texts |= {t for pair in User.objects.values_list("name", "email") for t in pair}
    for name, aliases in Competitor.objects.values_list("name", "aliases"):
        texts |= {name, *aliases.splitlines()}
    texts |= set(Subscription.objects.values_list("subscription_id", flat=True))
    texts |= set(UsageEvent.objects.values_list("event", flat=True).distinct())
    texts |= set(UsageEvent.objects.values_list("user", flat=True).distinct())
    for account in Account.objects.all():  # the account page's "Latest events" show their ids
        texts |= {event["id"] for event in latest_events(account, limit=ACCOUNT_PAGE_EVENTS)}
    texts |= set(Touch.objects.values_list("summary", flat=True))
    texts |= set(Response.objects.values_list("comment", flat=True))
    texts |= set(ChurnEvent.objects.values_list("note", flat=True))
    texts |= set(RiskItem.objects.values_list("resolution_note", flat=True))
    return sorted((t for t in texts if t), key=len, reverse=True)


def english_words(page) -> list[str]:
    """The English words left, each with the line it is on (to find where it came from)."""
    text, other_languages = page.evaluate(SEEN)
    for data in [*other_languages, *database_texts()]:
        text = text.replace(data, " ")
    text = re.sub(r"\S+@\S+|https?://\S+", " ", text)
    # The products the app connects to keep their names in any language.
    text = re.sub(r"\b(?:Segment|RudderStack|Stripe|Slack|Webhooks?)\b", " ", text)
    # snake_case identifiers are names the app's data and API use (payment_failed), not words.
    text = re.sub(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", " ", text)
    return sorted(
        f"{word} in {line.strip()!r}"
        for line in text.splitlines()
        for word in set(WORD.findall(line))
        if not word.isupper()
    )


def assert_chinese(page) -> None:
    words = english_words(page)
    assert words == [], "\n".join(words)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    SHOTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"zh-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    shutil.copy(path, SHOTS / path.name)


def context(chromium, locale: str, width: int = 1280, height: int = 900):
    return chromium.new_context(locale=locale, viewport={"width": width, "height": height})


def log_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form:not(.language-switcher) button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_csm_works_their_day_in_chinese(live_server, chromium, chinese_demo):
    browser = context(chromium, "zh-CN")
    page = browser.new_page()
    page.goto(f"{live_server.url}/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert_chinese(page)
    shot(page, "login")
    # The CSM who owns the queue's top item (a small demo leaves some books without one).
    item = (
        RiskItem.objects.open()
        .filter(account__owner__isnull=False)
        .select_related("account__owner")
        .order_by("-priority")
        .first()
    )
    log_in(page, live_server, item.account.owner.email)

    assert zh("Today") in page.locator("h1").inner_text()
    assert "年" in page.locator("h1 small").inner_text()  # 2026年12月2日 星期三
    assert_chinese(page)
    shot(page, "today")

    page.goto(f"{live_server.url}/risk/")
    assert page.locator("tbody[id^=risk-item-]").count() > 0
    assert_chinese(page)
    shot(page, "queue")

    account = item.account
    page.goto(f"{live_server.url}/accounts/{account.external_id}/")
    page.locator("#timeline").wait_for()
    assert_chinese(page)
    shot(page, "account")

    form = page.locator("#log-touch form")
    form.locator("textarea[name=summary]").fill("电话沟通：导出问题已一起解决。")
    form.locator("button[type=submit]").click()
    page.get_by_text(zh("Touch logged.")).wait_for()
    assert Touch.objects.filter(summary="电话沟通：导出问题已一起解决。").exists()
    assert_chinese(page)
    shot(page, "account-touch-logged")
    browser.close()


def figures(page, selector: str) -> list[list[str]]:
    """The numbers of each element; sorted, since a sentence may put them in another order in
    Chinese ("4 of 36 customers" / "36 个客户中流失 4 个")."""
    return [sorted(NUMBER.findall(cell)) for cell in page.locator(selector).all_inner_texts()]


def test_a_manager_reads_the_same_kpis_in_chinese(live_server, chromium, chinese_demo):
    seen = {}
    for locale in ("en-US", "zh-CN"):
        browser = context(chromium, locale)
        page = browser.new_page()
        log_in(page, live_server, DEMO_MANAGER_EMAIL)
        page.goto(f"{live_server.url}/kpis/")
        page.locator(".kpi-card").first.wait_for()
        page.wait_for_function(
            "() => [...document.querySelectorAll('canvas[data-kind=kpi]')]"
            ".every(c => c.dataset.drawn)"
        )
        kpis = figures(page, ".kpi-card strong, .kpi-card .kpi-detail, .kpi-table td.num")
        if locale == "zh-CN":
            assert_chinese(page)
            shot(page, "kpi-overview")
        page.goto(f"{live_server.url}/kpis/cohorts/")
        cohorts = figures(page, ".cohort-table td")
        if locale == "zh-CN":
            assert_chinese(page)
            shot(page, "kpi-cohorts")
        page.goto(f"{live_server.url}/accounts/?per_page=100")
        health = page.locator("span.health").all_inner_texts()
        seen[locale] = (kpis, cohorts, health)
        browser.close()
    english, chinese = seen["en-US"], seen["zh-CN"]
    assert english[0] and english[1] and english[2]
    assert chinese == english


def test_a_chinese_customer_answers_a_survey_on_a_phone(live_server, chromium, chinese_demo):
    contact = Contact.objects.filter(is_primary=True, language="zh-hans").first()
    survey = Survey.objects.get(name="Quarterly NPS")
    invitation = send_invitation(survey=survey, contact=contact)
    # A phone whose browser asks for English: the contact's language wins.
    browser = context(chromium, "en-US", width=390, height=844)
    page = browser.new_page()
    page.goto(f"{live_server.url}/s/{make_token(invitation.nonce)}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert zh(survey.question) in page.locator("legend").inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert_chinese(page)
    shot(page, "survey-phone")

    page.locator("label[for=id_score_9]").click()
    page.locator("textarea[name=comment]").fill("客服响应很快，谢谢！")
    page.locator("form button[type=submit]").click()
    page.get_by_text(zh("Thank you!")).wait_for()
    assert_chinese(page)
    shot(page, "survey-phone-thanks")
    answer = Response.objects.get(invitation=invitation)
    assert (answer.score, answer.comment) == (9, "客服响应很快，谢谢！")
    browser.close()
