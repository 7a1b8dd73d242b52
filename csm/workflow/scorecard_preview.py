"""What a scorecard change would do, shown before it is saved (the scorecard page): the last
scored day scored again with the scorecard in force and with the proposed one, from the same raw
values (health.services.health_score_rows, the nightly's own scoring; nothing is written), then

1. per tier, how many accounts move between bands (a 3 × 3 table: from the band under the
   scorecard in force to the band under the proposed one), and how many gain or lose a score;
2. per tier, the risk items that would open or clear because of the score-based rules
   (csm.workflow.risk.health_reasons): an account whose only reasons are score-based and that
   none would fire for any more clears; one with no reason now that gets one opens. Reasons that
   do not read the score (milestones, touches, detractors) are taken from the account's open item.

It lives in the workflow because the risk rules do; health (below) only scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from accounts.models import Account, Tier
from csm.workflow.models import RiskItem, RiskReason
from csm.workflow.risk import health_reasons
from health.models import HealthScore
from health.queries import latest_scored_day
from health.scorecard import load_scorecard
from health.scoring import GREEN, RED, YELLOW, Scorecard
from health.services import health_score_rows, scoring_inputs

BANDS = (RED, YELLOW, GREEN)
# The reasons health_reasons gives (they read the day's score row); the others come from
# elsewhere and do not change with the scorecard.
SCORE_REASONS = frozenset(
    {
        RiskReason.RED_BAND,
        RiskReason.SCORE_DROP,
        RiskReason.INACTIVE,
        RiskReason.FAILED_PAYMENT,
        RiskReason.RENEWAL,
    }
)
# Accounts named under "would open" and "would clear" (the counts are complete).
NAMES_SHOWN = 10


@dataclass
class TierImpact:
    tier: str
    # moves[from_band][to_band] = accounts, for the 3 × 3 table.
    moves: dict[str, dict[str, int]] = field(
        default_factory=lambda: {band: dict.fromkeys(BANDS, 0) for band in BANDS}
    )
    gain_score: int = 0
    lose_score: int = 0
    risk_open: int = 0
    risk_clear: int = 0

    @property
    def rows(self) -> list[tuple[str, list[int]]]:
        return [(band, [self.moves[band][to] for to in BANDS]) for band in BANDS]

    @property
    def moved(self) -> int:
        return sum(n for band in BANDS for to, n in self.moves[band].items() if to != band)


@dataclass
class Preview:
    day: date
    tiers: list[TierImpact]
    opens: list[str]  # account names, at most NAMES_SHOWN
    clears: list[str]

    @property
    def moved(self) -> int:
        return sum(tier.moved for tier in self.tiers)

    @property
    def risk_open(self) -> int:
        return sum(tier.risk_open for tier in self.tiers)

    @property
    def risk_clear(self) -> int:
        return sum(tier.risk_clear for tier in self.tiers)


def preview_scorecard(proposed: Scorecard, *, day: date | None = None) -> Preview | None:
    """The impact of `proposed` against the scorecard in force on `day` (the last scored day by
    default); None before anything was scored."""
    day = day or latest_scored_day()
    if day is None:
        return None
    inputs = scoring_inputs(day)
    before = {row.account_id: row for row in health_score_rows(inputs, load_scorecard())}
    after = {row.account_id: row for row in health_score_rows(inputs, proposed)}
    ids = [account_id for account_id, *_rest in inputs.accounts]
    renewals = dict(Account.objects.filter(pk__in=ids).values_list("pk", "renewal_date"))
    other = {
        account_id: {r.get("key") for r in reasons} - SCORE_REASONS
        for account_id, reasons in RiskItem.objects.open().values_list("account_id", "reasons")
    }

    impacts = {tier: TierImpact(tier) for tier in Tier.values}
    opens: list[int] = []
    clears: list[int] = []
    for account_id, tier, _start, _seats in inputs.accounts:
        impact = impacts.setdefault(tier, TierImpact(tier))
        old, new = before.get(account_id), after.get(account_id)
        if old is not None and new is not None:
            impact.moves[old.band][new.band] += 1
        elif new is not None:
            impact.gain_score += 1
        elif old is not None:
            impact.lose_score += 1
        unchanged = other.get(account_id, set())
        was = _reasons(old, renewals.get(account_id), day) | unchanged
        will = _reasons(new, renewals.get(account_id), day) | unchanged
        if will and not was:
            impact.risk_open += 1
            opens.append(account_id)
        elif was and not will:
            impact.risk_clear += 1
            clears.append(account_id)
    names = dict(
        Account.objects.filter(pk__in=[*opens[:NAMES_SHOWN], *clears[:NAMES_SHOWN]]).values_list(
            "pk", "name"
        )
    )
    return Preview(
        day=day,
        tiers=[impacts[tier] for tier in sorted(impacts)],
        opens=sorted(names[pk] for pk in opens[:NAMES_SHOWN]),
        clears=sorted(names[pk] for pk in clears[:NAMES_SHOWN]),
    )


def _reasons(score: HealthScore | None, renewal: date | None, day: date) -> set[str]:
    if score is None:
        return set()
    return {str(key) for key, _text in health_reasons(score, renewal, day)}
