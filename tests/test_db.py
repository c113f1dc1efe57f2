"""Column types and engine behaviour that must be the same on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import StatementError

from orderflow.db.engine import make_engine, normalize_url, reader, session_factory
from orderflow.db.models import Base, Order, OrderLine
from orderflow.errors import ConfigError


def an_order(**changes: object) -> Order:
    now = datetime(2026, 11, 2, 15, 4, tzinfo=UTC)
    values: dict[str, object] = {
        "source": "shopify", "order_number": "1042", "placed_at": now, "content_hash": "x",
        "created_at": now, "updated_at": now,
    }
    values.update(changes)
    return Order(**values)


class TestColumnTypes:
    def test_datetimes_come_back_aware_utc(self, engine: Engine) -> None:
        """A time written with any offset reads back as the same instant in UTC, with its zone."""
        eastern = timezone(timedelta(hours=-5))
        with session_factory(engine)() as session, session.begin():
            session.add(an_order(placed_at=datetime(2026, 11, 2, 10, 4, tzinfo=eastern)))
        with session_factory(engine)() as session:
            placed = session.scalars(select(Order.placed_at)).one()
        assert placed == datetime(2026, 11, 2, 15, 4, tzinfo=UTC)
        assert placed.tzinfo is not None
        assert placed.utcoffset() == timedelta(0)

    def test_naive_datetimes_are_refused(self, engine: Engine) -> None:
        """Writing a naive time is a bug, so it fails loudly instead of being guessed at."""
        with session_factory(engine)() as session:
            session.add(an_order(placed_at=datetime(2026, 11, 2, 10, 4)))
            with pytest.raises(StatementError, match="naive datetime"):
                session.flush()

    def test_money_is_exact_decimal(self, engine: Engine) -> None:
        """Prices survive the round trip as exact Decimals with two places."""
        with session_factory(engine)() as session, session.begin():
            order = an_order(total=Decimal("0.1") + Decimal("0.2"))
            session.add(order)
            session.flush()
            session.add(OrderLine(order_id=order.id, line_no=1, sku="TB-1", qty=1, price=Decimal("19.99")))
        with session_factory(engine)() as session:
            total, price = session.execute(select(Order.total, OrderLine.price).join(OrderLine)).one()
        assert (total, price) == (Decimal("0.30"), Decimal("19.99"))
        assert isinstance(price, Decimal)


class TestEngines:
    def test_sqlite_pragmas(self, tmp_path: Path) -> None:
        """SQLite runs in WAL mode with foreign keys enforced and a busy timeout."""
        engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        engine.dispose()

    def test_sqlite_writers_take_the_write_lock_at_begin(self, tmp_path: Path) -> None:
        """A writing transaction holds the write lock from BEGIN, so a second writer waits instead of failing later."""
        path = tmp_path / "x.db"
        engine = make_engine(f"sqlite:///{path}")
        Base.metadata.create_all(engine)
        impatient = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        with engine.begin() as first:
            first.execute(text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                impatient.execute("BEGIN IMMEDIATE")
            with reader(engine).connect() as other_reader:
                assert other_reader.execute(select(Order.id)).all() == []
        impatient.execute("BEGIN IMMEDIATE")
        impatient.execute("ROLLBACK")
        impatient.close()
        engine.dispose()

    def test_postgres_urls_use_psycopg(self) -> None:
        """postgresql:// and postgres:// mean psycopg 3."""
        assert normalize_url("postgresql://u@h/d").drivername == "postgresql+psycopg"
        assert normalize_url("postgres://u@h/d").drivername == "postgresql+psycopg"

    def test_other_databases_are_refused(self) -> None:
        """orderflow promises SQLite and PostgreSQL only."""
        with pytest.raises(ConfigError, match="sqlite or postgresql, not 'mysql'"):
            normalize_url("mysql://u@h/d")
        with pytest.raises(ConfigError, match="not a database URL"):
            normalize_url("nonsense")
