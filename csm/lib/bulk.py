"""Bulk writes Django's ORM makes slow.

- `update_rows`: `bulk_update` builds a CASE branch per row and field, which takes minutes for
  50,000 rows; this sends one plain `UPDATE … WHERE pk = %s` per row through executemany (psycopg 3
  pipelines them), on PostgreSQL and SQLite alike.
- `insert_rows`: on PostgreSQL, `bulk_create` sends each column as one array parameter, which
  psycopg quotes in Python (client-side binding): 16 of the 25 s that 48,000 health scores with
  their JSON measures took. COPY sends the rows as they are; SQLite keeps bulk_create."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.db import connections, models, router

T = TypeVar("T")
BATCH_SIZE = 1000


def chunks(items: Sequence[T], size: int = BATCH_SIZE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(model: type[models.Model], objs: Sequence[models.Model]) -> int:
    """INSERT the unsaved objects (their primary keys are left to the database; nothing is read
    back). Returns the number of rows written."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)  # type: ignore[attr-defined]
        return len(objs)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objs:
            copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])
    return len(objs)


def update_rows(model: type[models.Model], rows: Iterable[tuple[Any, Iterable[str]]]) -> int:
    """Write each object's listed fields (rows of (object, field names)); objects listing the same
    fields share one statement. Returns the number of objects written."""
    by_fields: dict[tuple[str, ...], list[Any]] = defaultdict(list)
    for obj, names in rows:
        by_fields[tuple(sorted(set(names)))].append(obj)
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    table, pk_column = quote(model._meta.db_table), quote(model._meta.pk.column)
    written = 0
    with connection.cursor() as cursor:
        for names, objs in by_fields.items():
            fields: list[Any] = [model._meta.get_field(name) for name in names]
            assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
            sql = f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s"
            params = [
                [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] + [obj.pk]
                for obj in objs
            ]
            for chunk in chunks(params):
                cursor.executemany(sql, chunk)
            written += len(objs)
    return written
