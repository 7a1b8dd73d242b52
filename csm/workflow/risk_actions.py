"""What people do with the at-risk queue (DESIGN §4): snooze, reassign, resolve, and the managers'
save plays themselves (each step with a due offset; the item's tasks follow them, see
csm.workflow.task_list).

Every action checks permission (managers act on every item; a CSM on items of accounts in their
own book, `Account.can_be_edited_by`, and on items a manager assigned to them), validates its
input with a ValidationError naming the field (nothing is written then), locks the item's row
while it changes, and is audited through `accounts.audit.record_changes` on the account's trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import record_changes, update_audited
from accounts.models import Role, User
from csm.workflow.models import Resolution, RiskItem, RiskReason, SavePlay, Task, TaskStatus
from csm.workflow.signals import risk_items_changed
from csm.workflow.task_list import (
    DEFAULT_STEP_DUE_DAYS,
    STEP_DUE_MAX_DAYS,
    play_steps,
    reassign_play_tasks,
    sync_play_tasks,
)
from feedback.churn import churn_for_risk_resolution

SNOOZE_MAX_DAYS = 90
NOTE_MAX_CHARS = 2000
SAVE_PLAY_MAX_STEPS = 20
SAVE_PLAY_STEP_MAX_CHARS = 300


# --- Permission and locking -----------------------------------------------------------------------


def can_act(user: User, item: RiskItem) -> bool:
    """Managers, the account's owner, and the CSM a manager assigned the item to."""
    return item.account.can_be_edited_by(user) or (
        item.assignee_id is not None and item.assignee_id == user.pk
    )


def check_can_act(actor: User, item: RiskItem) -> None:
    """403 unless `actor` may act on the item (`can_act`)."""
    if not can_act(actor, item):
        raise PermissionDenied("not your account")


def _locked_open(item: RiskItem) -> RiskItem:
    """The item's row, locked until the transaction ends, so two people acting at once do not
    overwrite each other. A resolved item takes no action."""
    locked = RiskItem.objects.select_for_update().get(pk=item.pk)
    if locked.resolved_at is not None:
        raise ValidationError(_("This item is already resolved."))
    return locked


def _refresh(item: RiskItem, locked: RiskItem, *fields: str) -> None:
    """Copy what changed back onto the caller's instance (which keeps its select_related)."""
    for name in fields:
        setattr(item, name, getattr(locked, name))


def _update(
    actor: User, item: RiskItem, action: str, values: dict[str, Any], reason: str = ""
) -> RiskItem:
    """Change fields of the open item on its locked row, audited, and copy them back."""
    with transaction.atomic():
        locked = _locked_open(item)
        update_audited(
            actor=actor,
            obj=locked,
            action=action,
            values=values,
            reason=reason,
            account=item.account,
        )
    _refresh(item, locked, *values)
    return item


