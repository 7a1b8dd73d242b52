"""The KPI report pages: churn analysis, health and saves, the CSM scoreboard
(csm/kpis/views/): who sees what, the numbers, CSV exports and query counts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from csm.kpis.models import KpiSnapshot
from csm.kpis.views.health import band_points
from csm.workflow.models import RiskItem, Touch
from feedback.models import ChurnEvent, Competitor
from health.models import HealthScore, NightlyRun
from tests.factories import AccountFactory, HealthScoreFactory, SubscriptionFactory

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def rows_of(response):
    return list(csv.reader(io.StringIO(response.getvalue().decode())))


def churn(owner, *, on, mrr="100", category="price", churn_type="voluntary", **kwargs):
    account = AccountFactory(
        owner=owner,
        tier=kwargs.pop("tier", "B"),
        segment=kwargs.pop("segment", "basic"),
        contract_start=kwargs.pop("contract_start", date(2025, 1, 1)),
    )
    return ChurnEvent.objects.create(
        account=account,
        churned_on=on,
        mrr_lost=Decimal(mrr),
        category=category,
        churn_type=churn_type,
        **kwargs,
    )


# --- Churn analysis -------------------------------------------------------------------------------


def test_churn_is_broken_down_by_reason_type_competitor_tier_segment_stage_and_csm(
    maggie_client, alice, bob
):
    rival = Competitor.objects.create(name="Rival CRM")
    churn(alice, on=date(2026, 10, 5), mrr="500", category="competitor", competitor=rival)
    churn(alice, on=date(2026, 9, 5), mrr="200", churn_type="involuntary", tier="A")
    churn(
        bob,
        on=date(2026, 8, 5),
        mrr="100",
        category="",
        segment="strategic",
        contract_start=date(2026, 7, 20),  # 16 days before: onboarding
    )
    churn(bob, on=date(2025, 8, 5), mrr="999")  # before the default 12 months

    response = maggie_client.get(reverse("kpis:churn"))

    assert response.status_code == 200
    tables = response.context["tables"]

    def table(key):
        return {r["label"]: (r["customers"], r["mrr"]) for r in tables[key]["rows"]}

    assert response.context["totals"] == {"customers": 3, "mrr": Decimal("800")}
    assert table("reason") == {
        "Competitor": (1, Decimal("500")),
        "Price / value": (1, Decimal("200")),
        "Not recorded yet": (1, Decimal("100")),
    }
    assert table("type")["Involuntary (payment failed or expired)"] == (1, Decimal("200"))
    assert table("competitor") == {"Rival CRM": (1, Decimal("500")), "None named": (2, 300)}
    # The tier when it left, by the tier rule on the MRR lost (B from 500, A from 2,000).
    assert table("tier") == {"B": (1, Decimal("500")), "C": (2, Decimal("300"))}
    assert table("segment")["Strategic"] == (1, Decimal("100"))
    assert table("stage") == {"Mature": (2, Decimal("700")), "Onboarding": (1, Decimal("100"))}
    assert table("csm") == {"Alice Archer": (2, Decimal("700")), "Bob Baker": (1, Decimal("100"))}


def test_the_tier_at_churn_follows_the_tier_rule_strategic_flag_and_override(
    maggie_client, alice, settings
):
    settings.TIER_A_MIN_MRR, settings.TIER_B_MIN_MRR = Decimal("2000"), Decimal("500")
    churn(alice, on=date(2026, 10, 1), mrr="2000")  # A by MRR
    churn(alice, on=date(2026, 10, 2), mrr="499.99")  # C
    strategic = churn(alice, on=date(2026, 10, 3), mrr="10")
    strategic.account.strategic = True
    strategic.account.save()
    overridden = churn(alice, on=date(2026, 10, 4), mrr="3000")
    overridden.account.tier_override, overridden.account.tier_override_reason = "B", "pilot"
    overridden.account.save()
    rows = maggie_client.get(reverse("kpis:churn")).context["tables"]["tier"]["rows"]
    assert {r["label"]: r["customers"] for r in rows} == {"A": 2, "B": 1, "C": 1}


def test_a_csm_sees_the_churn_of_their_own_book_only(alice_client, alice, bob):
    churn(alice, on=date(2026, 10, 5), mrr="500")
    churn(bob, on=date(2026, 10, 6), mrr="300")
    response = alice_client.get(reverse("kpis:churn"))
    assert response.context["totals"] == {"customers": 1, "mrr": Decimal("500")}
    assert "Bob Baker" not in response.content.decode()


def test_the_churn_chart_draws_monthly_logo_churn_against_the_benchmark(maggie_client, alice):
    KpiSnapshot.objects.create(
        month=date(2026, 10, 1), scope="all", values={"customer_churn_rate": 0.0125}
    )
    KpiSnapshot.objects.create(
        month=date(2026, 10, 1), scope=f"owner:{alice.pk}", values={"customer_churn_rate": 0.5}
    )
    response = maggie_client.get(reverse("kpis:churn"))
    chart = response.context["chart"]
    assert chart["labels"][0] == "2025-12" and chart["labels"][-1] == "2026-11"
    assert chart["values"][-2] == 1.25 and chart["values"][-1] is None
    assert chart["benchmark"] == 0.6
    assert response.context["months_above"] == 1
    assert 'data-kind="benchmark"' in response.content.decode()


def test_the_period_can_be_chosen_and_a_bad_month_is_named(maggie_client, alice):
    churn(alice, on=date(2026, 3, 5), mrr="100")
    churn(alice, on=date(2026, 10, 5), mrr="200")
    response = maggie_client.get(reverse("kpis:churn"), {"start": "2026-03", "end": "2026-04"})
    assert response.context["totals"]["mrr"] == Decimal("100")
    bad = maggie_client.get(reverse("kpis:churn"), {"start": "March", "end": "2026-04"})
    assert bad.status_code == 200
    assert "From month: enter a month as YYYY-MM." in bad.content.decode()
    assert bad.context["totals"]["mrr"] == Decimal("300")  # the default 12 months


def test_each_churn_table_exports_to_csv(maggie_client, alice):
    churn(alice, on=date(2026, 10, 5), mrr="500", category="support")
    response = maggie_client.get(reverse("kpis:churn"), {"format": "csv", "table": "reason"})
    assert response["Content-Type"].startswith("text/csv")
    assert rows_of(response) == [
        ["reason", "label", "customers", "mrr_lost"],
        ["support", "Poor service / support", "1", "500.00"],
    ]
    everything = rows_of(maggie_client.get(reverse("kpis:churn"), {"format": "csv"}))
    assert {row[0] for row in everything[1:]} == {
        "reason",
        "type",
        "competitor",
        "tier",
        "segment",
        "stage",
        "csm",
    }
    assert maggie_client.get(
        reverse("kpis:churn"), {"format": "csv", "table": "x"}
    ).status_code == (404)


@pytest.mark.parametrize("name", ["kpis:churn", "kpis:health", "kpis:scoreboard"])
def test_the_htmx_filter_gets_the_report_body_only(maggie_client, name):
    response = maggie_client.get(reverse(name), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="report-body">')
    # Without htmx, the whole page with its filter form (a plain GET form: works without JS).
    page = maggie_client.get(reverse(name)).content.decode()
    assert '<form method="get"' in page and 'id="report-body"' in page


@pytest.mark.parametrize("n", [2, 20])
def test_the_churn_page_query_count_does_not_grow(
    maggie_client, alice, n, django_assert_num_queries
):
    for i in range(n):
        churn(alice, on=date(2026, 10, 1) + timedelta(days=i % 20), category="price")
    # session, user, seven breakdowns (reason, type, competitor, tier, segment, stage, CSM),
    # the KPI snapshots for the chart
    with django_assert_num_queries(10):
        maggie_client.get(reverse("kpis:churn"))


# --- Health and saves -----------------------------------------------------------------------------


def test_band_points_are_the_last_scored_day_of_each_week_or_month():
    scored = [
        date(2026, 9, 3),
        date(2026, 9, 29),
        date(2026, 11, 1),
        date(2026, 11, 2),
        date(2026, 11, 4),
        date(2026, 11, 22),
    ]
    weeks = band_points(scored=scored, first=date(2026, 10, 1), last=date(2026, 11, 30), by="week")
    # Sunday 1 November ends its week; Monday 2 and Wednesday 4 share the next one.
    assert weeks == [date(2026, 11, 1), date(2026, 11, 4), date(2026, 11, 22)]
    months = band_points(scored=scored, first=date(2026, 9, 1), last=date(2026, 11, 30), by="month")
    assert months == [date(2026, 9, 29), date(2026, 11, 22)]
    assert band_points(scored=[], first=date(2026, 9, 1), last=TODAY, by="week") == []


def risk_item(owner, *, opened, resolution="", resolved=None):
    account = AccountFactory(owner=owner)
    return RiskItem.objects.create(
        account=account,
        assignee=owner,
        opened_on=opened,
        updated_on=opened,
        resolution=resolution,
        resolved_at=resolved,
    )


def test_health_shows_bands_over_time_risk_items_per_month_and_save_rate_per_csm(
    maggie_client, alice, bob
):
    a, b = AccountFactory(owner=alice), AccountFactory(owner=bob)
    HealthScoreFactory(account=a, day=date(2026, 11, 15), score=30)
    HealthScoreFactory(account=b, day=date(2026, 11, 15), score=90)
    HealthScoreFactory(account=a, day=date(2026, 11, 22), score=60)
    HealthScoreFactory(account=b, day=date(2026, 11, 22), score=90)
    NightlyRun.objects.create(
        day=date(2026, 11, 15),
        started_at=datetime(2026, 11, 16, 2, tzinfo=UTC),
        finished_at=datetime(2026, 11, 16, 2, 5, tzinfo=UTC),
    )
    risk_item(
        alice,
        opened=date(2026, 10, 2),
        resolution="saved",
        resolved=datetime(2026, 10, 9, tzinfo=UTC),
    )
    risk_item(
        alice,
        opened=date(2026, 10, 3),
        resolution="churned",
        resolved=datetime(2026, 11, 2, tzinfo=UTC),
    )
    risk_item(
        bob,
        opened=date(2026, 11, 3),
        resolution="saved",
        resolved=datetime(2026, 11, 4, tzinfo=UTC),
    )
    risk_item(bob, opened=date(2026, 11, 5))

    response = maggie_client.get(reverse("kpis:health"), {"by": "week"})

    assert response.status_code == 200
    bands = {r["day"]: (r["red"], r["yellow"], r["green"]) for r in response.context["band_rows"]}
    assert bands[date(2026, 11, 15)] == (1, 0, 1)
    assert bands[date(2026, 11, 22)] == (0, 1, 1)
    months = {r["month"]: r for r in response.context["month_rows"]}
    assert (months[date(2026, 10, 1)]["opened"], months[date(2026, 10, 1)]["saved"]) == (2, 1)
    assert (months[date(2026, 11, 1)]["opened"], months[date(2026, 11, 1)]["churned"]) == (2, 1)
    per_csm = {
        r["name"]: (r["saved"], r["churned"], r["save_rate"]) for r in response.context["csm_rows"]
    }
    assert per_csm == {"Alice Archer": (1, 1, 50.0), "Bob Baker": (1, 0, 100.0)}
    assert response.context["totals"]["save_rate"] == pytest.approx(66.7)


def test_a_csm_sees_health_and_saves_of_their_own_book(alice_client, alice, bob):
    HealthScoreFactory(account=AccountFactory(owner=alice), day=date(2026, 11, 22), score=30)
    HealthScoreFactory(account=AccountFactory(owner=bob), day=date(2026, 11, 22), score=90)
    risk_item(
        bob,
        opened=date(2026, 11, 3),
        resolution="saved",
        resolved=datetime(2026, 11, 4, tzinfo=UTC),
    )
    response = alice_client.get(reverse("kpis:health"))
    assert response.context["band_rows"][-1]["total"] == 1
    assert response.context["csm_rows"] == []


def test_each_health_table_exports_to_csv(maggie_client, alice):
    risk_item(
        alice,
        opened=date(2026, 11, 3),
        resolution="saved",
        resolved=datetime(2026, 11, 4, tzinfo=UTC),
    )
    rows = rows_of(
        maggie_client.get(reverse("kpis:health"), {"format": "csv", "table": "save_rate"})
    )
    assert rows == [
        ["csm", "saved", "churned", "not_a_risk", "save_rate_pct"],
        ["Alice Archer", "1", "0", "0", "100.0"],
    ]
    months = rows_of(
        maggie_client.get(reverse("kpis:health"), {"format": "csv", "table": "risk_items"})
    )
    assert months[0][0] == "month" and len(months) == 1 + 12


@pytest.mark.parametrize("n", [2, 20])
def test_the_health_page_query_count_does_not_grow(
    maggie_client, alice, n, django_assert_num_queries
):
    for i in range(n):
        account = AccountFactory(owner=alice)
        HealthScoreFactory(account=account, day=date(2026, 11, 22), score=30 + i)
        risk_item(
            alice,
            opened=date(2026, 11, 1),
            resolution="saved",
            resolved=datetime(2026, 11, 2, tzinfo=UTC),
        )
    # session, user, latest scored day, nightly run days, their stored band counts, the bands
    # of the day without them (no nightly run here), opened per month, resolved per month, per CSM
    with django_assert_num_queries(9):
        maggie_client.get(reverse("kpis:health"))


def test_the_band_chart_reads_the_counts_each_nightly_run_stored(client, maggie, alice, bob):
    from health.services import band_counts

    day = date(2026, 11, 22)
    HealthScoreFactory(account=AccountFactory(owner=alice), day=day, score=30)
    HealthScoreFactory(account=AccountFactory(owner=alice), day=day, score=90)
    HealthScoreFactory(account=AccountFactory(owner=bob), day=day, score=60)
    counts = band_counts(day)
    assert counts["all"] == {"red": 1, "yellow": 1, "green": 1}
    assert counts[f"owner:{alice.pk}"] == {"red": 1, "green": 1}
    NightlyRun.objects.create(
        day=day,
        started_at=datetime(2026, 11, 23, 2, tzinfo=UTC),
        finished_at=datetime(2026, 11, 23, 2, 5, tzinfo=UTC),
        band_counts=counts,
    )
    HealthScore.objects.all().delete()  # the page must not count the scores again
    HealthScoreFactory(account=AccountFactory(owner=bob), day=day, score=10)  # the latest day

    client.force_login(maggie)
    rows = client.get(reverse("kpis:health")).context["band_rows"]
    assert (rows[-1]["red"], rows[-1]["yellow"], rows[-1]["green"]) == (1, 1, 1)
    client.force_login(alice)
    rows = client.get(reverse("kpis:health")).context["band_rows"]
    assert (rows[-1]["red"], rows[-1]["yellow"], rows[-1]["green"]) == (1, 0, 1)


# --- CSM scoreboard -------------------------------------------------------------------------------


def book(owner, tier, mrr, n=1):
    accounts = []
    for _i in range(n):
        account = AccountFactory(owner=owner, tier=tier, contract_start=date(2026, 11, 1))
        SubscriptionFactory(account=account, amount=Decimal(mrr), start_date=date(2025, 1, 1))
        accounts.append(account)
    return accounts


def test_the_scoreboard_has_a_row_per_csm(maggie_client, alice, bob):
    alices = book(alice, "A", "1000", n=2)
    book(bob, "C", "50")
    # Alice: one A account touched 3 days ago (kept), one never touched since 2026-11-01 (overdue).
    Touch.objects.create(
        account=alices[0], kind="call", summary="hi", happened_at=datetime(2026, 11, 20, tzinfo=UTC)
    )
    KpiSnapshot.objects.create(
        month=date(2026, 10, 1),
        scope=f"owner:{alice.pk}",
        values={
            "customers_start": 20,
            "customers_end": 19,
            "mrr_end": "18400.00",
            "churned_customers": 1,
            "customer_churn_rate": 0.05,
            "gross_mrr_churn_rate": 0.02,
            "mrr_churn": "400.00",
            "mrr_expansion": "250.00",
        },
    )
    risk_item(
        alice,
        opened=date(2026, 10, 2),
        resolution="saved",
        resolved=datetime(2026, 10, 9, tzinfo=UTC),
    )
    risk_item(
        alice,
        opened=date(2026, 11, 2),
        resolution="saved",
        resolved=datetime(2026, 11, 9, tzinfo=UTC),
    )

    response = maggie_client.get(reverse("kpis:scoreboard"))

    assert response.status_code == 200
    rows = {r["csm"].name: r for r in response.context["rows"]}
    alice_row, bob_row = rows["Alice Archer"], rows["Bob Baker"]
    # The book at the month's end, from the snapshot (not today's subscriptions).
    assert (alice_row["accounts"], alice_row["mrr"]) == (19, Decimal("18400.00"))
    assert (alice_row["logo_churn"], alice_row["mrr_churn_rate"]) == (5.0, 2.0)
    assert alice_row["expansion"] == Decimal("250.00")
    assert alice_row["saves"] == 1  # October only (the last full month)
    # October has no nightly run that counted the cadence: "—", not today's figure.
    assert alice_row["cadence_share"] is None and response.context["cadence_day"] is None
    assert bob_row["logo_churn"] is None and bob_row["cadence_share"] is None
    assert bob_row["mrr"] is None  # no snapshot: "—", not $0
    assert "Maggie" not in rows  # managers are not on the board

    # The current month before its first nightly run: the cadence counted live for today.
    response = maggie_client.get(reverse("kpis:scoreboard"), {"month": "2026-11"})
    rows = {r["csm"].name: r for r in response.context["rows"]}
    assert (rows["Alice Archer"]["cadence_kept"], rows["Alice Archer"]["cadence_total"]) == (1, 2)
    assert rows["Alice Archer"]["cadence_share"] == 50
    assert rows["Bob Baker"]["cadence_share"] is None  # tier C has no CSM cadence
    assert response.context["cadence_day"] == date(2026, 11, 23)


def test_the_scoreboard_reads_the_cadence_the_months_last_nightly_run_stored(
    maggie_client, alice, django_assert_num_queries
):
    from csm.workflow.touches import cadence_counts

    book(alice, "A", "1000", n=3)  # never touched, due 2026-11-08: overdue on the 22nd
    counts = cadence_counts(date(2026, 11, 5))
    assert counts == {f"owner:{alice.pk}": {"total": 3, "kept": 3}}
    for day, stored in ((date(2026, 11, 5), counts), (date(2026, 11, 22), {})):
        NightlyRun.objects.create(
            day=day,
            started_at=datetime(2026, 11, 23, 2, tzinfo=UTC),
            finished_at=datetime(2026, 11, 23, 2, 5, tzinfo=UTC),
            cadence_counts=stored,  # the run of the 22nd predates the counts: skipped
        )
    # session, user, CSMs, snapshots, saves, the run's counts (nothing counted live)
    with django_assert_num_queries(6):
        response = maggie_client.get(reverse("kpis:scoreboard"), {"month": "2026-11"})
    row = response.context["rows"][0]
    assert (row["cadence_kept"], row["cadence_total"], row["cadence_share"]) == (3, 3, 100)
    assert "cadence as of 2026-11-05" in response.content.decode()


def test_a_csm_sees_only_their_own_scoreboard_row(alice_client, alice, bob):
    book(alice, "A", "1000")
    book(bob, "A", "1000")
    response = alice_client.get(reverse("kpis:scoreboard"))
    assert [r["csm"] for r in response.context["rows"]] == [alice]
    assert "Bob Baker" not in response.content.decode()
    rows = rows_of(alice_client.get(reverse("kpis:scoreboard"), {"format": "csv"}))
    assert len(rows) == 2 and rows[1][0] == "Alice Archer"


def test_the_scoreboard_month_can_be_chosen(maggie_client, alice):
    risk_item(
        alice,
        opened=date(2026, 11, 2),
        resolution="saved",
        resolved=datetime(2026, 11, 9, tzinfo=UTC),
    )
    response = maggie_client.get(reverse("kpis:scoreboard"), {"month": "2026-11"})
    assert response.context["rows"][0]["saves"] == 1
    bad = maggie_client.get(reverse("kpis:scoreboard"), {"month": "11/2026"})
    assert bad.status_code == 200 and "Month: enter a month as YYYY-MM." in bad.content.decode()


@pytest.mark.parametrize("n", [1, 8])
def test_the_scoreboard_query_count_does_not_grow(maggie_client, n, django_assert_num_queries):
    from tests.factories import UserFactory

    for i in range(n):
        csm = UserFactory(name=f"CSM {i}")
        book(csm, "A", "1000", n=3)
        risk_item(
            csm,
            opened=date(2026, 10, 2),
            resolution="saved",
            resolved=datetime(2026, 10, 9, tzinfo=UTC),
        )
    # session, user, CSMs, snapshots, saves, cadence
    with django_assert_num_queries(6):
        maggie_client.get(reverse("kpis:scoreboard"))


def test_report_pages_need_a_login(client):
    for name in ("kpis:churn", "kpis:health", "kpis:scoreboard"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response.url


def test_the_health_filters_keep_the_bands_choice_and_a_bad_one_falls_back_to_months(
    maggie_client,
):
    body = maggie_client.get(reverse("kpis:health"), {"by": "week"}).content.decode()
    assert '<option value="week" selected>' in body
    response = maggie_client.get(
        reverse("kpis:health"), {"by": "fortnight", "start": "2026-01", "end": "2026-03"}
    )
    assert response.context["by"] == "month"
    assert (response.context["start"], response.context["end"]) == (
        date(2026, 1, 1),
        date(2026, 3, 31),
    )
    assert '<option value="month" selected>' in response.content.decode()
