"""A manager's review of the KPI report pages on a small demo company: churn analysis, health and
saves, the CSM scoreboard and an experiment's results; then a CSM sees the play on Today and marks
it done. Screenshots land in test-artifacts/."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Account, User
from csm.demo.accounts import DEMO_CSM_EMAIL, DEMO_MANAGER_EMAIL, DEMO_PASSWORD
from csm.demo.seed import seed_demo
from csm.kpis.experiments import assign_experiment
from csm.kpis.models import Goal
from csm.nightly import run_nightly, run_one_day
from csm.workflow.models import Experiment, ExperimentAssignment, RiskItem, Task
from feedback.churn import backfill_churn_events
from feedback.models import ChurnCategory, ChurnEvent, ChurnType, Competitor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the demo's owners wrote down about each churn, cycled over the churns by id: price and
# competitors lead, as they do in the source material.
REASONS = [
    (ChurnCategory.PRICE, ChurnType.VOLUNTARY, ""),
    (ChurnCategory.COMPETITOR, ChurnType.VOLUNTARY, "Rival CRM"),
    (ChurnCategory.PRICE, ChurnType.VOLUNTARY, ""),
    (ChurnCategory.FUNCTIONALITY, ChurnType.VOLUNTARY, ""),
    (ChurnCategory.OTHER, ChurnType.INVOLUNTARY, ""),
    (ChurnCategory.COMPETITOR, ChurnType.VOLUNTARY, "Zenith Suite"),
    (ChurnCategory.ONBOARDING, ChurnType.VOLUNTARY, ""),
    (ChurnCategory.SUPPORT, ChurnType.VOLUNTARY, ""),
    ("", "", ""),  # not recorded yet
]


def build_demo():
    """About 60 accounts, the nightly run for yesterday (which writes the KPI snapshots of every
    month), a few earlier days for the band chart and the experiment's start, churn records
    completed with reasons, a finished experiment and a running one on Maya's book."""
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    seed_demo(accounts=60, months=24, seed=3, today=today)
    experiment_start = today - timedelta(days=84)
    for weeks in (12, 8, 4, 2, 1):
        run_one_day(today - timedelta(days=7 * weeks))
    run_nightly(day=yesterday)
    backfill_churn_events(until=today)
    maya = User.objects.get(email=DEMO_CSM_EMAIL)
    competitors = {
        name: Competitor.objects.get_or_create(name=name)[0]
        for name in ("Rival CRM", "Zenith Suite")
    }
    for i, event in enumerate(ChurnEvent.objects.order_by("churned_on", "pk")):
        category, churn_type, competitor = REASONS[i % len(REASONS)]
        event.category, event.churn_type = category, churn_type
        event.competitor = competitors.get(competitor)
        event.save(update_fields=["category", "churn_type", "competitor"])

    # Half a year of worked risk items (the demo seeds none resolved): mostly saves.
    outcomes = ["saved", "saved", "churned", "saved", "not_a_risk", "saved", "churned"]
    accounts = list(Account.objects.filter(owner__isnull=False).order_by("pk")[:36])
    for i, account in enumerate(accounts):
        opened = today - timedelta(days=10 + i * 5)
        RiskItem.objects.create(
            account=account,
            assignee=account.owner,
            opened_on=opened,
            updated_on=opened,
            reasons=[{"key": "inactive", "text": "no product activity for 14 days"}],
            resolution=outcomes[i % len(outcomes)],
            resolution_note="Demo history",
            resolved_at=timezone.make_aware(
                datetime.combine(opened + timedelta(days=4 + i % 9), time(10))
            ),
            resolved_by=account.owner,
        )

    # Goals for this quarter: the company's logo churn, Maya's book, tier A's NRR, strategic NPS.
    quarter_start = today.replace(day=1) - timedelta(days=31)
    quarter_start = quarter_start.replace(day=1)
    quarter_end = (quarter_start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
    for metric, kind, value, target, at_most in (
        ("customer_churn_rate", "all", "", "0.006", True),
        ("customer_churn_rate", "csm", str(maya.pk), "0.01", True),
        ("nrr", "tier", "A", "1.00", False),
        ("gross_mrr_churn_rate", "segment", "basic", "0.02", True),
    ):
        Goal.objects.create(
            metric=metric,
            scope_kind=kind,
            scope_value=value,
            period_start=quarter_start,
            period_end=quarter_end,
            target=Decimal(target),
            at_most=at_most,
        )

    finished = Experiment.objects.create(
        name="Quarterly business review",
        play="Hold a quarterly business review with the main contact; show their usage report.",
        scope_kind="all",
        treatment_size=20,
        control_size=20,
        starts_on=experiment_start,
        ends_on=yesterday,
        seed=11,
    )
    assign_experiment(experiment=finished)
    running = Experiment.objects.create(
        name="Training session",
        play="Offer a one-hour training on the reports feature.",
        scope_kind="csm",
        scope_value=str(maya.pk),
        treatment_size=2,
        control_size=2,
        # A week in: its plays (tasks, due a week after the start) are due today.
        starts_on=today - timedelta(days=7),
        ends_on=today + timedelta(days=60),
        seed=5,
    )
    assign_experiment(experiment=running)
    return finished, running


def log_in(page, base, email):
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def test_a_manager_reviews_churn_health_the_scoreboard_and_an_experiment(
    live_server, page, screenshot
):
    finished, running = build_demo()
    base = live_server.url
    log_in(page, base, DEMO_MANAGER_EMAIL)

    page.goto(f"{base}/kpis/churn/")
    page.locator("#churn-reason").wait_for()
    page.wait_for_function("document.querySelector('canvas[data-report-chart]').dataset.drawn")
    assert "Price / value" in page.locator("#churn-reason").inner_text()
    competitors = page.locator("#churn-competitor").inner_text()
    assert "Rival CRM" in competitors or "Zenith Suite" in competitors
    screenshot("report-churn")

    page.goto(f"{base}/kpis/health/")
    page.locator("#save-rate").wait_for()
    page.wait_for_function(
        "[...document.querySelectorAll('canvas[data-report-chart]')].every(c => c.dataset.drawn)"
    )
    screenshot("report-health")

    page.goto(f"{base}/kpis/scoreboard/")
    assert "Maya Chen" in page.locator("#scoreboard").inner_text()
    screenshot("report-scoreboard")

    page.goto(f"{base}/kpis/experiments/{finished.pk}/")
    verdict = page.locator("#verdict").inner_text()
    # 20 accounts a group: below MIN_GROUP_TO_JUDGE, so the page says so instead of a p-value.
    assert "too small to judge" in verdict.lower()
    screenshot("experiment-results")

    page.goto(f"{base}/kpis/experiments/")
    assert "Training session" in page.locator("#experiments").inner_text()

    page.goto(f"{base}/kpis/goals/")
    assert "Logo churn rate (monthly)" in page.locator("#goals").inner_text()
    screenshot("goals")
    page.goto(f"{base}/kpis/goals/new/")
    page.get_by_role("button", name="Save goal").click()
    assert "Target: This field is required." in page.content()
    screenshot("goal-form-errors")


def test_a_csm_marks_an_experiment_play_done_on_today(live_server, page, screenshot):
    _finished, running = build_demo()
    base = live_server.url
    log_in(page, base, DEMO_CSM_EMAIL)
    # The play is one of the tasks on Today (there is no separate section).
    tasks = page.locator("#tasks")
    assert "Offer a one-hour training" in tasks.inner_text()
    screenshot("today-play")
    first = ExperimentAssignment.objects.filter(experiment=running, group="treatment").order_by(
        "account__name"
    )[0]
    task = Task.objects.get(assignment=first)
    tasks.locator(f"#task-{task.pk} button").click()
    tasks.locator(f"#task-{task.pk}.task-done").wait_for()
    first.refresh_from_db()
    assert first.play_done_at is not None
