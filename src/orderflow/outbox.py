"""The outbox: whatever goes to a person or a system is decided in one transaction and delivered afterwards.

Planning writes rows in the same transaction as the decision (:func:`add_once` skips a ``dedupe_key`` that is
already there, so two planners at once never plan one message twice). Delivery takes rows with :func:`claim`
under a lease, sends each, and records how it went with :func:`settle`::

    for row in claim(engine, kinds=("push_email",)):
        mailer.send(...)
        settle(engine, row.id, "sent", sent_at=now)

States: ``pending`` (due, or waiting until ``claimed_until``), ``sending`` (being handed over: used by kinds
that must never go twice, see :func:`start_sending`), ``sent``, ``refused``/``failed`` (kept with the
reason, not tried again), ``unknown`` (a run died while sending: it may have arrived, so it is never sent
again; see :func:`expire_sending`).

Leases run on the machine's real clock (they are about live processes); everything else on business time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from orderflow.db.bulk import table_of
from orderflow.db.engine import session_factory
from orderflow.db.models import OutboxMessage

LEASE = timedelta(minutes=5)


def add_once(session: Session, row: Mapping[str, Any]) -> bool:
    """Insert one outbox row unless its ``dedupe_key`` is already there; whether it was inserted.

    On PostgreSQL a concurrent planner's uncommitted row with the same key makes this wait for that
    transaction, then skip: the key is decided once, whoever commits first.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(table_of(OutboxMessage)).values(**row).on_conflict_do_nothing(index_elements=["dedupe_key"])
                 .returning(OutboxMessage.id))
    return session.execute(statement).first() is not None


def claim(engine: Engine, *, kinds: Sequence[str], limit: int = 200, after_id: int = 0) -> list[OutboxMessage]:
    """Pending rows of ``kinds`` whose time has come (ids above ``after_id``), taken under a lease.

    Another run skips them until the lease ends; each claim counts as an attempt. The rows come back
    detached, in id order.
    """
    real_now = datetime.now(UTC)
    with session_factory(engine)() as session, session.begin():
        rows = list(session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind.in_(kinds), OutboxMessage.state == "pending",
                                        OutboxMessage.id > after_id,
                                        or_(OutboxMessage.claimed_until.is_(None),
                                            OutboxMessage.claimed_until <= real_now))
            .order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)))
        for row in rows:
            row.claimed_until, row.attempts = real_now + LEASE, row.attempts + 1
        session.flush()  # before the rows leave the session, or their changes leave with them
        session.expunge_all()
    return rows


def start_sending(engine: Engine, row: OutboxMessage) -> bool:
    """Mark a claimed row ``sending`` just before it is handed over; ``False`` if the claim was lost meanwhile.

    Committed before the first byte goes out, so a run that dies mid-send leaves evidence that the message
    may have arrived, and nobody sends it again.
    """
    with engine.begin() as connection:
        result = connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.state == "pending",
                   OutboxMessage.claimed_until == row.claimed_until)
            .values(state="sending", claimed_until=datetime.now(UTC) + LEASE))
    return bool(result.rowcount)


def settle(engine: Engine, row_id: int, state: str, *, error: str | None = None, sent_at: datetime | None = None,
           not_before: datetime | None = None, then: Callable[[Session, OutboxMessage], None] | None = None) -> None:
    """Record how sending went; ``not_before`` holds a ``pending`` row back, ``then`` runs in the same transaction."""
    with session_factory(engine)() as session, session.begin():
        row = session.get(OutboxMessage, row_id)
        if row is not None:
            row.state, row.last_error, row.sent_at = state, error, sent_at
            row.claimed_until = not_before
            if then is not None:
                then(session, row)


def release(engine: Engine, rows: Iterable[OutboxMessage]) -> None:
    """Hand back claimed rows that were not tried after all: free at once, and no attempt counted."""
    with engine.begin() as connection:
        for row in rows:
            connection.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.state == "pending",
                       OutboxMessage.claimed_until == row.claimed_until)
                .values(claimed_until=None, attempts=OutboxMessage.attempts - 1))


def expire_sending(engine: Engine, *, kinds: Sequence[str], error: str) -> list[OutboxMessage]:
    """Rows left ``sending`` by a run that died (their lease is over) become ``unknown``, with ``error``."""
    real_now = datetime.now(UTC)
    with session_factory(engine)() as session, session.begin():
        rows = list(session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind.in_(kinds), OutboxMessage.state == "sending",
                                        OutboxMessage.claimed_until < real_now)
            .order_by(OutboxMessage.id).with_for_update(skip_locked=True)))
        for row in rows:
            row.state, row.last_error, row.claimed_until = "unknown", error, None
        session.flush()  # before the rows leave the session, or their changes leave with them
        session.expunge_all()
    return rows


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long a failed row waits: the remote's ``Retry-After`` if it gave one, else 1 minute doubling to 64."""
    return timedelta(seconds=retry_after if retry_after is not None else 60 * 2 ** min(attempts, 6))
