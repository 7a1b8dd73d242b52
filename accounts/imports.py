"""CSV imports of accounts, subscriptions and contacts (DESIGN §5), one code path for every kind
(the contacts' kind lives in accounts.contact_imports).

1. Read: decode, check the header, keep each row with its physical line number (header = line 1).
2. Validate every row against values looked up once for the whole file, collecting every problem
   as `line N: <field>: <problem>`.
3. Plan: compare each row with what is stored: create, update (changed fields) or unchanged.
4. Apply: write the plan in one transaction (bulk inserts and updates), audit owner and tier
   override changes, refresh the tiers of the touched accounts, then send `accounts_imported`.

Nothing is written unless the whole file is valid. The management commands and the managers'
upload page both call `run_import` / `apply_batch`, so they accept and refuse the same files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.audit import record_changes
from accounts.import_values import (
    Invalid,
    choice,
    optional,
    parse_amount,
    parse_bool,
    parse_date,
    parse_seats,
    text_of,
)
from accounts.models import (
    Account,
    ImportBatch,
    ImportKind,
    Interval,
    Segment,
    Subscription,
    Tier,
    User,
)
from accounts.services import refresh_tiers
from accounts.signals import accounts_imported
from csm.lib.bulk import chunks, update_rows

# The upload page refuses larger files (the command line has no limit).
MAX_FILE_BYTES = 20 * 1024 * 1024
# Keys per `IN (...)` lookup: well under SQLite's limit on bound parameters.
LOOKUP_CHUNK = 2000
BATCH_SIZE = 1000

CREATE = "create"
UPDATE = "update"
UNCHANGED = "unchanged"

# Changes an import records in the audit trail, as update_account does for the edit form.
AUDITED_FIELDS = ("owner", "tier_override")

T = TypeVar("T")


class ImportErrors(Exception):
    """The file has problems; nothing was written."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the file")
        self.errors = errors


class AlreadyApplied(Exception):
    """The batch was applied before (a second confirm, or two managers at once)."""


class NothingToImport(Exception):
    """The file has its header but no rows; nothing was written (nor the batch marked applied)."""


def _display(value: Any) -> str:
    """How a value reads in the preview."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, User):
        return value.email
    if isinstance(value, Account):
        return value.external_id
    return str(value)


def _fetch(queryset: models.QuerySet[Any], lookup: str, keys: set[str]) -> list[Any]:
    """Every object whose `lookup` is one of `keys`, a few queries for the whole file."""
    found: list[Any] = []
    for chunk in chunks(sorted(keys), LOOKUP_CHUNK):
        found.extend(queryset.filter(**{f"{lookup}__in": chunk}))
    return found


# --- Reading -------------------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    values: dict[str, str]


class _Cleaner:
    """Collects one row's parsed values (by model attribute) and problems (by column)."""

    def __init__(self, raw: dict[str, str]) -> None:
        self.raw = raw
        self.values: dict[str, Any] = {}
        self.problems: list[tuple[str, str]] = []

    def take(
        self, column: str, attr: str, parse: Callable[[str], Any], *, required: bool = False
    ) -> Any:
        """Parse one column into values[attr]; a column absent from the header is skipped, so an
        update keeps what is stored."""
        if column not in self.raw:
            return None
        text = self.raw[column]
        if required and not text:
            self.problem(column, "required")
            return None
        try:
            value = parse(text)
        except Invalid as exc:
            self.problem(column, str(exc))
            return None
        self.values[attr] = value
        return value

    def problem(self, column: str, problem: str) -> None:
        self.problems.append((column, problem))


