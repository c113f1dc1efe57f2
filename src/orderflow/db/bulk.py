"""Working in batches: big imports stream through in chunks so memory stays flat and queries stay short.

::

    for batch in chunked(orders, 500):
        insert_many(session, table_of(OrderLine), [{"order_id": 7, "line_no": 1, ...}, ...])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

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
    """Insert ``rows`` (all with the same keys) in one ``executemany``, inside the session's transaction.

    Values are converted exactly as SQLAlchemy converts them (each column's own type, column defaults for the
    columns left out), but column by column, and a value object met again in a column (the batch's ``now``, a
    price) is converted once: on SQLite, building every row's parameters one by one cost more than the
    database's own work. Other databases take SQLAlchemy's own ``executemany``, already batched there.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    given = list(rows[0])
    defaults = _constant_defaults(table, given)
    if dialect.name != "sqlite" or defaults is None:
        session.execute(insert(table), list(rows))
        return
    compiled = insert(table).compile(dialect=dialect, column_keys=[*given, *defaults], for_executemany=True)
    names = list(compiled.positiontup or ())
    if sorted(names) != sorted([*given, *defaults]):  # the statement needs more: let SQLAlchemy fill it in
        session.execute(insert(table), list(rows))
        return
    values_of = dict(zip(given, _columns(rows, given), strict=True))
    values_of.update((name, [value] * len(rows)) for name, value in defaults.items())
    converted = [_converted(values_of[name], _bind_processor(table, name, dialect)) for name in names]
    session.flush()  # as session.execute would: pending changes reach the database first
    session.connection().exec_driver_sql(compiled.string, list(zip(*converted, strict=True)))


def _columns(rows: Sequence[Mapping[str, Any]], names: list[str]) -> list[Sequence[Any]]:
    """The rows' values column by column (rows to columns in C loops: a big import has millions of values)."""
    if len(names) == 1:
        return [[row[names[0]] for row in rows]]
    return list(zip(*map(itemgetter(*names), rows), strict=True))


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
