"""Users and the accounts domain: Account, Contact, Subscription, AuditEntry, ImportBatch."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import mrr as mrr_rules
from accounts import rules
from csm.lib.languages import language_choices

MONEY = {"max_digits": 14, "decimal_places": 2}


# --- Users ---------------------------------------------------------------------------------------


class Role(models.TextChoices):
    CSM = "csm", _("Customer success manager")
    MANAGER = "manager", _("Manager")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.MANAGER)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A login. The role field (not groups) decides what a person may use: one role per person,
    visible in one place, checked by `is_manager`."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CSM)
    # Blank: the browser's language (the cookie the login page's switcher sets, or Accept-Language).
    language = models.CharField(
        _("language"), max_length=16, choices=language_choices, blank=True, default=""
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    class Meta:
        ordering = ["name", "email"]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return (self.name or self.email).split(" ")[0]


# --- Accounts ------------------------------------------------------------------------------------


class Segment(models.TextChoices):
    BASIC = "basic", _("Basic")
    ADVANCED = "advanced", _("Advanced")
    STRATEGIC = "strategic", _("Strategic")


class Tier(models.TextChoices):
    A = "A", _("A — high value")
    B = "B", _("B — medium value")
    C = "C", _("C — low value")


class LifecycleStage(models.TextChoices):
    ONBOARDING = rules.ONBOARDING, _("Onboarding")
    ADOPTION = rules.ADOPTION, _("Adoption")
    MATURE = rules.MATURE, _("Mature")


def active_on(day: date, prefix: str = "") -> Q:
    """The SQL side of mrr.is_active: start <= day < end (no end = ongoing)."""
    return Q(**{f"{prefix}start_date__lte": day}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gt": day})
    )


def book_q(user: User, prefix: str = "account__") -> Q:
    """A user's book as a filter: every account for a manager, a CSM the accounts they own.
    `prefix` is the path to the account ("account__" from a row hanging off one, "" on Account);
    use it through accounts.access.book_q, or Account.objects.book_of for accounts."""
    return Q() if user.is_manager else Q(**{f"{prefix}owner": user})


def lifecycle_stage_at(on: str, contract_start: str = "contract_start") -> Case:
    """The SQL side of rules.lifecycle_stage: the stage on the date in field `on` (e.g. the day of
    a churn or an answer) of the account whose contract start is in field `contract_start`."""

    def start_after(days: int) -> dict[str, ExpressionWrapper]:
        earliest = ExpressionWrapper(F(on) - timedelta(days=days), output_field=models.DateField())
        return {f"{contract_start}__gt": earliest}

    return Case(
        When(**start_after(rules.ADOPTION_STARTS_DAY), then=Value(rules.ONBOARDING)),
        When(**start_after(rules.MATURE_STARTS_DAY), then=Value(rules.ADOPTION)),
        default=Value(rules.MATURE),
        output_field=models.CharField(),
    )


class AccountQuerySet(models.QuerySet["Account"]):
    def with_mrr(self, day: date) -> AccountQuerySet:
        """Annotate `mrr`: the account's MRR on `day`, summed in SQL (0 when none is active)."""
        active = (
            Subscription.objects.filter(active_on(day), account=OuterRef("pk"))
            .order_by()
            .values("account")
            .annotate(total=Sum("mrr"))
            .values("total")
        )
        return self.annotate(
            mrr=Coalesce(
                Subquery(active), Value(Decimal("0.00")), output_field=models.DecimalField(**MONEY)
            )
        )

    def in_stage(self, stage: str, today: date) -> AccountQuerySet:
        """Accounts in lifecycle `stage` today (the thresholds of rules.lifecycle_stage)."""
        adoption_from = today - timedelta(days=rules.ADOPTION_STARTS_DAY)
        mature_from = today - timedelta(days=rules.MATURE_STARTS_DAY)
        if stage == rules.ONBOARDING:
            return self.filter(contract_start__gt=adoption_from)
        if stage == rules.ADOPTION:
            return self.filter(contract_start__lte=adoption_from, contract_start__gt=mature_from)
        if stage == rules.MATURE:
            return self.filter(contract_start__lte=mature_from)
        raise ValueError(f"unknown lifecycle stage {stage!r}")

    def search(self, text: str) -> AccountQuerySet:
        text = text.strip()
        if not text:
            return self
        return self.filter(Q(name__icontains=text) | Q(external_id__icontains=text))

    def book_of(self, user: User) -> AccountQuerySet:
        """A user's book: every account for a manager, a CSM the accounts they own."""
        return self.filter(book_q(user, prefix=""))

    def owned_by(self, user: User) -> AccountQuerySet:
        """The accounts `user` owns, whatever their role (the account list's "mine" filter); a
        user's book is `book_of`."""
        return self.filter(owner=user)


