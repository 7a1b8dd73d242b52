"""The outbox (DESIGN §8): email is written as a row in the same transaction as what causes it,
and a task drains the table. A Redis or SMTP outage delays email and loses none.

Also the first kind of email: usage tips for tier C accounts (DESIGN §2, automated service).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Contact, Subscription, Tier, active_on
from csm.models import OutboxEmail, Touch, TouchKind, UsageTip
from health.models import UsageEvent

log = logging.getLogger(__name__)

USAGE_TIPS = "usage_tips"
TIPS_PER_EMAIL = 3
# A feature used in this many days up to the tips day counts as used (no tip for it).
FEATURE_WINDOW_DAYS = 30
# A failed send is retried after 5 minutes, then 10, 20… and at most every 12 hours, for ever:
# the row stays until it is sent.
RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=12)


def queue_email(
    *, kind: str, to: str, subject: str, body: str, account: Account | None = None
) -> OutboxEmail:
    """Queue one email. Call it inside the transaction that decides to send it, so the email
    exists exactly when that change does."""
    return OutboxEmail.objects.create(kind=kind, to=to, subject=subject, body=body, account=account)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed send."""
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


def drain_outbox(limit: int = 200) -> int:
    """Send up to `limit` unsent emails whose send_after has come, oldest first; return how many
    went out. Each email is sent in its own transaction holding its row (a second drain running
    at the same time skips it), and is marked sent only when the backend accepted it: a failure
    counts the attempt, keeps the error and pushes send_after back."""
    due = list(
        OutboxEmail.objects.filter(sent_at__isnull=True, send_after__lte=timezone.now())
        .order_by("send_after", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(_send_one(pk) for pk in due)


def _send_one(pk: int) -> bool:
    with transaction.atomic():
        email = (
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, sent_at__isnull=True)
            .first()
        )
        if email is None:  # sent or being sent by another drain
            return False
        email.attempts += 1
        try:
            EmailMessage(
                subject=email.subject,
                body=email.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[email.to],
            ).send()
        except Exception as error:  # any backend failure: SMTP down, refused, timeout…
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            email.send_after = timezone.now() + retry_delay(email.attempts)
            email.save(update_fields=["attempts", "last_error", "send_after"])
            log.warning("outbox: email %s not sent (attempt %s): %s", pk, email.attempts, error)
            return False
        email.sent_at = timezone.now()
        email.save(update_fields=["attempts", "sent_at"])
        if email.kind == USAGE_TIPS and email.account_id is not None:
            # The tier C cadence counts from this touch (csm.touches.with_next_touch_due).
            Touch.objects.create(
                account_id=email.account_id,
                kind=TouchKind.AUTOMATED,
                happened_at=email.sent_at,
                summary=_("Usage tips emailed to %(to)s: %(subject)s")
                % {"to": email.to, "subject": email.subject},
            )
        return True


def request_drain() -> None:
    """Ask a worker to drain the outbox now (in-process without Redis). When the broker is down
    this only logs: the rows wait, and beat's drain every 5 minutes sends them later."""
    from csm.tasks import drain_outbox_task  # csm.tasks imports the nightly pipeline

    try:
        drain_outbox_task.delay()
    except Exception as error:
        log.warning("outbox: could not enqueue the drain task (%s); beat will drain later", error)


# --- Usage tips -----------------------------------------------------------------------------------


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
        )
        .filter(~Q(contact_email=""), contact_email__isnull=False)
    )
    # list(): each is read once below; tips in the order managers see them.
    tips = list(UsageTip.objects.filter(enabled=True).order_by("feature"))
    if not tips:
        return 0
    rows = list(
        candidates.order_by("pk").values_list("pk", "name", "contact_name", "contact_email")
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
    for account_id, account_name, contact_name, contact_email in rows:
        unused = [tip for tip in tips if tip.feature not in used.get(account_id, set())]
        chosen = unused[:TIPS_PER_EMAIL]
        if not chosen:
            continue
        emails.append(
            OutboxEmail(
                kind=USAGE_TIPS,
                account_id=account_id,
                to=contact_email,
                subject=_usage_tips_subject(account_name, len(chosen)),
                body=_usage_tips_body(contact_name, account_name, chosen),
            )
        )
    OutboxEmail.objects.bulk_create(emails, batch_size=500)
    return len(emails)


def _usage_tips_subject(account_name: str, count: int) -> str:
    return _("%(n)s tips for %(account)s") % {"n": count, "account": account_name}


def _usage_tips_body(contact_name: str, account_name: str, tips: list[UsageTip]) -> str:
    lines = [
        _("Hello %(name)s,") % {"name": contact_name},
        "",
        _("Here are a few things %(account)s has not tried lately:") % {"account": account_name},
        "",
    ]
    for number, tip in enumerate(tips, start=1):
        lines += [f"{number}. {tip.title}", f"   {tip.body}", ""]
    lines.append(_("Reply to this email if you would like a hand with any of them."))
    return "\n".join(lines)
