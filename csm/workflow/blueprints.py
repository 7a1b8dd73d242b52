"""Success blueprints (DESIGN §2): every account gets its segment's plan at the contract start,
both sides' milestones due `offset_days` after it; the CSM (or a manager) marks them done or
skipped, reopens or reschedules them, and shares a read-only view with the customer.

Writes go through the functions here, each audited with record_changes; `blueprint_for` and
`shared_blueprint` are the reads the account page and the public page use.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from accounts.access import check_can_change
from accounts.audit import record_changes, update_audited
from accounts.models import Account, Contact, User
from csm.lib.bulk import update_rows
from csm.lib.dates import years_after
from csm.workflow.models import (
    Blueprint,
    BlueprintTemplate,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    Side,
    new_share_token,
)
from csm.workflow.risk import evaluate_accounts

# The furthest a milestone may be rescheduled: two years from today (a blueprint covers the first
# year; a date beyond this is a typo, like 9999-12-31, that would hide the milestone for good).
RESCHEDULE_MAX_YEARS = 2
# Accounts per round of create_blueprints: keeps every `IN (...)` under SQLite's parameter limit.
CHUNK = 1000
# "Upcoming" on the account page: open and due within this many days.
UPCOMING_DAYS = 14
TOKEN_SALT = "blueprint"
# Only accounts whose contract started in the last NEW_ACCOUNT_DAYS days (or starts later) get a
# blueprint on import or at night; the blueprint's milestones run to 60 days (DESIGN §2).
NEW_ACCOUNT_DAYS = 60

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Creating blueprints --------------------------------------------------------------------------


def new_accounts_since(day: date) -> date:
    """The earliest contract start that still gets a blueprint on `day` (see NEW_ACCOUNT_DAYS)."""
    return day - timedelta(days=NEW_ACCOUNT_DAYS)


def create_blueprints(
    account_ids: Iterable[int] | None = None, *, started_since: date | None = None
) -> int:
    """Give every account without a blueprint (only those of `account_ids` when given; with
    `started_since`, only those whose contract starts on or after it) its segment's template:
    started on the contract start, each milestone due `offset_days` later, ours owned by the
    account's owner, the customer's by its primary contact. Returns how many blueprints it made;
    running it again makes none. Imports and the nightly run pass
    `started_since=new_accounts_since(day)`: a blueprint is an onboarding plan, and an existing
    book brought in by an import would otherwise open hundreds of milestones already overdue.

    Set-based: per round of up to CHUNK accounts, one query each for the accounts, their primary
    contacts, the blueprint insert, reading the new blueprints back, and the milestone insert.
    A blueprint another run inserted first is skipped (ignore_conflicts on the one-per-account
    key; only blueprints carrying our own share_key get milestones from this run).
    """
    templates = {
        template.segment: template
        for template in BlueprintTemplate.objects.prefetch_related("milestones")
    }
    if not templates:
        return 0
    without = Account.objects.filter(blueprint__isnull=True, segment__in=list(templates))
    if started_since is not None:
        without = without.filter(contract_start__gte=started_since)
    if account_ids is None:
        ids = list(without.order_by("pk").values_list("pk", flat=True))
    else:
        ids = []
        wanted = sorted(set(account_ids))
        for chunk in _chunks(wanted):
            ids.extend(without.filter(pk__in=chunk).values_list("pk", flat=True))
    created = 0
    for chunk in _chunks(ids):
        created += _create_for(list(chunk), templates)
    return created


@transaction.atomic
def _create_for(account_ids: list[int], templates: dict[str, BlueprintTemplate]) -> int:
    accounts = list(
        Account.objects.filter(pk__in=account_ids).values_list(
            "pk", "segment", "contract_start", "owner_id"
        )
    )
    primary = dict(
        Contact.objects.filter(account_id__in=account_ids, is_primary=True).values_list(
            "account_id", "pk"
        )
    )
    planned = {
        pk: Blueprint(
            account_id=pk,
            template=templates[segment],
            started_on=start,
            share_key=new_share_token(),
        )
        for pk, segment, start, _ in accounts
    }
    Blueprint.objects.bulk_create(planned.values(), ignore_conflicts=True)
    # Read back by the natural key: ignore_conflicts returns no ids.
    ours = {
        account_id: pk
        for account_id, pk, key in Blueprint.objects.filter(
            account_id__in=list(planned)
        ).values_list("account_id", "pk", "share_key")
        if key == planned[account_id].share_key
    }
    milestones = [
        Milestone(
            blueprint_id=ours[pk],
            side=step.side,
            title=step.title,
            description=step.description,
            due_on=start + timedelta(days=step.offset_days),
            owner_id=owner_id if step.side == Side.OURS else None,
            contact_id=primary.get(pk) if step.side == Side.CUSTOMER else None,
        )
        for pk, segment, start, owner_id in accounts
        if pk in ours
        for step in templates[segment].milestones.all()
    ]
    Milestone.objects.bulk_create(milestones, batch_size=CHUNK)
    return len(ours)


# --- Reading --------------------------------------------------------------------------------------


@dataclass
class MilestoneRow:
    milestone: Milestone
    overdue: bool
    upcoming: bool


@dataclass
class BlueprintView:
    """An account's blueprint as the pages show it: both sides' milestones and the progress."""

    blueprint: Blueprint
    today: date
    ours: list[MilestoneRow] = field(default_factory=list)
    customer: list[MilestoneRow] = field(default_factory=list)

    @property
    def rows(self) -> list[MilestoneRow]:
        return self.ours + self.customer

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def done(self) -> int:
        return sum(row.milestone.status == MilestoneStatus.DONE for row in self.rows)

    @property
    def skipped(self) -> int:
        return sum(row.milestone.status == MilestoneStatus.SKIPPED for row in self.rows)

    @property
    def overdue(self) -> int:
        return sum(row.overdue for row in self.rows)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def token(self) -> str:
        return share_token(self.blueprint)


def _view(blueprint: Blueprint, today: date) -> BlueprintView:
    view = BlueprintView(blueprint=blueprint, today=today)
    soon = today + timedelta(days=UPCOMING_DAYS)
    for milestone in blueprint.milestones.all():
        is_open = milestone.status == MilestoneStatus.OPEN
        row = MilestoneRow(
            milestone=milestone,
            overdue=is_open and milestone.due_on < today,
            upcoming=is_open and today <= milestone.due_on <= soon,
        )
        (view.ours if milestone.side == Side.OURS else view.customer).append(row)
    return view


def _with_milestones() -> Prefetch[Milestone]:
    return Prefetch("milestones", queryset=Milestone.objects.select_related("owner", "contact"))


def blueprint_for(account: Account, *, today: date | None = None) -> BlueprintView | None:
    """The account page's blueprint section: two queries (the blueprint, then its milestones with
    their owners and contacts), one when the account has no blueprint."""
    blueprint = (
        Blueprint.objects.filter(account=account).prefetch_related(_with_milestones()).first()
    )
    if blueprint is None:
        return None
    blueprint.account = account  # the caller's instance: no query for it in templates
    return _view(blueprint, today or timezone.localdate())


# --- Sharing --------------------------------------------------------------------------------------


def share_token(blueprint: Blueprint) -> str:
    """The signed token of the customer's link: the blueprint id and its current share_key, so a
    new share_key (rotate) revokes every older link."""
    return signing.dumps([blueprint.pk, blueprint.share_key], salt=TOKEN_SALT)


def shared_blueprint(token: str, *, today: date | None = None) -> BlueprintView | None:
    """The blueprint a customer's link shows, or None when the token is tampered with, revoked
    (share_key rotated) or sharing is off: the caller answers all of these the same way."""
    try:
        pk, key = signing.loads(token, salt=TOKEN_SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not isinstance(pk, int) or not isinstance(key, str):
        return None
    primary_language = Contact.objects.filter(account=OuterRef("account"), is_primary=True)
    blueprint = (
        Blueprint.objects.filter(pk=pk, share_enabled=True)
        .select_related("account")
        # The page is shown in the primary contact's language (in the same query).
        .annotate(reader_language=Subquery(primary_language.values("language")[:1]))
        .prefetch_related(_with_milestones())
        .first()
    )
    if blueprint is None or not constant_time_compare(blueprint.share_key, key):
        return None
    return _view(blueprint, today or timezone.localdate())


def _masked(key: str) -> str:
    # The audit trail is readable by every user; the key itself would be a working link.
    return f"{key[:4]}…"


def rotate_share_link(*, actor: User, blueprint: Blueprint) -> Blueprint:
    """A new share_key: every link sent before stops working."""
    account = blueprint.account
    check_can_change(actor, account)
    with transaction.atomic():
        old = blueprint.share_key
        blueprint.share_key = new_share_token()
        blueprint.save(update_fields=["share_key"])
        record_changes(
            actor=actor,
            obj=blueprint,
            action="blueprint.rotate_link",
            changes={"share_key": (_masked(old), _masked(blueprint.share_key))},
            account=account,
        )
    return blueprint


def set_sharing(*, actor: User, blueprint: Blueprint, enabled: bool) -> Blueprint:
    account = blueprint.account
    check_can_change(actor, account)
    with transaction.atomic():
        update_audited(
            actor=actor,
            obj=blueprint,
            action="blueprint.sharing",
            values={"share_enabled": enabled},
            account=account,
        )
    return blueprint


# --- Milestones -----------------------------------------------------------------------------------


class MilestoneStateError(ValueError):
    """The milestone is not in a state this action applies to (e.g. completing a done one)."""


def _save_and_audit(
    *,
    actor: User,
    milestone: Milestone,
    action: str,
    values: dict[str, object],
    reason: str,
) -> Milestone:
    with transaction.atomic():
        update_audited(
            actor=actor,
            obj=milestone,
            action=action,
            values=values,
            reason=reason,
            account=milestone.blueprint.account,
        )
        # A milestone done, reopened or moved changes the overdue-milestone rule at once.
        evaluate_accounts([milestone.blueprint.account_id])
    return milestone


def complete_milestone(
    *, actor: User, milestone: Milestone, status: str, note: str, on: date
) -> Milestone:
    """Mark an open milestone done or skipped on `on`, with a completion note (the audit's why)."""
    check_can_change(actor, milestone.blueprint.account)
    if status not in (MilestoneStatus.DONE, MilestoneStatus.SKIPPED):
        raise ValueError(f"cannot complete a milestone as {status!r}")
    if milestone.status != MilestoneStatus.OPEN:
        raise MilestoneStateError("the milestone is not open")
    started = milestone.blueprint.started_on
    if on > timezone.localdate():
        raise ValidationError({"on": _("Cannot be in the future.")})
    if on < started:
        raise ValidationError(
            {
                "on": _("Cannot be before the blueprint started (%(day)s).")
                % {"day": started.isoformat()}
            }
        )
    return _save_and_audit(
        actor=actor,
        milestone=milestone,
        action="milestone.complete",
        values={"status": status, "completed_on": on, "completion_note": note},
        reason=note,
    )


def reopen(*, actor: User, milestone: Milestone, reason: str = "") -> Milestone:
    """Back to open: the completion date and note go (the audit trail keeps them)."""
    check_can_change(actor, milestone.blueprint.account)
    if milestone.status == MilestoneStatus.OPEN:
        raise MilestoneStateError("the milestone is already open")
    return _save_and_audit(
        actor=actor,
        milestone=milestone,
        action="milestone.reopen",
        values={"status": MilestoneStatus.OPEN, "completed_on": None, "completion_note": ""},
        reason=reason,
    )


def reschedule(*, actor: User, milestone: Milestone, due_on: date, reason: str) -> Milestone:
    """Move an open or closed milestone's due date, with a reason; not before the blueprint
    started and not more than RESCHEDULE_MAX_YEARS ahead (ValidationError on "due_on")."""
    check_can_change(actor, milestone.blueprint.account)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the date moves.")})
    started = milestone.blueprint.started_on
    if due_on < started:
        raise ValidationError(
            {
                "due_on": _("Cannot be before the blueprint starts (%(day)s).")
                % {"day": started.isoformat()}
            }
        )
    latest = years_after(timezone.localdate(), RESCHEDULE_MAX_YEARS)
    if due_on > latest:
        raise ValidationError(
            {
                "due_on": _("Cannot be more than %(years)s years ahead (at the latest %(day)s).")
                % {"years": RESCHEDULE_MAX_YEARS, "day": latest.isoformat()}
            }
        )
    return _save_and_audit(
        actor=actor,
        milestone=milestone,
        action="milestone.reschedule",
        values={"due_on": due_on},
        reason=reason,
    )


# --- Templates (managers) -------------------------------------------------------------------------

# The audited fields of a template's milestone.
TEMPLATE_FIELDS = ("side", "title", "description", "offset_days")


def save_template_milestones(
    *,
    actor: User,
    template: BlueprintTemplate,
    saved: Sequence[MilestoneTemplate],
    removed: Sequence[MilestoneTemplate] = (),
    confirm_empty: bool = False,
) -> int:
    """A manager's edit of a segment's template, in one transaction: delete the `removed`
    milestones, write the `saved` ones (new, or changed and not saved yet) and audit each, with the
    template's name as the reason. Blueprints made before keep their milestones. Returns how many
    milestones changed.

    An edit that leaves the template without milestones (new accounts of the segment would get
    an empty blueprint) needs `confirm_empty`; without it, ValidationError on "confirm_empty" and
    nothing is written."""
    if not actor.is_manager:
        raise PermissionDenied("managers only")
    if not confirm_empty and removed and not saved:
        removing = {milestone.pk for milestone in removed}
        if not template.milestones.exclude(pk__in=removing).exists():
            raise ValidationError(
                {
                    "confirm_empty": _(
                        "This removes every milestone of the %(name)s template: new accounts "
                        "of this segment would start with an empty blueprint. Tick the box to "
                        "confirm, or keep at least one milestone."
                    )
                    % {"name": template.name}
                }
            )
    with transaction.atomic():
        for milestone in removed:
            record_changes(
                actor=actor,
                obj=milestone,
                action="blueprint template milestone removed",
                changes={"title": (milestone.title, None)},
                reason=template.name,
            )
            milestone.delete()
        for milestone in saved:
            old = None
            if milestone.pk is not None:
                old = (
                    MilestoneTemplate.objects.filter(pk=milestone.pk)
                    .values(*TEMPLATE_FIELDS)
                    .first()
                )
            milestone.template = template
            milestone.save()
            record_changes(
                actor=actor,
                obj=milestone,
                action="blueprint template milestone",
                changes={
                    name: ((old or {}).get(name), getattr(milestone, name))
                    for name in TEMPLATE_FIELDS
                },
                reason=template.name,
            )
    return len(removed) + len(saved)


# --- Demo -----------------------------------------------------------------------------------------

# Of the accounts still in their first months, the share that has let a milestone or two slip.
DEMO_SLIPPING_SHARE = 0.15
DEMO_SLIP_WINDOW_DAYS = 75  # only recent milestones are left open: old ones would be unbelievable
DEMO_ON_TIME_SHARE = 0.85  # of completed milestones; the rest are done a few days late
DEMO_SKIPPED_SHARE = 0.03


def simulate_demo_progress(*, seed: int, today: date) -> int:
    """The demo book's history of the blueprints: milestones due before `today` are done (85% on
    time, the rest a few days late, a few skipped), except at ~15% of the recently signed accounts,
    which leave their latest one or two open and overdue (the Today page and the risk queue
    show them). Drawn from `random.Random(seed)` in natural-key order, so the same seed and day
    give the same result on any database. Returns how many milestones it closed."""
    rng = random.Random(f"blueprints-{seed}")
    rows = list(
        Milestone.objects.filter(status=MilestoneStatus.OPEN, due_on__lt=today)
        .order_by("blueprint__account__external_id", "due_on", "side", "title")
        .values_list("pk", "blueprint__account__external_id", "due_on", "side")
    )
    by_account: dict[str, list[tuple[int, date, str]]] = {}
    for pk, external_id, due_on, side in rows:
        by_account.setdefault(external_id, []).append((pk, due_on, side))

    closed: list[Milestone] = []
    for steps in by_account.values():
        left_open = 0
        recent = steps[-1][1] >= today - timedelta(days=DEMO_SLIP_WINDOW_DAYS)
        if recent and rng.random() < DEMO_SLIPPING_SHARE:
            left_open = rng.choice((1, 1, 2))
        for pk, due_on, side in steps[: len(steps) - left_open]:
            if side == Side.CUSTOMER and rng.random() < DEMO_SKIPPED_SHARE:
                status, note, late = MilestoneStatus.SKIPPED, "Not needed: agreed on a call.", 0
            elif rng.random() < DEMO_ON_TIME_SHARE:
                status, note, late = MilestoneStatus.DONE, "", -rng.randint(0, 3)
            else:
                status, note, late = MilestoneStatus.DONE, "", rng.randint(1, 6)
            completed_on = min(due_on + timedelta(days=late), today - timedelta(days=1))
            closed.append(
                Milestone(pk=pk, status=status, completed_on=completed_on, completion_note=note)
            )
    update_rows(Milestone, [(m, ["status", "completed_on", "completion_note"]) for m in closed])
    return len(closed)
