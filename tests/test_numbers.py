"""Money, percentages and counts as the pages show them (accounts.mrr, the `numbers` filters)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template

from csm.lib.numbers import money_text, percent_text


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Decimal("1234.5"), 0, "$1,235"),  # half up, not to even
        (Decimal("1233.5"), 0, "$1,234"),
        (Decimal("-40.5"), 2, "-$40.50"),
        (Decimal("0"), 0, "$0"),
        ("1234567.005", 2, "$1,234,567.01"),
        (14.5, 0, "$15"),
        (7, 2, "$7.00"),
    ],
)
def test_money_text_rounds_half_up_with_thousands_separators(value, places, text):
    assert money_text(value, "$", places) == text


def test_percent_text_rounds_half_up():
    assert [percent_text(12.25), percent_text(5.0), percent_text(14.5, 0)] == [
        "12.3%",
        "5.0%",
        "15%",  # half even would give 14%
    ]


def test_the_template_filters_show_missing_values_as_a_dash(settings):
    settings.CURRENCY_SYMBOL = "€"
    template = Template(
        "{% load numbers %}{{ a|money }} {{ b|money:2 }} {{ c|percent }} {{ d|thousands }} "
        "{{ none|money }} {{ none|percent:0 }} {{ none|thousands }} {{ junk|money }}"
    )
    text = template.render(
        Context({"a": Decimal("18400"), "b": "12.345", "c": 2.05, "d": 12480, "junk": "x"})
    )
    assert text == "€18,400 €12.35 2.1% 12,480 — — — —"
