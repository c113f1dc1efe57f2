"""Rows that several processes create on first use (breakers, control numbers): create once, then lock."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")


def locked_row(session: Session, model: type[T], key: InstrumentedAttribute[Any], value: Any, **defaults: Any) -> T:
    """The row whose ``key`` is ``value``, locked for this transaction; inserted with ``defaults`` if missing."""
    query = select(model).where(key == value).with_for_update()
    row = session.scalar(query)
    if row is None:
        try:
            with session.begin_nested():
                session.add(model(**{key.key: value}, **defaults))
        except IntegrityError:
            pass  # another process inserted it first; read theirs
        row = session.scalars(query).one()
    return row