def _clean_note(note: str, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError({"note": _("Say why (a note is required).")})
    if len(note) > NOTE_MAX_CHARS:
        raise ValidationError(
            {"note": _("Keep the note under %(n)s characters.") % {"n": NOTE_MAX_CHARS}}
        )
    return note


# --- Actions --------------------------------------------------------------------------------------


def snooze(*, actor: User, item: RiskItem, until: date, note: str = "") -> RiskItem:
    """Hide the item from the queue through `until` (after today, at most 90 days ahead)."""
    check_can_act(actor, item)
    today = timezone.localdate()
    if until is None or until <= today:
        raise ValidationError({"until": _("Snooze until a day after today.")})
    if until > today + timedelta(days=SNOOZE_MAX_DAYS):
        raise ValidationError(
            {"until": _("Snooze for at most %(n)s days.") % {"n": SNOOZE_MAX_DAYS}}
        )
    note = _clean_note(note, required=False)
    return _update(actor, item, "risk_item.snooze", {"snoozed_until": until}, reason=note)


def reassign(*, actor: User, item: RiskItem, assignee: User | None) -> RiskItem:
    """Give the item to another person (managers only); they must be an active CSM or manager."""
    if not actor.is_manager:
        raise PermissionDenied("managers only")
    if assignee is None or not assignee.is_active or assignee.role not in (Role.CSM, Role.MANAGER):
        raise ValidationError({"assignee": _("Choose an active CSM or manager.")})
    with transaction.atomic():
        _update(actor, item, "risk_item.reassign", {"assignee": assignee})
        reassign_play_tasks(item, assignee)
    return item


def resolve(*, actor: User, item: RiskItem, resolution: Resolution | str, note: str) -> RiskItem:
    """Close the item as saved, churned or not a risk, with a note saying why. It leaves the
    queue; the nightly may open a new item for the account on a later day."""
    check_can_act(actor, item)
    if resolution not in Resolution.values:
        raise ValidationError({"resolution": _("Choose saved, churned or not a risk.")})
    note = _clean_note(note, required=True)
    with transaction.atomic():
        locked = _locked_open(item)
        locked.resolution = resolution
        locked.resolution_note = note
        locked.resolved_at = timezone.now()
        locked.resolved_by = actor
        locked.save(update_fields=["resolution", "resolution_note", "resolved_at", "resolved_by"])
        # Its open save-play steps are no longer needed (kept, shown as such).
        sync_play_tasks(locked, day=timezone.localdate())
        record_changes(
            actor=actor,
            obj=locked,
            action="risk_item.resolve",
            changes={"resolution": ("", resolution)},
            reason=note,
            account=item.account,
        )
        if resolution == Resolution.CHURNED:
            # The account's churn record: its open one if the nightly or a CSM made it already.
            churn_for_risk_resolution(account=item.account, by=actor, note=note)
        risk_items_changed.send(sender=RiskItem, items=[locked], change="resolved")
    _refresh(item, locked, "resolution", "resolution_note", "resolved_at", "resolved_by")
    return item


# --- Several items at once ------------------------------------------------------------------------


def _one_of_bulk(actor: User, item: RiskItem, data: Mapping[str, Any]) -> None:
    """One item of a bulk action, through the same action functions (and checks) as its row."""
    if data["action"] == "resolve":
        resolve(actor=actor, item=item, resolution=data["resolution"], note=data["note"])
    elif data["action"] == "snooze":
        snooze(actor=actor, item=item, until=data["until"], note=data["note"])
    else:
        reassign(actor=actor, item=item, assignee=data["assignee"])


def act_in_bulk(*, actor: User, ids: list[int], data: Mapping[str, Any]) -> list[RiskItem]:
    """Resolve, snooze or reassign the items `ids` together: all or nothing. An item that is
    gone, or one `actor` may not act on, or one the action refuses stops the whole action with a
    ValidationError naming the account; nothing is written then."""
    items = {
        item.pk: item
        for item in RiskItem.objects.filter(pk__in=ids).select_related("account", "assignee")
    }
    missing = [pk for pk in ids if pk not in items]
    if missing:
        raise ValidationError(
            _("Nothing was changed: item %(pk)s is no longer in the queue.") % {"pk": missing[0]}
        )
    with transaction.atomic():
        for pk in ids:
            item = items[pk]
            try:
                _one_of_bulk(actor, item, data)
            except (PermissionDenied, ValidationError) as error:
                problem = (
                    _("you may not act on it")
                    if isinstance(error, PermissionDenied)
                    else "; ".join(_messages_of(error))
                )
                raise ValidationError(
                    _("Nothing was changed: %(name)s (%(id)s): %(problem)s")
                    % {
                        "name": item.account.name,
                        "id": item.account.external_id,
                        "problem": problem,
                    }
                ) from None
    return [items[pk] for pk in ids]


def _messages_of(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [str(m) for messages_ in error.message_dict.values() for m in messages_]
    return [str(m) for m in error.messages]


# --- Save plays -----------------------------------------------------------------------------------


def parse_steps(text: str) -> list[dict[str, Any]]:
    """One step per line, "words | days" ("Call the main contact | 2": due two days after the
    reason appears); a line without "| days" is due in DEFAULT_STEP_DUE_DAYS. Blank lines dropped.
    Raises ValidationError (for the reason's field) naming the bad line."""
    steps: list[dict[str, Any]] = []
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > SAVE_PLAY_MAX_STEPS:
        raise ValidationError(_("At most %(n)s steps per save play.") % {"n": SAVE_PLAY_MAX_STEPS})
    for number, line in enumerate(lines, start=1):
        words, bar, days_text = line.rpartition("|") if "|" in line else (line, "", "")
        words = words.strip()
        if not words:
            raise ValidationError(_("Step %(i)s has no words before “|”.") % {"i": number})
        if len(words) > SAVE_PLAY_STEP_MAX_CHARS:
            raise ValidationError(
                _("Step %(i)s is longer than %(n)s characters.")
                % {"i": number, "n": SAVE_PLAY_STEP_MAX_CHARS}
            )
        days = DEFAULT_STEP_DUE_DAYS
        if bar:
            days_text = days_text.strip().removesuffix("d").strip()
            if not days_text.isdigit() or int(days_text) > STEP_DUE_MAX_DAYS:
                raise ValidationError(
                    _("Step %(i)s: after “|” give the days until it is due, 0 to %(n)s.")
                    % {"i": number, "n": STEP_DUE_MAX_DAYS}
                )
            days = int(days_text)
        steps.append({"text": words, "due_days": days})
    return steps


def format_steps(raw: list[Any]) -> str:
    """A play's steps as the settings page's textarea shows them (parse_steps reads it back)."""
    return "\n".join(f"{step.text} | {step.due_days}" for step in play_steps(raw))


def update_save_plays(*, actor: User, steps_by_reason: Mapping[str, list[dict[str, Any]]]) -> int:
    """Write the save plays (managers only), auditing each one that changed; returns how many
    changed. Open items' tasks take the new steps when their reasons next change (tasks already
    made keep their due dates)."""
    if not actor.is_manager:
        raise PermissionDenied("managers only")
    unknown = [key for key in steps_by_reason if key not in RiskReason.values]
    if unknown:
        raise ValidationError({key: _("Unknown risk reason.") for key in unknown})
    changed = 0
    with transaction.atomic():
        plays = {play.reason: play for play in SavePlay.objects.select_for_update()}
        for reason, steps in steps_by_reason.items():
            play = plays.get(reason)
            old = (
                [{"text": s.text, "due_days": s.due_days} for s in play_steps(play.steps)]
                if play is not None
                else []
            )
            if old == list(steps):
                continue
            if play is None:
                play = SavePlay.objects.create(reason=reason, steps=list(steps))
            else:
                play.steps = list(steps)
                play.save(update_fields=["steps"])
            record_changes(
                actor=actor,
                obj=play,
                action="save_play.update",
                changes={"steps": (format_steps(old), format_steps(list(steps)))},
            )
            changed += 1
    return changed


def close_churned_items(*, account_ids: list[int], day: date) -> int:
    """The nightly found these accounts' MRR reached 0 on `day` (feedback.signals.accounts_churned):
    their open items opened by then close as churned, and their open save-play steps are no
    longer needed. Returns how many closed."""
    closing = RiskItem.objects.open().filter(account_id__in=account_ids, opened_on__lte=day)
    Task.objects.open().filter(risk_item__in=closing, source="save_play").update(
        status=TaskStatus.NOT_NEEDED
    )
    return closing.update(
        resolution=Resolution.CHURNED,
        resolution_note=_("The account churned: its MRR reached 0 on %(day)s.")
        % {"day": day.isoformat()},
        resolved_at=datetime.combine(day, time(23, 59), tzinfo=timezone.get_current_timezone()),
    )
