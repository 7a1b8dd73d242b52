"""Usage tips (docs/definitions.md, tiers): the automated service for tier C accounts. The
nightly run queues a tips email for each account due one; when the outbox sends it, the email
is logged as an automated touch, from which the tier C cadence counts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import record_changes, update_audited
from accounts.models import Account, Contact, Subscription, Tier, User, active_on
from csm.lib.emails import render_email
from csm.lib.models import OutboxEmail
from csm.workflow.models import Touch, TouchKind, UsageTip
from csm.workflow.touches import add_touch
from health.models import UsageEvent

USAGE_TIPS = "usage_tips"
TIPS_PER_EMAIL = 3
# A feature used in this many days up to the tips day counts as used (no tip for it).
FEATURE_WINDOW_DAYS = 30


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def queue_usage_tips(*, day: date) -> int:
    """Queue a usage-tips email for each tier C customer due one on `day`; return how many.

    1. Candidates: tier C accounts with a subscription active on `day` and a primary contact
       with an email, whose last tips email (queued or sent) is TIPS_EVERY_DAYS or more days
       old (as of `day`, or today when later). An email queued by an earlier run counts, so
       re-running a day queues nothing twice.
    2. The features each candidate used in the FEATURE_WINDOW_DAYS up to `day` (one query).
    3. Up to TIPS_PER_EMAIL enabled tips for features it did not use, addressed to the contact
       by name; an account that uses every feature gets no email.
    """
    # Age as of the run: the nightly queues yesterday's tips today, and the email (then its
    # automated touch) is dated today, so counting from `day` would space them a day too far.
    as_of = max(day, timezone.localdate())
    recent = _start_of(as_of - timedelta(days=settings.TIPS_EVERY_DAYS - 1))
    primary = Contact.objects.filter(account=OuterRef("pk"), is_primary=True)
    candidates = (
        Account.objects.filter(tier=Tier.C)
        .filter(Exists(Subscription.objects.filter(active_on(day), account=OuterRef("pk"))))
        .exclude(
            Exists(
                Touch.objects.filter(
                    account=OuterRef("pk"), kind=TouchKind.AUTOMATED, happened_at__gte=recent
                )
            )
        )
        .exclude(
            Exists(
                OutboxEmail.objects.filter(
                    account=OuterRef("pk"), kind=USAGE_TIPS, created_at__gte=recent
                )
            )
        )
        .annotate(
            contact_name=Subquery(primary.values("name")[:1]),
            contact_email=Subquery(primary.values("email")[:1]),
            contact_language=Subquery(primary.values("language")[:1]),
        )
        .filter(~Q(contact_email=""), contact_email__isnull=False)
    )
    # list(): each is read once below; tips in the order managers see them.
    tips = list(UsageTip.objects.filter(enabled=True).order_by("feature"))
    if not tips:
        return 0
    rows = list(
        candidates.order_by("pk").values_list(
            "pk", "name", "contact_name", "contact_email", "contact_language"
        )
    )
    if not rows:
        return 0
    used: dict[int, set[str]] = {}
    for account_id, event in (
        UsageEvent.objects.filter(
            account_id__in=candidates.values("pk"),
            day__gt=day - timedelta(days=FEATURE_WINDOW_DAYS),
            day__lte=day,
            event__in=[tip.feature for tip in tips],
        )
        .values_list("account_id", "event")
        .distinct()
    ):
        used.setdefault(account_id, set()).add(event)

    emails = []
    for account_id, account_name, contact_name, contact_email, contact_language in rows:
        unused = [tip for tip in tips if tip.feature not in used.get(account_id, set())]
        chosen = unused[:TIPS_PER_EMAIL]
        if not chosen:
            continue
        email = render_email(
            "usage_tips",
            {"n": len(chosen), "account": account_name, "name": contact_name, "tips": chosen},
            language=contact_language,
        )
        emails.append(
            OutboxEmail(
                kind=USAGE_TIPS,
                account_id=account_id,
                to=contact_email,
                subject=email.subject,
                body=email.body,
            )
        )
    OutboxEmail.objects.bulk_create(emails, batch_size=500)
    return len(emails)


def log_tips_touch(email: OutboxEmail) -> None:
    """A usage-tips email went out: log it as the account's automated touch, from which the tier
    C cadence counts (csm.workflow.touches.with_next_touch_due). Other emails log nothing."""
    if email.kind != USAGE_TIPS or email.account_id is None:
        return
    add_touch(
        account_id=email.account_id,
        kind=TouchKind.AUTOMATED,
        happened_at=email.sent_at,
        summary=_("Usage tips emailed to %(to)s: %(subject)s")
        % {"to": email.to, "subject": email.subject},
    )


# --- The managers' tips ---------------------------------------------------------------------------

TIP_FIELDS = ("feature", "title", "body", "enabled")


def save_tip(
    *,
    actor: User,
    tip: UsageTip | None = None,
    feature: str,
    title: str,
    body: str,
    enabled: bool,
) -> UsageTip:
    """Add a usage tip (`tip` None), or change an existing tip's words and whether it is sent;
    audited field by field, in one transaction. The feature is a tip's identity: an edit keeps it
    (ValueError for another one). Managers only."""
    if not actor.is_manager:
        raise PermissionDenied("managers only")
    with transaction.atomic():
        if tip is None:
            tip = UsageTip.objects.create(feature=feature, title=title, body=body, enabled=enabled)
            record_changes(
                actor=actor,
                obj=tip,
                action="usage_tip.create",
                changes={name: (None, getattr(tip, name)) for name in TIP_FIELDS},
            )
            return tip
        stored = UsageTip.objects.select_for_update().get(pk=tip.pk)
        if feature != stored.feature:
            raise ValueError("a tip's feature cannot change")
        update_audited(
            actor=actor,
            obj=stored,
            action="usage_tip.update",
            values={"title": title, "body": body, "enabled": enabled},
        )
    return stored
