"""The CSM workflow (DESIGN §2–4): touches and cadence, the outbox for automated email, success
blueprints with milestones, and the at-risk queue with its save plays."""

from __future__ import annotations

import secrets
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, ScopeKind, Segment, User

# --- Touches --------------------------------------------------------------------------------------


class TouchKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")
    NOTE = "note", _("Note")
    AUTOMATED = "automated", _("Automated email")


class TouchOutcome(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class Touch(models.Model):
    """A logged interaction with an account; automated ones are the usage-tips emails. Written
    through csm.workflow.touches.add_touch, which keeps the account's latest-touch columns."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="touches")
    kind = models.CharField(_("kind"), max_length=16, choices=TouchKind.choices)
    happened_at = models.DateTimeField(_("when"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.TextField(_("what happened"))
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=TouchOutcome.choices, blank=True
    )
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-happened_at", "-pk"]
        # Cadence: each account's latest touch; the timeline: an account's touches by date.
        indexes = [models.Index(fields=["account", "-happened_at"], name="touch_account_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.happened_at:%Y-%m-%d}"


class UsageTip(models.Model):
    """A tip for one product feature (a usage event name), mailed to C-tier accounts that have not
    used that feature lately. Managers edit these."""

    feature = models.CharField(_("feature (event name)"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("tip"))
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["feature"]

    def __str__(self) -> str:
        return self.title


# --- Success blueprints ---------------------------------------------------------------------------


class Side(models.TextChoices):
    OURS = "ours", _("Our commitment")
    CUSTOMER = "customer", _("Customer commitment")


class BlueprintTemplate(models.Model):
    """The milestones every new account of a segment starts with. Managers edit these."""

    segment = models.CharField(max_length=16, choices=Segment.choices, unique=True)
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class MilestoneTemplate(models.Model):
    template = models.ForeignKey(
        BlueprintTemplate, on_delete=models.CASCADE, related_name="milestones"
    )
    side = models.CharField(max_length=16, choices=Side.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    offset_days = models.PositiveSmallIntegerField()  # due = contract start + offset
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["offset_days", "position", "pk"]

    def __str__(self) -> str:
        return self.title


def new_share_token() -> str:
    return secrets.token_urlsafe(16)


class Blueprint(models.Model):
    """An account's success plan, made from its segment's template at the contract start. The
    customer sees it read-only at /b/<signed token>/; a new share_key revokes old links."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="blueprint")
    template = models.ForeignKey(
        BlueprintTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_on = models.DateField()
    share_key = models.CharField(max_length=32, default=new_share_token)
    share_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"blueprint of {self.account}"


class MilestoneStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")


class MilestoneQuerySet(models.QuerySet["Milestone"]):
    def overdue(self, today: object) -> MilestoneQuerySet:
        return self.filter(status=MilestoneStatus.OPEN, due_on__lt=today)


class Milestone(models.Model):
    blueprint = models.ForeignKey(Blueprint, on_delete=models.CASCADE, related_name="milestones")
    side = models.CharField(max_length=16, choices=Side.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_on = models.DateField()
    # Ours: a user (the account's CSM by default). The customer's: one of their contacts.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=MilestoneStatus.choices, default=MilestoneStatus.OPEN
    )
    completed_on = models.DateField(null=True, blank=True)
    completion_note = models.TextField(blank=True)

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        # Overdue milestones across the book (Today, the risk rule).
        indexes = [models.Index(fields=["status", "due_on"], name="milestone_status_due")]

    def __str__(self) -> str:
        return self.title


# --- At-risk queue --------------------------------------------------------------------------------


class RiskReason(models.TextChoices):
    """The default rules of DESIGN §4; a RiskItem lists the ones that fired, in words."""

    RED_BAND = "red_band", _("Health is red")
    SCORE_DROP = "score_drop", _("Health fell fast")
    INACTIVE = "inactive", _("No recent activity")
    DETRACTOR = "detractor", _("Detractor answer")
    OVERDUE_MILESTONE = "overdue_milestone", _("Overdue blueprint milestone")
    FAILED_PAYMENT = "failed_payment", _("Failed payment")
    RENEWAL = "renewal", _("Renewal soon and not green")
    TOUCH_OVERDUE = "touch_overdue", _("Touch overdue")
    # Churn causes a customer names (feedback comments, issue 5), each with its own save play.
    PRICE = "price", _("Price / value")
    EXPERIENCE = "experience", _("Poor product experience")
    COMPETITOR = "competitor", _("Competitor")


class Resolution(models.TextChoices):
    SAVED = "saved", _("Saved")
    CHURNED = "churned", _("Churned")
    NOT_A_RISK = "not_a_risk", _("Not a risk")


class RiskItemQuerySet(models.QuerySet["RiskItem"]):
    def open(self) -> RiskItemQuerySet:
        return self.filter(resolved_at__isnull=True)

    def of(self, person_id: int) -> RiskItemQuerySet:
        """Someone's items: assigned to them, or unassigned on an account of their book."""
        return self.filter(
            Q(assignee_id=person_id) | Q(assignee__isnull=True, account__owner_id=person_id)
        )

    def awake(self, day: date) -> RiskItemQuerySet:
        """Items not snoozed on `day` (snoozed through the day before, or never)."""
        return self.filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lt=day))

    def book_of(self, user: User) -> RiskItemQuerySet:
        """The items a user answers for: every item for a manager, a CSM's own (`of`)."""
        return self.all() if user.is_manager else self.of(user.pk)

    def with_play_tasks(self) -> RiskItemQuerySet:
        """Each item's save-play tasks in one more query for all the items (a row shows them)."""
        plays = Task.objects.filter(source=TaskSource.SAVE_PLAY)
        return self.prefetch_related(models.Prefetch("tasks", queryset=plays))


