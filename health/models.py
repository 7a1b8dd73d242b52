"""Usage events, their daily rollups, scorecard settings, health scores and the nightly run's
bookkeeping. Definitions: DESIGN §4 (health score), §5 (ingest API)."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, LifecycleStage, Tier

# --- Ingest ---------------------------------------------------------------------------------------


def hash_api_key(key: str) -> str:
    # A key is 32 random bytes, so a plain SHA-256 is enough (no slow hash needed against guessing).
    return hashlib.sha256(key.encode()).hexdigest()


class ApiScope(models.TextChoices):
    """What a key may do (docs/api.md): send events, read through the REST API, write through it."""

    INGEST = "ingest", _("Ingest: send usage events (events API, Segment)")
    READ = "read", _("Read: the REST API's GET endpoints")
    WRITE = "write", _("Write: create and change through the REST API")


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A key a program uses to send events or use the REST API, within its scopes. Only its hash
    is stored; the key is shown once."""

    PREFIX = "csm_"

    name = models.CharField(_("name"), max_length=100)
    # The first characters of the key, so a manager can tell keys apart without seeing them.
    prefix = models.CharField(max_length=12)
    hashed_key = models.CharField(max_length=64, unique=True)
    # ApiScope values separated by spaces, e.g. "ingest read". Keys made before scopes existed
    # keep "ingest", what they could do then.
    scopes = models.CharField(_("scopes"), max_length=32, default=ApiScope.INGEST)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list


class UsageEvent(models.Model):
    """One event the product sent. Kept for HEALTH_EVENT_RETENTION_DAYS, then only its rollup."""

    # The sender's id is the key: a repeat of the same id is a duplicate, never a second row.
    event_id = models.CharField(max_length=100, primary_key=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, db_index=False, related_name="+")
    user = models.CharField(max_length=200, blank=True)
    event = models.CharField(max_length=100)
    timestamp = models.DateTimeField()
    # The timestamp's date in the installation's time zone, set at ingest: rollups and windows
    # group and filter by it without time zone arithmetic in SQL.
    day = models.DateField()
    properties = models.JSONField(null=True, blank=True)

    # Event names with a meaning for health. Billing events are not product usage: they feed only
    # the billing measure. A login is activity but not a feature.
    LOGIN = "login"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    BILLING_EVENTS = (PAYMENT_FAILED, PAYMENT_SUCCEEDED)

    class Meta:
        indexes = [
            # Nightly rollups and the 30-day window read events by day, grouped by account.
            models.Index(fields=["day", "account"], name="usage_event_day_account"),
            # Deleting an account, and its page's recent activity.
            models.Index(fields=["account", "day"], name="usage_event_account_day"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.timestamp:%Y-%m-%d %H:%M}"


class DirtyAccount(models.Model):
    """An account whose usage events arrived since the risk rules last looked at it. Ingest marks
    it in the statement that stores the events (health.ingest); a task takes the marks and
    re-evaluates those accounts in a batch (csm.workflow.risk.evaluate_dirty_accounts)."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"dirty {self.account_id}"


class DailyUsage(models.Model):
    """One account's usage on one day (installation time zone), kept after the raw events go.
    Usage counts leave billing events out; a row exists for any day with at least one event."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="daily_usage")
    day = models.DateField()
    events = models.PositiveIntegerField()
    active_users = models.PositiveIntegerField()
    # Distinct feature events (not logins, not billing events) that day.
    active_features = models.PositiveIntegerField()
    logins = models.PositiveIntegerField()
    billing_events = models.PositiveIntegerField()
    failed_payments = models.PositiveIntegerField()
    # The latest usage event's time; null on a day with billing events only.
    last_seen = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="daily_usage_account_day"),
        ]
        # The scoring window reads every account's rows for a range of days.
        indexes = [models.Index(fields=["day"], name="daily_usage_day")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.events} events"


# --- Scorecard settings ---------------------------------------------------------------------------


class MeasureSetting(models.Model):
    """A manager's change to one measure's defaults (health.scoring.DEFAULT_MEASURES). A measure
    without a row uses its defaults."""

    key = models.CharField(max_length=32, unique=True)
    enabled = models.BooleanField(default=True)
    # [[lower bound, score], ...] with rising lower bounds: a raw value scores the row of the
    # highest lower bound it reaches.
    grid = models.JSONField()
    weight = models.PositiveSmallIntegerField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.key


