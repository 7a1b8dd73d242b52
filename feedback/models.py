"""Customer feedback: surveys (NPS/CSAT/CES), emailed invitations with a signed link, the answers,
keyword tags on comments, competitors and churn records (DESIGN §2 churn causes, §4 maths)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact
from feedback.scores import LOW_SCORE_MAX, NPS_DETRACTOR_MAX

# The longest a survey's schedule may be: every 3 years (a longer one is a typo; blank = none).
SURVEY_MAX_INTERVAL_DAYS = 3 * 365


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS (0–10)")
    CSAT = "csat", _("CSAT (1–5)")
    CES = "ces", _("CES (1–7)")


# The answer scale of each kind (DESIGN §4); a response stores the scale it was given on.
SCALES: dict[str, tuple[int, int]] = {
    SurveyKind.NPS: (0, 10),
    SurveyKind.CSAT: (1, 5),
    SurveyKind.CES: (1, 7),
}


class ChurnCategory(models.TextChoices):
    """Why customers leave (DESIGN §2). Used for comment tags, churn records and the KPI pages."""

    PRICE = "price", _("Price / value")
    EXPERIENCE = "experience", _("Poor product experience (UI/UX)")
    SUPPORT = "support", _("Poor service / support")
    FUNCTIONALITY = "functionality", _("Performance or missing functionality")
    COMPETITOR = "competitor", _("Competitor")
    WRONG_FIT = "wrong_fit", _("Wrong target market")
    NO_UPDATES = "no_updates", _("Lack of updates")
    ONBOARDING = "onboarding", _("Poor onboarding")
    OTHER = "other", _("Other")


class Survey(models.Model):
    """A survey definition. Managers create and edit them; `every_days` puts it on a schedule
    (sent to every primary contact of the audience, never more often than that)."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=SurveyKind.choices)
    question = models.CharField(_("question"), max_length=300)
    comment_prompt = models.CharField(
        _("comment prompt"), max_length=300, blank=True, help_text=_("blank = no comment box")
    )
    # Extra optional questions: a list of question strings, answered in free text.
    extra_questions = models.JSONField(_("extra questions"), default=list, blank=True)
    is_exit_survey = models.BooleanField(
        _("exit survey"), default=False, help_text=_("sent to the primary contact after a churn")
    )
    active = models.BooleanField(_("active"), default=True)
    every_days = models.PositiveIntegerField(
        _("send every (days)"),
        null=True,
        blank=True,
        help_text=_("blank = not scheduled"),
        validators=[
            MinValueValidator(1, _("Give a number of days of at least 1, or leave it blank.")),
            MaxValueValidator(
                SURVEY_MAX_INTERVAL_DAYS,
                _("At most every %(limit_value)s days (3 years), or leave it blank."),
            ),
        ],
    )
    # Scheduled audience; blank = every account.
    audience_tier = models.CharField(_("tier"), max_length=1, blank=True)
    audience_segment = models.CharField(_("segment"), max_length=16, blank=True)
    audience_stage = models.CharField(_("lifecycle stage"), max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Backs clean() against two saves at once; names are told apart ignoring case.
            models.UniqueConstraint(Lower("name"), name="one_survey_per_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """One survey per name, whatever its case (the Surveys page and the admin run it)."""
        name = (self.name or "").strip()
        if name and Survey.objects.filter(name__iexact=name).exclude(pk=self.pk).exists():
            raise ValidationError({"name": _("Another survey already has this name.")})

    def validate_constraints(self, exclude: set[str] | None = None) -> None:
        # clean() reports a taken name on the name field; the constraint's own message would
        # repeat it without naming the field.
        super().validate_constraints(exclude={*(exclude or ()), "name"})

    @property
    def scale(self) -> tuple[int, int]:
        return SCALES[self.kind]


class Invitation(models.Model):
    """One survey sent to one contact. The emailed link carries a signed token naming this row and
    its random nonce (unguessable); expiry, opening, answer, bounce and revocation live here."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invitations")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    email = models.EmailField()  # kept even if the contact is deleted later
    nonce = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    outbox = models.ForeignKey(
        "lib.OutboxEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The schedule's "sent to this contact lately?" check.
            models.Index(fields=["survey", "email", "created_at"], name="invitation_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} to {self.email}"


def detractor_q(prefix: str = "") -> Q:
    """Response.is_detractor in SQL: NPS 0–6, CSAT and CES 1–2."""
    return Q(**{f"{prefix}kind": SurveyKind.NPS, f"{prefix}score__lte": NPS_DETRACTOR_MAX}) | (
        ~Q(**{f"{prefix}kind": SurveyKind.NPS}) & Q(**{f"{prefix}score__lte": LOW_SCORE_MAX})
    )


class Response(models.Model):
    """An answer. The scale is stored with it, so changing a survey never rewrites history."""

    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="response"
    )
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="responses")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    score = models.SmallIntegerField()
    scale_min = models.SmallIntegerField()
    scale_max = models.SmallIntegerField()
    comment = models.TextField(blank=True)
    answers = models.JSONField(default=dict, blank=True)  # extra question → answer
    answered_at = models.DateTimeField(default=timezone.now)
    # A CSM's follow-up of a detractor (a touch logged, or marked by hand).
    followed_up_at = models.DateTimeField(null=True, blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-answered_at", "-pk"]
        indexes = [
            # Feedback pages: per kind over time; health: latest answer per account.
            models.Index(fields=["kind", "answered_at"], name="response_kind_time"),
            models.Index(fields=["account", "answered_at"], name="response_account_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=models.F("scale_min")) & Q(score__lte=models.F("scale_max")),
                name="response_score_on_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score} from {self.account}"

    @classmethod
    def answering(
        cls, invitation: Invitation, *, score: int, comment: str, answered_at, answers=None
    ) -> Response:
        """An unsaved answer to `invitation`, with its survey's kind and today's scale."""
        survey = invitation.survey
        low, high = survey.scale
        return cls(
            invitation=invitation,
            survey=survey,
            account_id=invitation.account_id,
            contact_id=invitation.contact_id,
            kind=survey.kind,
            score=score,
            scale_min=low,
            scale_max=high,
            comment=comment,
            answers=answers or {},
            answered_at=answered_at,
        )

    @property
    def is_detractor(self) -> bool:
        """NPS 0–6, CSAT 1–2 (issue 5); CES 1–2 ("not easy at all")."""
        if self.kind == SurveyKind.NPS:
            return self.score <= NPS_DETRACTOR_MAX
        return self.score <= LOW_SCORE_MAX


class Competitor(models.Model):
    """A competitor customers may leave for, with the other names they are written as."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    aliases = models.TextField(_("aliases"), blank=True, help_text=_("one per line"))

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class KeywordRule(models.Model):
    """Tags a comment with a churn-cause category when it contains one of the keywords."""

    category = models.CharField(_("category"), max_length=16, choices=ChurnCategory.choices)
    keywords = models.TextField(_("keywords"), help_text=_("one per line; matched as whole words"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category", "pk"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.keywords[:40]}"


class ResponseTag(models.Model):
    """A tag on a response's comment: a churn-cause category or a competitor (a row each, so the
    comment stream filters by tag on SQLite and PostgreSQL alike)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="tags")
    category = models.CharField(max_length=16, choices=ChurnCategory.choices, blank=True)
    competitor = models.ForeignKey(
        Competitor, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "category", "competitor"], name="response_tag_unique"
            ),
        ]


