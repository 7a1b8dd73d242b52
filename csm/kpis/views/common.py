"""What the report pages share: whose book a page shows (a manager everything, a CSM their own),
their CSV exports (`?format=csv&table=<name>`), and how their numbers read. Every number is
aggregated in SQL; each page runs a fixed number of queries (tests/test_report_pages.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _

from accounts.access import AuthenticatedHttpRequest
from accounts.models import User
from accounts.scopes import SCOPE_ALL, owner_scope
from csm.lib.csv_export import csv_response

# The healthy-churn benchmark of the source material: ~7% a year, ~0.6% a month (DESIGN §2).
HEALTHY_MONTHLY_CHURN = Decimal("0.006")


# --- Helpers --------------------------------------------------------------------------------------


def wants_csv(request: AuthenticatedHttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def csv_tables(
    request: AuthenticatedHttpRequest, name: str, tables: dict[str, tuple[list[str], list[list]]]
) -> HttpResponse:
    """`?format=csv&table=<key>`: that table; without `table`, every table in one file with the
    table's key as the first column."""
    key = request.GET.get("table", "")
    if key:
        if key not in tables:
            raise Http404("no such table")
        header, rows = tables[key]
        return csv_response(f"{name}-{key}", header, rows)
    width = max(len(header) for header, _rows in tables.values())
    out = []
    for table, (_header, rows) in tables.items():
        out.extend([table, *row, *[""] * (width - len(row))] for row in rows)
    return csv_response(name, ["table", "key", *[f"col{i}" for i in range(1, width)]], out)


def month_label(month: date) -> str:
    return month.strftime("%Y-%m")


def pct_points(value: Any) -> float | None:
    return None if value is None else round(float(value) * 100, 3)


def share(part: Decimal | int, whole: Decimal | int) -> float | None:
    return None if not whole else round(float(part) / float(whole) * 100, 1)


def cents(value: Decimal | None) -> Decimal:
    """Sums come back as 500 from SQLite and 500.00 from PostgreSQL: always two places."""
    return (value or Decimal("0")).quantize(Decimal("0.01"))


def person_label(name: str | None, email: str | None) -> str:
    return name or email or _("Unassigned")


def kpi_scope(user: User) -> str:
    return SCOPE_ALL if user.is_manager else owner_scope(user.pk)