class WeightOverride(models.Model):
    """A measure's weight for one tier, one lifecycle stage, or one tier in one stage.
    The most specific row wins: tier and stage, then tier, then stage, then the measure's weight."""

    key = models.CharField(max_length=32)
    tier = models.CharField(max_length=1, choices=Tier.choices, blank=True)
    stage = models.CharField(max_length=16, choices=LifecycleStage.choices, blank=True)
    weight = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "tier", "stage"], name="weight_override_unique"),
            models.CheckConstraint(
                condition=~Q(tier="", stage=""), name="weight_override_has_tier_or_stage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.tier or '*'}/{self.stage or '*'} = {self.weight}"


# --- Scores ---------------------------------------------------------------------------------------


class Band(models.TextChoices):
    RED = "red", _("Red")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")


class HealthOverrideQuerySet(models.QuerySet["HealthOverride"]):
    def active_on(self, day: date) -> HealthOverrideQuerySet:
        return self.filter(starts_on__lte=day, expires_on__gte=day, revoked_at__isnull=True)


class HealthOverride(models.Model):
    """A manager's score for an account, with a reason, from starts_on to expires_on inclusive."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_overrides")
    score = models.PositiveSmallIntegerField()
    reason = models.TextField()
    starts_on = models.DateField()
    expires_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = HealthOverrideQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=100), name="health_override_score_range"),
            models.CheckConstraint(
                condition=Q(expires_on__gte=models.F("starts_on")),
                name="health_override_expires_after_start",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="health_override_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score} until {self.expires_on}"


class HealthScore(models.Model):
    """One account's health on one day, as the nightly run computed it (DESIGN §4)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_scores")
    day = models.DateField()
    # The score in force (the override's when one applies) and what the scorecard gave.
    score = models.PositiveSmallIntegerField()
    computed_score = models.PositiveSmallIntegerField(null=True)
    band = models.CharField(max_length=8, choices=Band.choices)
    # Score today minus the score 1, 7 and 30 days before; null when there was none then.
    trend_1 = models.SmallIntegerField(null=True)
    trend_7 = models.SmallIntegerField(null=True)
    trend_30 = models.SmallIntegerField(null=True)
    # [{"key", "raw", "score", "weight", "contribution"}] for the measures that had a value.
    measures = models.JSONField(default=list)
    override = models.ForeignKey(
        HealthOverride, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="health_score_account_day"),
        ]
        # The account list filters the latest day's scores by band.
        indexes = [
            models.Index(fields=["day", "band"], name="health_score_day_band"),
            # Today's "score drops": a day's biggest falls first.
            models.Index(fields=["day", "trend_1"], name="health_score_day_drop"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.score} {self.band}"


class IngestionWarningSource(models.TextChoices):
    SEGMENT = "segment", _("Segment / RudderStack")
    STRIPE = "stripe", _("Stripe")


class IngestionWarning(models.Model):
    """Something an integration sent that could not be stored (an unknown account, a user linked
    to no account, a bad timestamp, an unknown Stripe customer, another currency …). Kept so a
    wrong integration shows on the managers' ingestion-warnings page instead of failing silently.
    `cause` is a short stable slug per source (listed in docs/api.md), `message` the words a
    manager reads, `example` the offending payload (trimmed)."""

    source = models.CharField(max_length=16, choices=IngestionWarningSource.choices)
    cause = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    example = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["source", "cause", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.source}/{self.cause}: {self.message}"

    @property
    def example_json(self) -> str:
        """The example as indented JSON text, for the page (which escapes it like any text)."""
        return json.dumps(self.example, indent=2, ensure_ascii=False, sort_keys=True)


class IngestionWarningDay(models.Model):
    """How many warnings of one source and cause arrived on one day (UTC). The page's counts come
    from here, so they stay exact when old examples are pruned (health.ingestion_warnings keeps
    only the latest examples of each cause)."""

    source = models.CharField(max_length=16, choices=IngestionWarningSource.choices)
    cause = models.CharField(max_length=40)
    day = models.DateField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "cause", "day"], name="ingestion_warning_day_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.cause} {self.day}: {self.count}"


class SegmentUserLink(models.Model):
    """The account a Segment/RudderStack user (userId, else anonymousId) was last linked to by a
    `group` call (or inherited through `alias`): their later calls without `context.groupId`
    belong to it (health.segment)."""

    user = models.CharField(max_length=200, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user} → {self.account_id}"


# --- Nightly run ----------------------------------------------------------------------------------


class NightlyRun(models.Model):
    """A day the nightly pipeline completed; the next run catches up the days after the last one."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    summary = models.JSONField(default=dict)
    # The day's scores per band, for "all" and each book ("owner:<id>"), as the run wrote them:
    # the health report's band chart reads these instead of counting every account's score.
    band_counts = models.JSONField(default=dict)
    # Each book's paying A and B accounts and how many were on touch cadence that day
    # (csm.workflow.touches.cadence_counts): the CSM scoreboard's "cadence kept" for the month.
    cadence_counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"nightly run {self.day}"


class PipelineLock(models.Model):
    """A row held while the nightly pipeline runs on SQLite, so two runs never overlap; its holder
    names a process, so a run that died is taken over at once (csm.nightly_lock). PostgreSQL uses
    an advisory lock instead, and this table stays empty."""

    name = models.CharField(max_length=32, primary_key=True)
    holder = models.CharField(max_length=200)
    acquired_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} since {self.acquired_at}"
