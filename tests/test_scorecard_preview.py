"""A scorecard change shows what it would do before it is saved: band moves per tier and risk
items that would open or clear on the last scored day, computed without writing; Save only after
a preview of the same input; a tier left with no weight is refused by name; another page can
open the form with suggested weights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AuditEntry
from csm.workflow.models import RiskItem
from csm.workflow.scorecard_preview import preview_scorecard
from health.models import DailyUsage, HealthScore, MeasureSetting, WeightOverride
from health.scorecard import MeasureInput, load_scorecard, proposed_scorecard, unweighted_tiers
from health.scoring import DEFAULT_MEASURES, MEASURE_KEYS
from health.services import recompute_health_scores
from tests.factories import AccountFactory, SubscriptionFactory
from tests.test_scorecard_page import form_data, save

URL = reverse("health:scorecard")
DAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def frozen(db):
    WeightOverride.objects.all().delete()  # the bare defaults
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=UTC), tick=False):
        yield


def customer(name, tier, *, active_yesterday):
    account = AccountFactory(name=name, tier=tier, contract_start=date(2025, 1, 1))
    SubscriptionFactory(account=account, amount=Decimal("100"), start_date=date(2025, 1, 1))
    if active_yesterday:
        DailyUsage.objects.create(
            account=account,
            day=DAY,
            events=5,
            active_users=1,
            active_features=0,
            logins=5,
            billing_events=0,
            failed_payments=0,
        )
    return account


@pytest.fixture
def scored():
    """Two active tier A accounts (red: 1 active day of 30) and an idle tier B one (red, and
    inactive for 90 days), scored on DAY."""
    accounts = {
        "a1": customer("Alpha One", "A", active_yesterday=True),
        "a2": customer("Alpha Two", "A", active_yesterday=True),
        "b": customer("Beta Idle", "B", active_yesterday=False),
    }
    recompute_health_scores(day=DAY)
    assert set(HealthScore.objects.values_list("band", flat=True)) == {"red"}
    for account in accounts.values():
        RiskItem.objects.create(
            account=account,
            opened_on=DAY,
            updated_on=DAY,
            reasons=[{"key": "red_band", "text": "red"}],
        )
    return accounts


def generous_active_days(client):
    data = form_data(client)
    data["active_days-grid"] = "0:100"  # every account scores 100 on active days
    return data


def test_the_preview_shows_band_moves_and_items_that_would_clear(maggie_client, scored):
    before = list(HealthScore.objects.order_by("pk").values())

    response = maggie_client.post(URL, generous_active_days(maggie_client))

    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.day == DAY
    tiers = {tier.tier: tier for tier in preview.tiers}
    # Tier A: (25 × 100 + 15 × 100) / 55 = 73, yellow; the red band was their only reason.
    assert tiers["A"].moves["red"] == {"red": 0, "yellow": 2, "green": 0}
    assert (tiers["A"].risk_open, tiers["A"].risk_clear) == (0, 2)
    # Tier B: (25 × 100) / 55 = 45, still red, and inactive anyway.
    assert tiers["B"].moves["red"] == {"red": 1, "yellow": 0, "green": 0}
    assert tiers["B"].risk_clear == 0
    assert preview.clears == ["Alpha One", "Alpha Two"]
    page = response.content.decode()
    assert "What this change would do" in page and "Tier A" in page
    # Nothing written: the scores, the items and the scorecard are as they were.
    assert list(HealthScore.objects.order_by("pk").values()) == before
    assert RiskItem.objects.filter(resolved_at__isnull=True, cleared_on__isnull=True).count() == 3
    assert MeasureSetting.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_a_change_that_makes_accounts_red_opens_items(scored):
    # In force: the generous grid (tier A yellow, no items); proposed: the default grid back.
    MeasureSetting.objects.create(key="active_days", enabled=True, weight=25, grid=[[0, 100]])
    RiskItem.objects.all().delete()
    recompute_health_scores(day=DAY)
    current = load_scorecard()
    defaults = {m.key: m for m in DEFAULT_MEASURES}
    proposed = proposed_scorecard(
        current,
        [
            MeasureInput(m.key, m.enabled, m.weight, defaults[m.key].grid, {})
            for m in current.measures
        ],
    )

    preview = preview_scorecard(proposed)

    tiers = {tier.tier: tier for tier in preview.tiers}
    assert tiers["A"].moves["yellow"]["red"] == 2
    assert (tiers["A"].risk_open, tiers["A"].risk_clear) == (2, 0)
    assert preview.opens == ["Alpha One", "Alpha Two"]
    # The idle tier B account has reasons either way (inactive): nothing opens or clears.
    assert (tiers["B"].risk_open, tiers["B"].risk_clear) == (0, 0)


def test_save_needs_a_preview_of_the_same_input(maggie_client, scored):
    data = generous_active_days(maggie_client)

    unpreviewed = maggie_client.post(URL, data | {"step": "save"})
    assert unpreviewed.status_code == 200
    assert "Preview this change before saving it" in unpreviewed.content.decode()
    assert unpreviewed.context["preview"] is not None  # shown now, to save from
    assert MeasureSetting.objects.count() == 0

    token = maggie_client.post(URL, data).context["preview_token"]
    changed = data | {"active_days-weight": "30"}
    other = maggie_client.post(URL, changed | {"step": "save", "preview_token": token})
    assert "Preview this change before saving it" in other.content.decode()
    assert MeasureSetting.objects.count() == 0

    saved = maggie_client.post(URL, data | {"step": "save", "preview_token": token})
    assert saved.status_code == 302
    assert load_scorecard().measures[0].grid == ((0, 100),)
    assert AuditEntry.objects.filter(action="scorecard.measure").count() == 1


def zero_column(column):
    """Weight 0 for every measure in one column of the weights table."""
    return {f"{key}-{column}": "0" for key in MEASURE_KEYS}


def test_a_tier_left_without_any_weight_is_refused_by_name(maggie_client):
    data = form_data(maggie_client) | zero_column("tier-B")

    response = maggie_client.post(URL, data | {"step": "preview"})

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1 and "Tier B would have no measure with a weight above 0" in errors[0]
    assert "preview" not in response.context
    assert WeightOverride.objects.count() == 0


def test_a_tier_left_without_weight_in_one_stage_is_refused_naming_the_stage(maggie_client):
    data = form_data(maggie_client) | zero_column("stage-onboarding")
    data["billing-tier-A"] = "10"  # tier A's own weight wins over the stage's: A keeps a score

    errors = maggie_client.post(URL, data).context["form"].non_field_errors()

    assert sorted(e.split(" would")[0] for e in errors) == ["Tier B", "Tier C"]
    assert all("Onboarding stage" in e for e in errors)


def test_unweighted_tiers_follows_the_nightlys_weight_rules():
    current = load_scorecard()
    assert unweighted_tiers(current) == {}


def test_another_page_opens_the_form_with_suggested_weights(maggie_client, scored):
    response = maggie_client.get(URL, {"active_days-grid": "0:100", "unknown": "1"})

    assert response.status_code == 200
    form = response.context["form"]
    assert form.is_bound and form["active_days-grid"].value() == "0:100"
    assert form["billing-weight"].value() == "10"  # the rest as it stands
    assert response.context["suggested"] and response.context["preview"] is not None
    assert MeasureSetting.objects.count() == 0  # nothing saved by opening it
    # Saving from there goes through the same token.
    data = generous_active_days(maggie_client)
    token = response.context["preview_token"]
    assert (
        maggie_client.post(URL, data | {"step": "save", "preview_token": token}).status_code == 302
    )


def test_save_helper_still_saves(maggie_client):
    data = form_data(maggie_client)
    data["active_days-weight"] = "30"
    assert save(maggie_client, data).status_code == 302


def test_a_csm_cannot_preview(alice_client):
    assert alice_client.get(URL, {"active_days-weight": "30"}).status_code == 403
    assert alice_client.post(URL, {}).status_code == 403


def test_no_scored_day_yet_says_so(maggie_client):
    response = maggie_client.post(URL, form_data(maggie_client))
    assert response.context["preview"] is None
    assert "No day has been scored yet" in response.content.decode()


def test_preview_between_days_uses_the_latest(scored):
    assert preview_scorecard(load_scorecard()).day == DAY
    assert preview_scorecard(load_scorecard(), day=DAY - timedelta(days=1)).moved == 0
