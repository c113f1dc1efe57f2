"""One lock per command name, so two cron runs of the same command never overlap.

PostgreSQL: a session-level advisory lock on a connection held for the whole run; it is released when
the process dies, however it dies. SQLite: a lease row that expires; a lease whose holder process is gone
(same host, pid no longer alive) is taken over at once, so a crashed run never blocks the next one.

Leases use the machine's real clock, never ``--now``: they are about live processes, not business time.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, text

from orderflow.db.models import JobLock
from orderflow.errors import LockHeld

LEASE_TTL = timedelta(hours=1)


def holder_identity() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


@contextmanager
def command_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold the lock for ``name`` for the duration of the block, or raise :class:`LockHeld` at once."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, name):
            yield
    else:
        with _lease(engine, name):
            yield


def _advisory_key(schema: str, name: str) -> int:
    digest = hashlib.blake2b(f"orderflow:{schema}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _advisory_lock(engine: Engine, name: str) -> Iterator[None]:
    with engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        schema = autocommit.execute(text("SELECT current_schema()")).scalar_one()
        key = _advisory_key(str(schema), name)
        if not autocommit.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
            raise LockHeld(f"{name}: another run holds the lock; nothing done")
        try:
            yield
        finally:
            autocommit.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


@contextmanager
def _lease(engine: Engine, name: str) -> Iterator[None]:
    host, pid = holder_identity()
    holder = f"{host}:{pid}:{os.urandom(4).hex()}"
    with engine.begin() as connection:
        _take_lease(connection, name, holder=holder, host=host, pid=pid)
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(delete(JobLock).where(JobLock.name == name, JobLock.holder == holder))


def _take_lease(connection: Connection, name: str, *, holder: str, host: str, pid: int) -> None:
    now = datetime.now(UTC)
    current = connection.execute(select(JobLock).where(JobLock.name == name)).one_or_none()
    if current is not None:
        lease_live = current.expires_at > now and not (current.host == host and not pid_alive(current.pid))
        if lease_live:
            raise LockHeld(
                f"{name}: another run holds the lock (host {current.host}, pid {current.pid}, "
                f"since {current.acquired_at:%Y-%m-%d %H:%M:%S} UTC); nothing done"
            )
        connection.execute(delete(JobLock).where(JobLock.name == name))
    connection.execute(
        insert(JobLock).values(
            name=name, holder=holder, host=host, pid=pid, acquired_at=now, expires_at=now + LEASE_TTL
        )
    )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
