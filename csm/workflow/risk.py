"""The at-risk queue's nightly rules (DESIGN §4): which customers get an open RiskItem, why (in
words, with the numbers behind them), and in what order.

`refresh_risk_items(day=D)`:
1. Evaluates the default rules for every customer scored on D, from a few set-based queries
   (the day's health scores, overdue milestones, cadence, detractor answers).
2. Opens an item for an account that has reasons and no open item (with the save play's checklist
   of its reasons), or updates the open one's reasons, MRR and priority.
3. Notes clearing: an open item whose account no longer has reasons gets cleared_on = D; it stays
   in the queue until someone resolves it, so nothing disappears unseen.
Priority = MRR × risk weight, where the risk weight is the heaviest reason's weight plus 0.1 for
each further reason. Idempotent: re-running D leaves the same items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Account
from csm.lib.bulk import update_rows
from csm.workflow.models import Milestone, RiskItem, RiskReason
from csm.workflow.risk_actions import checklist_for as save_play_checklist
from csm.workflow.signals import risk_items_changed
from csm.workflow.task_list import sync_play_tasks_bulk
from csm.workflow.touches import with_next_touch_due
from feedback.services import detractor_answers, local_day_bounds
from health.models import HealthScore

RISK_WEIGHTS: dict[str, Decimal] = {
    RiskReason.RED_BAND: Decimal("1.0"),
    RiskReason.FAILED_PAYMENT: Decimal("0.9"),
    RiskReason.SCORE_DROP: Decimal("0.8"),
    RiskReason.INACTIVE: Decimal("0.8"),
    RiskReason.DETRACTOR: Decimal("0.7"),
    RiskReason.RENEWAL: Decimal("0.6"),
    RiskReason.OVERDUE_MILESTONE: Decimal("0.4"),
    RiskReason.TOUCH_OVERDUE: Decimal("0.3"),
}
EXTRA_REASON_WEIGHT = Decimal("0.1")
SCORE_DROP_POINTS = 15
INACTIVE_DAYS = 14
RENEWAL_WINDOW_DAYS = 90
# "Detractor answer in the last 30 days" (issue 5): the answer's day and the 29 days before D.
DETRACTOR_DAYS = 30

Reason = tuple[str, str]  # (RiskReason key, the words shown)
# What a nightly re-evaluation may change on an open item; updated_on moves only when one does.
CHANGING_FIELDS = ("reasons", "mrr", "priority", "cleared_on")


def risk_weight(keys: list[str]) -> Decimal:
    if not keys:
        return Decimal(0)
    return max(RISK_WEIGHTS.get(key, Decimal("0.5")) for key in keys) + EXTRA_REASON_WEIGHT * (
        len(keys) - 1
    )


def risk_priority(mrr: Decimal, keys: list[str]) -> Decimal:
    """An item's place in the queue: MRR × risk (DESIGN §4), to the cent."""
    return (mrr * risk_weight(keys)).quantize(Decimal("0.01"))


