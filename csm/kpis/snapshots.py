"""KPI computation over the database: month-end MRR of every account in one SQL query, then the
pure definitions of csm.kpis.metrics. Used by the nightly run (`refresh_kpis`), the `kpis` command
and the KPI pages (`kpis_for_month`, `cohorts`).

Scopes: "all" (every account) and "owner:<user id>" (a CSM's book: the accounts the CSM owns
when the numbers are computed; ownership history is not kept, so a closed month of a book keeps
the book as it was when that month was first written).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import Subscription, active_on
from accounts.mrr import CENT, ZERO, Month, months_between
from accounts.scopes import SCOPE_ALL, owner_scope
from csm.kpis import metrics as kpi_rules
from csm.kpis.models import CohortSnapshot, KpiSnapshot, MrrMovement
from csm.lib.bulk import insert_rows
from feedback.models import Response, SurveyKind
from feedback.scores import nps

WRITE_BATCH = 5000


# --- Month-end MRR in SQL ------------------------------------------------------------------------


@dataclass
class BookSeries:
    """E(a, M) for each month of `months` (oldest first) and every account that paid at one of
    their month-ends, with each account's owner and whether it paid at a month-end before."""

    months: list[Month]
    values: dict[int, list[Decimal]]
    owners: dict[int, int | None]
    paid_before: set[int]

    def movements(self) -> Iterator[tuple[int, kpi_rules.MonthMovement]]:
        """(account id, movement) for every month after the first (the first is the baseline
        that gives the second its start), by csm.kpis.metrics.classify_months."""
        months = self.months[1:]
        paid_before = self.paid_before
        for account_id, values in self.values.items():
            for movement in kpi_rules.classify_months(
                months, values[1:], start=values[0], paid_before=account_id in paid_before
            ):
                yield account_id, movement


def month_end_mrr(
    *, first: Month, last: Month, as_of: date | None = None, owner_id: int | None = None
) -> BookSeries:
    """Month-end MRR of every account (or one owner's book) for each month first..last, in one
    GROUP BY query over subscriptions (one filtered SUM per month-end), plus one query for the
    accounts that paid before `first`. `as_of` replaces the last month's last day (a month to
    date)."""
    months = list(months_between(first, last))
    days = [month.last_day for month in months]
    if as_of is not None:
        days[-1] = as_of
    paid = Subscription.objects.filter(mrr__gt=0).order_by()
    if owner_id is not None:
        paid = paid.filter(account__owner_id=owner_id)
    sums = {f"e{n}": Sum("mrr", filter=active_on(day), default=ZERO) for n, day in enumerate(days)}
    rows = (
        paid.filter(start_date__lte=max(days))
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=min(days)))
        .values("account_id", "account__owner_id")
        .annotate(**sums)
        .values_list("account_id", "account__owner_id", *sums)
    )
    values: dict[int, list[Decimal]] = {}
    owners: dict[int, int | None] = {}
    for account_id, owner, *series in rows:
        if any(series):
            values[account_id] = series
            owners[account_id] = owner
    # Paid at some month-end before `first`: a subscription covers a month-end when it is still
    # active at the end of the month it starts in, i.e. it ends in a later month (or never).
    before = first.previous().last_day
    paid_before = set(
        paid.filter(start_date__lte=before)
        .annotate(start_month=TruncMonth("start_date"), end_month=TruncMonth("end_date"))
        .filter(Q(end_date__isnull=True) | Q(end_month__gt=F("start_month")))
        .values_list("account_id", flat=True)
        .distinct()
    )
    return BookSeries(months=months, values=values, owners=owners, paid_before=paid_before)


# --- NPS -----------------------------------------------------------------------------------------


def _month_start(month: Month) -> datetime:
    return timezone.make_aware(datetime.combine(month.first_day, time.min))


def nps_scores(
    *, first: Month, last: Month, owner_id: int | None = None
) -> dict[tuple[str, Month], list[int]]:
    """NPS answers per (scope, month answered), months first..last, in one grouped query."""
    answers = Response.objects.filter(
        kind=SurveyKind.NPS,
        answered_at__gte=_month_start(first),
        answered_at__lt=_month_start(last.next()),
    ).order_by()
    if owner_id is not None:
        answers = answers.filter(account__owner_id=owner_id)
    rows = (
        answers.annotate(answered_month=TruncMonth("answered_at"))
        .values("answered_month", "account__owner_id", "score")
        .annotate(count=Count("pk"))
    )
    scores: dict[tuple[str, Month], list[int]] = defaultdict(list)
    for row in rows:
        month = Month.of(row["answered_month"])
        answered = [row["score"]] * row["count"]
        scores[(SCOPE_ALL, month)].extend(answered)
        if row["account__owner_id"] is not None:
            scores[(owner_scope(row["account__owner_id"]), month)].extend(answered)
    return scores


