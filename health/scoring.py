"""The health score as pure code (DESIGN §4): no ORM here, so the nightly run, the account page,
the `health` command and the API all score and explain the same way.

A scorecard has measures. Each measure turns a raw value into 0–100 by a grid of ranges:
`((lower bound, score), ...)` with rising bounds, and a raw value scores the row of the highest
bound it reaches. Overall = Σ(weight × score) / Σ(weights of the measures that have a value), so a
measure without data is dropped and the others renormalised. A measure's contribution is
weight × score / Σ(weights present); the contributions add up to the score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

Grid = tuple[tuple[Decimal, int], ...]

RED, YELLOW, GREEN = "red", "yellow", "green"
RED_MAX, YELLOW_MAX = 50, 75  # red 0–50, yellow 51–75, green 76–100

# The windows the raw values are taken over (see health.services).
WINDOW_DAYS = 30
TREND_BASELINE_DAYS = 60
# "Days since last activity" looks back this far; no activity in it reads as this many days.
INACTIVITY_HORIZON_DAYS = WINDOW_DAYS + TREND_BASELINE_DAYS
# "Latest NPS/CSAT" reads the latest answer this many days back at most.
SENTIMENT_DAYS = 180
# Cold start: during the first COLD_START_DAYS days from its contract start (day 0 to 13), an
# account that has sent no usage event has "not enough data yet" for the usage measures (they
# have no value, so the score is the other measures' or none), instead of scoring as inactive.
COLD_START_DAYS = 14
USAGE_MEASURES = (
    "active_days",
    "usage_trend",
    "feature_adoption",
    "days_since_active",
    "seat_utilisation",
)


# A grid's lower bounds stay within ±GRID_BOUND_LIMIT: every raw value a measure has (days, counts,
# ratios, percentages) fits many times over, and beyond it a typo such as 1e400 would overflow the
# float the stored JSON keeps.
GRID_BOUND_LIMIT = Decimal(10) ** 9


class GridError(ValueError):
    """A grid a manager typed is not usable; the message says why."""


@dataclass(frozen=True)
class MeasureDef:
    key: str
    label: str
    description: str
    grid: Grid
    weight: int
    enabled: bool = True


def grid(*rows: tuple[int | str, int]) -> Grid:
    return tuple((Decimal(bound), score) for bound, score in rows)


# Keys are part of the `health --json` and API contract; labels and grids are editable defaults.
DEFAULT_MEASURES: tuple[MeasureDef, ...] = (
    MeasureDef(
        "active_days",
        gettext_lazy("Active days"),
        gettext_lazy("Days with any product usage in the last 30 days."),
        grid((0, 0), (1, 20), (4, 40), (8, 60), (13, 80), (18, 100)),
        25,
    ),
    MeasureDef(
        "usage_trend",
        gettext_lazy("Usage trend"),
        gettext_lazy(
            "Events per day in the last 30 days against the 60 days before, in per cent. "
            "No value until the account has 90 days of history."
        ),
        grid((-100, 0), (-50, 25), (-25, 50), (-10, 75), (0, 100)),
        15,
    ),
    MeasureDef(
        "feature_adoption",
        gettext_lazy("Feature adoption"),
        gettext_lazy("Distinct features used in the last 30 days (logins not counted)."),
        grid((0, 0), (1, 30), (3, 60), (5, 80), (8, 100)),
        15,
    ),
    MeasureDef(
        "days_since_active",
        gettext_lazy("Days since last activity"),
        gettext_lazy("Days since the last product usage; 90 means none in the last 90 days."),
        grid((0, 100), (3, 80), (7, 60), (14, 30), (30, 0)),
        15,
    ),
    MeasureDef(
        "seat_utilisation",
        gettext_lazy("Seat utilisation"),
        gettext_lazy("Users active in the last 30 days per paid seat, in per cent."),
        grid((0, 0), (10, 25), (30, 50), (50, 75), (70, 100)),
        10,
    ),
    MeasureDef(
        "billing",
        gettext_lazy("Billing"),
        gettext_lazy(
            "Failed payments in the last 30 days, for accounts whose billing events are sent "
            "(payment_failed / payment_succeeded) in the last 90 days."
        ),
        grid((0, 100), (1, 30), (2, 0)),
        10,
    ),
    MeasureDef(
        "sentiment",
        gettext_lazy("Latest NPS/CSAT"),
        gettext_lazy(
            "The latest NPS or CSAT answer in the last 180 days, on a 0–100 scale: NPS × 10 "
            "(a 7 is 70), CSAT 1–5 as 0, 25, 50, 75, 100. Detractors (NPS 0–6, CSAT 1–2) score "
            "low, promoters (NPS 9–10, CSAT 5) full. No value without an answer."
        ),
        grid((0, 0), (30, 15), (50, 35), (60, 45), (70, 70), (80, 85), (90, 100)),
        10,
    ),
)
DEFAULTS_BY_KEY = {measure.key: measure for measure in DEFAULT_MEASURES}
MEASURE_KEYS = tuple(DEFAULTS_BY_KEY)


def sentiment_value(kind: str, score: int) -> Decimal | None:
    """An NPS (0–10) or CSAT (1–5) answer on a 0–100 scale; None for other kinds."""
    if kind == "nps":
        return Decimal(score * 10)
    if kind == "csat":
        return Decimal((score - 1) * 25)
    return None


def check_grid(rows: Iterable[Sequence[object]]) -> Grid:
    """A grid from [[bound, score], ...] (JSON or a form), or GridError naming the problem."""
    parsed: list[tuple[Decimal, int]] = []
    for number, row in enumerate(rows, start=1):
        if len(row) != 2:
            raise GridError(_("row %(n)s: give a lower bound and a score") % {"n": number})
        bound, score = row
        try:
            bound_value = Decimal(str(bound))
            score_value = int(str(score))
        except (ArithmeticError, ValueError):
            raise GridError(_("row %(n)s: not a number") % {"n": number}) from None
        if not bound_value.is_finite():
            raise GridError(_("row %(n)s: not a number") % {"n": number})
        if abs(bound_value) > GRID_BOUND_LIMIT:
            raise GridError(
                _("row %(n)s: a lower bound is from −1,000,000,000 to 1,000,000,000")
                % {"n": number}
            )
        if not 0 <= score_value <= 100:
            raise GridError(_("row %(n)s: a score is 0 to 100") % {"n": number})
        if parsed and bound_value <= parsed[-1][0]:
            raise GridError(_("row %(n)s: lower bounds must rise from row to row") % {"n": number})
        parsed.append((bound_value, score_value))
    if not parsed:
        raise GridError(_("give at least one row"))
    return tuple(parsed)


def grid_score(rows: Grid, raw: Decimal) -> int:
    """The score of the row with the highest lower bound `raw` reaches (the first row below it)."""
    result = rows[0][1]
    for bound, score in rows:
        if raw >= bound:
            result = score
        else:
            break
    return result


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def band_for(score: int) -> str:
    if score <= RED_MAX:
        return RED
    if score <= YELLOW_MAX:
        return YELLOW
    return GREEN


@dataclass(frozen=True)
class MeasureResult:
    key: str
    raw: Decimal
    score: int
    weight: int
    contribution: Decimal  # exact; the contributions of one Score add up to Score.exact


@dataclass(frozen=True)
class Score:
    exact: Decimal
    measures: tuple[MeasureResult, ...]

    @property
    def value(self) -> int:
        return round_half_up(self.exact)

    @property
    def band(self) -> str:
        return band_for(self.value)


def combine(entries: Iterable[tuple[str, Decimal | None, int, Grid]]) -> Score | None:
    """Score (key, raw, weight, grid) entries. Entries without a raw value or with weight 0 are
    dropped; None when nothing is left."""
    present = [
        (key, raw, weight, grid_score(rows, raw))
        for key, raw, weight, rows in entries
        if raw is not None and weight > 0
    ]
    exact = weighted_mean((score, weight) for _key, _raw, weight, score in present)
    if exact is None:
        return None
    total_weight = sum(weight for _key, _raw, weight, _score in present)
    measures = tuple(
        MeasureResult(key, raw, score, weight, Decimal(weight * score) / total_weight)
        for key, raw, weight, score in present
    )
    return Score(exact, measures)


def weighted_mean(scored: Iterable[tuple[int, int]]) -> Decimal | None:
    """Σ(weight × score) / Σ(weight) over (measure score, weight) pairs: the overall score of the
    measures present. None when no weight is above 0. (The backtest re-weights stored measure
    scores with it.)"""
    pairs = [(score, weight) for score, weight in scored if weight > 0]
    total_weight = sum(weight for _score, weight in pairs)
    if not total_weight:
        return None
    return Decimal(sum(weight * score for score, weight in pairs)) / total_weight


@dataclass(frozen=True)
class Scorecard:
    """The measures in force: defaults overlaid with managers' settings, plus weight overrides
    keyed (key, tier, stage) where tier or stage may be "" (any)."""

    measures: tuple[MeasureDef, ...] = DEFAULT_MEASURES
    weight_overrides: Mapping[tuple[str, str, str], int] = field(default_factory=dict)

    def weight_for(self, measure: MeasureDef, tier: str, stage: str) -> int:
        for tier_key, stage_key in ((tier, stage), (tier, ""), ("", stage)):
            found = self.weight_overrides.get((measure.key, tier_key, stage_key))
            if found is not None:
                return found
        return measure.weight

    def score(self, raw: Mapping[str, Decimal | None], *, tier: str, stage: str) -> Score | None:
        return combine(
            (measure.key, raw.get(measure.key), self.weight_for(measure, tier, stage), measure.grid)
            for measure in self.measures
            if measure.enabled
        )


def in_cold_start(day: date, contract_start: date, *, ever_active: bool) -> bool:
    """No usage event yet, and `day` within the first COLD_START_DAYS days of the contract."""
    return not ever_active and (day - contract_start).days < COLD_START_DAYS


def trend(today: int | None, before: int | None) -> int | None:
    if today is None or before is None:
        return None
    return today - before


def explain(key: str, raw: Decimal | int | float, was: Decimal | int | float | None = None) -> str:
    """One measure's raw value in plain words; `was` is the value 30 days earlier, if known."""
    value = int(raw)
    text: str
    if key == "active_days":
        text = _("active on %(n)s of the last 30 days") % {"n": value}
    elif key == "usage_trend":
        text = _("events per day %(change)s%% against the 60 days before") % {
            "change": f"{value:+d}"
        }
    elif key == "feature_adoption":
        text = ngettext(
            "used %(n)s feature in the last 30 days",
            "used %(n)s features in the last 30 days",
            value,
        ) % {"n": value}
    elif key == "days_since_active":
        if value == 0:
            text = _("active on the day scored")
        elif value >= INACTIVITY_HORIZON_DAYS:
            text = _("no activity in the last %(n)s days") % {"n": INACTIVITY_HORIZON_DAYS}
        else:
            text = ngettext("last active %(n)s day ago", "last active %(n)s days ago", value) % {
                "n": value
            }
    elif key == "seat_utilisation":
        text = _("%(n)s%% of paid seats active in the last 30 days") % {"n": value}
    elif key == "billing":
        if value == 0:
            text = _("no failed payments in the last 30 days")
        else:
            text = ngettext(
                "%(n)s failed payment in the last 30 days",
                "%(n)s failed payments in the last 30 days",
                value,
            ) % {"n": value}
    elif key == "sentiment":
        text = _("latest NPS/CSAT answer scores %(n)s of 100 (last 180 days)") % {"n": value}
    else:
        text = str(raw)
    if was is not None and int(was) != value and key != "usage_trend":
        text += " " + _("(was %(was)s)") % {"was": int(was)}
    return text
