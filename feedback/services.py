"""Surveys in motion: sending invitations (one contact, an account, a segment, the nightly
schedule), the public link's life (opened, answered, bounced, revoked), recording an answer and
acting on a detractor.

Every email goes through the outbox (csm.lib.outbox) in the transaction that decides to send it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import check_can_change
from accounts.audit import record_changes
from accounts.models import Account, Contact, Subscription, User, active_on
from csm.lib.emails import render_email
from csm.lib.models import OutboxEmail
from csm.lib.outbox import queue_email
from csm.lib.tasks import request_drain
from feedback.models import ChurnEvent, Invitation, Response, Survey, SurveyKind
from feedback.scores import LOW_SCORE_MAX, NPS_DETRACTOR_MAX
from feedback.signals import detractor_answered, survey_answered
from feedback.tagging import tag_response
from feedback.tokens import make_token, new_nonce, read_token

log = logging.getLogger(__name__)

SURVEY_EMAIL = "survey"
COMMENT_MAX = 5000
ANSWER_MAX = 2000
# An unsent invitation email whose last error starts with one of these was refused for good by
# the mail server (SMTP 5xx for the recipient): the invitation counts as bounced.
PERMANENT_FAILURES = ("SMTPRecipientsRefused",)


class AnswerError(ValueError):
    """An answer that cannot be stored; `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class InvitationClosed(Exception):
    """The invitation was answered, revoked or expired meanwhile."""


class SendError(ValueError):
    """An invitation that cannot be sent; `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- Reads ----------------------------------------------------------------------------------------


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of `day` in the configured time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def detractor_answers() -> QuerySet[Response]:
    """Answers that make a detractor (Response.is_detractor in SQL): NPS 0–6, CSAT or CES 1–2."""
    return Response.objects.filter(
        Q(kind=SurveyKind.NPS, score__lte=NPS_DETRACTOR_MAX)
        | (~Q(kind=SurveyKind.NPS) & Q(score__lte=LOW_SCORE_MAX))
    )


def customers_on(day: date) -> QuerySet[Account]:
    """Accounts with a subscription active on `day`."""
    return Account.objects.filter(
        Exists(Subscription.objects.filter(active_on(day), account=OuterRef("pk")))
    )


def audience(
    accounts: QuerySet[Account], *, tier: str = "", segment: str = "", stage: str = "", day: date
) -> QuerySet[Account]:
    """`accounts` narrowed to a tier, segment and lifecycle stage (blank = any)."""
    if tier:
        accounts = accounts.filter(tier=tier)
    if segment:
        accounts = accounts.filter(segment=segment)
    if stage:
        accounts = accounts.in_stage(stage, day)
    return accounts


def find_invitation(token: str) -> Invitation | None:
    """The invitation a link names, or None when the token was tampered with or names nothing."""
    nonce = read_token(token)
    if nonce is None:
        return None
    return (
        Invitation.objects.select_related("survey", "account", "contact")
        .filter(nonce=nonce)
        .first()
    )


def invitation_state(invitation: Invitation, now: datetime | None = None) -> str:
    """ "answered", "revoked", "expired" or "open" (in that order of precedence)."""
    now = now or timezone.now()
    if invitation.answered_at is not None:
        return "answered"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "open"


def survey_link(nonce: str) -> str:
    return settings.SITE_URL + reverse("feedback:answer", args=[make_token(nonce)])


# --- Sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    account_id: int
    contact_id: int | None
    name: str
    email: str
    account_name: str
    language: str = ""  # the contact's; blank: the installation's (csm.lib.languages)


@dataclass(frozen=True)
class SendResult:
    sent: int
    skipped_recent: int = 0  # surveyed within SURVEY_MIN_INTERVAL_DAYS, or bounced before
    without_contact: int = 0  # no primary contact with an email
    skipped_churned: int = 0  # the account churned (an open churn record)


def _email(survey: Survey, recipient: Recipient, link: str, expires: datetime) -> tuple[str, str]:
    """The invitation's subject and body (templates/emails/survey_invitation/)."""
    email = render_email(
        "survey_invitation",
        {
            "account": recipient.account_name,
            "question": survey.question,
            "name": recipient.name or recipient.email,
            "link": link,
            "d": timezone.localdate(expires),
        },
        language=recipient.language,
    )
    return email.subject, email.body