# --- On demand -----------------------------------------------------------------------------------


def kpis_for_month(month: Month, *, owner: Any = None, as_of: date | None = None) -> dict[str, Any]:
    """The KPIs of `month` as `kpis --json` prints them, computed now from subscriptions and
    survey answers (the same code the nightly snapshots come from). Month-end MRR is taken on the
    month's last day (DESIGN §4) unless `as_of` names an earlier day of the month."""
    owner_id = None if owner is None else getattr(owner, "pk", owner)
    first = month.minus(kpi_rules.LTV_MONTHS)
    book = month_end_mrr(first=first.previous(), last=month, as_of=as_of, owner_id=owner_id)
    by_month = kpi_rules.totals_by_scope(
        (SCOPE_ALL, movement) for _account, movement in book.movements()
    ).get(SCOPE_ALL, {})
    scope = SCOPE_ALL if owner_id is None else owner_scope(owner_id)
    answers = nps_scores(first=month, last=month, owner_id=owner_id).get((scope, month), [])
    return kpi_rules.monthly_kpis(
        by_month.get(month) or kpi_rules.MonthTotals(month),
        previous=list(by_month.values()),
        nps=nps(answers),
    )


# --- The nightly step ----------------------------------------------------------------------------


def refresh_kpis(*, day: date) -> dict[str, int]:
    """Nightly: MRR movements per account and month, and KPI snapshots per scope and month.

    1. Work out what to write: for "all" and each CSM's book, every month from the first paid
       subscription to `day`'s month that has no closed snapshot yet, and always `day`'s month
       (measured on `day`, closed once `day` is its last day). Closed months are written once.
    2. Month-end MRR of every account over those months and the one before (the first month's
       start), in one SQL query; classify movements in Python (csm.kpis.metrics). The six months
       before a month feed its LTV: those not recomputed come from their closed snapshots.
    3. Upsert MrrMovement rows of the months written for "all", changed rows only, and delete
       rows that no longer hold (a subscription was deleted).
    4. Upsert the KpiSnapshot rows. Re-running a day rewrites the same values.
    """
    current = Month.of(day)
    first_paid = Subscription.objects.filter(mrr__gt=0).aggregate(first=Min("start_date"))["first"]
    if first_paid is None or Month.of(first_paid) > current:
        return {"kpi_snapshots": 0, "mrr_movements_written": 0}
    first = Month.of(first_paid)

    owners = set(
        Subscription.objects.filter(mrr__gt=0, account__owner__isnull=False)
        .order_by()
        .values_list("account__owner_id", flat=True)
        .distinct()
    )
    scopes = [SCOPE_ALL] + [owner_scope(o) for o in sorted(owners)]
    closed = set(
        KpiSnapshot.objects.filter(closed=True, month__gte=first.first_day).values_list(
            "scope", "month"
        )
    )
    wanted = [
        (scope, month)
        for scope in scopes
        for month in months_between(first, current)
        if (scope, month.first_day) not in closed
    ]
    if not wanted:
        return {"kpi_snapshots": 0, "mrr_movements_written": 0}
    earliest = min(month for _scope, month in wanted)
    book = month_end_mrr(first=earliest.previous(), last=current, as_of=day)

    movements = list(book.movements())
    owners_of = book.owners
    by_owner = kpi_rules.totals_by_scope(
        ((owners_of[account], movement) for account, movement in movements),
        everything=SCOPE_ALL,
    )
    totals: dict[str, dict[Month, kpi_rules.MonthTotals]] = {
        (SCOPE_ALL if scope == SCOPE_ALL else owner_scope(scope)): by_month  # type: ignore[arg-type]
        for scope, by_month in by_owner.items()
        if scope is not None
    }
    # LTV needs the six months before each month written. Months before `earliest` are closed
    # and stored: their customers at start and churned customers give the churn rate exactly.
    stored = KpiSnapshot.objects.filter(
        closed=True,
        month__gte=earliest.minus(kpi_rules.LTV_MONTHS).first_day,
        month__lt=earliest.first_day,
    ).values_list("scope", "month", "values")
    for scope, month_day, values in stored:
        month = Month.of(month_day)
        totals.setdefault(scope, {})[month] = kpi_rules.MonthTotals(
            month,
            customers_start=values["customers_start"],
            churned_customers=values["churned_customers"],
        )
    answers = nps_scores(first=earliest, last=current)

    movement_months = {month for scope, month in wanted if scope == SCOPE_ALL}
    written = _write_movements(movements, movement_months)

    now = timezone.now()
    snapshots = []
    for scope, month in wanted:
        by_month = totals.get(scope, {})
        values = kpi_rules.monthly_kpis(
            by_month.get(month) or kpi_rules.MonthTotals(month),
            previous=[by_month[m] for m in (month.minus(n) for n in range(1, 7)) if m in by_month],
            nps=nps(answers.get((scope, month), [])),
        )
        snapshots.append(
            KpiSnapshot(
                month=month.first_day,
                scope=scope,
                values=values,
                closed=day >= month.last_day,
                computed_at=now,
            )
        )
    KpiSnapshot.objects.bulk_create(
        snapshots,
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["month", "scope"],
        update_fields=["values", "closed", "computed_at"],
    )
    cohort_snapshots = write_cohort_snapshots(last=current, scopes=scopes, computed_at=now)
    return {
        "kpi_snapshots": len(snapshots),
        "mrr_movements_written": written,
        "cohort_snapshots": cohort_snapshots,
    }


