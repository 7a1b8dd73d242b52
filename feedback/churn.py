"""Churn records (DESIGN §2 churn causes, issue 5): one ChurnEvent per churn, created when the
nightly run sees an account's MRR reach 0 or when a CSM marks it by hand; the owner then completes
the why (reason category, voluntary or involuntary, competitor, note), optionally sending the exit
survey. A reactivation (MRR back above 0) closes the churn by setting `reactivated_on`.

MRR comes from the same code as everywhere else: `Account.objects.with_mrr(day)` in SQL for the
nightly step, and `accounts.mrr.mrr_on` over each account's subscriptions for the history backfill.
The two agree because MRR only changes on a subscription's start or end date: the backfill looks at
exactly those days, and the nightly looks at every day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import mrr as mrr_rules
from accounts.access import book_q, check_can_change
from accounts.audit import record_changes
from accounts.models import Account, Subscription, User
from feedback import services
from feedback.models import ChurnCategory, ChurnEvent, ChurnType, Competitor, Survey
from feedback.signals import accounts_churned, churn_recorded

NOTE_MAX_CHARS = 2000
# How far back a CSM may date a churn they mark by hand.
MARK_MAX_DAYS_BACK = 365

# --- Reads ---------------------------------------------------------------------------------------


def churns_visible_to(user: User) -> QuerySet[ChurnEvent]:
    """The churns of the user's book: a manager every churn, a CSM those of their own accounts."""
    events = ChurnEvent.objects.select_related("account", "account__owner", "competitor")
    return events.filter(book_q(user))


def open_churn(account: Account) -> ChurnEvent | None:
    """The account's churn that is not reactivated yet (at most one, by constraint)."""
    return ChurnEvent.objects.still_open().filter(account=account).first()


# --- The nightly step ----------------------------------------------------------------------------


def record_churn_events(*, day: date) -> dict[str, int]:
    """The nightly step for `day`, set-based and idempotent:

    1. Reactivations: an open churn whose account had MRR 0 on the day before and MRR > 0 on
       `day` gets `reactivated_on = day` (a hand-marked churn of an account still paying stays
       open until its MRR has been 0).
    2. Churns: every account with MRR > 0 on the day before and 0 on `day` gets a ChurnEvent on
       `day` with the MRR it lost, unless it already has an open churn (marked by hand before the
       MRR ran out: that record is the same churn, and gets the MRR lost filled in).
    3. Those accounts' open risk items are resolved as churned.
    """
    before = day - timedelta(days=1)
    zero_yesterday = Account.objects.with_mrr(before).filter(mrr=0).values("pk")
    paying_today = Account.objects.with_mrr(day).filter(mrr__gt=0).values("pk")
    reactivated = ChurnEvent.objects.still_open().filter(
        churned_on__lt=day, account_id__in=paying_today
    )
    reactivated = reactivated.filter(account_id__in=zero_yesterday)
    reactivations = reactivated.update(reactivated_on=day)

    # One query: the accounts that stopped paying on `day`, with what they paid the day before.
    zero_today = Account.objects.with_mrr(day).filter(mrr=0).values("pk")
    lost = dict(
        Account.objects.with_mrr(before)
        .filter(mrr__gt=0, pk__in=zero_today)
        .values_list("pk", "mrr")
    )
    already_open = {
        event.account_id: event
        for event in ChurnEvent.objects.still_open().filter(account_id__in=list(lost))
    }
    for account_id, event in already_open.items():
        if event.mrr_lost == 0 and event.churned_on <= day:
            ChurnEvent.objects.filter(pk=event.pk, mrr_lost=0).update(mrr_lost=lost[account_id])
    created = ChurnEvent.objects.bulk_create(
        [
            ChurnEvent(account_id=account_id, churned_on=day, mrr_lost=mrr)
            for account_id, mrr in lost.items()
            if account_id not in already_open
        ],
        # A re-run of the same day finds its own rows (account, churned_on is unique).
        ignore_conflicts=True,
    )
    # 3. The churned accounts' open risk items close as churned (the workflow's receiver): the
    #    queue's outcome is known, and save rates must not count a churn as a save.
    answers = accounts_churned.send(sender=ChurnEvent, account_ids=sorted(lost), day=day)
    churn_recorded.send(
        sender=ChurnEvent, account_ids=sorted(set(lost) - set(already_open)), day=day
    )
    closed = sum(count for _receiver, count in answers)
    return {
        "churns_recorded": len(created),
        "churns_reactivated": reactivations,
        "risk_items_churned": closed,
    }


# --- History -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Episode:
    """One churn in an account's subscription history."""

    paying_since: date  # the first day of the paying run that ended
    churned_on: date  # the first day with MRR 0
    mrr_lost: Decimal
    reactivated_on: date | None


