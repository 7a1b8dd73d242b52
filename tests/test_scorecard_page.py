"""The managers' scorecard page: measures, weights, grids and weights per tier and stage."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from health.models import MeasureSetting, WeightOverride
from health.scorecard import load_scorecard
from health.scoring import DEFAULTS_BY_KEY, MEASURE_KEYS

URL = reverse("health:scorecard")


@pytest.fixture(autouse=True)
def without_starting_weights(db):
    """Start from the bare defaults: the migration's onboarding weights are tested on their own."""
    WeightOverride.objects.all().delete()


def form_data(client) -> dict[str, str]:
    """What the browser would post back for the page as shown, unchanged."""
    form = client.get(URL).context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is True:
            data[name] = "on"
        elif value not in (False, None):
            data[name] = str(form.fields[name].prepare_value(value))
    return data


def save(client, data, **kwargs):
    """Preview `data`, then save it with the preview's token, as the page's two buttons do."""
    preview = client.post(URL, data | {"step": "preview"})
    assert preview.status_code == 200 and not preview.context["form"].errors
    token = preview.context["preview_token"]
    return client.post(URL, data | {"step": "save", "preview_token": token}, **kwargs)


# --- Access --------------------------------------------------------------------------------------


def test_a_csm_gets_403(alice_client):
    assert alice_client.get(URL).status_code == 403
    assert alice_client.post(URL, {"active_days-weight": "99"}).status_code == 403
    assert MeasureSetting.objects.count() == 0


def test_an_anonymous_visitor_is_sent_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_managers_have_a_nav_link(maggie_client):
    assert f'href="{URL}"' in maggie_client.get(reverse("accounts:list")).content.decode()


# --- Showing -------------------------------------------------------------------------------------


def test_the_page_shows_every_measure_with_its_defaults(maggie_client):
    response = maggie_client.get(URL)
    assert response.status_code == 200 and response.context["nav"] == "scorecard"
    content = response.content.decode()
    for key in MEASURE_KEYS:
        assert str(DEFAULTS_BY_KEY[key].label) in content
    assert 'value="0:0, 1:20, 4:40, 8:60, 13:80, 18:100"' in content
    assert 'value="-100:0, -50:25, -25:50, -10:75, 0:100"' in content
    data = form_data(maggie_client)
    assert data["active_days-weight"] == "25" and data["active_days-enabled"] == "on"
    assert "active_days-tier-A" not in data  # blank: the measure's weight applies


def test_the_page_shows_stored_settings(maggie_client):
    MeasureSetting.objects.create(
        key="billing", enabled=False, weight=5, grid=[[0, 100], [0.5, 40], [2, 0]]
    )
    WeightOverride.objects.create(key="billing", tier="A", weight=30)
    data = form_data(maggie_client)
    assert "billing-enabled" not in data
    assert data["billing-weight"] == "5"
    assert data["billing-grid"] == "0:100, 0.5:40, 2:0"
    assert data["billing-tier-A"] == "30"


def test_the_page_takes_a_fixed_number_of_queries(maggie_client, django_assert_num_queries):
    # Session, user, the two scorecard queries, the tier-in-stage weights listed read-only.
    with django_assert_num_queries(5):
        maggie_client.get(URL)


# --- Saving --------------------------------------------------------------------------------------


def test_saving_changes_stores_them_and_the_nightly_scorecard_uses_them(maggie_client, maggie):
    data = form_data(maggie_client)
    data.pop("seat_utilisation-enabled")
    data["active_days-weight"] = "40"
    data["active_days-grid"] = "0:0, 5:50, 10.5:100"
    data["billing-tier-A"] = "30"
    data["usage_trend-stage-onboarding"] = "0"
    data["reason"] = "seats are not known for most accounts"
    response = save(maggie_client, data)
    assert response.status_code == 302 and response.url == URL

    scorecard = load_scorecard()
    measures = {m.key: m for m in scorecard.measures}
    assert measures["active_days"].weight == 40
    assert measures["active_days"].grid == ((0, 0), (5, 50), (Decimal("10.5"), 100))
    assert measures["seat_utilisation"].enabled is False
    assert scorecard.weight_overrides == {
        ("billing", "A", ""): 30,
        ("usage_trend", "", "onboarding"): 0,
    }
    # Only the measures that changed get a settings row.
    assert set(MeasureSetting.objects.values_list("key", flat=True)) == {
        "active_days",
        "seat_utilisation",
    }
    assert MeasureSetting.objects.get(key="active_days").updated_by == maggie


