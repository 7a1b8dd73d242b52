"""`bench` (DESIGN §7) end to end at a tiny scale: it builds its own book in a scratch PostgreSQL
database, measures, prints the contract's JSON keys, and drops the scratch database."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

CONTRACT_KEYS = {
    "ingest_events_per_s",
    "copy_rows_per_s",
    "ingest_vs_copy",
    "segment_events_per_s",
    "segment_vs_copy",
    "nightly_s",
    "scan_s",
    "nightly_vs_scan",
}
PAGES = ("today", "queue", "account_detail", "kpis", "kpi_cohorts", "kpi_health", "kpi_scoreboard")


@pytest.mark.django_db(transaction=True)
def test_bench_measures_a_tiny_book_and_prints_the_contract_keys():
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL"):
            call_command("bench", accounts=20, events=500, ingest_events=1000, json=True)
        return
    out = StringIO()
    call_command(
        "bench",
        accounts=40,
        events=4000,
        ingest_events=1000,
        json=True,
        stdout=out,
        stderr=StringIO(),
    )
    result = json.loads(out.getvalue())
    assert set(result) >= CONTRACT_KEYS
    for page in PAGES:
        assert result[f"{page}_p95_ms"] >= result[f"{page}_p50_ms"] > 0
        assert result[f"{page}_queries"] > 0
    assert result["accounts"] == 40
    with connection.cursor() as cursor:  # the scratch database is gone
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s", ["%\\_bench"])
        assert cursor.fetchone()[0] == 0
