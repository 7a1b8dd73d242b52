"""Managers: the keyword rules and competitors that tag comments (feedback.tagging); saving the
rules re-tags every comment."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.db import transaction
from django.db.models import (
    Count,
)
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.access import AuthenticatedHttpRequest, manager_required
from accounts.audit import record_changes
from feedback.models import (
    Competitor,
    KeywordRule,
    ResponseTag,
)
from feedback.report_forms import (
    CompetitorForm,
    KeywordRulesForm,
)
from feedback.tagging import ensure_default_keyword_rules, retag_all_responses


@manager_required
@require_http_methods(["GET", "POST"])
def keyword_rules(request: AuthenticatedHttpRequest) -> HttpResponse:
    if ensure_default_keyword_rules():
        retag_all_responses()  # the comments written before there were rules
    existing: dict[str, list[KeywordRule]] = defaultdict(list)
    for rule in KeywordRule.objects.all():
        existing[rule.category].append(rule)
    initial = {
        category: (
            "\n".join(r.keywords.strip() for r in rules if r.keywords.strip()),
            any(r.active for r in rules),
        )
        for category, rules in existing.items()
    }
    form = KeywordRulesForm(request.POST or None, initial_rules=initial)
    if request.method == "POST" and form.is_valid():
        changed = 0
        with transaction.atomic():
            for category, (keywords, active) in form.rules().items():
                text = "\n".join(keywords)
                old_text, old_active = initial.get(category, ("", True))
                if (
                    text == old_text
                    and active == old_active
                    and len(existing.get(category, [])) <= 1
                ):
                    continue
                KeywordRule.objects.filter(category=category).delete()
                rule = KeywordRule.objects.create(category=category, keywords=text, active=active)
                record_changes(
                    actor=request.user,
                    obj=rule,
                    action="keyword_rule.update",
                    changes={
                        f"keywords {category}": (old_text, text),
                        f"active {category}": (old_active, active),
                    },
                )
                changed += 1
            retagged = retag_all_responses() if changed else 0
        messages.success(
            request,
            _("Saved the keyword rules (%(n)s changed) and re-tagged %(c)s comments.")
            % {"n": changed, "c": retagged},
        )
        return redirect("feedback_reports:rules")
    return TemplateResponse(request, "feedback/rules.html", {"form": form, "nav": "rules"})


@manager_required
@require_http_methods(["GET", "POST"])
def competitors(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CompetitorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            competitor = form.save()
            record_changes(
                actor=request.user,
                obj=competitor,
                action="competitor.add",
                changes={"name": ("", competitor.name), "aliases": ("", competitor.aliases)},
            )
            retagged = retag_all_responses()
        messages.success(
            request,
            _("Added %(name)s and re-tagged %(c)s comments.")
            % {"name": competitor.name, "c": retagged},
        )
        return redirect("feedback_reports:competitors")
    rows = list(Competitor.objects.annotate(churns=Count("churn_events")).order_by("name"))
    mentions = dict(
        ResponseTag.objects.filter(competitor__isnull=False)
        .values_list("competitor_id")
        .annotate(n=Count("pk"))
        .values_list("competitor_id", "n")
        .order_by()
    )
    for row in rows:
        row.mentions = mentions.get(row.pk, 0)  # type: ignore[attr-defined]
    return TemplateResponse(
        request, "feedback/competitors.html", {"form": form, "rows": rows, "nav": "competitors"}
    )


@manager_required
@require_http_methods(["GET", "POST"])
def competitor_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    competitor = get_object_or_404(Competitor, pk=pk)
    old = {"name": competitor.name, "aliases": competitor.aliases}
    if request.method == "POST" and request.POST.get("delete"):
        with transaction.atomic():
            record_changes(
                actor=request.user,
                obj=competitor,
                action="competitor.delete",
                changes={"name": (competitor.name, "")},
            )
            competitor.delete()  # its tags go with it; churn records keep their reason
        messages.success(request, _("Deleted %(name)s.") % {"name": old["name"]})
        return redirect("feedback_reports:competitors")
    form = CompetitorForm(request.POST or None, instance=competitor)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            competitor = form.save()
            record_changes(
                actor=request.user,
                obj=competitor,
                action="competitor.update",
                changes={
                    "name": (old["name"], competitor.name),
                    "aliases": (old["aliases"], competitor.aliases),
                },
            )
            retagged = retag_all_responses()
        messages.success(
            request,
            _("Saved %(name)s and re-tagged %(c)s comments.")
            % {"name": competitor.name, "c": retagged},
        )
        return redirect("feedback_reports:competitors")
    return TemplateResponse(
        request,
        "feedback/competitors_edit.html",
        {"form": form, "competitor": competitor, "nav": "competitors"},
    )
