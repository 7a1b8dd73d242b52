"""Managers edit the blueprint templates; new blueprints use the edited milestones."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from accounts.models import AuditEntry
from csm.workflow.blueprints import create_blueprints
from csm.workflow.models import BlueprintTemplate, MilestoneTemplate
from tests.factories import AccountFactory

URL = reverse("blueprints:template_edit", args=["basic"])


def post_data(template, changes=None, extra=None, delete=()):
    """The formset as the page posts it, with `changes` {title: {field: value}}."""
    milestones = list(template.milestones.all())
    data = {
        "milestones-TOTAL_FORMS": str(len(milestones) + (1 if extra else 0)),
        "milestones-INITIAL_FORMS": str(len(milestones)),
        "milestones-MIN_NUM_FORMS": "0",
        "milestones-MAX_NUM_FORMS": "1000",
    }
    for i, milestone in enumerate(milestones):
        row = {
            "id": str(milestone.pk),
            "side": milestone.side,
            "title": milestone.title,
            "description": milestone.description,
            "offset_days": str(milestone.offset_days),
        }
        row.update((changes or {}).get(milestone.title, {}))
        if milestone.title in delete:
            row["DELETE"] = "on"
        data.update({f"milestones-{i}-{key}": value for key, value in row.items()})
    if extra:
        data.update({f"milestones-{len(milestones)}-{k}": v for k, v in extra.items()})
    return data


def test_a_manager_edits_adds_and_removes_milestones_and_it_is_audited(maggie_client):
    template = BlueprintTemplate.objects.get(segment="basic")
    data = post_data(
        template,
        changes={"First data report delivered": {"offset_days": "45"}},
        extra={"side": "customer", "title": "Share the first success story", "offset_days": "90"},
        delete=("Quick-start pack sent (videos, FAQ)",),
    )
    response = maggie_client.post(URL, data)
    assert response.status_code == 302
    titles = dict(template.milestones.values_list("title", "offset_days"))
    assert titles["First data report delivered"] == 45
    assert titles["Share the first success story"] == 90
    assert "Quick-start pack sent (videos, FAQ)" not in titles
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert actions == {"blueprint template milestone", "blueprint template milestone removed"}

    account = AccountFactory(segment="basic", contract_start=date(2026, 1, 1))
    create_blueprints([account.pk])
    due = dict(account.blueprint.milestones.values_list("title", "due_on"))
    assert due["First data report delivered"] == date(2026, 2, 15)


def test_bad_values_are_named_and_nothing_is_written(maggie_client):
    template = BlueprintTemplate.objects.get(segment="basic")
    before = list(MilestoneTemplate.objects.values())
    data = post_data(
        template,
        changes={"Basic problems solved": {"offset_days": "-1"}},
        extra={"side": "ours", "title": "", "offset_days": "10"},
    )
    response = maggie_client.post(URL, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Due (days after the contract start):" in body
    assert "Milestone:" in body
    assert list(MilestoneTemplate.objects.values()) == before
    assert not AuditEntry.objects.exists()


def test_csms_may_not_edit_templates(alice_client):
    assert alice_client.get(reverse("blueprints:templates")).status_code == 403
    assert alice_client.get(URL).status_code == 403


def test_the_list_shows_every_segment(maggie_client):
    body = maggie_client.get(reverse("blueprints:templates")).content.decode()
    assert "Quick-start pack sent (videos, FAQ)" in body
    assert "Product manager joins a requirements review" in body


def test_removing_every_milestone_needs_a_confirmation(maggie_client):
    template = BlueprintTemplate.objects.get(segment="basic")
    titles = tuple(template.milestones.values_list("title", flat=True))
    data = post_data(template, delete=titles)
    response = maggie_client.post(URL, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "Remove every milestone: This removes every milestone of the Basic needs template" in body
    )
    assert 'name="confirm_empty"' in body
    assert template.milestones.count() == len(titles)
    assert not AuditEntry.objects.exists()

    response = maggie_client.post(URL, {**data, "confirm_empty": "on"})
    assert response.status_code == 302
    assert not template.milestones.exists()


def test_removing_some_milestones_or_replacing_them_needs_no_confirmation(maggie_client):
    template = BlueprintTemplate.objects.get(segment="basic")
    titles = tuple(template.milestones.values_list("title", flat=True))
    data = post_data(
        template,
        delete=titles,
        extra={"side": "ours", "title": "One call", "offset_days": "7"},
    )
    assert maggie_client.post(URL, data).status_code == 302
    assert list(template.milestones.values_list("title", flat=True)) == ["One call"]
