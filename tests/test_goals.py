"""Goals: targets for a KPI in a scope over a period, and progress against them
(csm/kpis/goals.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from csm.kpis.goals import goal_progress, goals_for_overview, metric_value, pool_snapshots
from csm.kpis.models import Goal, KpiSnapshot, MrrMovement
from feedback.models import Response, Survey
from tests.factories import AccountFactory

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def snapshot(month, scope="all", **values):
    base = {
        "customers_start": 100,
        "customers_end": 100,
        "churned_customers": 0,
        "mrr_start": "10000.00",
        "mrr_end": "10000.00",
        "mrr_new": "0.00",
        "mrr_expansion": "0.00",
        "mrr_contraction": "0.00",
        "mrr_churn": "0.00",
        "mrr_reactivation": "0.00",
        "nps": None,
    }
    base.update(values)
    return KpiSnapshot.objects.create(month=month, scope=scope, values=base)


def goal(**kwargs):
    values = {
        "metric": "customer_churn_rate",
        "scope_kind": "all",
        "scope_value": "",
        "period_start": date(2026, 10, 1),
        "period_end": date(2026, 12, 31),
        "target": Decimal("0.006"),
        "at_most": True,
    }
    values.update(kwargs)
    return Goal.objects.create(**values)


def movement(account, month, start, end, kind="", amount="0"):
    return MrrMovement.objects.create(
        account=account,
        month=month,
        mrr_start=Decimal(start),
        mrr_end=Decimal(end),
        movement=kind,
        amount=Decimal(amount),
    )


# --- The arithmetic -------------------------------------------------------------------------------


def test_the_vendor_example_gives_gross_20_and_net_10_percent():
    components = {
        "mrr_start": "100",
        "mrr_churn": "10",
        "mrr_contraction": "10",
        "mrr_expansion": "10",
    }
    assert metric_value("gross_mrr_churn_rate", components) == Decimal("0.2")
    assert metric_value("net_mrr_churn_rate", components) == Decimal("0.1")
    assert metric_value("grr", components) == Decimal("0.8")
    assert metric_value("nrr", components) == Decimal("0.9")
    assert metric_value("quick_ratio", components) == Decimal("0.5")


def test_months_pool_their_numerators_and_denominators():
    # 1 of 100 churned in October, 2 of 200 in November: 3 / 300 = 1% a month.
    pooled = pool_snapshots(
        [
            {"customers_start": 100, "churned_customers": 1, "mrr_end": "900", "customers_end": 9},
            {"customers_start": 200, "churned_customers": 2, "mrr_end": "1000", "customers_end": 8},
        ]
    )
    assert metric_value("customer_churn_rate", pooled) == Decimal("0.01")
    assert metric_value("mrr_end", pooled) == Decimal("1000")  # the latest month's
    assert metric_value("arpa", pooled) == Decimal("125")
    assert metric_value("customer_churn_rate", {"customers_start": 0}) is None


# --- Progress -------------------------------------------------------------------------------------


def test_a_company_goal_reads_the_all_snapshots_and_is_off_track_above_target(db):
    snapshot(date(2026, 9, 1), churned_customers=50)  # before the period: not counted
    snapshot(date(2026, 10, 1), customers_start=100, churned_customers=1)
    snapshot(date(2026, 11, 1), customers_start=200, churned_customers=2)
    progress = goal_progress(goal())
    assert progress.value == Decimal("0.01")
    assert (progress.status, progress.months, progress.through) == (
        "off_track",
        2,
        date(2026, 11, 1),
    )
    assert progress.display == "1.00%" and progress.target_display == "0.60%"


def test_a_goal_under_target_is_on_track_then_met_once_the_period_ends(db):
    snapshot(date(2026, 10, 1), customers_start=1000, churned_customers=5)
    running = goal()
    ended = goal(period_start=date(2026, 10, 1), period_end=date(2026, 10, 31))
    missed = goal(period_end=date(2026, 10, 31), target=Decimal("0.001"))
    assert goal_progress(running).status == "on_track"
    assert goal_progress(ended).status == "met"
    assert goal_progress(missed).status == "missed"


def test_higher_is_better_metrics_compare_the_other_way(db):
    snapshot(date(2026, 11, 1), mrr_start="1000", mrr_churn="50", mrr_expansion="100")  # NRR 105%
    assert goal_progress(goal(metric="nrr", target=Decimal("1.02"), at_most=False)).status == (
        "on_track"
    )
    assert goal_progress(goal(metric="nrr", target=Decimal("1.10"), at_most=False)).status == (
        "off_track"
    )


def test_a_csm_goal_reads_their_book_snapshot(db, alice, bob):
    snapshot(date(2026, 11, 1), scope=f"owner:{alice.pk}", customers_start=10, churned_customers=1)
    snapshot(date(2026, 11, 1), scope=f"owner:{bob.pk}", customers_start=10, churned_customers=0)
    progress = goal_progress(goal(scope_kind="csm", scope_value=str(alice.pk)))
    assert progress.value == Decimal("0.1")
    assert progress.scope == "Alice Archer's book"


def test_a_tier_goal_sums_movements_of_that_tiers_accounts(db):
    a1, a2 = AccountFactory(tier="A"), AccountFactory(tier="A")
    c1 = AccountFactory(tier="C")
    october, november = date(2026, 10, 1), date(2026, 11, 1)
    movement(a1, october, "1000", "1000")
    movement(a2, october, "500", "600", "expansion", "100")
    movement(a1, november, "1000", "0", "churn", "1000")
    movement(a2, november, "600", "600")
    movement(c1, november, "50", "0", "churn", "50")  # another tier
    gross = goal_progress(goal(scope_kind="tier", scope_value="A", metric="gross_mrr_churn_rate"))
    # (churn 1000 + contraction 0) / (1500 + 1600) over October and November
    assert gross.value == Decimal("1000") / Decimal("3100")
    logos = goal_progress(goal(scope_kind="tier", scope_value="A"))
    assert logos.value == Decimal("1") / Decimal("4")
    arpa = goal_progress(goal(scope_kind="tier", scope_value="A", metric="arpa", at_most=False))
    assert arpa.value == Decimal("600")  # November: 600 MRR over 1 paying account


def test_a_segment_nps_goal_reads_the_answers_of_the_latest_month(db):
    survey = Survey.objects.create(name="NPS", kind="nps", question="Recommend us?")
    strategic = AccountFactory(segment="strategic")
    basic = AccountFactory(segment="basic")
    for score, account in ((10, strategic), (9, strategic), (3, strategic), (0, basic)):
        Response.objects.create(
            survey=survey,
            account=account,
            kind="nps",
            score=score,
            scale_min=0,
            scale_max=10,
            answered_at=datetime(2026, 11, 5, tzinfo=UTC),
        )
    progress = goal_progress(
        goal(
            scope_kind="segment",
            scope_value="strategic",
            metric="nps",
            target=Decimal("30"),
            at_most=False,
        )
    )
    # 2 promoters, 1 detractor of 3: 66.7 − 33.3 = 33.4
    assert progress.value == Decimal("33.4") and progress.status == "on_track"


def test_no_data_yet_says_so(db):
    progress = goal_progress(goal())
    assert (progress.value, progress.status, progress.display) == (None, "no_data", "—")


def test_the_overview_gets_current_goals_and_a_csm_only_their_books(
    db, alice, bob, django_assert_num_queries
):
    snapshot(date(2026, 11, 1))
    company = goal()
    alices = goal(scope_kind="csm", scope_value=str(alice.pk))
    goal(scope_kind="csm", scope_value=str(bob.pk))
    goal(scope_kind="tier", scope_value="B")
    goal(scope_kind="segment", scope_value="basic", metric="nps", at_most=False)
    goal(period_start=date(2026, 1, 1), period_end=date(2026, 3, 31))  # long over: left out
    # goals, their CSMs, the snapshots, tier movements, segment movements, segment NPS answers
    with django_assert_num_queries(6):
        everything = goals_for_overview()
    assert len(everything) == 5 and everything[0].goal == company
    assert [p.goal for p in goals_for_overview(owner=alice)] == [alices]


# --- Pages ----------------------------------------------------------------------------------------


def test_a_manager_sets_a_churn_goal_in_percent(maggie_client, maggie):
    response = maggie_client.post(
        reverse("kpis:goal_create"),
        {
            "metric": "customer_churn_rate",
            "scope": "tier:A",
            "period_start": "2026-12-01",
            "period_end": "2027-02-28",
            "target": "0.6",
            "direction": "",
            "note": "Q1 push",
        },
    )
    assert response.status_code == 302
    saved = Goal.objects.get()
    assert (saved.scope_kind, saved.scope_value, saved.target, saved.at_most) == (
        "tier",
        "A",
        Decimal("0.006000"),
        True,
    )
    assert saved.created_by == maggie


def test_the_direction_defaults_by_metric_and_can_be_overridden(maggie_client):
    data = {
        "metric": "nrr",
        "scope": "all",
        "period_start": "2026-12-01",
        "period_end": "2026-12-31",
        "target": "102",
        "direction": "",
    }
    maggie_client.post(reverse("kpis:goal_create"), data)
    maggie_client.post(reverse("kpis:goal_create"), {**data, "direction": "at_most"})
    first, second = Goal.objects.order_by("pk")
    assert (first.target, first.at_most) == (Decimal("1.02"), False)
    assert second.at_most is True


def test_bad_goal_input_names_the_field_and_writes_nothing(maggie_client):
    response = maggie_client.post(
        reverse("kpis:goal_create"),
        {
            "metric": "nonsense",
            "scope": "csm:999999",
            "period_start": "2026-12-01",
            "period_end": "2026-11-01",
            "target": "abc",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"metric", "scope", "period_end", "target"} <= set(errors)
    body = response.content.decode()
    assert "Metric:" in body and "Target:" in body
    assert not Goal.objects.exists()


@pytest.mark.parametrize(
    ("metric", "target", "message"),
    [
        ("nps", "500", "NPS runs from -100 to 100."),
        ("customer_churn_rate", "150", "Logo churn rate (monthly) runs from 0% to 100%."),
        ("grr", "-20", "Gross revenue retention (GRR) runs from 0% to 100%."),
        ("arpa", "-100", "ARPA cannot be below 0."),
        ("net_mrr_churn_rate", "120", "Net MRR churn rate cannot be above 100%."),
    ],
)
def test_an_impossible_target_is_refused_naming_the_field(maggie_client, metric, target, message):
    response = maggie_client.post(
        reverse("kpis:goal_create"),
        {
            "metric": metric,
            "scope": "all",
            "period_start": "2026-12-01",
            "period_end": "2026-12-31",
            "target": target,
        },
    )
    assert response.context["form"].errors["target"] == [message]
    assert f"Target: {message}" in response.content.decode()
    assert not Goal.objects.exists()


def test_a_manager_edits_and_deletes_a_goal(maggie_client):
    existing = goal()
    page = maggie_client.get(reverse("kpis:goal_edit", args=[existing.pk]))
    assert page.context["form"].initial["target"] == Decimal("0.6")
    maggie_client.post(
        reverse("kpis:goal_edit", args=[existing.pk]),
        {
            "metric": "customer_churn_rate",
            "scope": "all",
            "period_start": "2026-10-01",
            "period_end": "2026-12-31",
            "target": "0.5",
        },
    )
    existing.refresh_from_db()
    assert existing.target == Decimal("0.005")
    assert maggie_client.get(reverse("kpis:goal_delete", args=[existing.pk])).status_code == 200
    maggie_client.post(reverse("kpis:goal_delete", args=[existing.pk]))
    assert not Goal.objects.exists()


def test_goals_are_managers_only_to_see_and_edit(alice_client):
    existing = goal()
    assert alice_client.get(reverse("kpis:goals")).status_code == 403
    assert alice_client.get(reverse("kpis:goal_create")).status_code == 403
    assert alice_client.post(reverse("kpis:goal_delete", args=[existing.pk])).status_code == 403
    assert Goal.objects.exists()


@pytest.mark.parametrize("n", [3, 12])
def test_the_goal_list_query_count_does_not_grow(maggie_client, n, django_assert_num_queries):
    snapshot(date(2026, 11, 1))
    for i in range(n):
        goal(scope_kind=["all", "tier", "segment"][i % 3], scope_value=["", "A", "basic"][i % 3])
    # session, user, goals, the snapshots, tier movements, segment movements
    with django_assert_num_queries(6):
        response = maggie_client.get(reverse("kpis:goals"))
    assert response.status_code == 200
    csv_body = maggie_client.get(reverse("kpis:goals"), {"format": "csv"}).content.decode()
    assert len(csv_body.strip().splitlines()) == 1 + n


def test_the_progress_fragment_renders(maggie, rf):
    from django.template.loader import render_to_string

    goal()
    html = render_to_string(
        "kpis/_goal_progress.html", {"goals": goals_for_overview(), "user": maggie}
    )
    assert "Logo churn rate (monthly)" in html and "No data yet" in html


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2021-11-22", "2021-12-31", "period_start"),  # earliest: 2021-11-23, five years back
        ("0001-01-01", "2026-12-31", "period_start"),
        ("2026-12-01", "2031-11-24", "period_end"),  # latest: 2031-11-23
        ("2026-12-01", "9999-12-31", "period_end"),
    ],
)
def test_a_period_beyond_five_years_either_side_is_refused_naming_the_field(
    maggie_client, start, end, field
):
    response = maggie_client.post(
        reverse("kpis:goal_create"),
        {
            "metric": "customer_churn_rate",
            "scope": "all",
            "period_start": start,
            "period_end": end,
            "target": "0.6",
        },
    )
    assert response.status_code == 200
    message = "Choose a day from 2021-11-23 to 2031-11-23 (5 years either side of today)."
    assert response.context["form"].errors == {field: [message]}
    label = {"period_start": "From", "period_end": "Until"}[field]
    assert f"{label}: {message}" in response.content.decode()
    assert not Goal.objects.exists()


def test_the_period_bounds_themselves_are_accepted(maggie_client):
    response = maggie_client.post(
        reverse("kpis:goal_create"),
        {
            "metric": "customer_churn_rate",
            "scope": "all",
            "period_start": "2021-11-23",
            "period_end": "2031-11-23",
            "target": "0.6",
        },
    )
    assert response.status_code == 302
    assert Goal.objects.exists()


@pytest.mark.parametrize(
    ("metric", "target", "shown"),
    [
        ("nrr", Decimal("50"), 'value="5000"'),  # 5000% as entered, not 5E+3
        ("mrr_end", Decimal("800"), 'value="800"'),  # not 800.000000
        ("customer_churn_rate", Decimal("0.006"), 'value="0.6"'),
        ("arpa", Decimal("1234.5"), 'value="1234.5"'),
    ],
)
def test_the_goal_form_shows_targets_as_plain_numbers(maggie_client, metric, target, shown):
    existing = goal(metric=metric, target=target)
    existing.refresh_from_db()  # as stored: six decimal places
    body = maggie_client.get(reverse("kpis:goal_edit", args=[existing.pk])).content.decode()
    assert shown in body