def test_saved_changes_are_audited(maggie_client, maggie):
    data = form_data(maggie_client)
    data["active_days-weight"] = "40"
    data["active_days-grid"] = "0:0, 5:50"
    data["billing-tier-A"] = "30"
    data["reason"] = "quarterly review"
    save(maggie_client, data)

    entries = AuditEntry.objects.order_by("pk")
    assert {(e.action, e.field, e.old_value, e.new_value) for e in entries} == {
        ("scorecard.measure", "weight", "25", "40"),
        ("scorecard.measure", "grid", "0:0, 1:20, 4:40, 8:60, 13:80, 18:100", "0:0, 5:50"),
        ("scorecard.weight", "billing weight, tier A", "", "30"),
    }
    for entry in entries:
        assert entry.actor == maggie and entry.account is None
        assert entry.reason == "quarterly review"


def test_clearing_a_cell_removes_that_weight_and_is_audited(maggie_client):
    WeightOverride.objects.create(key="billing", stage="mature", weight=30)
    data = form_data(maggie_client)
    assert data.pop("billing-stage-mature") == "30"
    save(maggie_client, data)
    assert WeightOverride.objects.count() == 0
    entry = AuditEntry.objects.get()
    assert (entry.field, entry.old_value, entry.new_value) == (
        "billing weight, stage mature",
        "30",
        "",
    )


def test_saving_the_page_unchanged_writes_nothing(maggie_client):
    response = save(maggie_client, form_data(maggie_client), follow=True)
    assert "Nothing changed" in response.content.decode()
    assert MeasureSetting.objects.count() == 0 and WeightOverride.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_weights_for_a_tier_within_a_stage_are_kept_and_listed(maggie_client):
    WeightOverride.objects.create(key="billing", tier="A", stage="onboarding", weight=50)
    response = maggie_client.get(URL)
    assert "tier A, Onboarding: 50" in response.content.decode()
    data = form_data(maggie_client)
    data["billing-weight"] = "12"
    save(maggie_client, data)
    assert WeightOverride.objects.get().weight == 50


# --- Refusing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grid", "error"),
    [
        ("0:0, 4:40, 1:20", "row 3: lower bounds must rise from row to row"),
        ("0:0, 1:120", "row 2: a score is 0 to 100"),
        ("0:0, 1", "row 2: give a lower bound and a score"),
        ("0:0, 1:x", "row 2: not a number"),
        ("nan:0", "row 1: not a number"),
        ("0:0, 1000000001:100", "row 2: a lower bound is from −1,000,000,000 to 1,000,000,000"),
        ("-1e10:0, 0:100", "row 1: a lower bound is from −1,000,000,000 to 1,000,000,000"),
        ("0:0, 1e400:100", "row 2: a lower bound is from −1,000,000,000 to 1,000,000,000"),
        ("", "This field is required."),
        (" , ", "give at least one row"),
    ],
)
def test_a_bad_grid_is_shown_next_to_its_field_and_nothing_is_saved(maggie_client, grid, error):
    data = form_data(maggie_client)
    data["active_days-weight"] = "40"  # a valid change elsewhere is not saved either
    data["feature_adoption-grid"] = grid
    response = maggie_client.post(URL, data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"feature_adoption-grid": [error]}
    assert "Nothing was saved" in response.content.decode()
    assert MeasureSetting.objects.count() == 0 and AuditEntry.objects.count() == 0


@pytest.mark.parametrize("value", ["-1", "101", "x"])
def test_a_bad_weight_is_refused(maggie_client, value):
    data = form_data(maggie_client)
    data["billing-tier-B"] = value
    response = maggie_client.post(URL, data)
    assert response.status_code == 200 and "billing-tier-B" in response.context["form"].errors
    assert WeightOverride.objects.count() == 0


def test_a_scorecard_without_any_weighted_measure_is_refused(maggie_client):
    data = form_data(maggie_client)
    for key in MEASURE_KEYS:
        data.pop(f"{key}-enabled")
    data["active_days-enabled"] = "on"
    data["active_days-weight"] = "0"
    response = maggie_client.post(URL, data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert MeasureSetting.objects.count() == 0
