"""Forms of the survey pages: the customer's answer, the managers' survey definitions, and
sending (to one contact of an account, or to a segment)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Account, Contact, LifecycleStage, Segment, Tier
from csm.lib.starting_content import in_readers_language
from feedback.models import Survey, SurveyKind
from feedback.services import ANSWER_MAX, COMMENT_MAX

# The words at both ends of each kind's scale (DESIGN §4).
SCALE_ENDS = {
    SurveyKind.NPS: (gettext_lazy("Not at all likely"), gettext_lazy("Extremely likely")),
    SurveyKind.CSAT: (gettext_lazy("Very unsatisfied"), gettext_lazy("Very satisfied")),
    SurveyKind.CES: (gettext_lazy("Very difficult"), gettext_lazy("Very easy")),
}


class AnswerForm(forms.Form):
    """The public answer form: a score on the survey's scale, the optional comment and the extra
    questions (fields `extra_0`, `extra_1`, …)."""

    def __init__(self, *args: Any, survey: Survey, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.survey = survey
        low, high = survey.scale
        message = _("Choose a score from %(lo)s to %(hi)s.") % {"lo": low, "hi": high}
        self.fields["score"] = forms.TypedChoiceField(
            label=in_readers_language(survey.question),
            choices=[(str(n), str(n)) for n in range(low, high + 1)],
            coerce=int,
            widget=forms.RadioSelect,
            error_messages={"required": message, "invalid_choice": message},
        )
        if survey.comment_prompt:
            self.fields["comment"] = forms.CharField(
                label=in_readers_language(survey.comment_prompt),
                required=False,
                max_length=COMMENT_MAX,
                widget=forms.Textarea(attrs={"rows": 4}),
            )
        for number, question in enumerate(survey.extra_questions or []):
            # Labelled in the reader's language; the answer stays keyed by the stored question.
            self.fields[f"extra_{number}"] = forms.CharField(
                label=in_readers_language(question), required=False, max_length=ANSWER_MAX
            )

    @property
    def scale_ends(self) -> tuple[str, str]:
        low, high = SCALE_ENDS[self.survey.kind]
        return str(low), str(high)

    def extra_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("extra_")]

    def answers(self) -> dict[str, str]:
        return {
            question: self.cleaned_data.get(f"extra_{number}", "")
            for number, question in enumerate(self.survey.extra_questions or [])
        }


def _blank(label: str) -> list[tuple[str, str]]:
    return [("", label)]


class SurveyForm(forms.ModelForm):
    extra_questions_text = forms.CharField(
        label=gettext_lazy("Extra questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Optional, one per line, answered in free text."),
    )

    class Meta:
        model = Survey
        fields = [
            "name",
            "kind",
            "question",
            "comment_prompt",
            "every_days",
            "audience_tier",
            "audience_segment",
            "audience_stage",
            "is_exit_survey",
            "active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["audience_tier"] = forms.ChoiceField(
            label=_("Tier"), required=False, choices=_blank(_("Any tier")) + list(Tier.choices)
        )
        self.fields["audience_segment"] = forms.ChoiceField(
            label=_("Segment"),
            required=False,
            choices=_blank(_("Any segment")) + list(Segment.choices),
        )
        self.fields["audience_stage"] = forms.ChoiceField(
            label=_("Lifecycle stage"),
            required=False,
            choices=_blank(_("Any stage")) + list(LifecycleStage.choices),
        )
        self.fields["every_days"].help_text = _(
            "Blank = not scheduled. Nobody gets any survey more often than every %(n)s days."
        ) % {"n": settings.SURVEY_MIN_INTERVAL_DAYS}
        self.fields["extra_questions_text"].initial = "\n".join(self.instance.extra_questions or [])
        self.order_fields([*self.Meta.fields[:4], "extra_questions_text"])

    def clean_kind(self) -> str:
        kind = self.cleaned_data["kind"]
        if self.instance.pk and kind != self.instance.kind:
            answers = self.instance.responses.count()
            if answers:
                raise forms.ValidationError(
                    ngettext(
                        "This survey has %(n)s answer on its current scale; changing the kind "
                        "would mix scales. Create a new survey instead.",
                        "This survey has %(n)s answers on its current scale; changing the kind "
                        "would mix scales. Create a new survey instead.",
                        answers,
                    )
                    % {"n": answers}
                )
        return kind

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_extra_questions_text(self) -> list[str]:
        questions = [
            line.strip() for line in self.cleaned_data["extra_questions_text"].splitlines()
        ]
        questions = [q for q in questions if q]
        if len(questions) > 5:
            raise forms.ValidationError(_("Ask at most 5 extra questions: keep it short."))
        for question in questions:
            if len(question) > 300:
                raise forms.ValidationError(_("Keep each question under 300 characters."))
        if len(set(questions)) != len(questions):
            raise forms.ValidationError(_("Each question once, please."))
        return questions

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("is_exit_survey") and data.get("every_days"):
            self.add_error(
                "every_days",
                _("An exit survey goes out after a churn, not on a schedule: leave this blank."),
            )
        return data

    def save(self, commit: bool = True) -> Survey:
        self.instance.extra_questions = self.cleaned_data["extra_questions_text"]
        return super().save(commit=commit)


class SendToContactForm(forms.Form):
    """The account page's "send a survey": one survey to one of the account's contacts."""

    survey = forms.ModelChoiceField(
        label=gettext_lazy("Survey"), queryset=Survey.objects.none(), empty_label=None
    )
    contact = forms.ModelChoiceField(
        label=gettext_lazy("To"), queryset=Contact.objects.none(), empty_label=None
    )

    def __init__(
        self,
        *args: Any,
        account: Account,
        surveys: list[Survey],
        contacts: list[Contact],
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.fields["survey"].queryset = Survey.objects.filter(pk__in=[s.pk for s in surveys])
        self.fields["survey"].choices = [(s.pk, s.name) for s in surveys]
        self.fields["contact"].queryset = Contact.objects.filter(account=account).exclude(email="")
        self.fields["contact"].choices = [
            (c.pk, f"{c.name} <{c.email}>" + (" · " + _("primary") if c.is_primary else ""))
            for c in contacts
            if c.email
        ]


class SendToSegmentForm(forms.Form):
    """Send one survey to the primary contacts of a segment of customers."""

    survey = forms.ModelChoiceField(
        label=gettext_lazy("Survey"), queryset=Survey.objects.none(), empty_label=None
    )
    tier = forms.ChoiceField(label=gettext_lazy("Tier"), required=False)
    segment = forms.ChoiceField(label=gettext_lazy("Segment"), required=False)
    stage = forms.ChoiceField(label=gettext_lazy("Lifecycle stage"), required=False)

    def __init__(self, *args: Any, surveys: list[Survey], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = Survey.objects.filter(pk__in=[s.pk for s in surveys])
        self.fields["survey"].choices = [(s.pk, s.name) for s in surveys]
        self.fields["tier"].choices = _blank(_("Any tier")) + list(Tier.choices)
        self.fields["segment"].choices = _blank(_("Any segment")) + list(Segment.choices)
        self.fields["stage"].choices = _blank(_("Any stage")) + list(LifecycleStage.choices)
