"""The outbox: whatever goes to a person or a system is decided in one transaction and delivered afterwards.

Planning writes rows in the same transaction as the decision (:func:`add_once` skips a ``dedupe_key`` that is
already there, so two planners at once never plan one message twice). Delivery is one loop for every kind of
traffic (pushes, customer notices, the daily report), :func:`deliver`: it claims rows under a lease, builds each
message, marks the row ``sending``, hands the message over and records how it went. What differs between the
kinds is a :class:`Traffic`: which errors mean "try later" and how long to wait, what a message that cannot be
built becomes, where a crash may be provoked::

    PUSHES = Traffic(kinds=("push_email",), what="push", where=lambda row: f"push #{row.id}", judge=judged)
    delivery = deliver(engine, PUSHES, now=now, ready=("push_email",), prepare=lambda row: lambda: send(row))

States: ``pending`` (due, or waiting until ``claimed_until``), ``sending`` (being handed over: used by kinds
that must never go twice, see :func:`start_sending`), ``sent``, ``refused``/``failed`` (kept with the
reason, not tried again), ``unknown`` (a run died while sending: it may have arrived, so it is never sent
again; see :func:`expire_sending`).

Leases run on the machine's real clock (they are about live processes); everything else on business time.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from orderflow.crashpoints import crash_point
from orderflow.db.bulk import table_of
from orderflow.db.engine import session_factory
from orderflow.db.models import OutboxMessage
from orderflow.errors import ConfigError, RemoteError
from orderflow.jobs import time_is_up

LEASE = timedelta(minutes=5)
BATCH = 100


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


def claim(engine: Engine, *, kinds: Sequence[str], limit: int = 200, after_id: int = 0,
          keys: Sequence[str] | None = None) -> list[OutboxMessage]:
    """Pending rows of ``kinds`` whose time has come (ids above ``after_id``; only ``keys``, when given), taken
    under a lease.

    Another run skips them until the lease ends; each claim counts as an attempt. The rows come back
    detached, in id order.
    """
    real_now = datetime.now(UTC)
    only_keys = () if keys is None else (OutboxMessage.dedupe_key.in_(keys),)
    with session_factory(engine)() as session, session.begin():
        rows = list(session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind.in_(kinds), OutboxMessage.state == "pending",
                                        OutboxMessage.id > after_id, *only_keys,
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


# --- delivery ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """What a send that failed leaves on its row: ``state`` (``pending`` to try again, ``failed`` or ``refused``
    to keep with the reason, ``sent`` when part of it went) and, for ``pending``, how long it waits first."""

    state: str
    wait: timedelta | None = None


@dataclass(frozen=True)
class Traffic:
    """One kind of outbox traffic: everything :func:`deliver` needs to know about it that does not change by run.

    ``kinds`` are all the row kinds it owns (a dead run's rows of each are found, configured or not); ``what``
    names one message in an error ("the push cannot be written"); ``where`` names a row in a problem line;
    ``judge`` turns a remote's error into a :class:`Verdict`; ``unwritable`` is the state of a row whose
    message cannot be built; ``dead`` the reason kept on a row a dead run left ``sending``; ``crash_point`` where
    a test may kill the run once a message is handed over; ``on_sent`` runs in the transaction that records a
    row sent; ``pause_after`` failures in a row of one kind (or one naming a wait) stop trying that kind for the
    rest of the run; ``until_deadline`` stops taking new batches once the run's deadline has passed
    (:func:`orderflow.jobs.time_is_up`), leaving the rest for the next run.
    """

    kinds: tuple[str, ...]
    what: str
    where: Callable[[OutboxMessage], str]
    judge: Callable[[OutboxMessage, RemoteError], Verdict]
    unwritable: str = "failed"
    dead: str = "the run sending it died before recording it; it may have arrived, so it is not sent again"
    crash_point: str | None = None
    on_sent: Callable[[Session, OutboxMessage, datetime], None] | None = None
    pause_after: int | None = None
    until_deadline: bool = False


@dataclass(frozen=True)
class Outcome:
    """How one row came out of a delivery: its new ``state`` (``unknown`` for one a dead run left ``sending``),
    the reason kept with it, until when a ``pending`` one waits, and the remote's error that decided it."""

    row: OutboxMessage
    state: str
    error: str | None = None
    not_before: datetime | None = None
    cause: RemoteError | None = None


@dataclass
class Delivery:
    """What one delivery did: how many rows came out in each state, a problem line for each that did not simply
    go, and every outcome in order."""

    sent: int = 0
    waiting: int = 0
    failed: int = 0
    refused: int = 0
    unknown: int = 0
    problems: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def record(self, outcome: Outcome, where: str) -> None:
        self.outcomes.append(outcome)
        if outcome.state == "sent":
            self.sent += 1
        elif outcome.state == "pending":
            self.waiting += 1
            self.problems.append(f"{where}: {outcome.error}; will retry")
        elif outcome.state == "refused":
            self.refused += 1
            self.problems.append(f"{where} refused: {outcome.error}")
        else:
            self.failed += outcome.state == "failed"
            self.unknown += outcome.state == "unknown"
            self.problems.append(f"{where}: {outcome.error}")


def deliver(engine: Engine, traffic: Traffic, *, now: datetime, ready: Sequence[str],
            prepare: Callable[[OutboxMessage], Callable[[], None]], keys: Sequence[str] | None = None) -> Delivery:
    """Send every due row of the ``ready`` kinds (only ``keys``, when given): each is claimed, built, marked
    ``sending`` and handed over, so two runs at once never send one twice and a run that dies meanwhile never
    leaves one to be sent again.

    ``prepare`` builds a row's message and returns what hands it over. Each row is its own unit: one whose
    message cannot be built is kept ``traffic.unwritable`` with the reason and the rows behind it go on; a
    :class:`~orderflow.errors.ConfigError` stops the run (every row would fail the same way), leaving the rows
    not sent as they were. Rows claimed but not tried are handed back.
    """
    delivery = Delivery()
    for row in expire_sending(engine, kinds=traffic.kinds, error=traffic.dead):
        delivery.record(Outcome(row, "unknown", traffic.dead), traffic.where(row))
    failures_in_a_row: Counter[str] = Counter()
    paused: set[str] = set()
    after = 0
    while not (traffic.until_deadline and time_is_up()) and (batch := claim(
            engine, kinds=[kind for kind in ready if kind not in paused], limit=BATCH, after_id=after, keys=keys)):
        after = batch[-1].id
        queue, held = deque(batch), []
        try:
            while queue:
                if queue[0].kind in paused:
                    held.append(queue.popleft())
                    continue
                outcome = _delivered(engine, traffic, queue[0], prepare, now)
                row = queue.popleft()
                if outcome is None:
                    continue  # our lease ran out and another run has it now
                delivery.record(outcome, traffic.where(row))
                failed = outcome.state == "pending"
                failures_in_a_row[row.kind] = failures_in_a_row[row.kind] + 1 if failed else 0
                if failed and traffic.pause_after is not None and (
                        outcome.not_before is not None or failures_in_a_row[row.kind] >= traffic.pause_after):
                    paused.add(row.kind)
        finally:
            release(engine, [*held, *queue])
    return delivery


def _delivered(engine: Engine, traffic: Traffic, row: OutboxMessage,
               prepare: Callable[[OutboxMessage], Callable[[], None]], now: datetime) -> Outcome | None:
    """Build one row's message, hand it over and record how it went; ``None`` when another run has it now."""
    try:
        send = prepare(row)
    except ConfigError:
        raise  # the row is handed back untried with the others
    except Exception as exc:  # whatever one row's data breaks must not stop the rows behind it
        error = f"the {traffic.what} cannot be written: {type(exc).__name__}: {exc}"
        settle(engine, row.id, traffic.unwritable, error=error)
        return Outcome(row, traffic.unwritable, error)
    if not start_sending(engine, row):
        return None
    try:
        send()
        if traffic.crash_point is not None:
            crash_point(traffic.crash_point)
    except RemoteError as exc:
        verdict = traffic.judge(row, exc)
        not_before = datetime.now(UTC) + verdict.wait if verdict.wait is not None else None
        settle(engine, row.id, verdict.state, error=str(exc), not_before=not_before,
               sent_at=now if verdict.state == "sent" else None, then=_then(traffic, verdict.state, now))
        return Outcome(row, verdict.state, str(exc), not_before, exc)
    except ConfigError as exc:  # found before anything went out: the row waits for the configuration
        settle(engine, row.id, "pending", error=str(exc))
        raise
    settle(engine, row.id, "sent", sent_at=now, then=_then(traffic, "sent", now))
    return Outcome(row, "sent")


def _then(traffic: Traffic, state: str, now: datetime) -> Callable[[Session, OutboxMessage], None] | None:
    on_sent = traffic.on_sent
    if state != "sent" or on_sent is None:
        return None
    return lambda session, row: on_sent(session, row, now)
