"""A manager opens the scorecard's backtest: the ROC curve, band rates and measure AUCs draw under
the strict CSP, and "Review these weights" opens the scorecard form filled in; saving it there is
what changes the scorecard (audited)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from accounts.models import AuditEntry, Role
from feedback.models import ChurnEvent
from health.models import HealthScore, MeasureSetting
from tests.factories import AccountFactory, SubscriptionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def build_history() -> None:
    """120 paying accounts scored on the first day of six months; low usage scores churn more,
    the billing measure is noise."""
    rng = random.Random(4)
    months = [date(2026, m, 1) for m in range(1, 7)]
    for n in range(120):
        account = AccountFactory(external_id=f"bt-{n:03d}", contract_start=date(2025, 1, 1))
        SubscriptionFactory(account=account, start_date=date(2025, 1, 1))
        for month in months:
            usage, billing = rng.randint(0, 100), rng.randint(0, 100)
            score = round((usage * 25 + billing * 10) / 35)
            HealthScore.objects.create(
                account=account,
                day=month,
                score=score,
                computed_score=score,
                band="red" if score <= 50 else "yellow" if score <= 75 else "green",
                measures=[
                    {
                        "key": "active_days",
                        "raw": 1,
                        "score": usage,
                        "weight": 25,
                        "contribution": 0,
                    },
                    {"key": "billing", "raw": 0, "score": billing, "weight": 10, "contribution": 0},
                ],
            )
            if (
                rng.random() < 0.3 * (1 - usage / 100) ** 2
                and not account.churn_events.filter(reactivated_on__isnull=True).exists()
            ):
                ChurnEvent.objects.create(
                    account=account, churned_on=month + timedelta(days=20), mrr_lost=100,
                    reactivated_on=month + timedelta(days=40),
                )  # fmt: skip
    last = HealthScore.objects.get(account__external_id="bt-000", day=months[-1])
    last.pk, last.day = None, date(2026, 10, 1)  # the latest scored day: every month complete
    last.save()


def test_a_manager_reads_the_backtest_and_reviews_the_suggested_weights(
    live_server, page, screenshot
):
    build_history()
    UserFactory(email="maggie@example.com", role=Role.MANAGER, password="pw-for-maggie")
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("maggie@example.com")
    page.get_by_label("Password").fill("pw-for-maggie")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/settings/scorecard/")
    page.get_by_role("link", name="Does it predict churn?").click()
    page.locator("#suggested").wait_for()
    page.wait_for_function(
        "[...document.querySelectorAll('canvas[data-report-chart]')].length === 3 && "
        "[...document.querySelectorAll('canvas[data-report-chart]')].every(c => c.dataset.drawn)"
    )
    screenshot("backtest")
    assert violations == []

    page.get_by_role("button", name="Review these weights in the scorecard").click()
    page.wait_for_url(f"{base}/settings/scorecard/?*")
    active_days = int(page.get_by_label("Weight of Active days", exact=True).input_value())
    billing = int(page.get_by_label("Weight of Billing", exact=True).input_value())
    assert active_days > billing  # usage carries the signal, billing is noise
    assert not MeasureSetting.objects.exists()  # opening the form saved nothing

    page.get_by_role("button", name="Save the scorecard").click()
    page.locator(".flash").first.wait_for()
    assert MeasureSetting.objects.get(key="active_days").weight == active_days
    entry = AuditEntry.objects.filter(action="scorecard.measure").first()
    assert entry is not None and entry.reason.startswith("Suggested by the backtest")
