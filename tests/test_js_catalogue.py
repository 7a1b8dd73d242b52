"""The scripts' strings come from Django's JavaScript catalogue, in the page's language."""

from __future__ import annotations

from django.urls import reverse


def test_every_page_loads_the_catalogue_of_its_language(alice_client):
    body = alice_client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    catalogue = f'<script src="{reverse("javascript-catalog")}?l=zh-hans" defer></script>'
    assert catalogue in body
    # Before the scripts that call gettext().
    assert body.index(catalogue) < body.index("csm/charts.js")


def test_the_catalogue_translates_the_chart_labels(client, db):
    chinese = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert chinese.status_code == 200
    text = chinese.content.decode()
    assert '"Health": "\\u5065\\u5eb7\\u5206"' in text or '"Health": "健康分"' in text
    english = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="en").content
    assert "健康分".encode() not in english and b"\\u5065" not in english