class RiskItem(models.Model):
    """An account in the at-risk queue. At most one open item per account (a constraint)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="risk_items")
    # Who works it: the account's owner when opened; a manager may reassign.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_on = models.DateField()
    updated_on = models.DateField()
    # The rules firing as of updated_on: [{"key": RiskReason, "facts": {…}, "since": "YYYY-MM-DD"}]
    # (csm.workflow.reasons words them when shown; rows from before facts hold {"key", "text"}).
    reasons = models.JSONField(default=list)
    # Reasons that stopped firing while the item was open, for the timeline:
    # [{"key", "facts", "since", "until"}] (until: the first day the rule no longer fired).
    past_reasons = models.JSONField(default=list)
    # The day the rules stopped firing (the item stays open until someone resolves it).
    cleared_on = models.DateField(null=True, blank=True)
    mrr = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    priority = models.DecimalField(max_digits=16, decimal_places=2, default=0)  # MRR × risk
    snoozed_until = models.DateField(null=True, blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RiskItemQuerySet.as_manager()

    class Meta:
        ordering = ["-priority", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_risk_item_per_account",
            ),
        ]
        # The queue: open items by priority.
        # The open items by priority, as Today and the queue list them: a partial index in their
        # exact order, so the first page is read from it instead of sorting every open item.
        indexes = [
            models.Index(
                F("priority").desc(),
                "id",
                condition=Q(resolved_at__isnull=True),
                name="risk_open_by_priority",
            )
        ]

    def __str__(self) -> str:
        return f"risk {self.account} ({self.opened_on})"

    def snoozed_on(self, day: date) -> bool:
        """Hidden from the queue on `day` (RiskItemQuerySet.awake is the same rule in SQL)."""
        return self.snoozed_until is not None and self.snoozed_until >= day

    @property
    def steps_done(self) -> int:
        """How many of its save play's tasks are done (from `tasks`, prefetched by the queue)."""
        return sum(1 for task in self.tasks.all() if task.status == "done")

    @property
    def shown_reasons(self) -> list[dict]:
        """The reasons a page lists: those firing, or for a cleared item the ones that stopped
        firing when it cleared (so the row still says what it was about)."""
        if self.reasons or self.cleared_on is None:
            return list(self.reasons)
        until = self.cleared_on.isoformat()
        return [reason for reason in self.past_reasons if reason.get("until") == until]