def _send(survey: Survey, recipients: Iterable[Recipient], sent_by: User | None) -> int:
    """Write one outbox email and one invitation per recipient: two bulk INSERTs."""
    now = timezone.now()
    expires = now + timedelta(days=settings.SURVEY_TOKEN_DAYS)
    planned = []
    for recipient in recipients:
        nonce = new_nonce()
        subject, body = _email(survey, recipient, survey_link(nonce), expires)
        email = OutboxEmail(
            kind=SURVEY_EMAIL,
            account_id=recipient.account_id,
            to=recipient.email,
            subject=subject,
            body=body,
            created_at=now,
            send_after=now,
        )
        planned.append((recipient, nonce, email))
    if not planned:
        return 0
    with transaction.atomic():
        # Both databases return the new ids from a bulk INSERT (SQLite 3.35+, PostgreSQL).
        OutboxEmail.objects.bulk_create([email for _r, _n, email in planned], batch_size=500)
        Invitation.objects.bulk_create(
            [
                Invitation(
                    survey=survey,
                    account_id=recipient.account_id,
                    contact_id=recipient.contact_id,
                    email=recipient.email,
                    nonce=nonce,
                    created_at=now,
                    expires_at=expires,
                    outbox_id=email.pk,
                    sent_by=sent_by,
                )
                for recipient, nonce, email in planned
            ],
            batch_size=500,
        )
    return len(planned)


def _churned(account_field: str = "account_id") -> Exists:
    """The row's account has churned: an open ChurnEvent (recorded by the nightly run when its
    MRR reached 0, or marked by hand while it still pays), not reactivated since. A churned
    account is never surveyed, except by the exit survey that asks why it left."""
    return Exists(ChurnEvent.objects.still_open().filter(account_id=OuterRef(account_field)))


def _check_survey(survey: Survey) -> None:
    if not survey.active:
        raise SendError("survey", _("This survey is switched off; switch it on to send it."))


def _request_drain_on_commit() -> None:
    transaction.on_commit(request_drain)


def send_invitation(*, survey: Survey, contact: Contact, sent_by: User | None = None) -> Invitation:
    """Send `survey` to one contact: the invitation and its email (a signed link to /s/<token>/,
    valid SURVEY_TOKEN_DAYS) in one transaction."""
    _check_survey(survey)
    if not contact.email:
        raise SendError("contact", _("This contact has no email address."))
    if (
        not survey.is_exit_survey
        and ChurnEvent.objects.still_open().filter(account_id=contact.account_id).exists()
    ):
        raise SendError(
            "survey", _("This account has churned: only the exit survey can be sent to it.")
        )
    recipient = Recipient(
        account_id=contact.account_id,
        contact_id=contact.pk,
        name=contact.name,
        email=contact.email,
        account_name=contact.account.name,
        language=contact.language,
    )
    now = timezone.now()
    expires = now + timedelta(days=settings.SURVEY_TOKEN_DAYS)
    nonce = new_nonce()
    subject, body = _email(survey, recipient, survey_link(nonce), expires)
    with transaction.atomic():
        email = queue_email(
            kind=SURVEY_EMAIL,
            to=contact.email,
            subject=subject,
            body=body,
            account_id=contact.account_id,
        )
        invitation = Invitation.objects.create(
            survey=survey,
            account_id=contact.account_id,
            contact=contact,
            email=contact.email,
            nonce=nonce,
            created_at=now,
            expires_at=expires,
            outbox=email,
            sent_by=sent_by,
        )
        _request_drain_on_commit()
    return invitation


def _recently_surveyed(as_of: date, days: int, survey: Survey | None = None) -> Exists:
    """Contacts whose email got `survey` (any survey when None) in the `days` up to `as_of`."""
    since, _end = local_day_bounds(as_of - timedelta(days=max(days, 1) - 1))
    invitations = Invitation.objects.filter(email=OuterRef("email"), created_at__gte=since)
    if survey is not None:
        invitations = invitations.filter(survey=survey)
    return Exists(invitations)


def _bounced() -> Exists:
    return Exists(Invitation.objects.filter(email=OuterRef("email"), bounced_at__isnull=False))


def _recipients(contacts: QuerySet[Contact], already: set[str]) -> list[Recipient]:
    recipients = []
    for account_id, contact_id, name, email, account_name, language in contacts.order_by(
        "account_id"
    ).values_list("account_id", "pk", "name", "email", "account__name", "language"):
        if email.lower() in already:  # one person who is the primary contact of two accounts
            continue
        already.add(email.lower())
        recipients.append(Recipient(account_id, contact_id, name, email, account_name, language))
    return recipients


