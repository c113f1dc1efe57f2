"""Engines and sessions for SQLite and PostgreSQL, with the same code paths on both.

SQLite runs in WAL mode with foreign keys on and a busy timeout; its transactions begin IMMEDIATE so two
writers queue instead of failing half way. Read-only work asks for :func:`reader`, whose transactions
begin DEFERRED and never wait on a writer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, ProgrammingError

from orderflow.errors import ConfigError, OrderflowError, RemoteUnavailable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_S = 30
_READONLY = "orderflow_readonly"


def normalize_url(url: str) -> URL:
    """Parse a database URL; ``postgresql://`` and ``postgres://`` mean psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"database.url: not a database URL: {url!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"database.url: orderflow runs on sqlite or postgresql, not {parsed.drivername!r}")
    return parsed


def display_url(url: str | URL) -> str:
    """The URL with any password hidden, fit for messages and logs."""
    parsed = url if isinstance(url, URL) else make_url(url)
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = normalize_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, **kwargs)
            _configure_sqlite(engine)
            return engine
        return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10}, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:  # a driver named in the URL that is not installed
        raise ConfigError(f"database.url: cannot use the driver {parsed.drivername!r}: {exc}; write "
                          "sqlite:///... or postgresql+psycopg://...") from exc


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself, so we can choose IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        readonly = connection.get_execution_options().get(_READONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if readonly else "BEGIN IMMEDIATE")


def reader(engine: Engine) -> Engine:
    """The same engine for read-only work: on SQLite its transactions do not take the write lock."""
    return engine.execution_options(**{_READONLY: True})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # The ORM is imported on first use: a command that reads plain rows (the staff queue) never needs it.
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(bind=engine, expire_on_commit=False)


def database_error(exc: BaseException) -> OrderflowError | None:
    """What a database failure means to an operator, or ``None`` when it is not one of these (a bug):

    a database never set up is a configuration problem; one that went away is unavailable (worth a rerun).
    """
    if not isinstance(exc, OperationalError | ProgrammingError):
        return None
    lines = str(exc.orig or exc).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    if "connection failed" in first and ("does not exist" in first or "authentication failed" in first):
        # A missing role or database, or a refused password: the URL is wrong, not the schema.
        return ConfigError(f"cannot log in to the database as configured ({first}); check database.url")
    if "no such table" in first or "does not exist" in first:
        return ConfigError(f"database is not initialised ({first}); run `orderflow db upgrade`")
    return RemoteUnavailable(f"database unavailable: {first}") if isinstance(exc, OperationalError) else None


DATABASE_ERRORS = (OperationalError, ProgrammingError)
"""What :func:`database_error` may explain."""