class SavePlay(models.Model):
    """The checklist a new risk item gets for one reason. Managers edit these."""

    reason = models.CharField(max_length=32, choices=RiskReason.choices, unique=True)
    steps = models.JSONField(default=list)  # [str, ...]

    def __str__(self) -> str:
        return self.get_reason_display()


# --- Tasks ---------------------------------------------------------------------------------------


class TaskSource(models.TextChoices):
    SAVE_PLAY = "save_play", _("Save play")
    TOUCH = "touch", _("Touch next step")
    EXPERIMENT = "experiment", _("Experiment play")
    MANUAL = "manual", _("Added by hand")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    # A save-play step whose reason cleared, or whose item was resolved: kept visible, not deleted.
    NOT_NEEDED = "not_needed", _("No longer needed")


class TaskQuerySet(models.QuerySet["Task"]):
    def open(self) -> TaskQuerySet:
        return self.filter(status=TaskStatus.OPEN)

    def due_by(self, day: date) -> TaskQuerySet:
        """Open tasks due on `day` or before (Today's list)."""
        return self.open().filter(due_on__lte=day)

    def overdue(self, day: date) -> TaskQuerySet:
        return self.open().filter(due_on__lt=day)

    def of(self, person_id: int) -> TaskQuerySet:
        """Someone's tasks: assigned to them, or unassigned on an account of their book (as
        RiskItemQuerySet.of)."""
        return self.filter(
            Q(assignee_id=person_id) | Q(assignee__isnull=True, account__owner_id=person_id)
        )

    def book_of(self, user: User) -> TaskQuerySet:
        return self.all() if user.is_manager else self.of(user.pk)


class Task(models.Model):
    """One piece of a CSM's work with a due date: a save-play step of a risk item, the next step
    of a touch, an experiment play, or typed by hand. Written through csm.workflow.task_list."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("task"), max_length=300)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=TaskSource.choices)
    # Where it came from. A save play: the item, the reason whose play holds the step, and the
    # step's place in that play (a step is the same step while its words are the same).
    risk_item = models.ForeignKey(
        RiskItem, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    reason = models.CharField(max_length=32, choices=RiskReason.choices, blank=True)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    touch = models.OneToOneField(
        Touch, null=True, blank=True, on_delete=models.SET_NULL, related_name="task"
    )
    assignment = models.OneToOneField(
        "ExperimentAssignment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="task",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            # sync_play_tasks keys a save-play task by its words: one per item and step text.
            models.UniqueConstraint(
                fields=["risk_item", "title"],
                condition=Q(source="save_play"),
                name="one_play_task_per_item_step",
            ),
        ]
        indexes = [
            # Today: a person's open tasks by due date; the manager's overdue count per CSM.
            models.Index(
                fields=["assignee", "due_on"],
                condition=Q(status="open"),
                name="task_open_by_assignee_due",
            ),
            # The account page: an account's tasks.
            models.Index(fields=["account", "status", "due_on"], name="task_account_status"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def done(self) -> bool:
        return self.status == TaskStatus.DONE


# --- Experiments -----------------------------------------------------------------------


class Experiment(models.Model):
    """A retention play tried on accounts drawn at random from a scope, against a holdout control
    group; after the window the app compares churn and health change between the groups."""

    name = models.CharField(_("name"), max_length=200)
    play = models.TextField(_("play"), help_text=_("what the CSM does for treatment accounts"))
    scope_kind = models.CharField(_("scope"), max_length=8, choices=ScopeKind.choices)
    scope_value = models.CharField(_("scope value"), max_length=32, blank=True)
    treatment_size = models.PositiveIntegerField(_("treatment accounts"))
    control_size = models.PositiveIntegerField(_("control accounts"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    seed = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on", "pk"]

    def __str__(self) -> str:
        return self.name


class ExperimentGroup(models.TextChoices):
    TREATMENT = "treatment", _("Treatment")
    CONTROL = "control", _("Control")


class ExperimentAssignment(models.Model):
    """An account's place in an experiment, with what is compared at the end."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="assignments")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=16, choices=ExperimentGroup.choices)
    health_start = models.SmallIntegerField(null=True, blank=True)
    play_done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "account"], name="one_assignment_per_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id} {self.account_id} {self.group}"
