"""Every CSV download (the KPI, feedback, churn and account list exports) goes through this one
response, which neutralises formula cells (CSV injection, DESIGN §8).

A spreadsheet runs a cell that starts with = + - or @ as a formula, and a leading tab or carriage
return can hide such a start: a survey comment "=HYPERLINK(…)" would reach a manager's
spreadsheet as a live link. Such a text cell gets a leading apostrophe, which spreadsheets show as
text and do not evaluate (OWASP's advice). Numbers stay numbers: -12.5, as a number or as the text
of one, is written as it is. tests/test_csv_export.py checks that nothing else writes CSV.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

# Where a text cell starting with one of these characters is read as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# A plain number written as text ("-12.5", "+3", "1e-3"): a spreadsheet reads it as that number.
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """`value` as a CSV cell: None is empty, numbers are kept, a text that a spreadsheet would
    run as a formula starts with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):  # bool is an int: written True/False
        return value
    text = str(value)
    # A space before the formula sign is trimmed by some spreadsheets' import, so look past it.
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        if NUMBER.fullmatch(text):
            return text
        return "'" + text
    return text


def csv_response(
    filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]
) -> HttpResponse:
    """A CSV download named `filename` (".csv" added when missing), every cell through
    `safe_cell`."""
    if not filename.endswith(".csv"):
        filename += ".csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([safe_cell(value) for value in header])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return response