def health_reasons(score: HealthScore, renewal_date: date | None, day: date) -> list[Reason]:
    """The rules that read the day's health score: red band, a fast drop, inactivity, a failed
    payment, a renewal coming with a band that is not green."""
    reasons: list[Reason] = []
    raw = {measure["key"]: measure["raw"] for measure in score.measures}
    if score.band == "red":
        reasons.append((RiskReason.RED_BAND, _("health score %(s)s (red)") % {"s": score.score}))
    if score.trend_7 is not None and score.trend_7 <= -SCORE_DROP_POINTS:
        reasons.append(
            (
                RiskReason.SCORE_DROP,
                _("health %(d)s in 7 days (%(before)s → %(now)s)")
                % {"d": score.trend_7, "before": score.score - score.trend_7, "now": score.score},
            )
        )
    inactive = raw.get("days_since_active")
    if inactive is not None and inactive >= INACTIVE_DAYS:
        words = ngettext(
            "no product activity for %(n)s day", "no product activity for %(n)s days", inactive
        ) % {"n": inactive}
        if "usage_trend" in raw:
            words += _(" (events per day %(t)+d%% vs the 60 days before)") % {
                "t": raw["usage_trend"]
            }
        reasons.append((RiskReason.INACTIVE, words))
    failed = raw.get("billing")
    if failed:
        reasons.append(
            (
                RiskReason.FAILED_PAYMENT,
                ngettext(
                    "%(n)s failed payment in the last 30 days",
                    "%(n)s failed payments in the last 30 days",
                    failed,
                )
                % {"n": failed},
            )
        )
    if (
        renewal_date is not None
        and day <= renewal_date <= day + timedelta(days=RENEWAL_WINDOW_DAYS)
        and score.band != "green"
    ):
        reasons.append(
            (
                RiskReason.RENEWAL,
                _("renews on %(d)s (in %(n)s days) with health %(band)s")
                % {
                    "d": renewal_date.isoformat(),
                    "n": (renewal_date - day).days,
                    "band": score.get_band_display().lower(),
                },
            )
        )
    return reasons


def _milestone_reasons(day: date) -> dict[int, list[Reason]]:
    rows = (
        Milestone.objects.overdue(day)
        .order_by()
        .values("blueprint__account_id")
        .annotate(count=Count("id"), oldest=Min("due_on"))
    )
    return {
        row["blueprint__account_id"]: [
            (
                RiskReason.OVERDUE_MILESTONE,
                ngettext(
                    "%(n)s blueprint milestone overdue (since %(d)s)",
                    "%(n)s blueprint milestones overdue (oldest since %(d)s)",
                    row["count"],
                )
                % {"n": row["count"], "d": row["oldest"].isoformat()},
            )
        ]
        for row in rows
    }


def detractor_words(
    *, kind: str, score: int, contact: str, on: date, comment: str, more: int = 0
) -> str:
    """A detractor answer in words: "NPS 3 from Ana Lima on 2026-11-20: 'too slow'"."""
    text = _("%(kind)s %(score)s from %(who)s on %(d)s") % {
        "kind": kind.upper(),
        "score": score,
        "who": contact or _("a contact"),
        "d": on.isoformat(),
    }
    comment = " ".join(comment.split())
    if comment:
        text += f": '{comment[:117] + '…' if len(comment) > 120 else comment}'"
    if more:
        text += " " + ngettext(
            "(and %(n)s more detractor answer)", "(and %(n)s more detractor answers)", more
        ) % {"n": more}
    return text


def _detractor_reasons(day: date) -> dict[int, list[Reason]]:
    """Accounts with a detractor answer in the DETRACTOR_DAYS up to D: the latest one in words
    (one query over that window's detractor answers)."""
    start, _end = local_day_bounds(day - timedelta(days=DETRACTOR_DAYS - 1))
    _start, end = local_day_bounds(day)
    latest: dict[int, dict[str, Any]] = {}
    counts: dict[int, int] = defaultdict(int)
    rows = (
        detractor_answers()
        .filter(answered_at__gte=start, answered_at__lt=end)
        .order_by("account_id", "-answered_at", "-pk")
        .values("account_id", "kind", "score", "comment", "answered_at", "contact__name")
    )
    for row in rows:
        counts[row["account_id"]] += 1
        latest.setdefault(row["account_id"], row)
    return {
        account_id: [
            (
                RiskReason.DETRACTOR,
                detractor_words(
                    kind=row["kind"],
                    score=row["score"],
                    contact=row["contact__name"] or "",
                    on=timezone.localdate(row["answered_at"]),
                    comment=row["comment"],
                    more=counts[account_id] - 1,
                ),
            )
        ]
        for account_id, row in latest.items()
    }


