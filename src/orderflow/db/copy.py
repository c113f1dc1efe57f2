"""``orderflow db copy --to URL``: move a shop's data to another database, e.g. from SQLite to PostgreSQL.

Every table is copied, parents before children, in batches, with its ids as they are; then PostgreSQL's id
sequences are moved past the highest id so new rows do not collide; then each table is read back on both
sides and compared by row count and a checksum of its rows in id order. The target must be empty: at no
schema yet (it is migrated to the latest) or at the latest schema with every table empty.

>>> copied = copy_database(source=engine, target_url="postgresql+psycopg://orderflow@db/orderflow")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from orderflow.errors import ConfigError, OrderflowError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, Table

BATCH_ROWS = 1000
Progress = Callable[[str, int, int], None]
"""Told (table, rows copied so far, rows in the table) after each batch."""


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int
    checksum: str
    """SHA-256 over the table's rows in id order, equal on both sides."""


def copy_database(*, source: Engine, target_url: str, batch_rows: int = BATCH_ROWS,
                  progress: Progress | None = None) -> list[TableCopy]:
    """Copy every table from ``source`` to the empty database at ``target_url``; verified, or it raises."""
    from orderflow.db import migrate
    from orderflow.db.engine import display_url, make_engine
    from orderflow.db.models import Base

    migrate.require_latest(source)
    target = make_engine(target_url)
    try:
        state = migrate.schema_state(target)
        if state.current is None:
            migrate.upgrade(target_url)
        elif not state.latest:
            raise ConfigError(f"{display_url(target_url)}: {state.problem}; the target must be empty")
        tables = list(Base.metadata.sorted_tables)
        with target.connect() as writing:
            _refuse_rows(writing, tables, display_url(target_url))
        with source.connect() as reading, target.begin() as writing:
            for table in tables:
                _copy_table(reading, writing, table, batch_rows, progress)
            if writing.dialect.name == "postgresql":
                for table in tables:
                    _advance_sequences(writing, table)
        return _verified(source, target, tables)
    finally:
        target.dispose()


def _refuse_rows(connection: Connection, tables: list[Table], where: str) -> None:
    for table in tables:
        rows = connection.scalar(select(func.count()).select_from(table)) or 0
        if rows:
            raise ConfigError(f"{where}: not empty ({table.name} has {rows} rows); copy only into an empty database")


def _ordered(table: Table) -> Any:
    return select(table).order_by(*table.primary_key.columns)


def _copy_table(reading: Connection, writing: Connection, table: Table, batch_rows: int,
                progress: Progress | None) -> None:
    total = reading.scalar(select(func.count()).select_from(table)) or 0
    copied = 0
    result = reading.execution_options(yield_per=batch_rows).execute(_ordered(table))
    for batch in result.mappings().partitions():
        writing.execute(table.insert(), [dict(row) for row in batch])
        copied += len(batch)
        if progress is not None:
            progress(table.name, copied, total)
    if progress is not None and not total:
        progress(table.name, 0, 0)


def _advance_sequences(writing: Connection, table: Table) -> None:
    """Ids were copied as they were: the sequence behind an id column must start after the highest one."""
    for column in table.primary_key.columns:
        sequence = writing.scalar(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                  {"table": table.name, "column": column.name})
        if sequence is not None:
            highest = writing.scalar(select(func.max(column)))
            writing.execute(text("SELECT setval(:sequence, :next, false)"),
                            {"sequence": sequence, "next": (highest or 0) + 1})


def _verified(source: Engine, target: Engine, tables: list[Table]) -> list[TableCopy]:
    copies = []
    with source.connect() as reading, target.connect() as written:
        for table in tables:
            expected, actual = _summary(reading, table), _summary(written, table)
            if expected != actual:
                raise OrderflowError(f"copy of {table.name} does not match: {expected[0]} rows "
                                     f"(checksum {expected[1][:12]}) in the source, {actual[0]} "
                                     f"({actual[1][:12]}) in the target")
            copies.append(TableCopy(table.name, *expected))
    return copies


def _summary(connection: Connection, table: Table) -> tuple[int, str]:
    digest = hashlib.sha256()
    rows = 0
    for row in _rows(connection, table):
        digest.update(json.dumps([_canonical(value) for value in row], separators=(",", ":")).encode())
        digest.update(b"\n")
        rows += 1
    return rows, digest.hexdigest()


def _rows(connection: Connection, table: Table) -> Iterator[Any]:
    result = connection.execution_options(yield_per=BATCH_ROWS).execute(_ordered(table))
    for batch in result.partitions():
        yield from batch


def _canonical(value: object) -> object:
    """The same value read from either database as the same JSON: instants in UTC, numbers by value."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
