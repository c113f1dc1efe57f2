"""The run wrapper every data-changing command goes through: lock, ``job_runs`` row, counts, exit code.

>>> result = run_job("import", engine=engine, clock=clock, work=lambda: WorkResult(counts={"stored": 3}))
... # doctest: +SKIP

A second run of the same command while the first holds the lock raises :class:`LockHeld` before anything
is written. Whatever the work raises is recorded on the run's row, then raised again for the CLI to report.
The database going away mid-run (a restart, a terminated connection) is raised as :class:`RemoteUnavailable`,
and recorded so, like any other remote that failed the run.

A run may be given a :class:`Deadline` (``[limits] job_minutes``): the work asks :func:`time_is_up` between
its units (a vendor file, a batch of purchase orders, a batch of parcels, a notice) and stops taking new ones
once it has passed. What was done is kept; what is left waits for the next run, and the run ends ``partial``
with one line saying so. Each unit already under way finishes, so the deadline bounds when a run stops
starting work, and each request's own timeout bounds the rest.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, desc, select, update
from sqlalchemy.orm import Session

from orderflow.clock import Clock
from orderflow.db.engine import DATABASE_ERRORS, database_error, session_factory
from orderflow.db.locks import command_lock, holder_identity, pid_alive
from orderflow.db.models import JobOutcome, JobRun
from orderflow.errors import ExitCode, OrderflowError


@dataclass
class WorkResult:
    """What a command's work returns: counts for the audit trail and problems as data, one line each."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    detail: Any = None


@dataclass
class Deadline:
    """How long a run may go on taking new work: ``seconds`` from when it is made, read on ``monotonic``.

    >>> ticks = iter([0.0, 10.0, 70.0])
    >>> deadline = Deadline(60, monotonic=lambda: next(ticks))
    >>> deadline.passed(), deadline.passed(), deadline.reached
    (False, True, True)
    """

    seconds: float
    monotonic: Callable[[], float]
    reached: bool = field(default=False, init=False)
    """Whether the work found it passed and so left something for the next run."""

    def __post_init__(self) -> None:
        self._ends = self.monotonic() + self.seconds

    def passed(self) -> bool:
        if not self.reached and self.monotonic() >= self._ends:
            self.reached = True
        return self.reached

    def stop_line(self) -> str:
        return (f"stopped taking new work at its deadline ({_minutes(self.seconds)}, limits.job_minutes); "
                "what is left waits for the next run")


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:g} minute" + ("" if minutes == 1 else "s")


_DEADLINE: ContextVar[Deadline | None] = ContextVar("orderflow_job_deadline", default=None)


def time_is_up() -> bool:
    """Whether the running job's deadline has passed: the work stops taking new units. False outside a job, or
    for a job run without a deadline."""
    deadline = _DEADLINE.get()
    return deadline is not None and deadline.passed()


@contextmanager
def under_deadline(deadline: Deadline | None) -> Iterator[Deadline | None]:
    """Make ``deadline`` the one :func:`time_is_up` reads for work done inside the block."""
    token = _DEADLINE.set(deadline)
    try:
        yield deadline
    finally:
        _DEADLINE.reset(token)


_OUTCOME_BY_CODE = {
    ExitCode.OK: JobOutcome.OK,
    ExitCode.INPUT_REFUSED: JobOutcome.REFUSED,
    ExitCode.PARTIAL_FAILURE: JobOutcome.PARTIAL,
}


def run_job(command: str, *, engine: Engine, clock: Clock, work: Callable[[], WorkResult],
            exclusive: bool = True, deadline_seconds: float | None = None) -> WorkResult:
    """Run ``work`` under the lock for ``command`` and record the run. Raises ``LockHeld`` if busy.

    ``exclusive=False`` is for work that claims its items one by one (dispatch): several runs may share it.
    ``deadline_seconds``: how long, on ``clock.monotonic``, the work may go on taking new units (see the module
    docstring); none, no limit.
    """
    deadline = None if deadline_seconds is None else Deadline(deadline_seconds, clock.monotonic)
    try:
        with under_deadline(deadline):
            return _run_locked(command, engine=engine, clock=clock, work=work, exclusive=exclusive,
                               deadline=deadline)
    except DATABASE_ERRORS as exc:  # also from taking or giving back the lock, outside the work itself
        _raise_explained(exc)
        raise


YOUNG_OBJECTS = 50_000
"""How many more objects a run may hold than it held at the last collection of the young ones before the next
(Python's own pace is 700)."""