def _touch_reasons(day: date, account_ids: list[int]) -> dict[int, list[Reason]]:
    """Tier A and B accounts whose cadence touch is overdue (cadence: csm.workflow.touches)."""
    overdue: dict[int, list[Reason]] = {}
    accounts = with_next_touch_due(Account.objects.filter(pk__in=account_ids, tier__in=["A", "B"]))
    for account_id, tier, due in accounts.values_list("pk", "tier", "next_touch_due"):
        if due is not None and due < day:
            overdue[account_id] = [
                (
                    RiskReason.TOUCH_OVERDUE,
                    _("tier %(tier)s touch was due on %(d)s (%(n)s days ago)")
                    % {"tier": tier, "d": due.isoformat(), "n": (day - due).days},
                )
            ]
    return overdue


def refresh_risk_items(
    *, day: date, checklist_for: Callable[[list[str]], list[dict[str, Any]]] | None = None
) -> dict[str, int]:
    """Open, update and note the clearing of risk items for `day` (see the module docstring)."""
    if checklist_for is None:
        checklist_for = save_play_checklist

    scores = list(
        HealthScore.objects.filter(day=day)
        .select_related("account")
        .only("account_id", "score", "band", "trend_7", "measures", "account__renewal_date")
    )
    reasons: dict[int, list[Reason]] = defaultdict(list)
    for score in scores:
        reasons[score.account_id].extend(health_reasons(score, score.account.renewal_date, day))
    customers = {score.account_id for score in scores}
    # Only customers (accounts scored that day) can be at risk; a churned account's overdue
    # milestones do not put it back in the queue.
    for extra in (
        _milestone_reasons(day),
        _touch_reasons(day, list(customers)),
        _detractor_reasons(day),
    ):
        for account_id, found in extra.items():
            if account_id in customers:
                reasons[account_id].extend(found)
    reasons = {account_id: found for account_id, found in reasons.items() if found}

    mrr = dict(Account.objects.with_mrr(day).filter(pk__in=list(reasons)).values_list("pk", "mrr"))
    owners = dict(Account.objects.filter(pk__in=list(reasons)).values_list("pk", "owner_id"))
    open_items = {item.account_id: item for item in RiskItem.objects.open()}
    created, updated, cleared = [], [], []
    for account_id, found in reasons.items():
        keys = [key for key, _text in found]
        account_mrr = mrr.get(account_id, Decimal(0))
        fields = {
            "reasons": [{"key": key, "text": text} for key, text in found],
            "mrr": account_mrr,
            "priority": risk_priority(account_mrr, keys),
            "updated_on": day,
            "cleared_on": None,
        }
        item = open_items.get(account_id)
        if item is None:
            created.append(
                RiskItem(
                    account_id=account_id,
                    assignee_id=owners.get(account_id),
                    opened_on=day,
                    checklist=checklist_for(keys),
                    **fields,
                )
            )
        elif item.opened_on <= day and any(
            getattr(item, name) != fields[name] for name in CHANGING_FIELDS
        ):
            # Only items whose reasons or numbers changed are written: at 50,000 accounts most
            # open items read the same as yesterday.
            for name, value in fields.items():
                setattr(item, name, value)
            updated.append(item)
    for account_id, item in open_items.items():
        if account_id not in reasons and item.cleared_on is None and item.opened_on <= day:
            item.cleared_on = day
            cleared.append(item)
    with transaction.atomic():
        RiskItem.objects.bulk_create(created, batch_size=1000)
        update_rows(RiskItem, [(item, [*CHANGING_FIELDS, "updated_on"]) for item in updated])
        update_rows(RiskItem, [(item, ["cleared_on"]) for item in cleared])
        risk_items_changed.send(sender=RiskItem, items=created, change="opened")
        risk_items_changed.send(sender=RiskItem, items=updated, change="updated")
        sync_play_tasks_bulk([*created, *updated, *cleared], day=day)  # tasks follow the reasons
    return {"risk_opened": len(created), "risk_updated": len(updated), "risk_cleared": len(cleared)}
