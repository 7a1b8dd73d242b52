"""The at-risk queue's rules (DESIGN §4): which customers get an open RiskItem, why, and in what
order, evaluated by ONE function for one account, a set, or every account.

`evaluate_risk(day=D, account_ids=None|[...])` is called by the nightly for every account and,
for the accounts concerned, at once when an input of a rule changes: a touch logged or imported,
a milestone completed, reopened or rescheduled, usage events ingested (batched through
DirtyAccount and `evaluate_dirty_accounts`), a survey answer, a tier or owner change, a score
override (receivers in csm.workflow.receivers).
1. The rules for the accounts that are customers on D (a subscription active that day), from a
   few set-based queries: the latest health scores on or before D (red band, score drop,
   renewal — these change with the nightly scores), usage since the rollups (inactivity, failed
   payments), overdue milestones, cadence, detractor answers and their comments' causes. Each
   reason is `{"key", "facts", "since"}` (csm.workflow.reasons words it when shown).
2. `apply_risk_reasons`, the one place items change: opens an item for an account with reasons
   and none open, updates the open one's reasons (a reason keeps its `since` while it fires;
   one that stops goes to `past_reasons` with `until`), MRR and priority, and notes clearing
   (cleared_on = D; the item stays open until someone resolves it, nothing disappears unseen).
Time only moves forward, which makes re-running any day or range harmless: an item already
evaluated for a later day is evaluated for that day again instead (same data, same result), and
an account whose item was resolved on D or later gets no new item for D.
Priority = MRR × risk weight, where the risk weight is the heaviest reason's weight plus 0.1 for
each further reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, Max, Min, OuterRef
from django.utils import timezone

from accounts.models import Account, Subscription, active_on
from csm.lib.bulk import update_rows
from csm.workflow.models import Milestone, RiskItem, RiskReason
from csm.workflow.signals import risk_items_changed
from csm.workflow.task_list import sync_play_tasks_bulk
from csm.workflow.touches import with_next_touch_due
from feedback.models import ResponseTag
from feedback.services import detractor_answers, local_day_bounds
from health import scoring
from health.ingest import mark_dirty, take_dirty_accounts
from health.models import HealthScore
from health.queries import usage_facts

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
# The churn causes a detractor's comment may name (feedback tagging), each a reason of its own.
COMMENT_CAUSES = (RiskReason.PRICE, RiskReason.EXPERIENCE, RiskReason.COMPETITOR)

Reason = tuple[str, dict[str, Any]]  # (RiskReason key, the facts behind it)
# What a re-evaluation may change on an open item; updated_on moves only when one does.
CHANGING_FIELDS = ("reasons", "past_reasons", "mrr", "priority", "cleared_on")


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
    """The rules that read the latest health score: red band, a fast drop, a renewal coming with
    a band that is not green."""
    reasons: list[Reason] = []
    if score.band == "red":
        reasons.append((RiskReason.RED_BAND, {"score": score.score, "scored_on": str(score.day)}))
    if score.trend_7 is not None and score.trend_7 <= -SCORE_DROP_POINTS:
        before = score.score - score.trend_7
        facts = {"drop": score.trend_7, "before": before, "now": score.score}
        reasons.append((RiskReason.SCORE_DROP, {**facts, "scored_on": str(score.day)}))
    if (
        renewal_date is not None
        and day <= renewal_date <= day + timedelta(days=RENEWAL_WINDOW_DAYS)
        and score.band != "green"
    ):
        facts = {"renewal_date": renewal_date.isoformat(), "band": score.band}
        reasons.append((RiskReason.RENEWAL, facts))
    return reasons


def _usage_reasons(
    day: date, account_ids: list[int] | None, starts: dict[int, date], trends: dict[int, Any]
) -> dict[int, list[Reason]]:
    """No product activity for INACTIVE_DAYS, failed payments in the last 30 days: from the
    rollups and the events ingested since (health.queries.usage_facts), so they move live. A new
    account that has sent nothing yet is not inactive during its cold start (its first
    scoring.COLD_START_DAYS days), as its usage measures have "not enough data yet"."""
    facts = usage_facts(day, account_ids)
    found: dict[int, list[Reason]] = {}
    for account_id, contract_start in starts.items():
        last, failed = facts.get(account_id, (None, 0))
        reasons: list[Reason] = []
        silent = last is None or (day - last).days >= INACTIVE_DAYS
        if silent and not scoring.in_cold_start(day, contract_start, ever_active=last is not None):
            reasons.append(
                (
                    RiskReason.INACTIVE,
                    {
                        "last_active": last.isoformat() if last else None,
                        "horizon_days": scoring.INACTIVITY_HORIZON_DAYS,
                        "trend": trends.get(account_id),
                    },
                )
            )
        if failed:
            reasons.append((RiskReason.FAILED_PAYMENT, {"count": failed}))
        if reasons:
            found[account_id] = reasons
    return found


def _milestone_reasons(day: date, account_ids: list[int] | None) -> dict[int, list[Reason]]:
    milestones = Milestone.objects.overdue(day)
    if account_ids is not None:
        milestones = milestones.filter(blueprint__account_id__in=account_ids)
    rows = (
        milestones.order_by()
        .values("blueprint__account_id")
        .annotate(count=Count("id"), oldest=Min("due_on"))
    )
    return {
        row["blueprint__account_id"]: [
            (
                RiskReason.OVERDUE_MILESTONE,
                {"count": row["count"], "oldest_due": row["oldest"].isoformat()},
            )
        ]
        for row in rows
    }


def _detractor_reasons(day: date, account_ids: list[int] | None) -> dict[int, list[Reason]]:
    """Accounts with a detractor answer in the DETRACTOR_DAYS up to D: the latest one, and the
    churn causes its comment names (one query over that window's detractor answers, one for
    their tags)."""
    start, _end = local_day_bounds(day - timedelta(days=DETRACTOR_DAYS - 1))
    _start, end = local_day_bounds(day)
    answers = detractor_answers().filter(answered_at__gte=start, answered_at__lt=end)
    if account_ids is not None:
        answers = answers.filter(account_id__in=account_ids)
    latest: dict[int, dict[str, Any]] = {}
    counts: dict[int, int] = defaultdict(int)
    rows = answers.order_by("account_id", "-answered_at", "-pk").values(
        "pk", "account_id", "kind", "score", "comment", "answered_at", "contact__name"
    )
    for row in rows:
        counts[row["account_id"]] += 1
        latest.setdefault(row["account_id"], row)
    causes: dict[int, set[str]] = defaultdict(set)
    tags = ResponseTag.objects.filter(
        response_id__in=[row["pk"] for row in latest.values()], category__in=COMMENT_CAUSES
    ).values_list("response_id", "category")
    for response_id, category in tags:
        causes[response_id].add(category)
    found: dict[int, list[Reason]] = {}
    for account_id, row in latest.items():
        on = timezone.localdate(row["answered_at"]).isoformat()
        facts = {
            "kind": row["kind"],
            "score": row["score"],
            "contact": row["contact__name"] or "",
            "on": on,
            "comment": row["comment"],
            "more": counts[account_id] - 1,
        }
        found[account_id] = [(RiskReason.DETRACTOR, facts)] + [
            (cause, {"on": on}) for cause in COMMENT_CAUSES if cause in causes[row["pk"]]
        ]
    return found


def _touch_reasons(day: date, account_ids: list[int]) -> dict[int, list[Reason]]:
    """Tier A and B accounts whose cadence touch is overdue (cadence: csm.workflow.touches)."""
    overdue: dict[int, list[Reason]] = {}
    accounts = with_next_touch_due(Account.objects.filter(pk__in=account_ids, tier__in=["A", "B"]))
    for account_id, tier, due in accounts.values_list("pk", "tier", "next_touch_due"):
        if due is not None and due < day:
            overdue[account_id] = [
                (RiskReason.TOUCH_OVERDUE, {"tier": tier, "due": due.isoformat()})
            ]
    return overdue


def risk_reasons(day: date, account_ids: list[int] | None = None) -> dict[int, list[Reason]]:
    """Every rule for the customers on `day` among `account_ids` (None: all), in rule order."""
    active = Subscription.objects.filter(active_on(day), account=OuterRef("pk"))
    accounts = Account.objects.filter(Exists(active))
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    rows = accounts.order_by().values_list("pk", "renewal_date", "contract_start")
    customers = {pk: renewal for pk, renewal, _start in rows}
    starts = {pk: start for pk, _renewal, start in rows}
    scored_day = HealthScore.objects.filter(day__lte=day).aggregate(last=Max("day"))["last"]
    scores = HealthScore.objects.filter(day=scored_day).only(
        "account_id", "day", "score", "band", "trend_7", "measures"
    )
    if account_ids is not None:
        scores = scores.filter(account_id__in=account_ids)
    reasons: dict[int, list[Reason]] = defaultdict(list)
    trends: dict[int, Any] = {}
    for score in scores if scored_day is not None else []:
        if score.account_id in customers:
            reasons[score.account_id].extend(
                health_reasons(score, customers[score.account_id], day)
            )
            raw = {measure["key"]: measure["raw"] for measure in score.measures}
            trends[score.account_id] = raw.get("usage_trend")
    # Only customers can be at risk; a churned account's overdue milestones do not put it back
    # in the queue.
    for extra in (
        _usage_reasons(day, account_ids, starts, trends),
        _milestone_reasons(day, account_ids),
        _touch_reasons(day, list(customers)),
        _detractor_reasons(day, account_ids),
    ):
        for account_id, found in extra.items():
            if account_id in customers:
                reasons[account_id].extend(found)
    return {account_id: found for account_id, found in reasons.items() if found}


def _resolved_since(day: date, account_ids: list[int] | None) -> set[int]:
    """Accounts with an item resolved on `day` or later: no new item opens for `day` (a re-run
    of a past day, or a live trigger on the day someone resolved the item)."""
    start, _end = local_day_bounds(day)
    items = RiskItem.objects.filter(resolved_at__gte=start)
    if account_ids is not None:
        items = items.filter(account_id__in=account_ids)
    return set(items.values_list("account_id", flat=True))


def evaluate_risk(
    *,
    day: date,
    account_ids: Iterable[int] | None = None,
) -> dict[str, int]:
    """Evaluate the rules on `day` for `account_ids` (None: every account) and apply them (see
    the module docstring). Items already evaluated for a later day are evaluated for that day."""
    ids = None if account_ids is None else sorted(set(account_ids))
    items = RiskItem.objects.open()
    if ids is not None:
        items = items.filter(account_id__in=ids)
    open_items = {item.account_id: item for item in items}
    later: dict[date, list[int]] = defaultdict(list)
    for account_id, item in open_items.items():
        if item.updated_on > day:
            later[item.updated_on].append(account_id)
    summary = _evaluate_on(
        day,
        ids,
        {pk: item for pk, item in open_items.items() if item.updated_on <= day},
        skip={pk for pks in later.values() for pk in pks},
    )
    for then, pks in sorted(later.items()):
        then_items = {pk: open_items[pk] for pk in pks}
        for key, n in _evaluate_on(then, pks, then_items, set()).items():
            summary[key] += n
    return summary


def _evaluate_on(
    day: date,
    ids: list[int] | None,
    open_items: dict[int, RiskItem],
    skip: set[int],
) -> dict[str, int]:
    reasons = {pk: found for pk, found in risk_reasons(day, ids).items() if pk not in skip}
    evaluated = (set(ids) if ids is not None else set(reasons) | set(open_items)) - skip
    return apply_risk_reasons(
        day=day,
        reasons=reasons,
        evaluated=evaluated,
        open_items=open_items,
    )


def _merged(item: RiskItem | None, found: list[Reason], day: date) -> list[dict[str, Any]]:
    """The reasons as stored: a key already on the item keeps its `since`."""
    before = {}
    if item is not None:
        before = {str(reason.get("key")): reason for reason in item.reasons}
    merged = []
    for key, facts in found:
        old = before.get(key)
        since = (old or {}).get("since") or (item.opened_on.isoformat() if old else None)
        merged.append({"key": key, "facts": facts, "since": since or day.isoformat()})
    return merged


def _past(item: RiskItem, now: list[dict[str, Any]], day: date) -> list[dict[str, Any]]:
    """The item's past reasons plus those that stopped firing on `day`."""
    firing = {reason["key"] for reason in now}
    stopped = [
        {
            **reason,
            "since": reason.get("since") or item.opened_on.isoformat(),
            "until": day.isoformat(),
        }
        for reason in item.reasons
        if reason.get("key") not in firing
    ]
    return [*item.past_reasons, *stopped]


