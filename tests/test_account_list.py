from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from tests.factories import AccountFactory, HealthScoreFactory, SubscriptionFactory

URL = reverse("accounts:list")
TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen_today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def names(response):
    return [account.name for account, _stage in response.context["rows"]]


def test_it_asks_for_a_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_csm_sees_every_account_not_only_their_book(alice_client, alice, bob):
    AccountFactory(name="Mine", owner=alice)
    AccountFactory(name="Bobs", owner=bob)
    response = alice_client.get(URL)
    assert sorted(names(response)) == ["Bobs", "Mine"]


def test_it_sorts_by_mrr_highest_first_by_default(alice_client):
    SubscriptionFactory(account=AccountFactory(name="Small"), amount=Decimal("10"))
    SubscriptionFactory(account=AccountFactory(name="Big"), amount=Decimal("1200"), interval="year")
    SubscriptionFactory(account=AccountFactory(name="Bigger"), amount=Decimal("500"))
    AccountFactory(name="Nothing")
    response = alice_client.get(URL)
    assert names(response) == ["Bigger", "Big", "Small", "Nothing"]
    mrr = {account.name: account.mrr for account, _ in response.context["rows"]}
    assert mrr == {
        "Bigger": Decimal("500.00"),
        "Big": Decimal("100.00"),
        "Small": Decimal("10.00"),
        "Nothing": 0,
    }


def test_an_ended_subscription_does_not_count_today(alice_client):
    SubscriptionFactory(
        account=AccountFactory(name="Churned"),
        start_date=date(2025, 1, 1),
        end_date=date(2026, 1, 1),
    )
    response = alice_client.get(URL)
    assert [a.mrr for a, _ in response.context["rows"]] == [Decimal("0")]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("-name", ["Charlie", "Bravo", "Alpha"]),
        ("renewal", ["Bravo", "Charlie", "Alpha"]),
        ("-renewal", ["Alpha", "Charlie", "Bravo"]),
        ("mrr", ["Charlie", "Alpha", "Bravo"]),
    ],
)
def test_it_sorts_by_name_renewal_and_mrr(alice_client, sort, expected):
    for name, renewal, amount in [("Alpha", 30, 200), ("Bravo", 10, 300), ("Charlie", 20, 100)]:
        account = AccountFactory(name=name, renewal_date=TODAY + timedelta(days=renewal))
        SubscriptionFactory(account=account, amount=Decimal(amount))
    assert names(alice_client.get(URL, {"sort": sort})) == expected


def test_it_filters_by_tier_segment_owner_and_text(alice_client, alice, bob):
    AccountFactory(name="Acme Analytics", tier="A", segment="strategic", owner=alice)
    AccountFactory(name="Acme Mobile", tier="B", segment="basic", owner=bob)
    AccountFactory(name="Zeta Foods", tier="A", segment="basic", owner=None)
    assert names(alice_client.get(URL, {"tier": "A", "sort": "name"})) == [
        "Acme Analytics",
        "Zeta Foods",
    ]
    assert names(alice_client.get(URL, {"segment": "basic", "sort": "name"})) == [
        "Acme Mobile",
        "Zeta Foods",
    ]
    assert names(alice_client.get(URL, {"owner": "me"})) == ["Acme Analytics"]
    assert names(alice_client.get(URL, {"owner": str(bob.pk)})) == ["Acme Mobile"]
    assert names(alice_client.get(URL, {"owner": "none"})) == ["Zeta Foods"]
    assert names(alice_client.get(URL, {"q": "acme", "tier": "B"})) == ["Acme Mobile"]


def test_it_filters_by_lifecycle_stage_at_the_30_and_180_day_edges(alice_client):
    AccountFactory(name="Day 29", contract_start=TODAY - timedelta(days=29))
    AccountFactory(name="Day 30", contract_start=TODAY - timedelta(days=30))
    AccountFactory(name="Day 179", contract_start=TODAY - timedelta(days=179))
    AccountFactory(name="Day 180", contract_start=TODAY - timedelta(days=180))
    assert names(alice_client.get(URL, {"stage": "onboarding"})) == ["Day 29"]
    assert names(alice_client.get(URL, {"stage": "adoption", "sort": "name"})) == [
        "Day 179",
        "Day 30",
    ]
    assert names(alice_client.get(URL, {"stage": "mature"})) == ["Day 180"]


def test_a_bad_filter_value_is_named_and_ignored_not_a_500(alice_client):
    AccountFactory(name="Still listed")
    response = alice_client.get(URL, {"tier": "Z", "sort": "sideways"})
    assert response.status_code == 200
    assert names(response) == ["Still listed"]
    assert "Tier: Select a valid choice" in response.content.decode()


def test_it_paginates_with_plain_links_that_keep_the_filters(alice_client):
    for i in range(60):
        AccountFactory(name=f"Acct {i:02d}", tier="B")
    response = alice_client.get(URL, {"tier": "B", "sort": "name"})
    assert len(response.context["rows"]) == 50
    assert 'href="?tier=B&amp;sort=name&amp;page=2"' in response.content.decode()
    second = alice_client.get(URL, {"tier": "B", "sort": "name", "page": 2})
    assert names(second) == [f"Acct {i:02d}" for i in range(50, 60)]


