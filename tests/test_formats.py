"""Dates follow the reader's language (2026-11-28 / 2026年11月28日); money shows the
installation's currency symbol, ¥ for CURRENCY_CODE=CNY, in pages and charts alike."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import time_machine
from django import forms
from django.template import Context, Template
from django.urls import reverse
from django.utils import formats, translation

from tests.factories import AccountFactory, SubscriptionFactory
from tests.test_settings import run_manage

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}


def test_a_day_in_each_language():
    day = date(2026, 11, 28)
    with translation.override("en"):
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "2026-11-28"
        assert formats.date_format(day, "DATE_FORMAT") == "Saturday 28 November 2026"
        assert formats.date_format(day, "YEAR_MONTH_FORMAT") == "November 2026"
    with translation.override("zh-hans"):
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "2026年11月28日"
        assert formats.date_format(day, "DATE_FORMAT") == "2026年11月28日 星期六"
        assert formats.date_format(day, "YEAR_MONTH_FORMAT") == "2026年11月"
        moment = datetime(2026, 11, 28, 9, 5)
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "2026年11月28日 09:05"


@time_machine.travel(datetime(2026, 12, 2, 9), tick=False)
def test_the_today_heading_is_a_chinese_date_in_chinese(alice_client):
    body = alice_client.get(reverse("home"), **CHINESE).content.decode()
    assert '<small class="muted">2026年12月2日 星期三</small>' in body
    assert "十二月" not in body  # the month's name, in an English date's order
    body = alice_client.get(reverse("home")).content.decode()
    assert "Wednesday 2 December 2026" in body


def test_a_date_input_keeps_the_iso_value_a_browser_reads_in_chinese(alice_client, alice):
    account = AccountFactory(owner=alice, renewal_date=date(2027, 3, 1))
    body = alice_client.get(
        reverse("accounts:edit", args=[account.external_id]), **CHINESE
    ).content.decode()
    assert 'type="date"' in body and 'value="2027-03-01"' in body
    with translation.override("zh-hans"):
        assert forms.DateField().clean("2027-04-01") == date(2027, 4, 1)


def test_money_uses_the_installations_symbol_in_either_language(settings):
    settings.CURRENCY_SYMBOL = "¥"
    template = Template("{% load numbers %}{{ v|money }} {{ n|money:2 }} {{ p|percent }}")
    context = Context({"v": Decimal("1234.5"), "n": Decimal("-40.5"), "p": 12.25})
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert template.render(context) == "¥1,235 -¥40.50 12.3%"


def test_cny_gets_the_yuan_sign_without_naming_a_symbol():
    shell = "from django.conf import settings; print(settings.CURRENCY_SYMBOL)"
    result = run_manage("shell", "-c", shell, CURRENCY_CODE="CNY")
    assert result.stdout.splitlines()[-1] == "¥", result.stderr
    result = run_manage("shell", "-c", shell, CURRENCY_CODE="CHF")
    assert result.stdout.splitlines()[-1] == "CHF "  # "CHF 1,200"


@time_machine.travel(datetime(2026, 11, 23, 9), tick=False)
def test_the_account_page_and_its_chart_show_the_yuan(alice_client, alice, settings):
    settings.CURRENCY_SYMBOL = "¥"
    account = AccountFactory(owner=alice)
    SubscriptionFactory(account=account, amount=Decimal("1200.00"))
    body = alice_client.get(
        reverse("accounts:detail", args=[account.external_id]), **CHINESE
    ).content.decode()
    assert "¥1,200" in body and 'data-currency="¥"' in body and "$" not in body
