"""A risk reason in words (DESIGN §4: "reasons are listed in words with the numbers behind them").

A RiskItem stores each reason as `{"key": RiskReason, "facts": {...}, "since": "YYYY-MM-DD"}`:
the rule that fired, the facts behind it as JSON (ISO dates, numbers) and the day it was first
seen (kept while the rule keeps firing). `reason_text` makes the words when a page, the `risk`
command or the timeline shows them, in the active language and counting days from the day
shown, so "renews in 10 days" stays true the next morning. Rows written before facts existed
(`{"key", "text"}`) show their stored text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from csm.workflow.models import RiskReason

# Reasons read from the nightly health scores: they change when the scores do, not live.
NIGHTLY_KEYS = frozenset({RiskReason.RED_BAND, RiskReason.SCORE_DROP})


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def since_of(reason: Mapping[str, Any], default: date) -> date:
    """The day the reason was first seen (`default` for rows stored before it was kept)."""
    return _day(reason.get("since")) or default


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


def _days_ago(then: date, today: date) -> str:
    n = (today - then).days
    if n <= 0:
        return _("today")
    return ngettext("%(n)s day ago", "%(n)s days ago", n) % {"n": n}


def _inactive(facts: Mapping[str, Any], today: date) -> str:
    last = _day(facts.get("last_active"))
    if last is None:
        words = ngettext(
            "no product activity in the last %(n)s day",
            "no product activity in the last %(n)s days",
            int(facts.get("horizon_days") or 90),
        ) % {"n": int(facts.get("horizon_days") or 90)}
    else:
        n = (today - last).days
        words = ngettext(
            "no product activity for %(n)s day", "no product activity for %(n)s days", n
        ) % {"n": n}
    if facts.get("trend") is not None:
        words += _(" (events per day %(t)+d%% vs the 60 days before)") % {"t": facts["trend"]}
    return words


def _renewal(facts: Mapping[str, Any], today: date) -> str:
    renews = _day(facts.get("renewal_date"))
    band = str(facts.get("band", ""))
    if renews is None:
        return str(RiskReason.RENEWAL.label)
    n = (renews - today).days
    if n < 0:
        return _("renewal date %(d)s has passed, health %(band)s") % {
            "d": renews.isoformat(),
            "band": _band_word(band),
        }
    if n == 0:
        return _("renews today (%(d)s) with health %(band)s") % {
            "d": renews.isoformat(),
            "band": _band_word(band),
        }
    return ngettext(
        "renews on %(d)s (in %(n)s day) with health %(band)s",
        "renews on %(d)s (in %(n)s days) with health %(band)s",
        n,
    ) % {"d": renews.isoformat(), "n": n, "band": _band_word(band)}


def _band_word(band: str) -> str:
    return {"red": _("red"), "yellow": _("yellow"), "green": _("green")}.get(band, band)


def _milestones(facts: Mapping[str, Any], today: date) -> str:
    count = int(facts.get("count") or 0)
    oldest = _day(facts.get("oldest_due"))
    if oldest is None:
        return str(RiskReason.OVERDUE_MILESTONE.label)
    return ngettext(
        "%(n)s blueprint milestone overdue (due %(d)s, %(ago)s)",
        "%(n)s blueprint milestones overdue (oldest due %(d)s, %(ago)s)",
        count,
    ) % {"n": count, "d": oldest.isoformat(), "ago": _days_ago(oldest, today)}


def _touch(facts: Mapping[str, Any], today: date) -> str:
    due = _day(facts.get("due"))
    if due is None:
        return str(RiskReason.TOUCH_OVERDUE.label)
    return _("tier %(tier)s touch was due on %(d)s (%(ago)s)") % {
        "tier": facts.get("tier", ""),
        "d": due.isoformat(),
        "ago": _days_ago(due, today),
    }


def _detractor(facts: Mapping[str, Any], today: date) -> str:
    on = _day(facts.get("on"))
    if on is None:
        return str(RiskReason.DETRACTOR.label)
    return detractor_words(
        kind=str(facts.get("kind", "")),
        score=int(facts.get("score") or 0),
        contact=str(facts.get("contact") or ""),
        on=on,
        comment=str(facts.get("comment") or ""),
        more=int(facts.get("more") or 0),
    )


def reason_text(reason: Mapping[str, Any], *, today: date) -> str:
    """The reason in words, as of `today`, in the active language."""
    key = reason.get("key")
    facts = reason.get("facts")
    if not isinstance(facts, Mapping):  # a row stored before facts: its words as written
        text = reason.get("text")
        return str(text) if text else reason_label(reason)
    if key == RiskReason.RED_BAND:
        return _("health score %(s)s (red)") % {"s": facts.get("score")}
    if key == RiskReason.SCORE_DROP:
        return _("health %(d)s in 7 days (%(before)s → %(now)s)") % {
            "d": facts.get("drop"),
            "before": facts.get("before"),
            "now": facts.get("now"),
        }
    if key == RiskReason.INACTIVE:
        return _inactive(facts, today)
    if key == RiskReason.FAILED_PAYMENT:
        count = int(facts.get("count") or 0)
        return ngettext(
            "%(n)s failed payment in the last 30 days",
            "%(n)s failed payments in the last 30 days",
            count,
        ) % {"n": count}
    if key == RiskReason.RENEWAL:
        return _renewal(facts, today)
    if key == RiskReason.OVERDUE_MILESTONE:
        return _milestones(facts, today)
    if key == RiskReason.TOUCH_OVERDUE:
        return _touch(facts, today)
    if key == RiskReason.DETRACTOR:
        return _detractor(facts, today)
    # The comment causes (price, experience, competitor) and any other key: the rule's name.
    return reason_label(reason)


def reason_label(reason: Mapping[str, Any]) -> str:
    """The rule's name ("Health is red"), or the key itself for one this version does not know."""
    key = str(reason.get("key", ""))
    try:
        return str(RiskReason(key).label)
    except ValueError:
        return key


def reason_rows(reasons: list[Mapping[str, Any]], *, today: date, opened_on: date) -> list[dict]:
    """What a page shows of each reason: words, the rule's name, since when, and whether it
    changes only with the nightly scores."""
    return [
        {
            "key": str(reason.get("key", "")),
            "text": reason_text(reason, today=today),
            "label": reason_label(reason),
            "since": since_of(reason, opened_on),
            "nightly": reason.get("key") in NIGHTLY_KEYS,
        }
        for reason in reasons
    ]