def apply_risk_reasons(
    *,
    day: date,
    reasons: dict[int, list[Reason]],
    evaluated: set[int],
    open_items: dict[int, RiskItem],
) -> dict[str, int]:
    """THE place risk items open, change and clear, live and at night: `reasons` are the rules
    firing on `day` for the `evaluated` accounts, `open_items` their open items (not evaluated
    for a later day). Writes only what changed."""
    # (Beyond a thousand accounts one query for all is cheaper than a long IN list.)
    resolved = _resolved_since(day, sorted(evaluated) if len(evaluated) <= 1000 else None)
    to_open = [pk for pk in reasons if pk in evaluated and pk not in open_items]
    to_open = [pk for pk in to_open if pk not in resolved]
    with transaction.atomic():
        # Lock the accounts about to get an item and look again: a live evaluation of the same
        # account may have opened one since this one read (one open item per account).
        if to_open:
            list(Account.objects.select_for_update().filter(pk__in=to_open).order_by("pk"))
            taken = set(
                RiskItem.objects.open()
                .filter(account_id__in=to_open)
                .values_list("account_id", flat=True)
            )
            to_open = [pk for pk in to_open if pk not in taken]
        changing = sorted(set(to_open) | {pk for pk in reasons if pk in open_items})
        mrr = dict(Account.objects.with_mrr(day).filter(pk__in=changing).values_list("pk", "mrr"))
        owners = dict(Account.objects.filter(pk__in=to_open).values_list("pk", "owner_id"))
        created, updated, rekeyed = [], [], []
        for account_id in changing:
            item = open_items.get(account_id)
            found = reasons[account_id]
            keys = [key for key, _facts in found]
            now = _merged(item, found, day)
            account_mrr = mrr.get(account_id, Decimal(0))
            fields: dict[str, Any] = {
                "reasons": now,
                "mrr": account_mrr,
                "priority": risk_priority(account_mrr, keys),
                "updated_on": day,
                "cleared_on": None,
            }
            if item is None:
                created.append(
                    RiskItem(
                        account_id=account_id,
                        assignee_id=owners.get(account_id),
                        opened_on=day,
                        past_reasons=[],
                        **fields,
                    )
                )
                continue
            fields["past_reasons"] = _past(item, now, day)
            if any(getattr(item, name) != fields[name] for name in CHANGING_FIELDS):
                # Only items whose reasons or numbers changed are written: at 50,000 accounts
                # most open items read the same as yesterday.
                if {r.get("key") for r in item.reasons} != set(keys) or item.cleared_on:
                    rekeyed.append(item)  # a reason came or went: worth telling other systems
                for name, value in fields.items():
                    setattr(item, name, value)
                updated.append(item)
        cleared = []
        for account_id, item in open_items.items():
            if account_id in evaluated and account_id not in reasons and item.cleared_on is None:
                item.past_reasons = _past(item, [], day)
                item.reasons = []
                item.cleared_on = day
                item.updated_on = day
                cleared.append(item)
        RiskItem.objects.bulk_create(created, batch_size=1000)
        update_rows(
            RiskItem,
            [(item, [*CHANGING_FIELDS, "updated_on"]) for item in [*updated, *cleared]],
        )
        # What follows an item's reasons: its save play's tasks, and the outbound webhooks.
        sync_play_tasks_bulk([*created, *updated, *cleared], day=day)
        risk_items_changed.send(sender=RiskItem, items=created, change="opened")
        # "updated" when a reason came or went, not when only a number (MRR, a fact) moved.
        risk_items_changed.send(sender=RiskItem, items=rekeyed, change="updated")
    return {"risk_opened": len(created), "risk_updated": len(updated), "risk_cleared": len(cleared)}