def _write_movements(
    movements: list[tuple[int, kpi_rules.MonthMovement]], months: set[Month]
) -> int:
    """Make the MrrMovement rows of `months` equal `movements`: write what changed, delete what
    is gone. Returns rows written plus rows deleted."""
    if not months:
        return 0
    firsts = [month.first_day for month in months]
    existing = {
        (account_id, month): (pk, (mrr_start, mrr_end, movement, amount))
        for pk, account_id, month, mrr_start, mrr_end, movement, amount in (
            MrrMovement.objects.filter(month__in=firsts)
            .order_by()
            .values_list("pk", "account_id", "month", "mrr_start", "mrr_end", "movement", "amount")
        )
    }
    changed: list[tuple[Any, ...]] = []  # rows in MOVEMENT_COLUMNS order
    seen = set()
    for account_id, mv in movements:
        if mv.month not in months:
            continue
        key = (account_id, mv.month.first_day)
        seen.add(key)
        old = existing.get(key)
        if old is None or old[1] != (mv.mrr_start, mv.mrr_end, mv.movement, mv.amount):
            changed.append((account_id, key[1], mv.mrr_start, mv.mrr_end, mv.movement, mv.amount))
    _upsert_movements(changed)
    gone = [pk for key, (pk, _values) in existing.items() if key not in seen]
    for start in range(0, len(gone), WRITE_BATCH):
        MrrMovement.objects.filter(pk__in=gone[start : start + WRITE_BATCH]).delete()
    return len(changed) + len(gone)


ANALYZE_AFTER_ROWS = 50_000
MOVEMENT_COLUMNS = ("account_id", "month", "mrr_start", "mrr_end", "movement", "amount")


def _upsert_movements(rows: list[tuple[Any, ...]]) -> None:
    """Insert or update MrrMovement rows (tuples in MOVEMENT_COLUMNS order) on (account, month);
    no model instances, which cost more than the SQL here. On PostgreSQL through COPY into a
    temporary table and one INSERT … ON CONFLICT: the first run writes every account's every
    month (~650,000 rows at the reference scale), which bulk_create takes about a minute for."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        MrrMovement.objects.bulk_create(
            (MrrMovement(**dict(zip(MOVEMENT_COLUMNS, row, strict=True))) for row in rows),
            batch_size=WRITE_BATCH,
            update_conflicts=True,
            unique_fields=["account", "month"],
            update_fields=["mrr_start", "mrr_end", "movement", "amount"],
        )
        return
    table = MrrMovement._meta.db_table
    columns = ", ".join(MOVEMENT_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in MOVEMENT_COLUMNS[2:])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE kpi_movement_in (account_id bigint, month date, "
            "mrr_start numeric(12, 2), mrr_end numeric(12, 2), movement varchar(16), "
            "amount numeric(12, 2)) ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY kpi_movement_in ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM kpi_movement_in "
            f"ON CONFLICT (account_id, month) DO UPDATE SET {updates}"
        )
        # A savepoint inside the nightly's transaction: drop now rather than at its commit.
        cursor.execute("DROP TABLE kpi_movement_in")
        if len(rows) > ANALYZE_AFTER_ROWS:
            # The first run fills the table: give the planner statistics for the cohort query.
            cursor.execute(f"ANALYZE {table}")


# --- Reads for the pages -------------------------------------------------------------------------


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _as_money(value: Any) -> Decimal:
    # SQLite sums decimals as floats; cents are recovered exactly at these magnitudes.
    return Decimal(str(value)).quantize(CENT)


COHORT_MONTHS = 24


def _cohort_sql_rows(
    *, first: Month, last: Month, owner_id: int | None = None, by_owner: bool = False
) -> list[tuple[Any, ...]]:
    """Cohort cells from the MrrMovement rows in one SQL query: each account's first month with
    E > 0 (its cohort, from `first` on), then customers and MRR per (cohort, month) up to `last`,
    as rows of (owner, cohort, month, customers, MRR). The owner is the account's owner id when
    `by_owner` (every book at once, None for unowned accounts), else None: everybody, or
    `owner_id`'s book alone."""
    table = MrrMovement._meta.db_table
    accounts = MrrMovement._meta.get_field("account").related_model._meta.db_table
    join, owner_column, params = "", "NULL", []
    if owner_id is not None:
        join = f"JOIN {accounts} a ON a.id = m.account_id AND a.owner_id = %s"
        params.append(owner_id)
    elif by_owner:
        join, owner_column = f"JOIN {accounts} a ON a.id = m.account_id", "a.owner_id"
    sql = f"""
        WITH firsts AS (
            SELECT account_id, MIN(month) AS cohort
              FROM {table}
             WHERE mrr_end > 0
             GROUP BY account_id
        )
        SELECT {owner_column}, f.cohort, m.month, COUNT(*), SUM(m.mrr_end)
          FROM {table} m JOIN firsts f ON f.account_id = m.account_id {join}
         WHERE m.mrr_end > 0 AND f.cohort >= %s AND m.month <= %s
         GROUP BY 1, f.cohort, m.month
    """
    params += [first.first_day, last.first_day]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _cohort_cells(
    *, first: Month, last: Month, owner_id: int | None = None
) -> dict[int | None, dict[tuple[Month, Month], kpi_rules.CohortCell]]:
    """The cells of `_cohort_sql_rows` as CohortCells keyed by (cohort, month)."""
    rows = _cohort_sql_rows(first=first, last=last, owner_id=owner_id)
    cells: dict[int | None, dict[tuple[Month, Month], kpi_rules.CohortCell]] = defaultdict(dict)
    for owner, cohort, month, count, mrr in rows:
        key = (Month.of(_as_date(cohort)), Month.of(_as_date(month)))
        cells[owner][key] = kpi_rules.CohortCell(int(count), _as_money(mrr))
    return cells