def send_to_accounts(
    *, survey: Survey, accounts: QuerySet[Account], sent_by: User | None = None
) -> SendResult:
    """Send `survey` to the primary contact of each of `accounts` (a segment, a CSM's book),
    skipping churned accounts, anyone surveyed in the last SURVEY_MIN_INTERVAL_DAYS and addresses
    that bounced."""
    _check_survey(survey)
    today = timezone.localdate()
    churned = accounts.filter(_churned("pk")).count()
    accounts = accounts.exclude(_churned("pk"))
    primaries = Contact.objects.filter(is_primary=True, account__in=accounts.values("pk")).exclude(
        email=""
    )
    eligible = primaries.exclude(
        _recently_surveyed(today, settings.SURVEY_MIN_INTERVAL_DAYS)
    ).exclude(_bounced())
    total_accounts = accounts.count()
    total_primaries = primaries.count()
    with transaction.atomic():
        sent = _send(survey, _recipients(eligible, set()), sent_by)
        if sent:
            _request_drain_on_commit()
    return SendResult(
        sent=sent,
        skipped_recent=total_primaries - sent,
        without_contact=total_accounts - total_primaries,
        skipped_churned=churned,
    )


def queue_scheduled_surveys(*, day: date) -> int:
    """The nightly step: send each scheduled survey to its audience; return how many went out.

    1. Surveys that are active, have `every_days` and are not exit surveys; those aimed at a
       narrower audience first, then the oldest (when two fall due for one person the same
       night, the onboarding survey goes before the everybody-NPS).
    2. Audience: customers on `day` (a subscription active) of the survey's tier, segment and
       lifecycle stage, less churned accounts (an open churn, e.g. marked by hand while the
       subscription still runs); their primary contacts with an email.
    3. Skip an email that got this survey in the last `every_days`, or any survey in the last
       SURVEY_MIN_INTERVAL_DAYS, or that bounced before; and anyone sent a survey earlier in
       this run. Ages count from `day`, or today when later (like the usage tips), so re-running
       a day sends nothing twice.
    """
    as_of = max(day, timezone.localdate())
    surveys = sorted(
        Survey.objects.filter(
            active=True, every_days__isnull=False, every_days__gt=0, is_exit_survey=False
        ).order_by("created_at", "pk"),
        key=lambda s: (
            -sum(bool(f) for f in (s.audience_tier, s.audience_segment, s.audience_stage))
        ),
    )
    already: set[str] = set()
    sent = 0
    for survey in surveys:
        accounts = audience(
            customers_on(day),
            tier=survey.audience_tier,
            segment=survey.audience_segment,
            stage=survey.audience_stage,
            day=day,
        )
        contacts = (
            Contact.objects.filter(is_primary=True, account__in=accounts.values("pk"))
            .exclude(email="")
            .exclude(_churned())
            .exclude(_recently_surveyed(as_of, survey.every_days or 1, survey))
            .exclude(_recently_surveyed(as_of, settings.SURVEY_MIN_INTERVAL_DAYS))
            .exclude(_bounced())
        )
        sent += _send(survey, _recipients(contacts, already), None)
    return sent


# --- The link's life ------------------------------------------------------------------------------


def mark_opened(invitation: Invitation) -> None:
    """The first visit of the link (a conditional UPDATE: later visits change nothing)."""
    if invitation.opened_at is None:
        now = timezone.now()
        Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=now)
        invitation.opened_at = now


def mark_bounced(*, actor: User, invitation: Invitation) -> bool:
    """The email did not arrive (a CSM saw the bounce). False when it was marked already."""
    check_can_change(actor, invitation.account)
    changed = Invitation.objects.filter(pk=invitation.pk, bounced_at__isnull=True).update(
        bounced_at=timezone.now()
    )
    invitation.refresh_from_db(fields=["bounced_at"])
    return bool(changed)


