"""Touches and the cadence that says when the next one is due (DESIGN §2 tiered service, §4).

Tier A accounts get a touch from their CSM every TOUCH_CADENCE_A_DAYS (7), tier B every
TOUCH_CADENCE_B_DAYS (14). Tier C is served by automated usage-tips email every TIPS_EVERY_DAYS
(14): its "touch" is the automated one the outbox writes when a tips email goes out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import check_can_change
from accounts.models import Account, AccountQuerySet, Subscription, Tier, User, active_on
from accounts.scopes import owner_scope
from csm.lib.dates import years_after
from csm.workflow.models import Touch, TouchKind, TouchOutcome
from csm.workflow.signals import touch_added
from csm.workflow.task_list import add_touch_task


class _Cadence(Mapping[str, int]):
    """Days between CSM touches per tier, read from settings when asked (tests override them)."""

    _settings = {"A": "TOUCH_CADENCE_A_DAYS", "B": "TOUCH_CADENCE_B_DAYS"}

    def __getitem__(self, tier: str) -> int:
        return int(getattr(settings, self._settings[tier]))

    def __iter__(self) -> Iterator[str]:
        return iter(self._settings)

    def __len__(self) -> int:
        return len(self._settings)


# {"A": 7, "B": 14} with the defaults; tier C is automated (settings.TIPS_EVERY_DAYS).
CADENCE_DAYS: Mapping[str, int] = _Cadence()


def cadence_days(tier: str) -> int:
    """Days between touches for `tier`; for C, between automated tips emails."""
    if tier == Tier.C:
        return int(settings.TIPS_EVERY_DAYS)
    return CADENCE_DAYS[tier]


# --- Services -------------------------------------------------------------------------------------

# The dates a touch may carry. Not before TOUCH_EARLIEST (a fixed floor: touches imported from an
# older tool may predate the account's row here, but nobody logged a call in 0001), not after now
# (a few minutes ahead are a clock difference, not a touch in the future), and a next step due on
# or after the touch's day and at most NEXT_STEP_MAX_YEARS later.
TOUCH_EARLIEST = date(2000, 1, 1)
CLOCK_SLACK = timedelta(minutes=5)
NEXT_STEP_MAX_YEARS = 2


def check_touch_dates(*, happened_at: datetime, next_step_due: date | None) -> None:
    """Refuse (ValidationError keyed by field) a touch dated outside TOUCH_EARLIEST..now or a
    next step due before the touch or more than NEXT_STEP_MAX_YEARS after it. Dates compare in
    the installation's time zone; the floor is checked first, so a year-1 date never reaches a
    time zone conversion (which would overflow)."""
    zone = timezone.get_current_timezone()
    if happened_at < datetime.combine(TOUCH_EARLIEST, time.min, tzinfo=zone):
        raise ValidationError(
            {
                "happened_at": _("A touch cannot be before %(day)s.")
                % {"day": TOUCH_EARLIEST.isoformat()}
            }
        )
    if happened_at > timezone.now() + CLOCK_SLACK:
        raise ValidationError({"happened_at": _("A touch cannot be in the future.")})
    if next_step_due is None:
        return
    day = timezone.localdate(happened_at)
    if next_step_due < day:
        raise ValidationError({"next_step_due": _("The next step cannot be due before the touch.")})
    if next_step_due > years_after(day, NEXT_STEP_MAX_YEARS):
        raise ValidationError(
            {
                "next_step_due": _(
                    "The next step cannot be due more than %(years)s years after the touch."
                )
                % {"years": NEXT_STEP_MAX_YEARS}
            }
        )


def log_touch(
    *,
    actor: User,
    account: Account,
    kind: str,
    summary: str,
    outcome: str,
    next_step: str,
    next_step_due: date | None,
    happened_at: datetime | None = None,
) -> Touch:
    """Record a call, meeting, email or note with `account`. Managers log on every account, a CSM
    only on their own book (PermissionDenied otherwise). Automated touches are the outbox's."""
    check_can_change(actor, account)
    if kind == TouchKind.AUTOMATED or kind not in TouchKind.values:
        raise ValueError(f"a CSM cannot log a touch of kind {kind!r}")
    if outcome and outcome not in TouchOutcome.values:
        raise ValueError(f"unknown outcome {outcome!r}")
    return add_touch(
        account_id=account.pk,
        kind=kind,
        happened_at=happened_at or timezone.now(),
        author=actor,
        summary=summary,
        outcome=outcome,
        next_step=next_step,
        next_step_due=next_step_due,
    )


@transaction.atomic
def add_touch(
    *,
    account_id: int,
    kind: str,
    happened_at: datetime,
    summary: str,
    author: User | None = None,
    outcome: str = "",
    next_step: str = "",
    next_step_due: date | None = None,
) -> Touch:
    """Write a touch and move the account's latest-touch column up to it when it is newer (the
    cadence reads that column), then re-evaluate the account's risk (signals.touch_added).
    Every single touch goes through here; touches written in bulk (seed data) call
    refresh_last_touches afterwards instead. Dates outside check_touch_dates'
    bounds are refused (ValidationError keyed by field)."""
    check_touch_dates(happened_at=happened_at, next_step_due=next_step_due)
    touch = Touch.objects.create(
        account_id=account_id,
        kind=kind,
        happened_at=happened_at,
        author=author,
        summary=summary,
        outcome=outcome,
        next_step=next_step,
        next_step_due=next_step_due,
    )
    column = "last_automated_touch_at" if kind == TouchKind.AUTOMATED else "last_csm_touch_at"
    Account.objects.filter(
        Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__lt": happened_at}),
        pk=account_id,
    ).update(**{column: happened_at})
    add_touch_task(touch)  # a next step with a due date comes back as a task
    touch_added.send(sender=Touch, account_id=account_id)  # the risk rules look again
    return touch