class Account(models.Model):
    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    segment = models.CharField(_("segment"), max_length=16, choices=Segment.choices)
    owner = models.ForeignKey(
        User,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accounts",
    )
    contract_start = models.DateField(_("contract start"))
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    seats = models.PositiveIntegerField(_("seats"), null=True, blank=True)
    strategic = models.BooleanField(_("strategic"), default=False)
    # The tier in force: the override when there is one, else what the tier rule last gave.
    tier = models.CharField(_("tier"), max_length=1, choices=Tier.choices, default=Tier.C)
    tier_override = models.CharField(
        _("tier override"), max_length=1, choices=Tier.choices, blank=True
    )
    tier_override_reason = models.TextField(_("reason for the tier override"), blank=True)
    # The latest CSM touch and the latest automated one, kept by csm.workflow.touches.add_touch
    # (and refresh_last_touches for touches written in bulk), so the cadence
    # is read from the row: a subquery per account cost 160 ms on the managers' Today at 50,000
    # accounts.
    last_csm_touch_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_automated_touch_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # The account list filters by these and sorts by name and renewal.
            models.Index(fields=["tier", "name"]),
            models.Index(fields=["owner", "name"]),
            models.Index(fields=["renewal_date"]),
            models.Index(fields=["contract_start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(tier_override="") | ~Q(tier_override_reason=""),
                name="tier_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Rules every writer of an account's profile checks (the edit page through its model
        form, update_account; the CSV import says the same in its own words)."""
        if self.renewal_date and self.contract_start and self.renewal_date < self.contract_start:
            raise ValidationError(
                {
                    "renewal_date": _(
                        "The renewal date cannot be before the contract start (%(day)s)."
                    )
                    % {"day": self.contract_start.isoformat()}
                }
            )

    def lifecycle_stage(self, today: date | None = None) -> str:
        return rules.lifecycle_stage(self.contract_start, today or timezone.localdate())

    def get_lifecycle_stage_display(self) -> str:
        return LifecycleStage(self.lifecycle_stage()).label

    def can_be_edited_by(self, user: User) -> bool:
        """Managers edit every account; a CSM edits only their own book."""
        return user.is_manager or (self.owner_id is not None and self.owner_id == user.pk)


DUPLICATE_CONTACT_EMAIL = _("This account already has a contact with this email.")


class Contact(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    # Stored in lower case (accounts.services.add_contact, clean()); one per account in any case.
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    # The surveys and the blueprint page they are sent in; blank: the browser's on the public
    # pages, the installation's LANGUAGE_CODE in emails (csm.lib.languages).
    language = models.CharField(
        _("language"), max_length=16, choices=language_choices, blank=True, default=""
    )

    class Meta:
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_primary=True), name="one_primary_contact"
            ),
            models.UniqueConstraint(
                F("account"), Lower("email"), name="contact_email_per_account_any_case"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def clean(self) -> None:
        """The admin's check (the pages go through accounts.services.add_contact): the email in
        lower case, and not another contact's of the same account in any case."""
        self.email = (self.email or "").strip().lower()
        if (
            self.account_id is not None
            and Contact.objects.filter(account_id=self.account_id, email__iexact=self.email)
            .exclude(pk=self.pk)
            .exists()
        ):
            raise ValidationError({"email": DUPLICATE_CONTACT_EMAIL})

    def validate_constraints(self, exclude: set[str] | None = None) -> None:
        # clean() reports a taken email on its field; the constraint's own message would repeat
        # it without naming the field.
        super().validate_constraints(exclude={*(exclude or ()), "email"})


class Interval(models.TextChoices):
    MONTH = mrr_rules.MONTHLY, _("Monthly")
    YEAR = mrr_rules.YEARLY, _("Yearly")


class Subscription(models.Model):
    subscription_id = models.CharField(_("subscription id"), max_length=100, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="subscriptions")
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    amount = models.DecimalField(_("amount per interval"), **MONEY)
    interval = models.CharField(_("billing interval"), max_length=8, choices=Interval.choices)
    # Billed every this many intervals (3 months = quarterly); the imports write 1.
    interval_count = models.PositiveSmallIntegerField(_("intervals per bill"), default=1)
    # Set on a row that keeps a subscription's earlier terms (accounts.billing splits a
    # subscription when a billing system changes its amount, so the change shows as an MRR
    # movement on the day it happened): the id of the subscription it belongs to.
    period_of = models.CharField(max_length=100, blank=True, db_index=True, editable=False)
    # When the billing system's state last written was current (a Stripe event's `created`): an
    # older state arriving late never overwrites a newer one.
    billing_as_of = models.DateTimeField(null=True, blank=True, editable=False)
    # Derived from amount and interval by mrr.subscription_mrr whenever they are written, so that
    # MRR can be summed in SQL (the account list sorts by it).
    mrr = models.DecimalField(_("MRR"), editable=False, **MONEY)

    class Meta:
        ordering = ["start_date", "subscription_id"]
        indexes = [models.Index(fields=["account", "start_date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="subscription_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="subscription_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.subscription_id

    def set_mrr(self) -> None:
        """Store the MRR its amount and interval give (accounts.mrr). Every writer calls it: the
        imports, the demo and the admin."""
        self.mrr = mrr_rules.subscription_mrr(self.amount, self.interval, self.interval_count)


class StripeCustomer(models.Model):
    """A Stripe customer id linked to an account (accounts.stripe): found once through a
    `metadata.external_id`, it names the account of the customer's later events."""

    customer_id = models.CharField(max_length=255, primary_key=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="stripe_customers")
    linked_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.account_id}"


class StripeEvent(models.Model):
    """A Stripe event id that was handled: a delivery of the same event again changes nothing."""

    event_id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=100)
    created = models.DateTimeField()
    processed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"


class ScopeKind(models.TextChoices):
    """The accounts a goal or an experiment covers: everybody, a tier, a segment or a CSM's book."""

    ALL = "all", _("All accounts")
    TIER = "tier", _("Tier")
    SEGMENT = "segment", _("Segment")
    CSM = "csm", _("CSM's book")


# --- Audit ---------------------------------------------------------------------------------------


class AuditEntry(models.Model):
    """Who changed what, when and why. Written only through accounts.audit.record_changes."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_entries"
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=100)
    field = models.CharField(max_length=64, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["account", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"

    @property
    def field_label(self) -> str:
        """The changed field in words: "snoozed_until" → "snoozed until", "checklist[0]" →
        "checklist step 1"."""
        step = re.fullmatch(r"(\w+)\[(\d+)\]", self.field)
        if step:
            return f"{step[1].replace('_', ' ')} step {int(step[2]) + 1}"
        return self.field.replace("_", " ")


# --- Imports -------------------------------------------------------------------------------------


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", _("Accounts")
    SUBSCRIPTIONS = "subscriptions", _("Subscriptions")
    CONTACTS = "contacts", _("Contacts")


class ImportBatch(models.Model):
    """An uploaded CSV kept as sent, so the preview and the confirm step apply the very same file
    and nothing a manager uploaded is lost."""

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    filename = models.CharField(max_length=255)
    content = models.TextField()
    uploaded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.kind} import {self.filename}"
