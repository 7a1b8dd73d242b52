"""Managers: the keyword rules and competitors that tag comments (feedback.tagging); saving the
rules re-tags every comment."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import (
    Count,
)
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from accounts.access import AuthenticatedHttpRequest, manager_required
from feedback.models import (
    Competitor,
    ResponseTag,
)
from feedback.report_forms import (
    CompetitorForm,
    KeywordRulesForm,
)
from feedback.tagging import (
    delete_competitor,
    ensure_default_keyword_rules,
    keyword_rules_in_force,
    retag_all_responses,
    save_competitor,
    save_keyword_rules,
)


@manager_required
@require_http_methods(["GET", "POST"])
def keyword_rules(request: AuthenticatedHttpRequest) -> HttpResponse:
    if ensure_default_keyword_rules():
        retag_all_responses()  # the comments written before there were rules
    form = KeywordRulesForm(request.POST or None, initial_rules=keyword_rules_in_force())
    if request.method == "POST" and form.is_valid():
        changed, retagged = save_keyword_rules(actor=request.user, rules=form.rules())
        messages.success(
            request,
            ngettext(
                "Saved the keyword rules (%(n)s changed) and re-tagged %(c)s comment.",
                "Saved the keyword rules (%(n)s changed) and re-tagged %(c)s comments.",
                retagged,
            )
            % {"n": changed, "c": retagged},
        )
        return redirect("feedback_reports:rules")
    return TemplateResponse(request, "feedback/rules.html", {"form": form, "nav": "rules"})


@manager_required
@require_http_methods(["GET", "POST"])
def competitors(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CompetitorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        competitor, retagged = save_competitor(actor=request.user, **form.cleaned_data)
        messages.success(
            request,
            ngettext(
                "Added %(name)s and re-tagged %(c)s comment.",
                "Added %(name)s and re-tagged %(c)s comments.",
                retagged,
            )
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
    if request.method == "POST" and request.POST.get("delete"):
        delete_competitor(actor=request.user, competitor=competitor)
        messages.success(request, _("Deleted %(name)s.") % {"name": competitor.name})
        return redirect("feedback_reports:competitors")
    form = CompetitorForm(request.POST or None, instance=competitor)
    if request.method == "POST" and form.is_valid():
        competitor, retagged = save_competitor(
            actor=request.user, competitor=competitor, **form.cleaned_data
        )
        messages.success(
            request,
            ngettext(
                "Saved %(name)s and re-tagged %(c)s comment.",
                "Saved %(name)s and re-tagged %(c)s comments.",
                retagged,
            )
            % {"name": competitor.name, "c": retagged},
        )
        return redirect("feedback_reports:competitors")
    return TemplateResponse(
        request,
        "feedback/competitors_edit.html",
        {"form": form, "competitor": competitor, "nav": "competitors"},
    )
