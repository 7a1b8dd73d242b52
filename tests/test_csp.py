"""A strict Content-Security-Policy on every response (DESIGN §8): only this origin, no inline
script or style, no eval; and nothing in the templates or in HTML built in Python that such a
policy would block (tests/browser/test_csp.py checks the pages in Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from csm.workflow.blueprints import create_blueprints, share_token
from csm.workflow.models import Blueprint
from feedback.services import send_invitation
from feedback.tokens import make_token
from tests.factories import AccountFactory
from tests.surveys import customer, survey

ROOT = Path(__file__).resolve().parent.parent


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


def assert_strict(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    header = response["Content-Security-Policy"]
    assert "unsafe" not in header and "http" not in header and "*" not in header


def test_the_login_page_carries_the_policy(client, db):
    assert_strict(client.get(reverse("login")))


@pytest.mark.parametrize(
    "name", ["home", "accounts:list", "kpis:overview", "feedback_reports:overview"]
)
def test_the_pages_carry_the_policy(maggie_client, name):
    response = maggie_client.get(reverse(name))
    assert response.status_code == 200
    assert_strict(response)


def test_the_public_survey_and_blueprint_pages_carry_the_policy(client, alice):
    account, contact = customer(alice)
    invitation = send_invitation(survey=survey(), contact=contact)
    response = client.get(reverse("feedback:answer", args=[make_token(invitation.nonce)]))
    assert response.status_code == 200
    assert_strict(response)

    create_blueprints([AccountFactory(owner=alice).pk])
    token = share_token(Blueprint.objects.get())
    response = client.get(reverse("blueprints:public", args=[token]))
    assert response.status_code == 200
    assert_strict(response)
    assert_strict(client.get("/b/not-a-token/"))


def test_errors_and_the_api_carry_it_too(client, db):
    assert_strict(client.get("/no-such-page/"))
    assert_strict(client.post("/api/v1/events", data="{}", content_type="application/json"))


# --- what a strict policy would block ------------------------------------------------------------

INLINE_SCRIPT = re.compile(r'<script\b(?![^>]*\bsrc=)(?![^>]*type="application/json")[^>]*>')
# Inside a tag: "<td … onclick=" or "<span … style=" (so Python's "ONBOARDING = …" is not one).
HANDLER = re.compile(r"<[a-z][^<>]*\son[a-z]+\s*=\s*[\"'{]", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^<>]*\sstyle\s*=\s*[\"'{]", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)


def sources() -> list[Path]:
    templates = list((ROOT / "templates").rglob("*.html"))
    python = [
        path
        for path in ROOT.rglob("*.py")
        if path.relative_to(ROOT).parts[0] not in {".venv", "tests", "var", "staticfiles"}
    ]
    return templates + python


@pytest.mark.parametrize(
    ("what", "pattern"),
    [
        ("an inline <script>", INLINE_SCRIPT),
        ("an event handler attribute", HANDLER),
        ("a style attribute", STYLE_ATTRIBUTE),
        ("a <style> element", STYLE_ELEMENT),
    ],
)
def test_no_template_or_python_html_has_what_the_policy_blocks(what, pattern):
    offenders = [
        f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in sources()
        for text in [path.read_text(encoding="utf-8")]
        for match in pattern.finditer(text)
    ]
    assert offenders == [], f"{what} in {offenders}"
