"""An account's timeline: everything that happened with it, newest first, in one list.

Seven sources, one query each, whatever the account's history: touches, the audit trail
(milestone changes, overrides, resolutions…), health band changes, subscription starts and ends,
at-risk queue items opened and resolved, survey answers, and churns and reactivations. Each
source is cut to `limit` rows in SQL, then the entries are merged in Python and cut to `limit`
again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, AuditEntry, Subscription
from csm.lib.numbers import money_text
from csm.workflow.models import RiskItem, Touch
from csm.workflow.reasons import reason_text, since_of
from feedback.models import ChurnEvent, Response
from health.models import Band, HealthScore

HEALTH_DAYS = 180
# Resolutions are shown from the risk item itself (with who resolved it and the note), so their
# audit entries would only repeat them.
_RISK_RESOLUTION_FIELDS = {"resolution", "resolution_note", "resolved_at", "resolved_by"}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # aware; a date-only event sorts at the start of its day
    kind: str  # touch | change | health | subscription | risk | survey | churn
    label: str  # short, translated: "Call", "Change", "Health"…
    title: str
    detail: str = ""
    actor: str = ""
    date_only: bool = False


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def account_timeline(
    account: Account,
    limit: int = 50,
    *,
    subscriptions: Iterable[Subscription] | None = None,
) -> list[TimelineEntry]:
    """The account's `limit` latest events, newest first; the one history of an account (its
    audit trail included). A page that already loaded the account's subscriptions may pass them
    in to save a query."""
    today = timezone.localdate()
    audit = account.audit_entries.select_related("actor")[:limit]
    if subscriptions is None:
        subscriptions = account.subscriptions.all()
    entries = [
        *_touch_entries(account.touches.select_related("author")[:limit]),
        *_audit_entries(audit),
        *_health_entries(account, today),
        *_subscription_entries(subscriptions, today),
        *_risk_entries(
            account.risk_items.select_related("resolved_by").order_by("-opened_on", "-pk")[:limit]
        ),
        *_response_entries(
            account.responses.select_related("contact", "survey").order_by("-answered_at", "-pk")[
                :limit
            ]
        ),
        *_churn_entries(account.churn_events.select_related("marked_by", "competitor")[:limit]),
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def _touch_entries(touches: Iterable[Touch]) -> list[TimelineEntry]:
    entries = []
    for touch in touches:
        detail = []
        if touch.outcome:
            detail.append(_("Outcome: %(o)s") % {"o": touch.get_outcome_display()})
        if touch.next_step:
            if touch.next_step_due:
                detail.append(
                    _("Next: %(step)s (by %(d)s)")
                    % {"step": touch.next_step, "d": touch.next_step_due.isoformat()}
                )
            else:
                detail.append(_("Next: %(step)s") % {"step": touch.next_step})
        entries.append(
            TimelineEntry(
                at=touch.happened_at,
                kind="touch",
                label=touch.get_kind_display(),
                title=touch.summary,
                detail="\n".join(detail),
                actor=str(touch.author) if touch.author else _("Automated"),
            )
        )
    return entries


def _audit_entries(audit: Iterable[AuditEntry]) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            at=entry.at,
            kind="change",
            label=_("Change"),
            title=f"{entry.field_label}: {entry.old_value or '—'} → {entry.new_value or '—'}",
            detail=entry.reason,
            actor=str(entry.actor) if entry.actor else _("System"),
        )
        for entry in audit
        if not (entry.object_type == "csm.riskitem" and entry.field in _RISK_RESOLUTION_FIELDS)
    ]


def _health_entries(account: Account, today: date) -> list[TimelineEntry]:
    """Days in the last HEALTH_DAYS whose band differs from the score before (one query: the
    window's scores, plus the day before it to compare the first one with)."""
    scores = (
        HealthScore.objects.filter(
            account=account, day__gte=today - timedelta(days=HEALTH_DAYS + 1)
        )
        .order_by("day")
        .values_list("day", "band", "score")
    )
    entries = []
    previous_band = None
    for day, band, score in scores:
        if previous_band is not None and band != previous_band:
            entries.append(
                TimelineEntry(
                    at=_start_of(day),
                    kind="health",
                    label=_("Health"),
                    title=_("Health %(old)s → %(new)s")
                    % {"old": Band(previous_band).label, "new": Band(band).label},
                    detail=_("score %(score)s") % {"score": score},
                    date_only=True,
                )
            )
        previous_band = band
    return entries


def _subscription_entries(
    subscriptions: Iterable[Subscription], today: date
) -> list[TimelineEntry]:
    entries = []
    for sub in subscriptions:
        events = [
            (sub.start_date, _("Subscription %(id)s started")),
            (sub.end_date, _("Subscription %(id)s ended")),
        ]
        entries += [
            TimelineEntry(
                at=_start_of(day),
                kind="subscription",
                label=_("Subscription"),
                title=title % {"id": sub.subscription_id},
                detail=f"{money_text(sub.amount, settings.CURRENCY_SYMBOL, 2)} · "
                f"{sub.get_interval_display()}",
                date_only=True,
            )
            for day, title in events
            if day is not None and day <= today
        ]
    return entries


def _reason_entries(item: RiskItem) -> tuple[list[str], list[TimelineEntry]]:
    """The words of the reasons the item opened with, and an entry for each reason added later
    and each one that cleared (worded as of that day)."""
    at_opening: list[str] = []
    entries = []
    for reason in [*item.past_reasons, *item.reasons]:
        since = since_of(reason, item.opened_on)
        if since <= item.opened_on:
            at_opening.append(reason_text(reason, today=item.opened_on))
        else:
            entries.append(
                TimelineEntry(
                    at=_start_of(since),
                    kind="risk",
                    label=_("Risk"),
                    title=_("Risk reason added"),
                    detail=reason_text(reason, today=since),
                    date_only=True,
                )
            )
        until = date.fromisoformat(reason["until"]) if reason.get("until") else None
        if until is not None:
            entries.append(
                TimelineEntry(
                    at=_start_of(until),
                    kind="risk",
                    label=_("Risk"),
                    title=_("Risk reason cleared"),
                    detail=reason_text(reason, today=until),
                    date_only=True,
                )
            )
    return at_opening, entries


def _risk_entries(items: Iterable[RiskItem]) -> list[TimelineEntry]:
    entries = []
    for item in items:
        at_opening, reason_entries = _reason_entries(item)
        entries.append(
            TimelineEntry(
                at=_start_of(item.opened_on),
                kind="risk",
                label=_("Risk"),
                title=_("Added to the at-risk queue"),
                detail="\n".join(at_opening),
                date_only=True,
            )
        )
        entries += reason_entries
        if item.resolved_at is not None:
            entries.append(
                TimelineEntry(
                    at=item.resolved_at,
                    kind="risk",
                    label=_("Risk"),
                    title=_("Risk resolved: %(how)s") % {"how": item.get_resolution_display()},
                    detail=item.resolution_note,
                    actor=str(item.resolved_by) if item.resolved_by else "",
                )
            )
    return entries


def _response_entries(responses: Iterable[Response]) -> list[TimelineEntry]:
    entries = []
    for response in responses:
        title = _("%(kind)s %(score)s (%(low)s–%(high)s) from %(who)s") % {
            "kind": response.kind.upper(),
            "score": response.score,
            "low": response.scale_min,
            "high": response.scale_max,
            "who": response.contact.name if response.contact else _("a contact"),
        }
        if response.is_detractor:
            title += " · " + _("detractor")
        detail = [f"“{response.comment}”"] if response.comment else []
        detail += [f"{question}: {answer}" for question, answer in (response.answers or {}).items()]
        entries.append(
            TimelineEntry(
                at=response.answered_at,
                kind="survey",
                label=_("Survey"),
                title=title,
                detail="\n".join([response.survey.name, *detail]),
            )
        )
    return entries


def _churn_entries(events: Iterable[ChurnEvent]) -> list[TimelineEntry]:
    """A churn record (feedback.churn), and its reactivation when the customer came back."""
    entries = []
    for event in events:
        detail = []
        if event.completed_at is not None:
            detail.append(_("Reason: %(r)s") % {"r": event.get_category_display()})
            if event.competitor is not None:
                detail.append(_("Competitor: %(c)s") % {"c": event.competitor.name})
        if event.note:
            detail.append(event.note)
        entries.append(
            TimelineEntry(
                at=_start_of(event.churned_on),
                kind="churn",
                label=_("Churn"),
                title=_("Churned, %(mrr)s MRR lost") % {"mrr": f"{event.mrr_lost:.2f}"},
                detail="\n".join(detail),
                actor=str(event.marked_by) if event.marked_by else _("Nightly run"),
                date_only=True,
            )
        )
        if event.reactivated_on is not None:
            entries.append(
                TimelineEntry(
                    at=_start_of(event.reactivated_on),
                    kind="churn",
                    label=_("Churn"),
                    title=_("Reactivated after the churn of %(day)s")
                    % {"day": event.churned_on.isoformat()},
                    date_only=True,
                )
            )
    return entries
