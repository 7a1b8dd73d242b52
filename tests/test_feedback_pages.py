"""The feedback pages: scores over time and by group (counted in SQL, maths from feedback.scores),
response rate, the comment stream with filters, detractors without follow-up, CSV exports, the
managers' keyword rules and competitors, who sees what, and query counts that do not grow."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AuditEntry
from csm.workflow.touches import add_touch
from feedback.models import (
    Competitor,
    Invitation,
    KeywordRule,
    Response,
    ResponseTag,
    Survey,
    SurveyKind,
)
from feedback.report_views import overview_data
from feedback.tagging import tag_response
from tests.factories import AccountFactory

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
OVERVIEW = "/feedback/"
COMMENTS = "/feedback/comments/"
DETRACTORS = "/feedback/detractors/"
HTMX = {"HTTP_HX_REQUEST": "true"}
SCALE = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5), SurveyKind.CES: (1, 7)}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def surveys(db):
    return {
        kind: Survey.objects.create(name=f"{kind} survey", kind=kind, question="?")
        for kind in SurveyKind.values
    }


def answer(
    surveys, account, score, *, kind="nps", comment="", at=NOW - timedelta(days=1), invited=True
):
    survey = surveys[kind]
    invitation = None
    if invited:
        invitation = Invitation.objects.create(
            survey=survey,
            account=account,
            email="someone@customer.example",
            nonce=secrets.token_hex(8),
            created_at=at - timedelta(hours=1),
            expires_at=at + timedelta(days=30),
            answered_at=at,
        )
    low, high = SCALE[kind]
    response = Response.objects.create(
        invitation=invitation,
        survey=survey,
        account=account,
        kind=kind,
        score=score,
        scale_min=low,
        scale_max=high,
        comment=comment,
        answered_at=at,
    )
    if comment:
        tag_response(response)
    return response


def csv_lines(response):
    assert response["Content-Type"].startswith("text/csv")
    return response.getvalue().decode().splitlines()


# --- who sees what -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [OVERVIEW, COMMENTS, DETRACTORS, "/feedback/churns/"])
def test_the_pages_need_a_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("url", ["/settings/keyword-rules/", "/settings/competitors/"])
def test_the_configuration_pages_are_for_managers(client, alice, maggie, url):
    client.force_login(alice)
    assert client.get(url).status_code == 403
    client.force_login(maggie)
    assert client.get(url).status_code == 200


def test_a_csm_sees_their_own_books_answers_and_a_manager_everybodys(
    client, alice, bob, maggie, surveys
):
    answer(surveys, AccountFactory(owner=alice), 10, comment="Alice's customer")
    answer(surveys, AccountFactory(owner=bob), 0, comment="Bob's customer")

    client.force_login(alice)
    assert client.get(OVERVIEW).context["data"]["overall"]["nps"] == Decimal("100.0")
    body = client.get(COMMENTS).content.decode()
    assert "Alice&#x27;s customer" in body and "Bob" not in body
    assert client.get(DETRACTORS).context["page"].paginator.count == 0

    client.force_login(maggie)
    assert client.get(OVERVIEW).context["data"]["overall"]["nps"] == Decimal("0.0")
    assert client.get(COMMENTS).context["page"].paginator.count == 2
    assert client.get(OVERVIEW, {"owner": bob.pk}).context["data"]["overall"]["nps"] == Decimal(
        "-100.0"
    )


# --- overview ------------------------------------------------------------------------------------


def test_nps_by_month_counts_passives_in_the_denominator(maggie_client, surveys):
    account = AccountFactory()
    october = datetime(2026, 10, 5, 12, tzinfo=UTC)
    for score in (10, 9, 8, 7, 3):  # 2 promoters, 2 passives, 1 detractor → 40 − 20 = 20
        answer(surveys, account, score, at=october)
    for score in (5, 2):  # CSAT: 1 of 2 satisfied
        answer(surveys, account, score, kind="csat", at=october)
    answer(surveys, account, 6, kind="ces", at=NOW - timedelta(days=2))
    answer(surveys, account, 2, kind="ces", at=NOW - timedelta(days=2))

    data = maggie_client.get(OVERVIEW, {"months": "6"}).context["data"]
    by_month = {str(row["month"]): row for row in data["trend"]}
    assert list(by_month) == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert by_month["2026-10"]["nps"] == Decimal("20.0")
    assert by_month["2026-10"]["nps_n"] == 5
    assert by_month["2026-10"]["csat"] == Decimal("50.0")
    assert by_month["2026-11"]["ces_mean"] == Decimal("4.00")
    assert by_month["2026-11"]["ces_easy"] == Decimal("50.0")
    assert by_month["2026-09"]["nps"] is None


def test_the_tables_group_by_tier_segment_stage_at_the_answer_and_csm(alice, bob, surveys):
    young = AccountFactory(
        owner=alice, tier="A", segment="strategic", contract_start=date(2026, 11, 1)
    )
    old = AccountFactory(owner=bob, tier="C", contract_start=date(2024, 1, 1))
    answer(surveys, young, 10)
    answer(surveys, young, 10, at=datetime(2026, 6, 1, 12, tzinfo=UTC))  # before the contract
    answer(surveys, old, 0)
    from accounts.mrr import Month

    data = overview_data(
        responses=Response.objects.all(),
        invitations=Invitation.objects.all(),
        first=Month(2025, 12),
        last=Month(2026, 11),
    )
    tables = {
        t["key"]: {r["label"]: (r["nps"], r["nps_n"]) for r in t["rows"]} for t in data["tables"]
    }
    assert tables["tier"] == {
        "A — high value": (Decimal("100.0"), 2),
        "C — low value": (Decimal("-100.0"), 1),
    }
    assert tables["segment"] == {
        "Basic": (Decimal("-100.0"), 1),
        "Strategic": (Decimal("100.0"), 2),
    }
    assert tables["stage"] == {
        "Onboarding": (Decimal("100.0"), 2),
        "Mature": (Decimal("-100.0"), 1),
    }
    assert tables["csm"] == {
        "Alice Archer": (Decimal("100.0"), 2),
        "Bob Baker": (Decimal("-100.0"), 1),
    }


def test_the_response_rate_is_answered_over_invited_per_month(maggie_client, surveys):
    account = AccountFactory()
    answer(surveys, account, 9)
    for _ in range(3):
        Invitation.objects.create(
            survey=surveys["nps"],
            account=account,
            email="x@customer.example",
            nonce=secrets.token_hex(8),
            created_at=NOW - timedelta(days=3),
            expires_at=NOW + timedelta(days=20),
        )
    data = maggie_client.get(OVERVIEW).context["data"]
    assert data["rate"][-1] == {
        "month": data["months"][-1],
        "invited": 4,
        "answered": 1,
        "rate": Decimal("25.0"),
    }
    assert data["rate_total"]["rate"] == Decimal("25.0")


def test_every_overview_table_downloads_as_csv(maggie_client, surveys):
    answer(surveys, AccountFactory(), 3)
    monthly = csv_lines(maggie_client.get(OVERVIEW, {"format": "csv", "table": "monthly"}))
    assert monthly[0].startswith("month,NPS,NPS answers")
    assert monthly[-1].startswith("2026-11,-100.0,1")
    for table in ("tier", "segment", "stage", "csm", "rate"):
        assert len(csv_lines(maggie_client.get(OVERVIEW, {"format": "csv", "table": table}))) >= 2
    assert maggie_client.get(OVERVIEW, {"format": "csv", "table": "nope"}).status_code == 400


def test_the_overview_draws_the_nps_chart_and_htmx_gets_the_body(maggie_client, surveys):
    answer(surveys, AccountFactory(), 9)
    body = maggie_client.get(OVERVIEW).content.decode()
    assert 'data-feedback-chart="feedback-chart-data"' in body
    assert 'id="feedback-chart-data"' in body
    partial = maggie_client.get(OVERVIEW, {"months": "6"}, **HTMX).content.decode()
    assert partial.lstrip().startswith('<div id="overview-body">') and "<html" not in partial


def test_the_chart_data_has_gaps_for_months_without_answers_and_a_partial_current_month(
    maggie_client, surveys
):
    account = AccountFactory()
    answer(surveys, account, 10, at=NOW - timedelta(days=60))  # September
    answer(surveys, account, 3)  # November, the current month (NOW is 23 November)
    chart = maggie_client.get(OVERVIEW, {"months": "6"}).context["chart"]
    assert chart["labels"][-3:] == ["2026-09", "2026-10", "2026-11 (to date)"]
    assert chart["nps"][-3:] == [100.0, None, -100.0]  # October: no answers, a gap, not a 0
    assert chart["partial"] == 5
    body = maggie_client.get(OVERVIEW, {"months": "6"}).content.decode()
    assert '<tr class="partial"><td class="date">2026-11 <small class="badge">to date' in body


@pytest.mark.parametrize("rows", [5, 50])
def test_the_overview_costs_the_same_queries_for_5_or_50_answers(
    maggie_client, surveys, rows, django_assert_num_queries
):
    for n in range(rows):
        account = AccountFactory(owner=None if n % 3 else AccountFactory().owner)
        answer(surveys, account, n % 11, at=NOW - timedelta(days=n * 5))
        answer(surveys, account, 1 + n % 5, kind="csat", at=NOW - timedelta(days=n * 3))
    # session, user, people (CSM filter), answers by month/kind/score, answers by
    # tier/segment/stage/owner/kind/score, invitations by month (no owner names: unassigned)
    with django_assert_num_queries(6):
        maggie_client.get(OVERVIEW)


# --- comments ------------------------------------------------------------------------------------


@pytest.fixture
def stream(surveys, alice, bob):
    KeywordRule.objects.create(category="price", keywords="expensive\nprice")
    KeywordRule.objects.create(category="support", keywords="support team")
    Competitor.objects.create(name="Retainly", aliases="retain.ly")
    big = AccountFactory(owner=alice, tier="A", name="Big Co")
    small = AccountFactory(owner=bob, tier="C", name="Small Co")
    return {
        "price": answer(surveys, big, 4, comment="Too expensive for what we use"),
        "retainly": answer(surveys, small, 2, comment="Moving to Retain.ly, cheaper"),
        "happy": answer(surveys, small, 5, kind="csat", comment="Your support team is great"),
        "silent": answer(surveys, big, 10),
    }


def stream_ids(response):
    return {r.pk for r, _tags, _d in response.context["rows"]}


def test_the_stream_lists_comments_with_their_tags(maggie_client, stream):
    response = maggie_client.get(COMMENTS)
    assert stream_ids(response) == {stream["price"].pk, stream["retainly"].pk, stream["happy"].pk}
    tags = {r.pk: tags for r, tags, _d in response.context["rows"]}
    assert tags[stream["retainly"].pk] == [("Competitor", False), ("Retainly", True)]
    assert 'class="tag tag-competitor">Retainly' in response.content.decode()


def test_the_stream_filters_by_kind_tag_competitor_detractor_tier_and_owner(
    maggie_client, stream, bob
):
    retainly = Competitor.objects.get()

    def ids(**params):
        return stream_ids(maggie_client.get(COMMENTS, params))

    assert ids(kind="csat") == {stream["happy"].pk}
    assert ids(category="price") == {stream["price"].pk}
    assert ids(category="competitor") == {stream["retainly"].pk}
    assert ids(competitor=retainly.pk) == {stream["retainly"].pk}
    assert ids(detractors="on") == {stream["price"].pk, stream["retainly"].pk}
    assert ids(tier="A") == {stream["price"].pk}
    assert ids(owner=bob.pk) == {stream["retainly"].pk, stream["happy"].pk}
    assert ids(owner=bob.pk, detractors="on", kind="nps") == {stream["retainly"].pk}


def test_a_bad_filter_value_is_named_and_dropped(maggie_client, stream):
    response = maggie_client.get(COMMENTS, {"category": "nonsense", "competitor": "999"})
    assert response.status_code == 200
    assert len(stream_ids(response)) == 3
    body = response.content.decode()
    assert "Tag: Select a valid choice" in body and "Competitor: Select a valid choice" in body


def test_htmx_filtering_and_paging_get_only_the_stream(maggie_client, surveys):
    account = AccountFactory()
    for n in range(30):
        answer(surveys, account, 8, comment=f"Comment {n}", at=NOW - timedelta(hours=n + 1))
    response = maggie_client.get(COMMENTS, {"page": 2}, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="comment-stream">')
    assert len(response.context["rows"]) == 5
    assert 'href="?page=1"' in body  # the plain link stays for no-JavaScript use


def test_the_stream_downloads_as_csv_with_the_filters(maggie_client, stream):
    lines = csv_lines(maggie_client.get(COMMENTS, {"format": "csv", "detractors": "on"}))
    assert lines[0] == "answered_at,account,external_id,owner,kind,score,comment,tags"
    assert len(lines) == 3
    assert any("Competitor; Retainly" in line for line in lines)


@pytest.mark.parametrize("rows", [5, 40])
def test_the_stream_costs_the_same_queries_for_5_or_40_comments(
    maggie_client, surveys, rows, django_assert_num_queries
):
    gainwise = Competitor.objects.create(name="Gainwise")
    KeywordRule.objects.create(category="price", keywords="price")
    for n in range(rows):
        answer(surveys, AccountFactory(), n % 11, comment="price and Gainwise")
    # session, user, people, competitors, count, the page (account, owner, contact joined),
    # the page's tags with their competitors
    with django_assert_num_queries(7):
        response = maggie_client.get(COMMENTS, {"category": "price", "competitor": gainwise.pk})
    assert len(response.context["rows"]) == min(rows, 25)


# --- detractors without follow-up ---------------------------------------------------------------


def test_detractors_leave_the_list_when_touched_or_marked(alice_client, alice, surveys):
    account = AccountFactory(owner=alice, name="Grumpy Co")
    touched = answer(surveys, account, 2, at=NOW - timedelta(days=5))
    add_touch(
        account_id=account.pk,
        kind="call",
        happened_at=NOW - timedelta(days=4),
        author=alice,
        summary="Called",
    )
    waiting = answer(surveys, account, 6, at=NOW - timedelta(days=2))
    answer(surveys, account, 7)  # a passive
    csat = answer(surveys, AccountFactory(owner=alice), 1, kind="csat")
    add_touch(account_id=csat.account_id, kind="automated", happened_at=NOW, summary="Tips")

    ids = [r.pk for r, _can in alice_client.get(DETRACTORS).context["rows"]]
    assert ids == [csat.pk, waiting.pk]
    assert touched.pk not in ids

    response = alice_client.post(
        f"/feedback/responses/{waiting.pk}/followed-up/", {"next": DETRACTORS}
    )
    assert response.status_code == 302 and response.url == DETRACTORS
    waiting.refresh_from_db()
    assert waiting.followed_up_by == alice and waiting.followed_up_at == NOW
    assert AuditEntry.objects.filter(action="response.followed_up").count() == 1
    assert [r.pk for r, _c in alice_client.get(DETRACTORS).context["rows"]] == [csat.pk]

    htmx = alice_client.post(f"/feedback/responses/{csat.pk}/followed-up/", **HTMX)
    assert htmx.content.decode().lstrip().startswith(f'<tr id="detractor-{csat.pk}">')


def test_a_csm_cannot_mark_another_books_answer_followed_up(alice_client, bob, surveys):
    theirs = answer(surveys, AccountFactory(owner=bob), 0)
    assert alice_client.post(f"/feedback/responses/{theirs.pk}/followed-up/").status_code == 403
    theirs.refresh_from_db()
    assert theirs.followed_up_at is None


def test_the_detractor_list_links_to_the_touch_form_and_downloads_as_csv(maggie_client, surveys):
    account = AccountFactory(name="Grumpy Co")
    answer(surveys, account, 1, comment="Bad")
    body = maggie_client.get(DETRACTORS).content.decode()
    assert f'href="/accounts/{account.external_id}/touches/?next=/feedback/detractors/"' in body
    lines = csv_lines(maggie_client.get(DETRACTORS, {"format": "csv"}))
    assert len(lines) == 2 and "Grumpy Co" in lines[1]


@pytest.mark.parametrize("rows", [5, 40])
def test_the_detractor_list_costs_the_same_queries_for_5_or_40(
    alice_client, alice, surveys, rows, django_assert_num_queries
):
    for _ in range(rows):
        answer(surveys, AccountFactory(owner=alice), 3)
    # session, user, count, the page (account, owner and contact joined; touches as NOT EXISTS)
    with django_assert_num_queries(4):
        response = alice_client.get(DETRACTORS)
    assert len(response.context["rows"]) == min(rows, 25)


# --- keyword rules and competitors ---------------------------------------------------------------


def test_the_rules_page_starts_with_the_defaults_and_saving_re_tags(maggie_client, surveys):
    response = answer(surveys, AccountFactory(), 3, comment="The onboarding was a mess")
    page = maggie_client.get("/settings/keyword-rules/")
    assert "onboarding" in page.context["form"]["onboarding-keywords"].value()
    assert ResponseTag.objects.filter(response=response, category="onboarding").exists()

    data = {
        f"{c}-keywords": ""
        for c in (
            "price",
            "experience",
            "support",
            "functionality",
            "competitor",
            "wrong_fit",
            "no_updates",
            "other",
        )
    }
    data.update({"onboarding-keywords": "mess", "onboarding-active": "on"})
    result = maggie_client.post("/settings/keyword-rules/", data)
    assert result.status_code == 302
    assert list(
        ResponseTag.objects.filter(response=response).values_list("category", flat=True)
    ) == ["onboarding"]
    assert KeywordRule.objects.get(category="onboarding").keywords == "mess"
    assert AuditEntry.objects.filter(action="keyword_rule.update").exists()


def test_a_bad_keyword_is_named_and_nothing_is_saved(maggie_client):
    maggie_client.get("/settings/keyword-rules/")
    before = list(KeywordRule.objects.values_list("category", "keywords"))
    response = maggie_client.post(
        "/settings/keyword-rules/", {"price-keywords": "cheap\n!!!", "price-active": "on"}
    )
    assert response.status_code == 200
    assert "Price / value: Line 2 has no letters or digits" in response.content.decode()
    assert list(KeywordRule.objects.values_list("category", "keywords")) == before


def test_managers_add_edit_and_delete_competitors_and_comments_are_re_tagged(
    maggie_client, surveys
):
    response = answer(surveys, AccountFactory(), 3, comment="Going with GW Suite")
    result = maggie_client.post(
        "/settings/competitors/", {"name": "Gainwise", "aliases": "GW Suite\ngainwise.io"}
    )
    assert result.status_code == 302
    gainwise = Competitor.objects.get()
    assert ResponseTag.objects.filter(response=response, competitor=gainwise).exists()

    clash = maggie_client.post("/settings/competitors/", {"name": "gainwise", "aliases": ""})
    assert "Name: There is a competitor with this name already." in clash.content.decode()
    alias_clash = maggie_client.post(
        "/settings/competitors/", {"name": "Other", "aliases": "gw suite"}
    )
    assert "already names Gainwise" in alias_clash.content.decode()

    maggie_client.post(f"/settings/competitors/{gainwise.pk}/", {"name": "Gainwise", "aliases": ""})
    assert not ResponseTag.objects.filter(response=response, competitor__isnull=False).exists()
    maggie_client.post(f"/settings/competitors/{gainwise.pk}/", {"delete": "1"})
    assert not Competitor.objects.exists()


@pytest.mark.parametrize("rows", [3, 30])
def test_the_churn_list_costs_the_same_queries_for_3_or_30(
    alice_client, alice, rows, django_assert_num_queries
):
    from feedback.models import ChurnEvent

    ChurnEvent.objects.bulk_create(
        ChurnEvent(account=AccountFactory(owner=alice), churned_on=date(2026, 11, 1))
        for _ in range(rows)
    )
    # session, user, count, the page (account, owner, competitor, completed_by, marked_by joined)
    with django_assert_num_queries(4):
        response = alice_client.get("/feedback/churns/")
    assert len(response.context["page"].object_list) == min(rows, 25)
