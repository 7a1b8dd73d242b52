from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account
from tests.factories import AccountFactory, SubscriptionFactory


def test_the_nightly_run_assigns_tiers_by_the_rule_and_keeps_overrides(db):
    big = AccountFactory(tier="C")
    SubscriptionFactory(account=big, amount=Decimal("2500"), start_date=date(2025, 1, 1))
    middle = AccountFactory(tier="C")
    SubscriptionFactory(
        account=middle, amount=Decimal("6000"), interval="year", start_date=date(2025, 1, 1)
    )
    strategic = AccountFactory(tier="C", strategic=True)
    overridden = AccountFactory(tier="C", tier_override="C", tier_override_reason="Pilot pricing")
    SubscriptionFactory(account=overridden, amount=Decimal("3000"), start_date=date(2025, 1, 1))
    out = StringIO()
    call_command("run_nightly", "--date", "2026-11-23", stdout=out)
    tiers = dict(Account.objects.values_list("pk", "tier"))
    assert tiers == {big.pk: "A", middle.pk: "B", strategic.pk: "A", overridden.pk: "C"}
    assert "tiers_changed 3" in out.getvalue()
    call_command("run_nightly", "--date", "2026-11-23", stdout=out)
    assert "tiers_changed 0" in out.getvalue()


def test_a_bad_date_is_named(db):
    with pytest.raises(CommandError, match="--date"):
        call_command("run_nightly", "--date", "2026-02-30")


def test_the_run_refreshes_planner_statistics_on_postgresql(db):
    """The pages read the day the run just wrote; stale statistics made PostgreSQL plan as if it
    had no rows. SQLite has no such step."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from csm.nightly import run_nightly

    with CaptureQueriesContext(connection) as captured:
        run_nightly(day=date(2026, 11, 22))
    analyzed = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("ANALYZE")]
    if connection.vendor == "postgresql":
        assert len(analyzed) == 1
        assert '"health_healthscore"' in analyzed[0] and '"csm_riskitem"' in analyzed[0]
    else:
        assert analyzed == []