def refresh_risk_items(*, day: date) -> dict[str, int]:
    """The nightly's step: every account, on `day`."""
    return evaluate_risk(day=day)


# Inside `evaluation_deferred()`: the accounts live triggers asked for, evaluated once on exit.
_deferred: ContextVar[set[int] | None] = ContextVar("deferred_risk_evaluation", default=None)


def evaluate_accounts(account_ids: Iterable[int]) -> dict[str, int]:
    """A live trigger: re-evaluate these accounts today, in the caller's transaction (or, inside
    `evaluation_deferred()`, once at its end)."""
    pending = _deferred.get()
    if pending is not None:
        pending.update(account_ids)
        return {}
    return evaluate_risk(day=timezone.localdate(), account_ids=account_ids)


@contextmanager
def evaluation_deferred() -> Iterator[None]:
    """Many changes in one go (an import of touches): the live triggers inside only collect their
    accounts, which are evaluated together, once, when the block ends without an error — the
    same result as one evaluation per change, without re-reading the rules per row."""
    if _deferred.get() is not None:  # already deferred by an outer block: it evaluates
        yield
        return
    pending: set[int] = set()
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    if pending:
        evaluate_accounts(sorted(pending))


def evaluate_dirty_accounts(batch: int = 1000) -> int:
    """Re-evaluate the accounts ingest marked dirty, `batch` at a time, until none is left;
    returns how many. A batch that fails is marked dirty again for the next run."""
    done = 0
    while ids := take_dirty_accounts(batch):
        try:
            with transaction.atomic():
                evaluate_accounts(ids)
        except Exception:
            mark_dirty(ids)
            raise
        done += len(ids)
    return done