def churn_episodes(subscriptions: list[mrr_rules.Terms], until: date) -> list[Episode]:
    """Every churn of one account up to `until` (pure): MRR only changes on start and end dates,
    so those are the only days to look at. A churn on day d has MRR > 0 the day before, 0 on d."""
    days = sorted(
        {s.start_date for s in subscriptions}
        | {s.end_date for s in subscriptions if s.end_date is not None}
    )
    episodes: list[Episode] = []
    paying_since: date | None = None
    mrr_before = mrr_rules.ZERO
    churn: tuple[date, date, Decimal] | None = None
    for day in days:
        if day > until:
            break
        mrr = mrr_rules.mrr_on(subscriptions, day)
        if mrr_before == 0 and mrr > 0:
            if churn is not None:
                episodes.append(Episode(churn[0], churn[1], churn[2], day))
                churn = None
            paying_since = day
        elif mrr_before > 0 and mrr == 0:
            churn = (paying_since or day, day, mrr_before)
        mrr_before = mrr
    if churn is not None:
        episodes.append(Episode(churn[0], churn[1], churn[2], None))
    return episodes


def backfill_churn_events(*, until: date | None = None) -> dict[str, int]:
    """Make sure every churn in the subscription history up to `until` (default today) has its
    ChurnEvent, with the reactivation linked, as the nightly step would have recorded them day by
    day. One pass over all subscriptions; an existing churn record inside the same paying run
    (marked by hand, or by the nightly) is kept and completed rather than duplicated."""
    until = until or timezone.localdate()
    by_account: dict[int, list[mrr_rules.Terms]] = defaultdict(list)
    for sub in Subscription.objects.only("account_id", "start_date", "end_date", "mrr").order_by():
        by_account[sub.account_id].append(sub)
    existing: dict[int, list[ChurnEvent]] = defaultdict(list)
    for event in ChurnEvent.objects.order_by("churned_on"):
        existing[event.account_id].append(event)

    to_create: list[ChurnEvent] = []
    updated = 0
    with transaction.atomic():
        for account_id, subs in by_account.items():
            for episode in churn_episodes(subs, until):
                # An open churn from before this paying run was missed coming back (days the
                # nightly never ran): it ended when the account started paying again.
                for stale in existing[account_id]:
                    if stale.reactivated_on is None and stale.churned_on < episode.paying_since:
                        stale.reactivated_on = episode.paying_since
                        stale.save(update_fields=["reactivated_on"])
                        updated += 1
                end = episode.reactivated_on or date.max
                match = next(
                    (e for e in existing[account_id] if episode.paying_since <= e.churned_on < end),
                    None,
                )
                if match is None:
                    to_create.append(
                        ChurnEvent(
                            account_id=account_id,
                            churned_on=episode.churned_on,
                            mrr_lost=episode.mrr_lost,
                            reactivated_on=episode.reactivated_on,
                        )
                    )
                    continue
                fields = []
                if match.reactivated_on is None and episode.reactivated_on is not None:
                    match.reactivated_on = episode.reactivated_on
                    fields.append("reactivated_on")
                if match.mrr_lost == 0:
                    match.mrr_lost = episode.mrr_lost
                    fields.append("mrr_lost")
                if fields:
                    match.save(update_fields=fields)
                    updated += 1
        ChurnEvent.objects.bulk_create(to_create, batch_size=500)
    return {"churns_created": len(to_create), "churns_updated": updated}


# --- Marking and completing by hand --------------------------------------------------------------


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise ValidationError(
            {"note": _("Keep the note under %(n)s characters.") % {"n": NOTE_MAX_CHARS}}
        )
    return note


def _mrr_lost(account: Account, day: date) -> Decimal:
    """What the account paid on `day`, or the day before when it had stopped already."""
    for each in (day, day - timedelta(days=1)):
        mrr = Account.objects.with_mrr(each).filter(pk=account.pk).values_list("mrr", flat=True)
        value = mrr.first() or Decimal("0")
        if value > 0:
            return value
    return Decimal("0")


def mark_churned(*, account: Account, by: User, day: date | None, note: str) -> ChurnEvent:
    """A CSM (own book) or a manager records that the account churned on `day`, for instance on
    a cancellation notice before the last subscription ends, with a note saying how they know
    (a churn is a claim about a customer: an empty form records nothing). Refused when the
    account already has an open churn (the same churn must not be recorded twice)."""
    check_can_change(by, account)
    today = timezone.localdate()
    if day is None or not (note or "").strip():
        errors = {}
        if day is None:
            errors["day"] = _("Give the day the customer churned.")
        if not (note or "").strip():
            errors["note"] = _("Say how you know, e.g. “cancellation letter of 3 March”.")
        raise ValidationError(errors)
    if day > today:
        raise ValidationError({"day": _("The churn date cannot be in the future.")})
    if day < today - timedelta(days=MARK_MAX_DAYS_BACK):
        raise ValidationError(
            {"day": _("The churn date is more than %(n)s days ago.") % {"n": MARK_MAX_DAYS_BACK}}
        )
    note = _clean_note(note)
    with transaction.atomic():
        # Lock the account's row so two people marking at once make one record.
        Account.objects.select_for_update().filter(pk=account.pk).first()
        current = open_churn(account)
        if current is not None:
            raise ValidationError(
                _("%(name)s is already recorded as churned on %(day)s.")
                % {"name": account.name, "day": current.churned_on.isoformat()}
            )
        if ChurnEvent.objects.filter(account=account, churned_on=day).exists():
            raise ValidationError(
                {"day": _("A churn of this account is already recorded on that day.")}
            )
        return _record_mark(account=account, by=by, day=day, note=note)