def revoke_invitation(*, actor: User, invitation: Invitation) -> bool:
    """Withdraw an unanswered link: it stops working, and its email, if still unsent, is not
    sent. False when it was answered or revoked already."""
    check_can_change(actor, invitation.account)
    with transaction.atomic():
        changed = Invitation.objects.filter(
            pk=invitation.pk, answered_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if changed and invitation.outbox_id:
            OutboxEmail.objects.filter(pk=invitation.outbox_id, sent_at__isnull=True).delete()
    invitation.refresh_from_db(fields=["revoked_at", "outbox"])
    return bool(changed)


def sync_outbox_bounces() -> int:
    """Mark bounced the invitations whose email the mail server refused for good (the outbox
    keeps the error of the last attempt). One UPDATE; the nightly run calls it."""
    refused = Q()
    for prefix in PERMANENT_FAILURES:
        refused |= Q(outbox__last_error__startswith=prefix)
    return Invitation.objects.filter(
        refused, bounced_at__isnull=True, outbox__sent_at__isnull=True
    ).update(bounced_at=timezone.now())


# --- Answers --------------------------------------------------------------------------------------


def _check_answer(
    survey: Survey, score: Any, comment: str, answers: Mapping[str, str]
) -> tuple[int, str, dict[str, str]]:
    low, high = survey.scale
    if score is None or score == "":
        raise AnswerError(
            "score", _("Choose a score from %(lo)s to %(hi)s.") % {"lo": low, "hi": high}
        )
    try:
        value = int(score)
    except (TypeError, ValueError):
        raise AnswerError(
            "score", _("Choose a score from %(lo)s to %(hi)s.") % {"lo": low, "hi": high}
        ) from None
    if not low <= value <= high:
        raise AnswerError(
            "score",
            _("The score must be a whole number from %(lo)s to %(hi)s.") % {"lo": low, "hi": high},
        )
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise AnswerError(
            "comment", _("Keep the comment under %(n)s characters.") % {"n": COMMENT_MAX}
        )
    cleaned: dict[str, str] = {}
    for question, answer in (answers or {}).items():
        if question not in survey.extra_questions:
            raise AnswerError("answers", _("An answer names a question this survey does not ask."))
        text = str(answer or "").strip()
        if len(text) > ANSWER_MAX:
            raise AnswerError(
                "answers", _("Keep each answer under %(n)s characters.") % {"n": ANSWER_MAX}
            )
        if text:
            cleaned[question] = text
    return value, comment, cleaned


def record_response(
    *,
    invitation: Invitation,
    score: int,
    comment: str = "",
    answers: Mapping[str, str] | None = None,
) -> Response:
    """Store an answer to `invitation` and act on it.

    1. Check the score against the survey's scale (AnswerError names the field otherwise).
    2. Mark the invitation answered with a conditional UPDATE (still unanswered, not revoked,
       not expired): of two submits only one gets the row; the other gets InvitationClosed.
    3. Store the response with its scale; a detractor opens or updates the account's risk item
       and emails the owner — all in one transaction.
    4. Tag the comment (feedback.tagging) after that, so a tagging fault never loses an answer.
    """
    survey = invitation.survey
    value, comment, cleaned = _check_answer(survey, score, comment, answers or {})
    now = timezone.now()
    with transaction.atomic():
        taken = Invitation.objects.filter(
            pk=invitation.pk,
            answered_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).update(answered_at=now, opened_at=Coalesce("opened_at", now))
        if not taken:
            raise InvitationClosed
        response = Response.answering(
            invitation, score=value, comment=comment, answers=cleaned, answered_at=now
        )
        response.save(force_insert=True)
        # Tagged first (in a savepoint: a failure keeps the answer), so the risk rules see the
        # churn causes the comment names.
        _tag(response)
        if response.is_detractor:
            # The workflow opens the risk item and emails the owner, in this transaction.
            detractor_answered.send(sender=Response, response=response)
        survey_answered.send(sender=Response, response=response)
    invitation.answered_at = now
    return response


def _tag(response: Response) -> None:
    try:
        with transaction.atomic():
            tag_response(response)
    except Exception:
        log.exception("feedback: tagging response %s failed; the answer is kept", response.pk)


# --- Following up a detractor ---------------------------------------------------------------------


def mark_followed_up(*, actor: User, response: Response) -> bool:
    """The owner (or a manager) followed up a detractor's answer: a conditional UPDATE, so two
    clicks write and audit once, on the account's trail. False when it was marked already.
    `response` comes with its account (and the account's owner) joined."""
    check_can_change(actor, response.account)
    with transaction.atomic():
        now = timezone.now()
        done = Response.objects.filter(pk=response.pk, followed_up_at__isnull=True).update(
            followed_up_at=now, followed_up_by=actor
        )
        if done:
            record_changes(
                actor=actor,
                obj=response,
                action="response.followed_up",
                changes={"followed up": ("", now.isoformat(timespec="minutes"))},
                account=response.account,
            )
    return bool(done)
