"""Forms of the feedback pages, churn records, keyword rules and competitors. Filter forms drop a
bad value (its error is shown next to it); the others return domain values from `clean_*`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Tier, User
from csm.lib.forms import QuickSelect
from feedback.models import ChurnCategory, ChurnType, Competitor, SurveyKind
from feedback.tagging import (
    KEYWORD_MAX_CHARS,
    KEYWORDS_MAX_PER_RULE,
    normalise,
    parse_keywords,
)

MONTH_CHOICES = [("6", _("6 months")), ("12", _("12 months")), ("24", _("24 months"))]


class BookFilterForm(forms.Form):
    """A report's filters with the book picker: a manager picks one CSM's book (`people`, from
    accounts.scopes.filter_people); a CSM, who sees their own book, gets no picker."""

    owner = forms.ChoiceField(label=_("CSM"), required=False, widget=QuickSelect)

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", _("Everybody")),
            *((str(p.pk), str(p)) for p in people),
        ]
        if not people:
            del self.fields["owner"]


class OverviewFilterForm(BookFilterForm):
    months = forms.ChoiceField(label=_("Period"), choices=MONTH_CHOICES, required=False)
    field_order = ["months", "owner"]


class CommentFilterForm(BookFilterForm):
    kind = forms.ChoiceField(
        label=_("Survey"), choices=[("", _("All")), *SurveyKind.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("Tag"), choices=[("", _("Any")), *ChurnCategory.choices], required=False
    )
    competitor = forms.ChoiceField(label=_("Competitor"), required=False)
    tier = forms.ChoiceField(
        label=_("Tier"), choices=[("", _("All")), *Tier.choices], required=False
    )
    detractors = forms.BooleanField(label=_("Detractors only"), required=False)
    field_order = ["kind", "category", "competitor", "tier", "owner", "detractors"]

    def __init__(
        self, *args: Any, people: list[User], competitors: list[Competitor], **kwargs: Any
    ) -> None:
        super().__init__(*args, people=people, **kwargs)
        # The page's one competitor query feeds the choices; no query to validate.
        self.fields["competitor"].choices = [
            ("", _("Any")),
            *((str(c.pk), c.name) for c in competitors),
        ]
        self._competitors = {str(c.pk): c for c in competitors}

    def clean_competitor(self) -> Competitor | None:
        # The choice is valid by now (ChoiceField checked it against the same list).
        return self._competitors.get(self.cleaned_data.get("competitor") or "")


class DetractorFilterForm(BookFilterForm):
    tier = forms.ChoiceField(
        label=_("Tier"), choices=[("", _("All")), *Tier.choices], required=False
    )
    field_order = ["tier", "owner"]


# --- Churn records -------------------------------------------------------------------------------


class MarkChurnedForm(forms.Form):
    """Both fields are needed (churn.mark_churned refuses an empty form too); the day starts as
    today."""

    day = forms.DateField(
        label=_("Churned on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        required=False,
    )
    note = forms.CharField(
        label=_("How you know"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("e.g. the cancellation letter or the call where they said so"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["day"].initial = timezone.localdate()


class ChurnCompleteForm(forms.Form):
    category = forms.ChoiceField(label=_("Reason"), choices=[("", "—"), *ChurnCategory.choices])
    churn_type = forms.ChoiceField(
        label=_("Voluntary or involuntary"),
        choices=ChurnType.choices,
        widget=forms.RadioSelect,
    )
    competitor = forms.ModelChoiceField(
        label=_("Competitor"),
        queryset=Competitor.objects.all(),
        required=False,
        empty_label="—",
        help_text=_("required when the reason is “Competitor”"),
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("category") == ChurnCategory.COMPETITOR and not data.get("competitor"):
            self.add_error("competitor", _("Name the competitor the customer left for."))
        return data


# --- Keyword rules and competitors ---------------------------------------------------------------


def _clean_keyword_lines(text: str, *, what: str) -> list[str]:
    keywords = parse_keywords(text)
    if len(keywords) > KEYWORDS_MAX_PER_RULE:
        raise ValidationError(
            _("At most %(n)s %(what)s.") % {"n": KEYWORDS_MAX_PER_RULE, "what": what}
        )
    for number, line in enumerate((text or "").splitlines(), start=1):
        keyword = line.strip()
        if not keyword:
            continue
        if len(keyword) > KEYWORD_MAX_CHARS:
            raise ValidationError(
                _("Line %(i)s is longer than %(n)s characters.")
                % {"i": number, "n": KEYWORD_MAX_CHARS}
            )
        if not normalise(keyword):
            raise ValidationError(
                _("Line %(i)s has no letters or digits: “%(k)s”.") % {"i": number, "k": keyword}
            )
    return keywords


class KeywordRulesForm(forms.Form):
    """One keywords box and an "active" tick per churn-cause category."""

    def __init__(self, *args: Any, initial_rules: dict[str, tuple[str, bool]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        for category in ChurnCategory:
            text, active = initial_rules.get(category.value, ("", True))
            self.fields[f"{category.value}-keywords"] = forms.CharField(
                label=category.label,
                required=False,
                initial=text,
                widget=forms.Textarea(attrs={"rows": 6}),
                help_text=_("one word or phrase per line"),
            )
            self.fields[f"{category.value}-active"] = forms.BooleanField(
                label=_("active"), required=False, initial=active
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for category in ChurnCategory:
            name = f"{category.value}-keywords"
            try:
                data[name] = _clean_keyword_lines(data.get(name, ""), what=_("keywords"))
            except ValidationError as error:
                self.add_error(name, error)
        return data

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"{c.value}-keywords"], self[f"{c.value}-active"]) for c in ChurnCategory]

    def rules(self) -> dict[str, tuple[list[str], bool]]:
        return {
            c.value: (
                self.cleaned_data[f"{c.value}-keywords"],
                bool(self.cleaned_data.get(f"{c.value}-active")),
            )
            for c in ChurnCategory
        }


class CompetitorForm(forms.ModelForm):
    class Meta:
        model = Competitor
        fields = ["name", "aliases"]
        widgets = {"aliases": forms.Textarea(attrs={"rows": 3})}

    def clean_name(self) -> str:
        name = " ".join((self.cleaned_data.get("name") or "").split())
        if not normalise(name):
            raise ValidationError(_("The name needs letters or digits."))
        others = Competitor.objects.exclude(pk=self.instance.pk)
        if others.filter(name__iexact=name).exists():
            raise ValidationError(_("There is a competitor with this name already."))
        return name

    def clean_aliases(self) -> str:
        return "\n".join(
            _clean_keyword_lines(self.cleaned_data.get("aliases", ""), what=_("aliases"))
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        mine = {normalise(n) for n in [data["name"], *parse_keywords(data["aliases"])]}
        for other in Competitor.objects.exclude(pk=self.instance.pk):
            theirs = {normalise(n) for n in [other.name, *parse_keywords(other.aliases)]}
            clash = sorted(mine & theirs)
            if clash:
                self.add_error(
                    "aliases",
                    _("“%(name)s” already names %(other)s.") % {"name": clash[0], "other": other},
                )
                break
        return data