def churn_for_risk_resolution(*, account: Account, by: User, note: str = "") -> ChurnEvent:
    """Resolving an at-risk item as "churned": the account's open churn when it has one (the
    nightly or a CSM recorded it already), else a new one marked today. Never a second record."""
    current = open_churn(account)
    if current is not None:
        return current
    today = timezone.localdate()
    if ChurnEvent.objects.filter(account=account, churned_on=today).exists():
        return ChurnEvent.objects.get(account=account, churned_on=today)
    return _record_mark(account=account, by=by, day=today, note=_clean_note(note)[:NOTE_MAX_CHARS])


def _record_mark(*, account: Account, by: User, day: date, note: str) -> ChurnEvent:
    """A churn marked by hand on `day`, with the MRR it lost, audited (the callers checked that
    the account has no open churn and none on that day)."""
    event = ChurnEvent.objects.create(
        account=account, churned_on=day, mrr_lost=_mrr_lost(account, day), marked_by=by, note=note
    )
    record_changes(
        actor=by,
        obj=event,
        action="churn.mark",
        changes={"churned_on": ("", day.isoformat())},
        reason=note,
        account=account,
    )
    churn_recorded.send(sender=ChurnEvent, account_ids=[account.pk], day=day)
    return event


def complete_churn(
    *,
    event: ChurnEvent,
    by: User,
    category: str,
    churn_type: str,
    competitor: Competitor | None = None,
    note: str = "",
) -> ChurnEvent:
    """The owner (or a manager) records why the account left. Validates every field before
    writing anything; a competitor is required when the reason is "competitor". Audited."""
    check_can_change(by, event.account)
    errors: dict[str, str] = {}
    if category not in ChurnCategory.values:
        errors["category"] = _("Choose a reason.")
    if churn_type not in ChurnType.values:
        errors["churn_type"] = _("Choose voluntary or involuntary.")
    if category == ChurnCategory.COMPETITOR and competitor is None:
        errors["competitor"] = _("Name the competitor the customer left for.")
    try:
        note = _clean_note(note)
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = ChurnEvent.objects.select_for_update().get(pk=event.pk)
        old = {
            "category": locked.category,
            "churn_type": locked.churn_type,
            "competitor": locked.competitor.name if locked.competitor_id else "",
            "note": locked.note,
        }
        locked.category = category
        locked.churn_type = churn_type
        locked.competitor = competitor
        locked.note = note
        locked.completed_at = timezone.now()
        locked.completed_by = by
        locked.save(
            update_fields=[
                "category",
                "churn_type",
                "competitor",
                "note",
                "completed_at",
                "completed_by",
            ]
        )
        record_changes(
            actor=by,
            obj=locked,
            action="churn.complete",
            changes={
                "churn category": (old["category"], category),
                "churn type": (old["churn_type"], churn_type),
                "churn competitor": (old["competitor"], competitor.name if competitor else ""),
                "churn note": (old["note"], note),
            },
            account=event.account,
        )
    return locked


def active_exit_survey() -> Survey | None:
    return Survey.objects.filter(is_exit_survey=True, active=True).order_by("-created_at").first()


def send_exit_survey(*, event: ChurnEvent, by: User) -> ChurnEvent:
    """Send the active exit survey to the account's primary contact, once per churn, through the
    survey service (the outbox, a signed link); the invitation is kept on the churn."""
    check_can_change(by, event.account)
    if event.exit_invitation_id is not None:
        raise ValidationError(_("The exit survey was already sent for this churn."))
    survey = active_exit_survey()
    if survey is None:
        raise ValidationError(_("There is no active exit survey: a manager can create one."))
    contact = event.account.contacts.filter(is_primary=True).first()
    if contact is None:
        raise ValidationError(_("The account has no primary contact to send the survey to."))
    with transaction.atomic():
        locked = ChurnEvent.objects.select_for_update().get(pk=event.pk)
        if locked.exit_invitation_id is not None:
            raise ValidationError(_("The exit survey was already sent for this churn."))
        try:
            invitation = services.send_invitation(survey=survey, contact=contact, sent_by=by)
        except services.SendError as error:
            raise ValidationError(error.message) from None
        locked.exit_invitation = invitation
        locked.save(update_fields=["exit_invitation"])
        record_changes(
            actor=by,
            obj=locked,
            action="churn.exit_survey",
            changes={"exit survey": ("", contact.email)},
            account=event.account,
        )
    return locked
