"""Managers edit the blueprint templates: the milestones a new account of each segment starts
with. Existing blueprints keep their milestones; a change applies to blueprints made after it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import AuthenticatedHttpRequest, manager_required
from csm.workflow.blueprints import save_template_milestones
from csm.workflow.models import BlueprintTemplate, MilestoneTemplate

# The longest offset a milestone may have: a blueprint covers the first year.
MAX_OFFSET_DAYS = 365


class MilestoneTemplateForm(forms.ModelForm):
    offset_days = forms.IntegerField(
        label=gettext_lazy("Due (days after the contract start)"),
        min_value=0,
        max_value=MAX_OFFSET_DAYS,
    )

    class Meta:
        model = MilestoneTemplate
        fields = ["side", "title", "description", "offset_days"]
        labels = {
            "side": gettext_lazy("Whose commitment"),
            "title": gettext_lazy("Milestone"),
            "description": gettext_lazy("Details"),
        }
        widgets = {"description": forms.TextInput()}


class ConfirmEmptyForm(forms.Form):
    """Shown with the formset: removing every milestone needs this ticked
    (save_template_milestones refuses it otherwise)."""

    confirm_empty = forms.BooleanField(
        label=gettext_lazy("Remove every milestone"),
        required=False,
    )


MilestoneFormSet = forms.inlineformset_factory(
    BlueprintTemplate, MilestoneTemplate, form=MilestoneTemplateForm, extra=2, can_delete=True
)


@manager_required
@require_GET
def template_list(request: AuthenticatedHttpRequest) -> TemplateResponse:
    # list(): rendered once, milestones prefetched.
    templates = list(BlueprintTemplate.objects.prefetch_related("milestones").order_by("segment"))
    return TemplateResponse(
        request, "csm/blueprint_templates.html", {"templates": templates, "nav": "blueprints"}
    )


@manager_required
@require_http_methods(["GET", "POST"])
def template_edit(request: AuthenticatedHttpRequest, segment: str) -> HttpResponse:
    template = get_object_or_404(BlueprintTemplate, segment=segment)
    formset = MilestoneFormSet(request.POST or None, instance=template)
    confirm = ConfirmEmptyForm(request.POST or None)
    if request.method == "POST" and formset.is_valid() and confirm.is_valid():
        saved, removed = _edits(formset)
        try:
            changed = save_template_milestones(
                actor=request.user,
                template=template,
                saved=saved,
                removed=removed,
                confirm_empty=confirm.cleaned_data["confirm_empty"],
            )
        except ValidationError as error:
            confirm.add_error(None, error)
        else:
            messages.success(
                request,
                _("Saved %(n)s change(s) to the %(name)s template; new blueprints use it.")
                % {"n": changed, "name": template.name},
            )
            return redirect("blueprints:templates")
    return TemplateResponse(
        request,
        "csm/blueprint_template_edit.html",
        {"template": template, "formset": formset, "confirm": confirm, "nav": "blueprints"},
    )


def _edits(formset: Any) -> tuple[list[MilestoneTemplate], list[MilestoneTemplate]]:
    """The valid formset's milestones to write (not saved yet) and those to delete; unchanged
    rows and blank extra rows are neither."""
    saved: list[MilestoneTemplate] = []
    removed: list[MilestoneTemplate] = []
    for form in formset.forms:
        if not form.has_changed() or form.instance.pk is None and not form.cleaned_data:
            continue
        if form.cleaned_data.get("DELETE"):
            if form.instance.pk is not None:
                removed.append(form.instance)
            continue
        saved.append(form.save(commit=False))
    return saved, removed
