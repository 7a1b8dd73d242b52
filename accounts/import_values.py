"""The values an import cell may hold, each parsed into its domain type or refused with a message
(`Invalid`) that the import reports as `line N: <field>: <problem>` (accounts.imports)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import TypeVar

T = TypeVar("T")

CENT = Decimal("0.01")
# MONEY in models.py: 14 digits, 2 of them after the point.
MAX_AMOUNT = Decimal(10) ** 12
MAX_SEATS = 2_147_483_647  # PositiveIntegerField's upper bound on every database


class Invalid(ValueError):
    """One value's problem, worded for the `line N: field: problem` report."""


def decode(data: bytes) -> str:
    """The text of an uploaded or read file: UTF-8, with or without a byte order mark."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None
    if "\x00" in text:
        raise ValueError("the file is not a CSV text file")
    return text


# --- Values --------------------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE_NUMBER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def parse_date(text: str) -> date:
    # fromisoformat alone would also take 20250115 and week dates; the contract says YYYY-MM-DD.
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise Invalid("not a date (YYYY-MM-DD)")


def parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("", "false"):
        return False
    if lowered == "true":
        return True
    raise Invalid("must be true or false")


_FLAGS = {"": False, "false": False, "0": False, "no": False, "true": True, "1": True, "yes": True}


def parse_flag(text: str) -> bool:
    """true/false, 1/0 or yes/no, any case; blank is false."""
    try:
        return _FLAGS[text.lower()]
    except KeyError:
        raise Invalid("must be true or false (or 1/0, yes/no)") from None


def parse_seats(text: str) -> int:
    if not _WHOLE_NUMBER.fullmatch(text):
        raise Invalid("not a whole number")
    value = int(text)
    if value < 0:
        raise Invalid("must not be negative")
    if value > MAX_SEATS:
        raise Invalid("too large")
    return value


def parse_amount(text: str) -> Decimal:
    if not _DECIMAL.fullmatch(text):
        raise Invalid("not a number")
    value = Decimal(text)
    if value < 0:
        raise Invalid("must not be negative")
    if value != value.quantize(CENT):
        raise Invalid("at most 2 decimal places")
    if value >= MAX_AMOUNT:
        raise Invalid("too large")
    return abs(value.quantize(CENT))  # abs: "-0" is zero


def choice(values: Sequence[str]) -> Callable[[str], str]:
    """Parser for one of `values`, any letter case; blank is "" (callers mark it required)."""
    by_lower = {value.lower(): value for value in values}

    def parse(text: str) -> str:
        if not text:
            return ""
        try:
            return by_lower[text.lower()]
        except KeyError:
            raise Invalid(f"must be one of {', '.join(values)}") from None

    return parse


def text_of(max_length: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if len(text) > max_length:
            raise Invalid(f"longer than {max_length} characters")
        return text

    return parse


def optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    """Blank → None, anything else through `parse`."""
    return lambda text: parse(text) if text else None