def test_an_htmx_request_gets_only_the_table(alice_client):
    AccountFactory(name="Partial")
    response = alice_client.get(URL, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="account-table">')
    assert "Partial" in body
    assert "<html" not in body


def test_a_plain_request_gets_the_whole_page(alice_client):
    body = alice_client.get(URL).content.decode()
    assert "<html" in body and 'id="account-table"' in body and 'id="account-filters"' in body


@pytest.mark.parametrize("count", [50, 500])
def test_the_query_count_does_not_grow_with_rows(
    alice_client, alice, bob, count, django_assert_num_queries
):
    owners = [alice, bob, None]
    accounts = AccountFactory.create_batch(count, owner=factory_cycle(owners))
    for account in accounts[:count:3]:
        SubscriptionFactory(account=account)
        HealthScoreFactory(account=account)
    # 1 session + 1 user, 1 owners for the filter, 1 latest scored day, 1 count for the pager,
    # 1 page of accounts with their owners, MRR and health (subqueries, not a query per row).
    with django_assert_num_queries(6):
        response = alice_client.get(URL, {"sort": "-mrr"})
    assert len(response.context["rows"]) == 50


def factory_cycle(items):
    import factory

    return factory.Iterator(items)


def test_the_health_column_shows_the_latest_scores_and_filters_by_band(alice_client):
    red = HealthScoreFactory(account=AccountFactory(name="Red Co"), score=30)
    HealthScoreFactory(account=red.account, score=90, day=date(2026, 11, 1))  # an older day
    HealthScoreFactory(account=AccountFactory(name="Green Co"), score=88)
    AccountFactory(name="New Co")  # not scored yet
    response = alice_client.get(URL, {"sort": "health"})
    assert [(a.name, a.health_score) for a, _stage in response.context["rows"]] == [
        ("Red Co", 30),
        ("Green Co", 88),
        ("New Co", None),
    ]
    assert names(alice_client.get(URL, {"band": "red"})) == ["Red Co"]
    assert names(alice_client.get(URL, {"band": "none"})) == ["New Co"]
    assert names(alice_client.get(URL, {"band": "green", "sort": "-health"})) == ["Green Co"]


# --- the CSV export ------------------------------------------------------------------------------


def csv_rows(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.getvalue().decode())))


def test_the_list_downloads_as_csv_with_the_filters_applied(alice_client, alice, bob):
    mine = AccountFactory(
        name="Acme",
        external_id="acme",
        owner=alice,
        tier="A",
        segment="strategic",
        renewal_date=date(2027, 2, 1),
    )
    SubscriptionFactory(account=mine, amount=Decimal("1200"), interval="year")
    HealthScoreFactory(account=mine, day=TODAY - timedelta(days=1), score=42)
    AccountFactory(name="Acme Bob", owner=bob, tier="A")  # another owner
    AccountFactory(name="Acme small", owner=alice, tier="C")  # another tier
    AccountFactory(name="Other", owner=alice, tier="A")  # does not match the text

    rows = csv_rows(
        alice_client.get(URL, {"q": "acme", "tier": "A", "owner": "me", "format": "csv"})
    )
    assert rows == [
        [
            "external_id",
            "name",
            "tier",
            "health",
            "health_band",
            "segment",
            "stage",
            "owner",
            "owner_email",
            "mrr",
            "renewal_date",
        ],
        [
            "acme",
            "Acme",
            "A",
            "42",
            "red",
            "strategic",
            "mature",
            alice.name,
            alice.email,
            "100.00",
            "2027-02-01",
        ],
    ]


def test_the_csv_holds_every_matching_account_in_the_lists_order_not_one_page(alice_client):
    for n in range(60):
        SubscriptionFactory(account=AccountFactory(name=f"Account {n:02d}"), amount=Decimal(n + 1))
    rows = csv_rows(alice_client.get(URL, {"format": "csv", "page": "2", "sort": "name"}))
    assert [row[1] for row in rows[1:]] == [f"Account {n:02d}" for n in range(60)]


def test_the_csv_neutralises_a_name_a_spreadsheet_would_run(alice_client):
    AccountFactory(name='=HYPERLINK("http://evil.example","x")')
    rows = csv_rows(alice_client.get(URL, {"format": "csv"}))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example","x")'


def test_the_page_links_to_the_csv_of_its_filters(alice_client):
    AccountFactory()
    body = alice_client.get(URL, {"tier": "A", "page": "1"}).content.decode()
    assert 'href="?tier=A&amp;format=csv"' in body
    assert 'href="?format=csv"' in alice_client.get(URL).content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_the_csv_costs_the_same_queries_for_3_or_30_accounts(
    alice_client, alice, count, django_assert_num_queries
):
    for _ in range(count):
        HealthScoreFactory(account=AccountFactory(owner=alice), day=TODAY - timedelta(days=1))
    # session, user, the owners of the filter, the latest scored day, the rows (owner joined)
    with django_assert_num_queries(5):
        rows = csv_rows(alice_client.get(URL, {"format": "csv"}))
    assert len(rows) == 1 + count