def _read(text: str, kind: _Kind) -> tuple[list[_Row], list[tuple[int, str]]]:
    """The rows of the file, each with the physical line it starts on; header problems stop here."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [(1, f"line 1: header: {exc}")]
    if not header or not any(name.strip() for name in header):
        return [], [(1, "line 1: header: missing (the file is empty)")]

    errors: list[tuple[int, str]] = []
    columns = [name.strip().lower() for name in header]
    for position, column in enumerate(columns, start=1):
        if not column:
            errors.append((1, f"line 1: column {position}: no name"))
        elif column not in kind.columns:
            errors.append((1, f"line 1: {column}: unknown column"))
        elif columns.index(column) != position - 1:
            errors.append((1, f"line 1: {column}: duplicate column"))
    for column in kind.required:
        if column not in columns:
            errors.append((1, f"line 1: {column}: missing column"))
    if errors:
        return [], errors

    rows: list[_Row] = []
    end_of_previous = reader.line_num
    try:
        for values in reader:
            # A quoted value may span lines: the row starts right after the previous one ended.
            line, end_of_previous = end_of_previous + 1, reader.line_num
            if not any(value.strip() for value in values):
                continue  # blank lines, and the ",,,," rows spreadsheets leave at the end
            if len(values) != len(columns):
                problem = f"expected {len(columns)} values, found {len(values)}"
                errors.append((line, f"line {line}: columns: {problem}"))
                continue
            rows.append(_Row(line, {c: v.strip() for c, v in zip(columns, values, strict=True)}))
    except csv.Error as exc:
        line = end_of_previous + 1
        errors.append((line, f"line {line}: csv: {exc}"))
    return rows, errors


def read_csv(
    text: str, *, columns: tuple[str, ...], required: tuple[str, ...]
) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The rows of a CSV file of `columns` as (line, {column: stripped value}), and the file's
    problems as `line N: field: problem`, by the rules of this module's imports (header checks,
    blank rows skipped, a quoted value may span lines). For imports that live in higher layers
    (csm.workflow.touch_import)."""
    kind = type("CsvShape", (), {"columns": columns, "required": required})
    rows, errors = _read(text, kind)  # type: ignore[arg-type]
    return [(row.line, row.values) for row in rows], [message for _line, message in errors]


# --- The two kinds -------------------------------------------------------------------------------