@contextmanager
def long_lived_objects_set_aside() -> Iterator[None]:
    """The objects that exist before a run's work starts (modules, table definitions, settings) are left out
    of the cycle collector's walks while it runs. None of them is garbage, yet every full collection walked
    them all again: a big import makes millions of short-lived objects, so many such walks, and even a
    dispatch of 200 files paid one (50 ms of CPU). They are handed back after the run, unless something
    around it (``sync``, running each step as a run) set them aside first.

    The young generation is collected less often meanwhile (:data:`YOUNG_OBJECTS`): a batch's objects live
    until the batch is done, so at Python's pace most of them were walked again in the older generations before
    they were freed (a tenth of a big import's CPU time)."""
    # Counted here, not asked of the collector: gc.get_freeze_count walks every object set aside, tens of
    # milliseconds for each of sync's steps.
    set_aside_already = bool(_RUNS_SETTING_ASIDE)
    thresholds = gc.get_threshold()
    gc.freeze()
    if not set_aside_already:
        gc.set_threshold(max(thresholds[0], YOUNG_OBJECTS), *thresholds[1:])
    _RUNS_SETTING_ASIDE.append(None)
    try:
        yield
    finally:
        _RUNS_SETTING_ASIDE.pop()
        if not set_aside_already:
            gc.unfreeze()
            gc.set_threshold(*thresholds)


_RUNS_SETTING_ASIDE: list[None] = []
"""One entry per run under way in this process that has set the long-lived objects aside; the outermost hands
them back."""


def _run_locked(command: str, *, engine: Engine, clock: Clock, work: Callable[[], WorkResult],
                exclusive: bool, deadline: Deadline | None) -> WorkResult:
    with command_lock(engine, command) if exclusive else nullcontext(), long_lived_objects_set_aside():
        run_id = _start(engine, command, clock, exclusive=exclusive)
        try:
            try:
                result = work()
            except DATABASE_ERRORS as exc:
                _raise_explained(exc)
                raise
        except OrderflowError as exc:
            _finish(engine, run_id, clock, JobOutcome.FAILED, exc.exit_code, counts={}, error=str(exc))
            raise
        except BaseException as exc:
            error = f"internal error: {exc!r}"
            _finish(engine, run_id, clock, JobOutcome.FAILED, ExitCode.INTERNAL, counts={}, error=error)
            raise
        if deadline is not None and deadline.reached:
            result.problems.insert(0, deadline.stop_line())  # first: the stored error keeps only the first 50
            if result.exit_code in (ExitCode.OK, ExitCode.INPUT_REFUSED):
                result.exit_code = ExitCode.PARTIAL_FAILURE
        outcome = _OUTCOME_BY_CODE.get(result.exit_code, JobOutcome.FAILED)
        problems = "\n".join(result.problems[:50]) or None
        _finish(engine, run_id, clock, outcome, result.exit_code, counts=result.counts, error=problems)
        return result


def _raise_explained(exc: Exception) -> None:
    """Raise a database failure as an operator reads it (not set up, or unavailable); return if it is neither."""
    explained = database_error(exc)
    if explained is not None:
        raise explained from exc


def _start(engine: Engine, command: str, clock: Clock, *, exclusive: bool) -> int:
    host, pid = holder_identity()
    with session_factory(engine)() as session, session.begin():
        _close_abandoned(session, command, clock, exclusive=exclusive)
        run = JobRun(command=command, host=host, pid=pid, started_at=clock.now(), outcome=JobOutcome.RUNNING)
        session.add(run)
        session.flush()
        return run.id


def _close_abandoned(session: Session, command: str, clock: Clock, *, exclusive: bool) -> None:
    """Earlier runs of ``command`` left ``running`` by a process that is gone become ``abandoned``.

    Holding the command's lock proves every other run of it is over; a command that shares its work (dispatch)
    can only tell for runs on this host, by their process.
    """
    host, _ = holder_identity()
    for run in session.scalars(select(JobRun).where(JobRun.command == command,
                                                    JobRun.outcome == JobOutcome.RUNNING)):
        if exclusive or (run.host == host and not pid_alive(run.pid)):
            run.outcome, run.finished_at = JobOutcome.ABANDONED, clock.now()
            run.error = (f"the run (host {run.host}, pid {run.pid}) ended without recording how: killed, or "
                         "its host lost; found by the next run")


def _finish(engine: Engine, run_id: int, clock: Clock, outcome: JobOutcome, code: ExitCode, *,
            counts: dict[str, int], error: str | None) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(finished_at=clock.now(), outcome=outcome, exit_code=int(code), counts=counts, error=error)
        )


def recent_runs(engine: Engine, *, limit: int = 20, command: str | None = None) -> list[JobRun]:
    """The latest runs, newest first."""
    query = select(JobRun).order_by(desc(JobRun.started_at), desc(JobRun.id)).limit(limit)
    if command:
        query = query.where(JobRun.command == command)
    with session_factory(engine)() as session:
        return list(session.scalars(query))