# --- Queries --------------------------------------------------------------------------------------


def _latest_touch_at(*, automated: bool, before: datetime | None = None) -> Subquery:
    touches = Touch.objects.filter(account=OuterRef("pk"))
    if before is not None:
        touches = touches.filter(happened_at__lt=before)
    if automated:
        touches = touches.filter(kind=TouchKind.AUTOMATED)
    else:
        touches = touches.exclude(kind=TouchKind.AUTOMATED)
    # The (account, -happened_at) index answers this with one index probe per account.
    return Subquery(touches.order_by("-happened_at").values("happened_at")[:1])


def refresh_last_touches(accounts: AccountQuerySet | None = None) -> int:
    """Recompute the accounts' latest-touch columns from their touches, set-based: for touches
    written in bulk (seed data), which skip add_touch. Returns the number of accounts."""
    if accounts is None:
        accounts = Account.objects.all()
    return accounts.update(
        last_csm_touch_at=_latest_touch_at(automated=False),
        last_automated_touch_at=_latest_touch_at(automated=True),
    )


def _last_touch_at() -> Case:
    return Case(
        When(tier=Tier.C, then=F("last_automated_touch_at")),
        default=F("last_csm_touch_at"),
        output_field=models.DateTimeField(),
    )


def next_touch_due_expression(last_touch: models.Expression | None = None) -> Cast:
    """An account's next touch date, from its own columns: the last touch's local date (for tier
    C the last automated one) + the tier's cadence, or contract start + cadence when never
    touched. The same expression is indexed on PostgreSQL (csm migration 0006), so Today's
    "touches due", sorted by it, reads ten index entries instead of every account.
    `last_touch` replaces the latest-touch columns (cadence_counts: the touches as of a day)."""
    cadence = Case(
        When(tier=Tier.A, then=Value(timedelta(days=CADENCE_DAYS["A"]))),
        When(tier=Tier.B, then=Value(timedelta(days=CADENCE_DAYS["B"]))),
        default=Value(timedelta(days=settings.TIPS_EVERY_DAYS)),
        output_field=models.DurationField(),
    )
    # TruncDate: the touch's date in the installation's time zone. Cast: date + interval is a
    # timestamp in PostgreSQL and a string in SQLite; both become a date.
    since = Coalesce(
        TruncDate(last_touch if last_touch is not None else _last_touch_at()),
        F("contract_start"),
        output_field=models.DateField(),
    )
    return Cast(
        models.ExpressionWrapper(since + cadence, output_field=models.DateTimeField()),
        models.DateField(),
    )


def next_touch_due_index() -> models.Index:
    """The index on next_touch_due_expression() for the CSM-served tiers, ordered like Today's
    list. It holds the cadence and time zone of the settings it was created with: after a change
    PostgreSQL no longer matches it to the queries, which stay right, only slower."""
    return models.Index(
        next_touch_due_expression(),
        F("name"),
        name="account_next_touch_due",
        condition=Q(tier__in=[Tier.A, Tier.B]),
    )


def with_next_touch_due(accounts: AccountQuerySet) -> AccountQuerySet:
    """Annotate each account with `last_touch_at` (its latest CSM touch; for tier C its latest
    automated one) and `next_touch_due` (next_touch_due_expression()). Read from the account's
    own columns (kept by Touch.save), so lists filter and sort by `next_touch_due__lte=today`."""
    return accounts.annotate(
        last_touch_at=_last_touch_at(), next_touch_due=next_touch_due_expression()
    )


def cadence_counts(day: date, *, owners: list[int] | None = None) -> dict[str, dict[str, int]]:
    """Per book ("owner:<id>"): its paying tier A and B accounts on `day` ("total") and how many
    of them are on cadence, their next touch not overdue ("kept"), by the touches logged until
    the day ended: a catch-up run for a past day, or a run after midnight, does not count later
    touches. One grouped query (a touch index probe per account); the nightly run keeps the
    counts for the CSM scoreboard. `owners` limits it to those books."""
    zone = timezone.get_current_timezone()
    day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    paying = Subscription.objects.filter(active_on(day), account=OuterRef("pk"))
    accounts = Account.objects.filter(
        Exists(paying), owner__isnull=False, tier__in=[Tier.A, Tier.B]
    )
    if owners is not None:
        accounts = accounts.filter(owner__in=owners)
    due_then = next_touch_due_expression(_latest_touch_at(automated=False, before=day_end))
    rows = (
        accounts.annotate(due_then=due_then)
        .values("owner")
        .annotate(total=Count("pk"), kept=Count("pk", filter=Q(due_then__gte=day)))
        .values_list("owner", "total", "kept")
        .order_by()
    )
    return {owner_scope(owner): {"total": total, "kept": kept} for owner, total, kept in rows}
