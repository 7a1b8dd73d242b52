"""Retention experiments: the seeded draw, the play on Today, the comparison at the end
(csm/kpis/experiments.py, csm/kpis/views/experiments.py)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from accounts.models import Account, AuditEntry
from csm.kpis.experiments import (
    assign_experiment,
    experiment_results,
    result_sentence,
    two_proportion_test,
)
from csm.kpis.models import MrrMovement
from csm.workflow.models import Experiment, ExperimentAssignment, Task, Touch
from csm.workflow.plays import mark_play_done
from csm.workflow.task_list import complete_task, reopen_task
from feedback.models import ChurnEvent
from tests.factories import AccountFactory, HealthScoreFactory, SubscriptionFactory

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def paying(n, *, owner=None, tier="C", segment="basic", prefix="Co"):
    accounts = []
    for i in range(n):
        account = AccountFactory(owner=owner, tier=tier, segment=segment, name=f"{prefix} {i:03d}")
        SubscriptionFactory(account=account, amount=Decimal("100"), start_date=date(2025, 1, 15))
        accounts.append(account)
    return accounts


def experiment(**kwargs):
    values = {
        "name": "Extra check-in",
        "play": "Call the main contact and book a training session.",
        "scope_kind": "all",
        "scope_value": "",
        "treatment_size": 4,
        "control_size": 4,
        "starts_on": date(2026, 11, 1),
        "ends_on": date(2027, 1, 31),
        "seed": 42,
    }
    values.update(kwargs)
    return Experiment.objects.create(**values)


def groups(exp):
    rows = ExperimentAssignment.objects.filter(experiment=exp)
    return (
        sorted(rows.filter(group="treatment").values_list("account_id", flat=True)),
        sorted(rows.filter(group="control").values_list("account_id", flat=True)),
    )


# --- The draw -------------------------------------------------------------------------------------


def test_the_draw_is_reproducible_from_the_seed(db):
    paying(30)
    first, second, other = experiment(seed=7), experiment(seed=7), experiment(seed=8)
    for each in (first, second, other):
        assign_experiment(experiment=each)
    assert groups(first) == groups(second)
    assert groups(first) != groups(other)


def test_groups_have_their_sizes_and_only_paying_accounts_of_the_scope(db):
    tier_a = paying(10, tier="A", prefix="A")
    paying(5, tier="B", prefix="B")
    unpaid = AccountFactory(tier="A")  # no subscription: MRR 0
    ended = AccountFactory(tier="A")
    SubscriptionFactory(account=ended, start_date=date(2025, 1, 1), end_date=date(2026, 6, 1))
    exp = experiment(scope_kind="tier", scope_value="A", treatment_size=4, control_size=6)

    assert assign_experiment(experiment=exp) == {"treatment": 4, "control": 6}

    treatment, control = groups(exp)
    assert len(treatment) == 4 and len(control) == 6
    assert set(treatment).isdisjoint(control)
    assert set(treatment + control) == {a.pk for a in tier_a}
    assert unpaid.pk not in treatment + control and ended.pk not in treatment + control


def test_a_csm_scope_draws_from_their_book_only(db, alice, bob):
    mine = paying(5, owner=alice, prefix="Alice")
    paying(5, owner=bob, prefix="Bob")
    exp = experiment(scope_kind="csm", scope_value=str(alice.pk), treatment_size=2, control_size=3)
    assign_experiment(experiment=exp)
    treatment, control = groups(exp)
    assert set(treatment + control) == {a.pk for a in mine}


def test_a_scope_smaller_than_both_groups_is_refused_and_nothing_is_written(db):
    paying(7, segment="advanced")
    paying(10, segment="basic")
    exp = experiment(scope_kind="segment", scope_value="advanced", treatment_size=4, control_size=4)
    with pytest.raises(ValidationError) as raised:
        assign_experiment(experiment=exp)
    assert "only 7 paying accounts" in raised.value.messages[0]
    assert "needs 8" in raised.value.messages[0]
    assert not ExperimentAssignment.objects.exists()


def test_drawing_twice_is_refused(db):
    paying(10)
    exp = experiment()
    assign_experiment(experiment=exp)
    with pytest.raises(ValidationError, match="already has its groups"):
        assign_experiment(experiment=exp)
    assert ExperimentAssignment.objects.count() == 8


def test_health_at_the_start_is_the_latest_score_on_or_before_the_draw(db):
    (account,) = paying(1)
    (other,) = paying(1, prefix="Other")
    HealthScoreFactory(account=account, day=date(2026, 10, 30), score=61)
    HealthScoreFactory(account=account, day=date(2026, 11, 1), score=64)
    HealthScoreFactory(account=account, day=date(2026, 11, 2), score=90)  # after the start
    exp = experiment(treatment_size=1, control_size=1)
    assign_experiment(experiment=exp)
    starts = dict(
        ExperimentAssignment.objects.filter(experiment=exp).values_list(
            "account_id", "health_start"
        )
    )
    assert starts == {account.pk: 64, other.pk: None}


# --- Statistics -----------------------------------------------------------------------------------


def test_the_two_proportion_test_matches_a_hand_worked_example():
    # Treatment: 10 of 100 churned; control: 20 of 100.
    #   p1 = 0.10, p2 = 0.20, difference = -0.10
    #   pooled p = 30 / 200 = 0.15
    #   SE (pooled) = sqrt(0.15 × 0.85 × (1/100 + 1/100)) = sqrt(0.00255) = 0.0504975
    #   z = -0.10 / 0.0504975 = -1.98030
    #   p = 2 × (1 − Φ(1.98030)) = 2 × (1 − 0.976165) = 0.04767
    #   SE (unpooled) = sqrt(0.1 × 0.9 / 100 + 0.2 × 0.8 / 100) = sqrt(0.0025) = 0.05
    #   95% CI = -0.10 ± 1.959964 × 0.05 = -0.10 ± 0.0979982 = (-0.197998, -0.002002)
    test = two_proportion_test(10, 100, 20, 100)
    assert test.p1 == pytest.approx(0.10) and test.p2 == pytest.approx(0.20)
    assert test.difference == pytest.approx(-0.10)
    assert test.z == pytest.approx(-1.98030, abs=1e-5)
    assert test.p_value == pytest.approx(0.04767, abs=1e-5)
    assert test.ci_low == pytest.approx(-0.197998, abs=1e-6)
    assert test.ci_high == pytest.approx(-0.002002, abs=1e-6)
    assert test.significant


def test_identical_rates_give_z_zero_and_p_one():
    test = two_proportion_test(0, 40, 0, 60)
    assert (test.difference, test.z, test.p_value) == (0, 0.0, 1.0)
    assert test.ci_low == 0 and test.ci_high == 0
    assert two_proportion_test(5, 50, 5, 50).p_value == pytest.approx(1.0)


@pytest.mark.parametrize("args", [(1, 0, 1, 10), (1, 10, 1, 0), (11, 10, 1, 10), (-1, 10, 1, 10)])
def test_impossible_counts_are_refused(args):
    with pytest.raises(ValueError):
        two_proportion_test(*args)


def test_a_chance_difference_is_said_to_be_not_significant():
    # 8 of 50 vs 11 of 50: pooled 0.19, SE = sqrt(0.19 × 0.81 × 0.04) = 0.078460,
    # z = -0.06 / 0.078460 = -0.76472, p = 2 × (1 − Φ(0.76472)) = 0.4444
    test = two_proportion_test(8, 50, 11, 50)
    assert test.p_value == pytest.approx(0.4444, abs=1e-4)
    assert result_sentence(test) == ("Not significant: the difference could be chance (p = 0.44).")


def test_a_real_difference_is_said_plainly_with_its_interval():
    sentence = result_sentence(two_proportion_test(10, 100, 20, 100))
    assert sentence == (
        "Significant: treatment accounts churned 10.0% against 20.0% in control, "
        "10.0 points fewer (95% CI 0.2 to 19.8 points fewer; p = 0.048)."
    )
    assert math.isclose(two_proportion_test(20, 100, 10, 100).difference, 0.1)


# --- Results --------------------------------------------------------------------------------------


def test_results_count_churn_in_the_window_and_the_mean_health_change(db):
    accounts = paying(8)
    for account in accounts:
        HealthScoreFactory(account=account, day=date(2026, 8, 1), score=60)
    exp = experiment(
        starts_on=date(2026, 8, 1), ends_on=date(2026, 10, 31), treatment_size=4, control_size=4
    )
    assign_experiment(experiment=exp)
    treatment, control = groups(exp)
    # Health at the end: treatment +10 each, control -5 each.
    for pk in treatment:
        HealthScoreFactory(account_id=pk, day=date(2026, 10, 31), score=70)
    for pk in control:
        HealthScoreFactory(account_id=pk, day=date(2026, 10, 31), score=55)
    # Churn: one treatment account (a ChurnEvent), two control accounts (one by a churn
    # movement only); a control churn after the window does not count.
    ChurnEvent.objects.create(account_id=treatment[0], churned_on=date(2026, 9, 3))
    ChurnEvent.objects.create(account_id=control[0], churned_on=date(2026, 8, 20))
    MrrMovement.objects.create(
        account_id=control[1],
        month=date(2026, 10, 1),
        mrr_start=Decimal("100"),
        mrr_end=Decimal("0"),
        movement="churn",
        amount=Decimal("100"),
    )
    ChurnEvent.objects.create(account_id=control[2], churned_on=date(2026, 11, 5))

    results = experiment_results(exp, today=TODAY)

    assert results["status"] == "finished"
    assert (results["treatment"]["n"], results["treatment"]["churned_n"]) == (4, 1)
    assert (results["control"]["n"], results["control"]["churned_n"]) == (4, 2)
    assert results["treatment"]["health_change"] == pytest.approx(10)
    assert results["control"]["health_change"] == pytest.approx(-5)
    assert results["health_difference"] == pytest.approx(15)
    assert results["test"].difference == pytest.approx(0.25 - 0.5)
    # Four accounts a group are far below MIN_GROUP_TO_JUDGE: no verdict.
    assert results["judged"] is False
    assert results["sentence"] == (
        "Too small to judge: each group needs at least 30 accounts for the test "
        "(treatment has 4, control 4)."
    )


def test_the_results_page_says_a_handful_of_accounts_is_too_small_to_judge(maggie_client):
    paying(8)
    exp = experiment(starts_on=date(2026, 8, 1), ends_on=date(2026, 10, 31))
    assign_experiment(experiment=exp)
    response = maggie_client.get(reverse("kpis:experiment_detail", args=[exp.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "Too small to judge: each group needs at least 30 accounts for the test "
        "(treatment has 4, control 4)." in body
    )
    assert "p = 1.00" not in body and "95% CI" not in body
    assert "It needs at least 30 accounts in each group" in body  # the page explains the rule
    assert 'id="experiment-chart"' in body
    csv_response = maggie_client.get(
        reverse("kpis:experiment_detail", args=[exp.pk]), {"format": "csv"}
    )
    assert csv_response["Content-Type"].startswith("text/csv")
    assert len(csv_response.content.decode().strip().splitlines()) == 1 + 8


def test_the_results_page_judges_groups_of_the_minimum_size(maggie_client):
    paying(60)
    exp = experiment(
        starts_on=date(2026, 8, 1), ends_on=date(2026, 10, 31), treatment_size=30, control_size=30
    )
    assign_experiment(experiment=exp)
    treatment, control = groups(exp)
    for pk in treatment[:2] + control[:10]:
        ChurnEvent.objects.create(account_id=pk, churned_on=date(2026, 9, 3))
    results = experiment_results(exp, today=TODAY)
    assert results["judged"] is True
    body = maggie_client.get(reverse("kpis:experiment_detail", args=[exp.pk])).content.decode()
    assert results["sentence"] in body and results["sentence"].startswith("Significant")
    assert "95% CI" in body


def test_groups_where_nobody_churned_have_nothing_to_judge(db):
    paying(60)
    exp = experiment(
        starts_on=date(2026, 8, 1), ends_on=date(2026, 10, 31), treatment_size=30, control_size=30
    )
    assign_experiment(experiment=exp)
    results = experiment_results(exp, today=TODAY)
    assert results["judged"] is False
    assert results["sentence"] == "Nothing to judge yet: no account has churned in either group."


# --- Pages ----------------------------------------------------------------------------------------


def test_a_manager_creates_an_experiment_and_draws_its_groups(maggie_client, maggie):
    paying(12, tier="B")
    response = maggie_client.post(
        reverse("kpis:experiment_create"),
        {
            "name": "Training session",
            "play": "Offer a one-hour training on reports.",
            "scope": "tier:B",
            "treatment_size": 5,
            "control_size": 5,
            "starts_on": "2026-11-23",
            "ends_on": "2027-02-23",
        },
    )
    exp = Experiment.objects.get()
    assert response.status_code == 302
    assert (exp.scope_kind, exp.scope_value, exp.created_by) == ("tier", "B", maggie)
    assert exp.seed > 0
    maggie_client.post(reverse("kpis:experiment_assign", args=[exp.pk]))
    assert ExperimentAssignment.objects.filter(experiment=exp).count() == 10
    listing = maggie_client.get(reverse("kpis:experiments")).content.decode()
    assert "Training session" in listing and "Running" in listing


def test_bad_experiment_input_names_the_field_and_writes_nothing(maggie_client):
    response = maggie_client.post(
        reverse("kpis:experiment_create"),
        {
            "name": "Backwards",
            "play": "x",
            "scope": "all",
            "treatment_size": 0,
            "control_size": 5,
            "starts_on": "2026-11-23",
            "ends_on": "2026-11-01",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "ends_on" in form.errors and "treatment_size" in form.errors
    assert not Experiment.objects.exists()


def create(client, **changes):
    data = {
        "name": "Training session",
        "play": "Offer a one-hour training on reports.",
        "scope": "all",
        "treatment_size": 5,
        "control_size": 5,
        "starts_on": "2026-11-23",
        "ends_on": "2027-02-23",
        **changes,
    }
    return client.post(reverse("kpis:experiment_create"), data)


def test_groups_larger_than_the_paying_population_are_refused_at_creation(maggie_client):
    paying(9)
    response = create(maggie_client)
    assert response.status_code == 200
    message = (
        "Treatment + control is 10 accounts, but the scope has only 9 paying accounts: "
        "make the groups smaller or the scope wider."
    )
    assert response.context["form"].errors == {"treatment_size": [message]}
    assert f"Treatment accounts: {message}" in response.content.decode()
    assert not Experiment.objects.exists()
    assert create(maggie_client, control_size=4).status_code == 302


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "field", "message"),
    [
        ("2026-11-22", "2027-02-23", "starts_on", "The window cannot start in the past"),
        ("2025-01-01", "2025-03-31", "starts_on", "The window cannot start in the past"),
        ("2026-12-01", "2026-12-01", "ends_on", "The window must end after it starts."),
        ("2026-12-01", "9999-12-31", "ends_on", "The window can last at most 2 years."),
        ("2027-11-24", "2028-01-31", "starts_on", "Start within 1 year of today."),
    ],
)
def test_a_window_in_the_past_is_refused_naming_the_field(
    maggie_client, starts_on, ends_on, field, message
):
    paying(10)
    response = create(maggie_client, starts_on=starts_on, ends_on=ends_on)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {field}
    label = {"starts_on": "Starts on", "ends_on": "Ends on"}[field]
    assert f"{label}: {message}" in response.content.decode()
    assert not Experiment.objects.exists()


def test_too_small_a_scope_is_refused_on_the_page(maggie_client):
    paying(3)
    exp = experiment()
    response = maggie_client.post(reverse("kpis:experiment_assign", args=[exp.pk]), follow=True)
    assert "only 3 paying accounts" in response.content.decode()
    assert not ExperimentAssignment.objects.exists()


def test_experiments_are_managers_only(alice_client):
    exp = experiment()
    for url in (
        reverse("kpis:experiments"),
        reverse("kpis:experiment_create"),
        reverse("kpis:experiment_detail", args=[exp.pk]),
    ):
        assert alice_client.get(url).status_code == 403
    assert alice_client.post(reverse("kpis:experiment_assign", args=[exp.pk])).status_code == 403


# --- Today ----------------------------------------------------------------------------------------


def play_tasks(exp):
    return Task.objects.filter(source="experiment", assignment__experiment=exp)


def today_plays(client):
    tasks = client.get(reverse("home")).context["today"].tasks
    return [task for task in tasks if task.source == "experiment"]


def test_drawing_gives_each_treatment_account_its_play_as_a_task_of_its_owner(db, alice, bob):
    paying(3, owner=alice, prefix="Alice")
    paying(3, owner=bob, prefix="Bob")
    exp = experiment(treatment_size=3, control_size=3)
    assign_experiment(experiment=exp)
    treatment, _control = groups(exp)

    tasks = list(play_tasks(exp).select_related("account", "assignment"))
    assert sorted(t.account_id for t in tasks) == treatment
    for task in tasks:
        assert task.title == exp.play
        assert task.assignee_id == task.account.owner_id
        assert task.status == "open"
        assert task.assignment.group == "treatment"
        # A week after the start is 8 Nov, already past on the draw day: due the draw day.
        assert task.due_on == TODAY


def test_a_play_is_due_a_week_into_the_experiment_capped_at_its_end(db):
    paying(2)
    exp = experiment(starts_on=date(2026, 12, 1), treatment_size=1, control_size=1)
    assign_experiment(experiment=exp)
    assert play_tasks(exp).get().due_on == date(2026, 12, 8)

    paying(2, prefix="Short")
    short = experiment(
        starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 3), treatment_size=1, control_size=1
    )
    assign_experiment(experiment=short)
    assert play_tasks(short).get().due_on == date(2026, 12, 3)


def test_today_lists_the_play_as_a_task_of_the_treatment_accounts_owner_only(client, alice, bob):
    paying(6, owner=alice, prefix="Alice")
    paying(6, owner=bob, prefix="Bob")
    exp = experiment(scope_kind="csm", scope_value=str(alice.pk), treatment_size=3, control_size=3)
    assign_experiment(experiment=exp)
    treatment, control = groups(exp)

    client.force_login(alice)
    assert sorted(t.account_id for t in today_plays(client)) == treatment
    body = client.get(reverse("home")).content.decode()
    assert "book a training session" in body
    assert 'id="plays"' not in body  # one list: no separate section

    client.force_login(bob)
    assert today_plays(client) == []


def test_ticking_the_task_marks_the_play_done_and_the_results_count_it(alice_client, alice):
    paying(2, owner=alice)
    exp = experiment(treatment_size=1, control_size=1)
    assign_experiment(experiment=exp)
    task = play_tasks(exp).get()

    response = alice_client.post(reverse("tasks:done", args=[task.pk]), {"next": "/"})

    assert response.status_code == 302
    play = ExperimentAssignment.objects.get(experiment=exp, group="treatment")
    assert play.play_done_at == datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert experiment_results(exp)["treatment"]["plays_done"] == 1
    assert today_plays(alice_client) == []
    # Ticking twice writes once.
    later = datetime(2026, 11, 24, 9, tzinfo=UTC)
    with time_machine.travel(later, tick=False):
        alice_client.post(reverse("tasks:done", args=[task.pk]))
    play.refresh_from_db()
    assert play.play_done_at == datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_reopening_the_task_takes_the_play_back_while_the_experiment_runs(alice):
    paying(2, owner=alice)
    exp = experiment(treatment_size=1, control_size=1)
    assign_experiment(experiment=exp)
    task = play_tasks(exp).select_related("account").get()
    play = ExperimentAssignment.objects.get(experiment=exp, group="treatment")

    complete_task(actor=alice, task=task)
    reopen_task(actor=alice, task=task)
    play.refresh_from_db()
    assert play.play_done_at is None
    assert experiment_results(exp)["treatment"]["plays_done"] == 0

    complete_task(actor=alice, task=task)
    with time_machine.travel(datetime(2027, 2, 10, 9, tzinfo=UTC), tick=False):
        reopen_task(actor=alice, task=task)  # over: the result stands
    play.refresh_from_db()
    assert play.play_done_at == datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_an_ended_experiments_open_plays_are_no_longer_needed_after_the_nightly(alice):
    from csm.nightly import run_one_day

    paying(4, owner=alice)
    exp = experiment(treatment_size=2, control_size=2, ends_on=date(2026, 11, 30))
    assign_experiment(experiment=exp)
    done, still_open = play_tasks(exp).select_related("account").order_by("pk")
    complete_task(actor=alice, task=done)

    run_one_day(date(2026, 11, 30))  # its last day: the play can still be done
    assert play_tasks(exp).filter(status="open").count() == 1

    summary = run_one_day(date(2026, 12, 1))
    assert summary["experiment_tasks_closed"] == 1
    assert dict(play_tasks(exp).values_list("pk", "status")) == {
        done.pk: "done",  # done stays done: the results count it
        still_open.pk: "not_needed",
    }


def test_marking_the_play_done_completes_its_task_once(alice):
    paying(2, owner=alice)
    exp = experiment(treatment_size=1, control_size=1)
    assign_experiment(experiment=exp)
    play = ExperimentAssignment.objects.select_related("account").get(
        experiment=exp, group="treatment"
    )

    assert mark_play_done(actor=alice, assignment=play) is True
    assert mark_play_done(actor=alice, assignment=play) is False

    task = play_tasks(exp).get()
    assert task.status == "done" and task.done_by == alice
    assert play.play_done_at == datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert AuditEntry.objects.filter(action="task.complete").count() == 1


def test_marking_the_play_done_records_the_time_and_nothing_else(alice_client, alice):
    paying(2, owner=alice)
    exp = experiment(treatment_size=1, control_size=1)
    assign_experiment(experiment=exp)
    play = ExperimentAssignment.objects.get(experiment=exp, group="treatment")

    response = alice_client.post(
        reverse("kpis:play_done", args=[play.pk]), {"next": "/"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "task-done" in response.content.decode()  # the task's row, ticked
    play.refresh_from_db()
    assert play.play_done_at == datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert play_tasks(exp).get().status == "done"
    assert not Touch.objects.exists()
    assert today_plays(alice_client) == []
    # A plain POST (no JavaScript) goes back to Today.
    assert alice_client.post(reverse("kpis:play_done", args=[play.pk])).url == "/"


def test_a_csm_cannot_mark_another_csms_play(client, alice, bob):
    paying(2, owner=alice)
    exp = experiment(treatment_size=1, control_size=1)
    assign_experiment(experiment=exp)
    play = ExperimentAssignment.objects.get(experiment=exp, group="treatment")
    client.force_login(bob)
    assert client.post(reverse("kpis:play_done", args=[play.pk])).status_code == 403
    play.refresh_from_db()
    assert play.play_done_at is None
    assert play_tasks(exp).get().status == "open"


def test_a_finished_experiment_leaves_today(alice_client, alice):
    paying(2, owner=alice)
    exp = experiment(
        starts_on=date(2026, 8, 1), ends_on=date(2026, 10, 31), treatment_size=1, control_size=1
    )
    assign_experiment(experiment=exp)
    assert not play_tasks(exp).exists()
    assert today_plays(alice_client) == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_running_experiments_treatment_accounts_their_play_tasks(alice):
    executor = MigrationExecutor(connection)
    executor.migrate([("csm", "0009_risk_reason_history")])
    try:
        paying(4, owner=alice)
        running = experiment(treatment_size=2, control_size=1)
        over = experiment(starts_on=date(2026, 8, 1), ends_on=date(2026, 10, 31))
        rows = [
            ExperimentAssignment(experiment=running, account=account, group=group)
            for account, group in zip(
                Account.objects.order_by("pk"),
                ["treatment", "treatment", "control", "control"],
                strict=True,
            )
        ]
        rows[0].play_done_at = datetime(2026, 11, 20, 9, tzinfo=UTC)
        rows.append(
            ExperimentAssignment(experiment=over, account=rows[2].account, group="treatment")
        )
        ExperimentAssignment.objects.bulk_create(rows)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    tasks = {task.account_id: task for task in Task.objects.filter(source="experiment")}
    assert set(tasks) == {rows[0].account_id, rows[1].account_id}  # not control, not over
    done, todo = tasks[rows[0].account_id], tasks[rows[1].account_id]
    assert (done.status, done.done_at) == ("done", rows[0].play_done_at)
    assert (todo.status, todo.assignee_id, todo.title) == ("open", alice.pk, running.play)
    assert todo.due_on == TODAY  # a week in (8 Nov) is past: due the day it was made