class ChurnType(models.TextChoices):
    VOLUNTARY = "voluntary", _("Voluntary (cancelled)")
    INVOLUNTARY = "involuntary", _("Involuntary (payment failed or expired)")


class ChurnEventQuerySet(models.QuerySet["ChurnEvent"]):
    def still_open(self) -> ChurnEventQuerySet:
        """Churns not reactivated since: the account is churned now (at most one per account)."""
        return self.filter(reactivated_on__isnull=True)


class ChurnEvent(models.Model):
    """An account's churn: created once per churn, when the nightly run sees its MRR reach 0 or a
    CSM marks it; the owner then completes the why. A later reactivation links back here."""

    objects = ChurnEventQuerySet.as_manager()

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="churn_events")
    churned_on = models.DateField(_("churned on"))
    mrr_lost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # null = seen by the nightly run
    category = models.CharField(
        _("reason"), max_length=16, choices=ChurnCategory.choices, blank=True
    )
    churn_type = models.CharField(
        _("voluntary or involuntary"), max_length=12, choices=ChurnType.choices, blank=True
    )
    competitor = models.ForeignKey(
        Competitor,
        verbose_name=_("competitor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="churn_events",
    )
    note = models.TextField(_("note"), blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    exit_invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reactivated_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-churned_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "churned_on"], name="one_churn_per_day"),
            # At most one churn of an account that is not reactivated yet.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(reactivated_on__isnull=True),
                name="one_open_churn_per_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} churned {self.churned_on}"