class _Kind:
    """What differs between the kinds: columns, how a row is validated, what an import touches."""

    kind: ClassVar[str]
    model: ClassVar[type[models.Model]]
    key: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]
    required: ClassVar[tuple[str, ...]]
    # Written on every updated row besides the changed fields (derived or bookkeeping fields).
    always_updated: ClassVar[tuple[str, ...]] = ()

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.existing: dict[str, Any] = {}

    def load(self, rows: list[_Row]) -> None:
        """Look up, for the whole file at once, the stored rows and what the values refer to."""
        raise NotImplementedError

    def clean(self, raw: dict[str, str]) -> _Cleaner:
        raise NotImplementedError

    def new(self, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def change(self, obj: Any, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """Set the differing values on obj; {field: (old, new)} for each one."""
        changes = {}
        for attr, new in values.items():
            old = getattr(obj, attr)
            if old != new:
                changes[attr] = (old, new)
                setattr(obj, attr, new)
        return changes

    def row_key(self, raw: dict[str, str]) -> str:
        """What names a row's stored object (blank: none); one key twice is a duplicate."""
        return raw[self.key]

    def check_across(self, line: int, row: _Cleaner) -> None:
        """Problems between the rows of one file, called on each valid-so-far row in line order."""

    def write(self, plan: Plan, actor: User | None) -> None:
        self.model.objects.bulk_create(plan.creates, batch_size=BATCH_SIZE)
        update_rows(
            self.model, [(obj, [*changes, *self.always_updated]) for obj, changes in plan.updates]
        )

    def after_write(self, plan: Plan, actor: User | None) -> set[int]:
        """Side effects of the written plan; returns the ids of the accounts whose tier may move."""
        raise NotImplementedError

    def after_tiers(self, plan: Plan) -> None: ...  # once the tiers are refreshed: nothing


class _AccountRows(_Kind):
    kind = ImportKind.ACCOUNTS
    model = Account
    key = "external_id"
    columns = (
        "external_id",
        "name",
        "segment",
        "owner_email",
        "contract_start",
        "renewal_date",
        "strategic",
        "tier",
        "seats",
    )
    required = ("external_id", "name", "segment", "owner_email", "contract_start")
    always_updated = ("tier_override_reason", "updated_at")

    def load(self, rows: list[_Row]) -> None:
        keys = {row.values["external_id"] for row in rows}
        emails = {row.values.get("owner_email", "").lower() for row in rows} - {""}
        # select_related: the old owner is shown in the preview and written to the audit trail.
        accounts = _fetch(Account.objects.select_related("owner"), "external_id", keys)
        self.existing = {account.external_id: account for account in accounts}
        users = _fetch(User.objects.annotate(email_lower=Lower("email")), "email_lower", emails)
        self.users = {user.email.lower(): user for user in users}

    def owner(self, text: str) -> User | None:
        if not text:
            return None
        try:
            return self.users[text.lower()]
        except KeyError:
            raise Invalid("unknown user") from None

    def clean(self, raw: dict[str, str]) -> _Cleaner:
        row = _Cleaner(raw)
        row.take("external_id", "external_id", external_id, required=True)
        row.take("name", "name", text_of(200), required=True)
        row.take("segment", "segment", choice(Segment.values), required=True)
        row.take("owner_email", "owner", self.owner)
        start = row.take("contract_start", "contract_start", parse_date, required=True)
        renewal = row.take("renewal_date", "renewal_date", optional(parse_date))
        row.take("strategic", "strategic", parse_bool)
        row.take("tier", "tier_override", choice(Tier.values))
        row.take("seats", "seats", optional(parse_seats))
        if start is not None and renewal is not None and renewal < start:
            row.problem("renewal_date", "must not be before contract_start")
        return row

    @property
    def override_reason(self) -> str:
        return f"set by import of {self.filename}"

    def new(self, values: dict[str, Any]) -> Account:
        account = Account(**values)
        if account.tier_override:
            account.tier_override_reason = self.override_reason
            account.tier = account.tier_override  # refresh_tiers would say the same
        return account

    def change(self, obj: Account, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        changes = super().change(obj, values)
        if "tier_override" in changes:
            obj.tier_override_reason = self.override_reason if obj.tier_override else ""
        if changes:
            obj.updated_at = timezone.now()  # bulk_update skips auto_now
        return changes

    def after_write(self, plan: Plan, actor: User | None) -> set[int]:
        trails = [
            (
                account,
                {"owner": (None, account.owner), "tier_override": ("", account.tier_override)},
            )
            for account in plan.creates
        ]
        trails += [
            (account, {name: changes[name] for name in AUDITED_FIELDS if name in changes})
            for account, changes in plan.updates
        ]
        for account, trail in trails:
            if any(old != new for old, new in trail.values()):
                record_changes(
                    actor=actor,
                    obj=account,
                    action="account.import",
                    changes=trail,
                    reason=self.override_reason,
                )
        return {account.pk for account in plan.creates} | {a.pk for a, _ in plan.updates}

    def after_tiers(self, plan: Plan) -> None:
        # New accounts' blueprints and every imported account's risk rules (csm.workflow).
        imported = {account.pk for account in plan.creates} | {a.pk for a, _ in plan.updates}
        accounts_imported.send(sender=Account, account_ids=sorted(imported))


def external_id(text: str) -> str:
    # The account pages live at /accounts/<external_id>/, so a slash would make them unreachable.
    if "/" in text:
        raise Invalid("must not contain /")
    return text_of(100)(text)


class _SubscriptionRows(_Kind):
    kind = ImportKind.SUBSCRIPTIONS
    model = Subscription
    key = "subscription_id"
    columns = (
        "subscription_id",
        "account_external_id",
        "start_date",
        "end_date",
        "amount",
        "interval",
    )
    required = columns
    always_updated = ("mrr",)

    def load(self, rows: list[_Row]) -> None:
        keys = {row.values["subscription_id"] for row in rows}
        account_keys = {row.values["account_external_id"] for row in rows}
        # select_related: a subscription moved to another account touches the old one too.
        subscriptions = _fetch(
            Subscription.objects.select_related("account"), "subscription_id", keys
        )
        self.existing = {sub.subscription_id: sub for sub in subscriptions}
        accounts = _fetch(Account.objects.only("pk", "external_id"), "external_id", account_keys)
        self.accounts = {account.external_id: account for account in accounts}

    def account(self, text: str) -> Account:
        try:
            return self.accounts[text]
        except KeyError:
            raise Invalid("unknown account") from None

    def clean(self, raw: dict[str, str]) -> _Cleaner:
        row = _Cleaner(raw)
        row.take("subscription_id", "subscription_id", text_of(100), required=True)
        row.take("account_external_id", "account", self.account, required=True)
        start = row.take("start_date", "start_date", parse_date, required=True)
        end = row.take("end_date", "end_date", optional(parse_date))
        row.take("amount", "amount", parse_amount, required=True)
        row.take("interval", "interval", choice(Interval.values), required=True)
        if start is not None and end is not None and end <= start:
            row.problem("end_date", "must be after start_date")
        return row

    def new(self, values: dict[str, Any]) -> Subscription:
        subscription = Subscription(**values)
        subscription.set_mrr()
        return subscription

    def change(self, obj: Subscription, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        changes = super().change(obj, values)
        obj.set_mrr()
        return changes

    def after_write(self, plan: Plan, actor: User | None) -> set[int]:
        touched = {sub.account_id for sub in plan.creates}
        for sub, changes in plan.updates:
            touched.add(sub.account_id)
            if "account" in changes:
                touched.add(changes["account"][0].pk)
        return touched


# accounts.contact_imports adds the contacts' kind (loaded by AccountsConfig.ready).
KINDS: dict[str, type[_Kind]] = {kind.kind: kind for kind in (_AccountRows, _SubscriptionRows)}


def columns_of(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every column, the required ones) of a kind, for the upload page's help."""
    return KINDS[kind].columns, KINDS[kind].required


# --- Plan and apply ------------------------------------------------------------------------------


@dataclass
class RowPlan:
    """What importing one row does; `changes` lists (field, old, new) as text for an update."""

    line: int
    key: str
    action: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def changed_fields(self) -> list[str]:
        return [name for name, _, _ in self.changes]


@dataclass
class Plan:
    kind: str
    filename: str
    errors: list[str] = field(default_factory=list)
    # The rows' problems as (column, problem), for callers that name fields (the REST API).
    problems: list[tuple[str, str]] = field(default_factory=list)
    rows: list[RowPlan] = field(default_factory=list)
    creates: list[Any] = field(default_factory=list)
    updates: list[tuple[Any, dict[str, tuple[Any, Any]]]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """A file with its header and no rows (and no problems): nothing to import."""
        return not self.rows and not self.errors

    @property
    def summary(self) -> dict[str, int]:
        counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0}
        for row in self.rows:
            counts[row.action] += 1
        return {
            "created": counts[CREATE],
            "updated": counts[UPDATE],
            "unchanged": counts[UNCHANGED],
        }


def plan_import(kind: str, text: str, *, filename: str) -> Plan:
    """Validate a whole file and say what importing it would do; writes nothing.

    The plan holds unsaved model instances with the new values set, for apply_plan to write.
    """
    spec = KINDS[kind](filename)
    rows, errors = _read(text, spec)
    spec.load(rows)
    return _plan(spec, rows, errors)


def plan_values(kind: str, values: dict[str, str], *, source: str) -> Plan:
    """One row given as {column: text} (the REST API's upsert), through the same checks as a
    file's rows. A column left out keeps what is stored; a new row needs the kind's required
    columns. `plan.problems` lists (column, problem)."""
    spec = KINDS[kind](source)
    unknown = sorted(set(values) - set(spec.columns))
    if unknown:
        raise ValueError(f"unknown columns {unknown}")
    row = _Row(1, dict(values))
    spec.load([row])
    if values.get(spec.key, "") not in spec.existing:
        # A new row: a required column left out is blank, as in a file (where it is "required",
        # or allowed blank like an account's owner_email).
        row.values.update({column: "" for column in spec.required if column not in values})
    return _plan(spec, [row], [])


def _plan(spec: _Kind, rows: list[_Row], errors: list[tuple[int, str]]) -> Plan:
    """Check the rows (their values looked up by spec.load) and plan their writes."""
    plan = Plan(kind=spec.kind, filename=spec.filename)

    first_line_of: dict[str, int] = {}
    valid: list[tuple[int, str, dict[str, Any]]] = []
    for row in rows:
        cleaned = spec.clean(row.values)
        key = spec.row_key(row.values)
        if key in first_line_of:
            cleaned.problems.insert(0, (spec.key, f"duplicate of line {first_line_of[key]}"))
        elif key:
            first_line_of[key] = row.line
        if not cleaned.problems:
            spec.check_across(row.line, cleaned)
        errors.extend((row.line, f"line {row.line}: {col}: {msg}") for col, msg in cleaned.problems)
        plan.problems.extend(cleaned.problems)
        if not cleaned.problems:
            valid.append((row.line, key, cleaned.values))
    if errors:
        plan.errors = [message for _, message in sorted(errors, key=lambda error: error[0])]
        return plan

    for line, key, values in valid:
        obj = spec.existing.get(key)
        if obj is None:
            plan.creates.append(spec.new(values))
            plan.rows.append(RowPlan(line, key, CREATE))
            continue
        changes = spec.change(obj, values)
        if changes:
            plan.updates.append((obj, changes))
            shown = [(f, _display(old), _display(new)) for f, (old, new) in changes.items()]
            plan.rows.append(RowPlan(line, key, UPDATE, shown))
        else:
            plan.rows.append(RowPlan(line, key, UNCHANGED))
    return plan


@transaction.atomic
def apply_plan(plan: Plan, *, actor: User | None) -> dict[str, int]:
    """Write a valid plan: bulk inserts and updates, the audit trail, then the touched accounts'
    tiers. One transaction, so a failure anywhere leaves the database as it was."""
    if plan.errors:
        raise ImportErrors(plan.errors)
    spec = KINDS[plan.kind](plan.filename)
    spec.write(plan, actor)
    touched = spec.after_write(plan, actor)
    today = timezone.localdate()
    for chunk in chunks(sorted(touched), LOOKUP_CHUNK):
        refresh_tiers(today=today, account_ids=list(chunk))
    spec.after_tiers(plan)
    return plan.summary


@transaction.atomic
def run_import(kind: str, text: str, *, filename: str, actor: User | None) -> Plan:
    """Validate and apply a file in one transaction; ImportErrors (nothing written) if it is bad,
    NothingToImport if it has no rows."""
    plan = plan_import(kind, text, filename=filename)
    if plan.errors:
        raise ImportErrors(plan.errors)
    if plan.is_empty:
        raise NothingToImport
    apply_plan(plan, actor=actor)
    return plan


def apply_batch(batch: ImportBatch, *, actor: User | None) -> Plan:
    """Apply an uploaded batch once. The conditional UPDATE claims it, so a second confirm (or two
    managers confirming at once) gets AlreadyApplied; on ImportErrors or NothingToImport the claim
    rolls back too."""
    with transaction.atomic():
        now = timezone.now()
        claimed = ImportBatch.objects.filter(pk=batch.pk, applied_at__isnull=True).update(
            applied_at=now
        )
        if not claimed:
            raise AlreadyApplied
        plan = run_import(batch.kind, batch.content, filename=batch.filename, actor=actor)
        ImportBatch.objects.filter(pk=batch.pk).update(summary=plan.summary)
    batch.applied_at = now
    batch.summary = plan.summary
    return plan


def describe(kind: str, summary: dict[str, int]) -> str:
    """The commands' one-line report, e.g. `accounts: 3 created, 1 updated, 0 unchanged`."""
    return (
        f"{kind}: {summary['created']} created, {summary['updated']} updated, "
        f"{summary['unchanged']} unchanged"
    )
