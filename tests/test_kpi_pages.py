"""The KPI overview and cohorts pages: managers see the team or pick a CSM's book, a CSM sees
only their own book, every table exports to CSV, and the query count does not grow with rows."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.mrr import Month
from csm.kpis.models import CohortSnapshot
from csm.kpis.snapshots import COHORT_MONTHS, cohort_table, cohorts, refresh_kpis
from tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def build_book(owner, *, accounts: int, amount: str, churned: int = 0) -> None:
    """`accounts` customers of `owner` paying since a year ago; `churned` of them left last
    month."""
    today = timezone.localdate()
    start = today - timedelta(days=365)
    last_month = Month.of(today).previous()
    for n in range(accounts):
        account = AccountFactory(owner=owner)
        end = last_month.first_day + timedelta(days=3) if n < churned else None
        SubscriptionFactory(account=account, start_date=start, end_date=end, amount=D(amount))


@pytest.fixture
def books(alice, bob):
    build_book(alice, accounts=3, amount="100", churned=1)
    build_book(bob, accounts=2, amount="777")
    refresh_kpis(day=timezone.localdate() - timedelta(days=1))


def overview(client, **params):
    return client.get(reverse("kpis:overview"), params)


def test_a_manager_sees_the_whole_team_with_counts_behind_the_numbers(maggie_client, books):
    response = overview(maggie_client)
    assert response.status_code == 200
    assert response.context["scope"] == "all"
    text = response.content.decode()
    cards = {card["key"]: card for card in response.context["cards"]}
    assert cards["customers"]["value"] == "4"
    assert "$1,754" in cards["mrr"]["value"]  # 2 × 100 + 2 × 777
    assert "Healthy" in cards["logo_churn"]["definition"]
    assert "MRR movements" in text and 'data-kind="kpi"' in text
    assert "{# goals progress #}" not in text  # a template comment, not shown


def test_last_months_churn_shows_as_one_of_five_customers(maggie_client, books):
    response = overview(maggie_client)
    rows = {row["month"]: row for row in response.context["rows"]}
    last_month = str(Month.of(timezone.localdate() - timedelta(days=1)).previous())
    assert rows[last_month]["churned"] == "1/5"
    assert rows[last_month]["logo_churn"] == "20.0%"


def test_a_manager_can_pick_a_csms_book(maggie_client, books, bob):
    response = overview(maggie_client, owner=bob.pk)
    assert response.context["scope"] == f"owner:{bob.pk}"
    cards = {card["key"]: card for card in response.context["cards"]}
    assert cards["customers"]["value"] == "2"
    assert cards["mrr"]["value"] == "$1,554"


def test_a_bad_book_choice_is_named_and_the_team_is_shown(maggie_client, books):
    response = overview(maggie_client, owner="nobody")
    assert response.status_code == 200
    assert response.context["scope"] == "all"
    assert response.context["form"].errors["owner"]
    assert "Book:" in response.content.decode()


def test_a_csm_sees_their_own_book(alice_client, books, alice):
    response = overview(alice_client)
    assert response.context["scope"] == f"owner:{alice.pk}"
    cards = {card["key"]: card for card in response.context["cards"]}
    assert cards["customers"]["value"] == "2"
    assert "$777" not in response.content.decode()
    assert response.context["form"] is None  # no picker


def test_a_csm_cannot_see_another_csms_book(alice_client, books, bob):
    assert overview(alice_client, owner=bob.pk).status_code == 403
    assert alice_client.get(reverse("kpis:cohorts"), {"owner": bob.pk}).status_code == 403
    response = alice_client.get(reverse("kpis:overview"), {"owner": bob.pk, "format": "csv"})
    assert response.status_code == 403


def test_the_pages_need_a_login(client, books):
    response = client.get(reverse("kpis:overview"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_monthly_table_exports_to_csv_with_the_contract_keys(maggie_client, books):
    response = overview(maggie_client, format="csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert list(rows[0])[:3] == ["month", "customers_start", "customers_end"]
    assert rows[-1]["mrr_end"] == "1754.00"


def test_the_csv_of_a_csm_holds_only_their_book(alice_client, books):
    response = overview(alice_client, format="csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert rows[-1]["mrr_end"] == "200.00"


def test_the_cohort_tables_show_logo_and_revenue_retention(maggie_client, books):
    response = maggie_client.get(reverse("kpis:cohorts"))
    assert response.status_code == 200
    logo, revenue = response.context["tables"]
    first = logo["rows"][0]
    assert first["size"] == "5"
    filled = [cell for cell in first["cells"] if cell]
    assert filled[0]["text"] == "100%"
    assert filled[-1]["text"] == "80%"  # one of five left last month
    assert filled[0]["class"] == "cell shade-10"  # full retention: the strongest shade
    assert filled[-1]["class"] == "cell shade-8"
    assert revenue["rows"][0]["size"] == "$1,854"


def test_cohort_csvs_export_each_table(maggie_client, books):
    for table in ("logo", "revenue"):
        response = maggie_client.get(reverse("kpis:cohorts"), {"format": "csv", "table": table})
        rows = list(csv.reader(io.StringIO(response.getvalue().decode())))
        assert rows[0][:3] == ["cohort", "customers", "mrr"]
        assert rows[1][3] == "1.000000"


def test_htmx_gets_only_the_body(maggie_client, books, bob):
    response = maggie_client.get(
        reverse("kpis:overview"), {"owner": bob.pk}, headers={"HX-Request": "true"}
    )
    text = response.content.decode()
    assert text.lstrip().startswith('<section id="kpi-body">')
    assert "<html" not in text


def test_the_overview_query_count_does_not_grow_with_rows(
    maggie_client, alice, books, django_assert_num_queries
):
    # session + user, the CSMs for the picker, the snapshots, then the goals block
    # (csm.kpis.goals.goals_for_overview: its goals query; no goals → nothing else).
    with django_assert_num_queries(5):
        overview(maggie_client)
    build_book(alice, accounts=20, amount="50", churned=5)
    refresh_kpis(day=timezone.localdate() - timedelta(days=1))
    with django_assert_num_queries(5):
        overview(maggie_client)


def test_the_cohort_query_count_does_not_grow_with_rows(
    maggie_client, alice, books, django_assert_num_queries
):
    # session + user, the CSMs for the picker, the latest month, its cohort snapshot.
    with django_assert_num_queries(5):
        maggie_client.get(reverse("kpis:cohorts"))
    build_book(alice, accounts=20, amount="50", churned=5)
    refresh_kpis(day=timezone.localdate() - timedelta(days=1))
    with django_assert_num_queries(5):
        maggie_client.get(reverse("kpis:cohorts"))


def test_no_snapshots_yet_says_so(maggie_client):
    response = overview(maggie_client)
    assert response.status_code == 200
    assert "No KPIs yet" in response.content.decode()
    response = maggie_client.get(reverse("kpis:cohorts"))
    assert "No cohorts yet" in response.content.decode()


def test_the_main_navigation_links_to_the_kpis(alice_client):
    response = alice_client.get(reverse("home"))
    assert reverse("kpis:overview") in response.content.decode()


def test_a_month_to_date_is_marked(maggie_client, books):
    response = overview(maggie_client)
    latest = response.context["latest"]
    yesterday = timezone.localdate() - timedelta(days=1)
    assert response.context["month_to_date"] == (yesterday < Month.of(yesterday).last_day)
    assert latest.month == date(yesterday.year, yesterday.month, 1)


def test_the_cohorts_page_reads_the_nightly_snapshot(
    maggie_client, alice, django_assert_num_queries
):
    build_book(alice, accounts=3, amount="100", churned=1)
    refresh_kpis(day=timezone.localdate() - timedelta(days=1))
    # session + user, the CSMs for the picker, the latest month, its cohort snapshot.
    with django_assert_num_queries(5):
        response = maggie_client.get(reverse("kpis:cohorts"))
    assert response.context["tables"][0]["rows"][0]["size"] == "3"
    # A CSM's book has its own snapshot, the same as computing it now.
    last = Month.of(timezone.localdate() - timedelta(days=1))
    stored = cohort_table(last=last, owner_id=alice.pk)
    live = cohorts(first=last.minus(COHORT_MONTHS - 1), last=last, owner_id=alice.pk)
    assert [(r.month, r.size, r.mrr, r.cells) for r in stored] == [
        (r.month, r.size, r.mrr, r.cells) for r in live
    ]
    assert CohortSnapshot.objects.filter(scope=f"owner:{alice.pk}", month=last.first_day).exists()
