"""Page stylesheets are linked in the <head> (base.html's `styles` block), not in the body."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AccountFactory


@pytest.mark.parametrize(
    ("name", "stylesheet"),
    [
        ("kpis:overview", "csm/kpis.css"),
        ("kpis:scoreboard", "csm/reports.css"),
        ("feedback_reports:overview", "csm/feedback_reports.css"),
        ("feedback_reports:detractors", "csm/feedback_reports.css"),
        ("account", "csm/feedback_reports.css"),  # the churn card's styles
    ],
)
def test_a_pages_own_stylesheet_is_linked_in_the_head(maggie_client, name, stylesheet):
    if name == "account":
        url = reverse("accounts:detail", args=[AccountFactory().external_id])
    else:
        url = reverse(name)
    body = maggie_client.get(url).content.decode()
    head, _, rest = body.partition("</head>")
    assert stylesheet in head
    assert 'rel="stylesheet"' not in rest
