"""Working in batches: big imports stream through in chunks so memory stays flat and queries stay short.

::

    for batch in chunked(orders, 500):
        insert_many(session, table_of(OrderLine), [{"order_id": 7, "line_no": 1, ...}, ...])
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Table, func, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import Compiled

T = TypeVar("T")

BATCH_SIZE = 500


def chunked(items: Iterable[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    """``[1, 2, 3, 4, 5]`` in twos gives ``[1, 2]``, ``[3, 4]``, ``[5]``."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def table_of(model: Any) -> Table:
    """A mapped class's table, for Core bulk statements: rows that need no ORM objects skip their cost."""
    table: Table = model.metadata.tables[model.__tablename__]
    return table


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) in one ``executemany``, inside the session's transaction."""
    if not rows:
        return
    names = list(rows[0])
    values = map(itemgetter(*names), rows) if len(names) > 1 else ((row[names[0]],) for row in rows)
    insert_rows(session, table, names, list(values))


def insert_rows(session: Session, table: Table, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows``, each a tuple of the values of the columns ``names``, in one ``executemany``.

    Values are converted exactly as SQLAlchemy converts them (each column's own type, column defaults for the
    columns left out), but column by column, and a value object met again in a column (the batch's ``now``, a
    price) is converted once: on SQLite, building every row's parameters one by one cost more than the
    database's own work. Other databases take SQLAlchemy's own ``executemany``, already batched there.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    plan = _plan(table, tuple(names), dialect) if dialect.name == "sqlite" else None
    if plan is None:
        session.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
        return
    compiled, order, defaults, processors = plan
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    columns += ([value] * len(rows) for value in defaults)
    converted = [_converted(columns[index], process) for index, process in zip(order, processors, strict=True)]
    session.flush()  # as session.execute would: pending changes reach the database first
    session.connection().exec_driver_sql(compiled.string, list(zip(*converted, strict=True)))


_Plan = tuple[Compiled, list[int], list[Any], list[Callable[[Any], Any] | None]]
"""An insert compiled; for each of its parameters, the column given (or default, after the given) that fills it
and that column's bind processor; the defaults' values."""


@functools.lru_cache(maxsize=64)
def _plan(table: Table, names: tuple[str, ...], dialect: Dialect) -> _Plan | None:
    """How to insert rows of ``names`` into ``table`` as plain parameters; ``None`` when a default of a column
    left out is computed, or the statement needs more than the columns (SQLAlchemy then fills them in)."""
    defaults = _constant_defaults(table, list(names))
    if defaults is None:
        return None
    keys = [*names, *defaults]
    compiled = insert(table).compile(dialect=dialect, column_keys=keys, for_executemany=True)
    wanted = list(compiled.positiontup or ())
    if sorted(wanted) != sorted(keys):
        return None
    order = [keys.index(name) for name in wanted]
    return (compiled, order, list(defaults.values()),
            [_bind_processor(table, name, dialect) for name in wanted])


def reserved_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` new values of ``table``'s integer key ``id``, in increasing order, for rows about to be inserted
    with them: their ids are then known without reading them back.

    On SQLite, the ones it would give the rows itself (from one past the largest: the transaction holds the
    write lock, so no other writer comes between); on PostgreSQL, drawn from the column's sequence.
    """
    if count <= 0:
        return []
    column = table.c.id
    if session.get_bind().dialect.name == "sqlite":
        start = (session.scalar(select(func.max(column))) or 0) + 1
        return list(range(start, start + count))
    sequence = func.pg_get_serial_sequence(table.name, column.name)
    return sorted(session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count))))


def _constant_defaults(table: Table, given: list[str]) -> dict[str, Any] | None:
    """The constant defaults of the columns the rows leave out; ``None`` if one of them is computed."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.key in given or default is None:
            continue
        if not default.is_scalar:
            return None
        defaults[column.key] = getattr(default, "arg", None)
    return defaults


def _bind_processor(table: Table, name: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    processor: Callable[[Any], Any] | None = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _converted(values: Sequence[Any], process: Callable[[Any], Any] | None) -> Sequence[Any]:
    if process is None:
        return values
    # Keyed by identity: the rows keep every value alive for the length of this call.
    seen: dict[int, Any] = {}
    converted = []
    for value in values:
        result = seen.get(id(value), seen)
        if result is seen:
            result = seen[id(value)] = process(value)
        converted.append(result)
    return converted