def cohorts(*, first: Month, last: Month, owner_id: int | None = None) -> list[kpi_rules.CohortRow]:
    """Cohorts with a first paid month from `first` to `last` (DESIGN §4), computed now."""
    cells = _cohort_cells(first=first, last=last, owner_id=owner_id)
    return kpi_rules.cohort_rows(cells.get(None, {}), last=last)


def write_cohort_snapshots(*, last: Month, scopes: list[str], computed_at: datetime) -> int:
    """Nightly: the cohort cells of the COHORT_MONTHS up to `last` for every scope, from one
    query grouped by owner ("all" is their sum), stored as CohortSnapshot rows (replaced: the
    same cells on a re-run). The cells go from the SQL rows to JSON without Month objects, and
    the rows are COPYed (csm.lib.bulk.insert_rows): bulk_create's JSON quoting took a second."""
    rows = _cohort_sql_rows(first=last.minus(COHORT_MONTHS - 1), last=last, by_owner=True)
    cells: dict[str, list[list[Any]]] = defaultdict(list)
    everybody: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for owner, cohort_day, month_day, count, total in rows:
        key = (_as_date(cohort_day).isoformat(), _as_date(month_day).isoformat())
        customers, mrr = int(count), _as_money(total)
        if owner is not None:
            cells[owner_scope(owner)].append([*key, customers, str(mrr)])
        before = everybody.get(key, (0, ZERO))
        everybody[key] = (before[0] + customers, before[1] + mrr)
    cells[SCOPE_ALL] = [[*key, n, str(mrr)] for key, (n, mrr) in everybody.items()]
    snapshots = [
        CohortSnapshot(
            month=last.first_day,
            scope=scope,
            cells=sorted(cells.get(scope, [])),
            computed_at=computed_at,
        )
        for scope in scopes
    ]
    with transaction.atomic():
        CohortSnapshot.objects.filter(month=last.first_day).delete()
        insert_rows(CohortSnapshot, snapshots)
    return len(snapshots)


def cohort_table(*, last: Month, owner_id: int | None = None) -> list[kpi_rules.CohortRow]:
    """The cohorts page's rows: the COHORT_MONTHS up to `last`, from the nightly snapshot (one
    row), or computed now when the nightly has not written one for this month and scope."""
    scope = SCOPE_ALL if owner_id is None else owner_scope(owner_id)
    stored = (
        CohortSnapshot.objects.filter(scope=scope, month=last.first_day)
        .values_list("cells", flat=True)
        .first()
    )
    if stored is None:
        return cohorts(first=last.minus(COHORT_MONTHS - 1), last=last, owner_id=owner_id)
    cells = {
        (Month.of(_as_date(cohort)), Month.of(_as_date(month))): kpi_rules.CohortCell(
            int(customers), Decimal(mrr)
        )
        for cohort, month, customers, mrr in stored
    }
    return kpi_rules.cohort_rows(cells, last=last)
