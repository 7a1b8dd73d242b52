"""The nightly health pipeline: rollups, scores, idempotence, the lock, catch-up, retention and
overrides (csm/nightly.py, health/services.py)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from csm.nightly import run_nightly
from health.models import (
    DailyUsage,
    HealthOverride,
    HealthScore,
    NightlyRun,
    UsageEvent,
)
from health.services import override_health_score, remove_health_override
from tests.factories import AccountFactory, SubscriptionFactory

D = date(2026, 11, 20)
_ids = itertools.count()


def event(account, day: date, name: str = "report_viewed", user: str = "u1", hour: int = 10):
    ts = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return UsageEvent(
        event_id=f"e{next(_ids)}",
        account=account,
        user=user,
        event=name,
        timestamp=ts,
        day=timezone.localdate(ts),
    )


def customer(**kwargs):
    account = AccountFactory(contract_start=date(2025, 1, 1), **kwargs)
    SubscriptionFactory(account=account, start_date=date(2025, 1, 1))
    return account


def rollup_rows() -> list[dict]:
    return list(
        DailyUsage.objects.order_by("account_id", "day").values(
            *(f.attname for f in DailyUsage._meta.concrete_fields if f.name != "id")
        )
    )


def score_rows(day: date) -> list[tuple]:
    return list(
        HealthScore.objects.filter(day=day)
        .order_by("account_id")
        .values_list(
            "account_id", "score", "computed_score", "band", "trend_1", "trend_7", "measures"
        )
    )


@pytest.fixture
def busy(db):
    """Active 20 of the last 30 days, 4 features, 2 users of 10 seats, steady usage for 90 days."""
    account = customer(seats=10)
    events = []
    for back in range(90):
        day = D - timedelta(days=back)
        if back < 30 and back % 3 == 2:
            continue  # 20 active days in the window
        if back >= 30 and back % 3 != 0:
            continue  # one day in three before the window
        events.append(event(account, day, "login", user=f"u{back % 3}"))
        events.append(
            event(
                account,
                day,
                ["report_viewed", "export_csv", "search", "api_call"][back % 4],
                user=f"u{back % 3}",
            )
        )
    UsageEvent.objects.bulk_create(events)
    return account


def test_the_nightly_run_rolls_up_and_scores_every_customer(busy):
    idle = customer()  # a customer with no usage at all
    gone = AccountFactory()  # no active subscription: not a customer, not scored
    SubscriptionFactory(account=gone, start_date=date(2025, 1, 1), end_date=date(2026, 1, 1))

    run_nightly(day=D, first_day=D - timedelta(days=89))

    assert DailyUsage.objects.filter(account=busy).count() == 90 - 10 - 40
    rollup = DailyUsage.objects.get(account=busy, day=D)
    assert (rollup.events, rollup.logins, rollup.active_features) == (2, 1, 1)
    scores = {s.account_id: s for s in HealthScore.objects.filter(day=D)}
    assert set(scores) == {busy.pk, idle.pk}
    measures = {m["key"]: m for m in scores[busy.pk].measures}
    assert measures["active_days"]["raw"] == 20
    assert measures["feature_adoption"]["raw"] == 4
    assert measures["days_since_active"]["raw"] == 0
    assert measures["seat_utilisation"]["raw"] == 20  # u0 and u1 of 10 seats (u2's days skipped)
    assert "billing" not in measures  # no billing events sent for this account
    assert sum(m["contribution"] for m in measures.values()) == pytest.approx(
        scores[busy.pk].score, abs=0.5
    )
    idle_measures = {m["key"]: m["raw"] for m in scores[idle.pk].measures}
    assert idle_measures["active_days"] == 0
    assert idle_measures["days_since_active"] == 90
    assert "usage_trend" not in idle_measures  # nothing to compare with
    assert scores[idle.pk].band == "red"
    # The run keeps the day's scores per band, for everybody and per book (the health report).
    counts = NightlyRun.objects.get(day=D).band_counts
    assert sum(counts["all"].values()) == 2 and counts["all"]["red"] >= 1
    # and each book's cadence kept (the CSM scoreboard), from the same function as the page's
    from csm.workflow.touches import cadence_counts

    assert NightlyRun.objects.get(day=D).cadence_counts == cadence_counts(D)


def test_the_usage_trend_compares_the_last_30_days_with_the_60_before(db):
    account = customer()
    events = [event(account, D - timedelta(days=back)) for back in range(30, 90)]  # 1/day before
    events += [event(account, D - timedelta(days=back)) for back in range(0, 30, 3)]  # 10 in 30
    UsageEvent.objects.bulk_create(events)
    run_nightly(day=D, first_day=D - timedelta(days=89))
    measures = {m["key"]: m["raw"] for m in HealthScore.objects.get(day=D).measures}
    # (10 / 30) / (60 / 60) = 1/3 → −67%
    assert measures["usage_trend"] == -67


def test_failed_payments_feed_the_billing_measure(db):
    account = customer()
    UsageEvent.objects.bulk_create(
        [
            event(account, D - timedelta(days=50), UsageEvent.PAYMENT_SUCCEEDED, user=""),
            event(account, D - timedelta(days=5), UsageEvent.PAYMENT_FAILED, user=""),
        ]
    )
    run_nightly(day=D, first_day=D - timedelta(days=89))
    measures = {m["key"]: m for m in HealthScore.objects.get(day=D).measures}
    assert measures["billing"]["raw"] == 1
    # Billing events are not product usage.
    assert measures["active_days"]["raw"] == 0


def test_re_running_a_date_gives_identical_rows(busy):
    customer()
    run_nightly(day=D, first_day=D - timedelta(days=10))
    first = score_rows(D), rollup_rows()
    call_command("run_nightly", "--date", D.isoformat(), stdout=StringIO())
    assert (score_rows(D), rollup_rows()) == first
    assert NightlyRun.objects.filter(day=D).count() == 1


def test_trends_compare_with_the_scores_1_7_and_30_days_before(busy):
    run_nightly(day=D, first_day=D - timedelta(days=30))
    today = HealthScore.objects.get(day=D)
    for field, back in (("trend_1", 1), ("trend_7", 7), ("trend_30", 30)):
        then = HealthScore.objects.get(day=D - timedelta(days=back))
        assert getattr(today, field) == today.score - then.score


# The lock: tests/test_nightly_lock.py and tests/test_nightly_crash.py.


def test_the_next_run_catches_up_the_days_the_worker_missed(busy):
    run_nightly(day=D - timedelta(days=4))
    # The worker was down for three nights; the next run fills them.
    ran = run_nightly(day=D)
    assert list(ran) == [D - timedelta(days=n) for n in (3, 2, 1, 0)]
    assert sorted(NightlyRun.objects.values_list("day", flat=True)) == [
        D - timedelta(days=n) for n in (4, 3, 2, 1, 0)
    ]
    assert HealthScore.objects.filter(account=busy).count() == 5


def test_the_celery_task_runs_yesterday_and_catches_up(busy):
    from csm.tasks import run_nightly_task

    run_nightly(day=D - timedelta(days=2))
    with time_machine.travel(datetime(2026, 11, 21, 2, 0, tzinfo=UTC), tick=False):
        assert run_nightly_task() == [(D - timedelta(days=1)).isoformat(), D.isoformat()]


def test_re_running_an_old_date_runs_that_date_only(busy):
    run_nightly(day=D, first_day=D - timedelta(days=2))
    assert list(run_nightly(day=D - timedelta(days=1))) == [D - timedelta(days=1)]


def test_late_events_are_counted_by_the_next_nights_rollup(busy):
    run_nightly(day=D - timedelta(days=1))
    before = DailyUsage.objects.get(account=busy, day=D - timedelta(days=1)).events
    UsageEvent.objects.bulk_create([event(busy, D - timedelta(days=1), hour=23)])
    run_nightly(day=D)
    assert DailyUsage.objects.get(account=busy, day=D - timedelta(days=1)).events == before + 1


def test_raw_events_past_retention_are_deleted_and_their_rollups_kept(busy, settings):
    settings.HEALTH_EVENT_RETENTION_DAYS = 40
    run_nightly(day=D, first_day=D - timedelta(days=89))
    assert not UsageEvent.objects.filter(day__lt=D - timedelta(days=40)).exists()
    assert UsageEvent.objects.filter(day__gte=D - timedelta(days=40)).exists()
    assert DailyUsage.objects.filter(day__lt=D - timedelta(days=40)).exists()


def test_a_managers_override_applies_until_it_expires(busy, maggie):
    run_nightly(day=D, first_day=D - timedelta(days=1))
    computed = HealthScore.objects.get(day=D).score
    with time_machine.travel(datetime(2026, 11, 21, 9, 0, tzinfo=UTC), tick=False):
        override = override_health_score(
            actor=maggie,
            account=busy,
            score=30,
            reason="Champion left; renewal in doubt",
            expires_on=D + timedelta(days=2),
        )
    latest = HealthScore.objects.get(day=D)
    assert (latest.score, latest.computed_score, latest.band) == (30, computed, "red")
    assert busy.audit_entries.filter(action="health score override").exists()

    run_nightly(day=D + timedelta(days=2))
    assert HealthScore.objects.get(day=D + timedelta(days=2)).score == 30
    run_nightly(day=D + timedelta(days=3))  # expired
    after = HealthScore.objects.get(day=D + timedelta(days=3))
    assert after.override is None
    assert after.score == after.computed_score

    override.refresh_from_db()
    with time_machine.travel(datetime(2026, 11, 21, 9, 0, tzinfo=UTC), tick=False):
        remove_health_override(actor=maggie, override=override, reason="Wrong account")
    assert HealthOverride.objects.get().revoked_at is not None
    assert busy.audit_entries.filter(action="health score override removed").exists()


def test_the_command_backfills_a_range_and_names_bad_dates(busy):
    out = StringIO()
    call_command("run_nightly", "--date", D.isoformat(), "--from", "2026-11-18", stdout=out)
    assert out.getvalue().count("Nightly run for") == 3
    with pytest.raises(CommandError, match="--from"):
        call_command("run_nightly", "--date", "2026-11-18", "--from", "2026-11-20")
    with pytest.raises(CommandError, match="--from"):
        call_command("run_nightly", "--from", "2026-13-01")


def test_the_distinct_counts_plan_without_index_scans_and_put_the_setting_back(busy):
    """On PostgreSQL the 30-day distinct users and features are read with index scans off (the
    index walk fetched every event's page at random); the setting must not outlive that query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run_nightly(day=date(2026, 11, 22))
    settings_sql = [q["sql"] for q in captured.captured_queries if "enable_indexscan" in q["sql"]]
    if connection.vendor == "postgresql":
        assert settings_sql == ["SET enable_indexscan = off", "RESET enable_indexscan"]
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_indexscan")
            assert cursor.fetchone()[0] == "on"
    else:
        assert settings_sql == []
