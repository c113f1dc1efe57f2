"""``orderflow sync``: the whole pipeline once, each step as its own job, one failing step never stopping the rest.

>>> report = run_sync(engine=engine, settings=settings, clock=clock)  # doctest: +SKIP
>>> report.exit_code, [(step.name, step.status) for step in report.steps]  # doctest: +SKIP
(<ExitCode.PARTIAL_FAILURE: 6>, [('import', 'ok'), ('dispatch', 'partial'), ('fetch', 'partial'), ...])

Every step runs under :func:`orderflow.jobs.run_job` with its own lock and its own ``job_runs`` row, exactly
as if cron had run it alone, so ``orderflow jobs`` and the job rules see one history whichever way a shop
schedules its work. A step whose lock another host holds is *skipped*: that host is doing the work. A step
that raises is recorded (on its row, and here) and the next step runs all the same.

The exit code is the worst step's, in the order of :data:`SEVERITY`. The sync's own row is capped at
"partial": the sync itself ran to its end, and each failing step's own row says it failed, so
``job_failed`` names that step once and a completed sync stays the heartbeat ``job_missing`` expects.

With ``[sync] health_url_env`` set, the monitor at that URL hears ``/start`` once this run holds the sync
lock, then ``<url>`` when the exit code is 0 or ``/fail`` (with the problem lines) otherwise. A sync that
finds another sync running pings nothing: the running one reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from sqlalchemy import Engine

from orderflow.clock import Clock
from orderflow.config import Settings, secret
from orderflow.errors import ExitCode, LockHeld, OrderflowError
from orderflow.health import Signal, ping
from orderflow.jobs import WorkResult, run_job
from orderflow.schedule import (
    DISPATCH,
    FETCH,
    IMPORT,
    NOTIFY_CUSTOMERS,
    RULES_RUN,
    SYNC_COMMAND,
    TRACK,
)

SEVERITY: tuple[ExitCode, ...] = (
    ExitCode.OK,
    ExitCode.LOCK_HELD,  # a step another host is running is being done: no problem at all
    ExitCode.INPUT_REFUSED,  # some rows or files refused; everything else stored
    ExitCode.PARTIAL_FAILURE,  # one vendor, carrier or source failing; the others served
    ExitCode.REMOTE_UNAVAILABLE,  # a whole step could not reach what it needs
    ExitCode.REMOTE_REJECTED,  # a remote refused us: no later run succeeds until someone fixes a credential
    ExitCode.USAGE,
    ExitCode.CONFIG,  # a step cannot run at all until someone edits the configuration
    ExitCode.INTERNAL,  # a bug
)
"""Exit codes from least to most severe: the worst step's code is the sync's."""

StepStatus = Literal["ok", "refused", "partial", "failed", "skipped"]
_STATUS_BY_CODE: dict[ExitCode, StepStatus] = {
    ExitCode.OK: "ok", ExitCode.INPUT_REFUSED: "refused", ExitCode.PARTIAL_FAILURE: "partial",
}


class StepWork(Protocol):
    def __call__(self, *, engine: Engine, settings: Settings, clock: Clock) -> WorkResult: ...


@dataclass(frozen=True)
class Step:
    """One job of the pipeline: its command name (the lock and ``job_runs`` name) and its work."""

    name: str
    work: StepWork
    exclusive: bool = True


@dataclass
class StepReport:
    """How one step went. ``note`` says why a step was skipped; ``error`` is what a failed step raised."""

    name: str
    status: StepStatus
    exit_code: ExitCode
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    note: str | None = None
    error: BaseException | None = None


@dataclass
class SyncReport:
    steps: list[StepReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Health pings that did not get through: shown, never counted against the run."""

    @property
    def exit_code(self) -> ExitCode:
        return worst(step.exit_code for step in self.steps)

    @property
    def problems(self) -> list[str]:
        """Every step's problems, one line each, prefixed with the step."""
        return [f"{step.name}: {problem}" for step in self.steps for problem in step.problems]


def worst(codes: Iterable[ExitCode]) -> ExitCode:
    """The most severe of ``codes`` by :data:`SEVERITY`; ``OK`` when there are none."""
    return max(codes, key=SEVERITY.index, default=ExitCode.OK)


def _import(*, engine: Engine, settings: Settings, clock: Clock) -> WorkResult:
    from orderflow.storefronts.importing import import_orders

    return import_orders(engine=engine, settings=settings, now=clock.now(), paths=[])


def _dispatch(*, engine: Engine, settings: Settings, clock: Clock) -> WorkResult:
    from orderflow.vendors.dispatch import dispatch

    return dispatch(engine=engine, settings=settings, clock=clock)


def _fetch(*, engine: Engine, settings: Settings, clock: Clock) -> WorkResult:
    from orderflow.vendors.fetch import fetch

    return fetch(engine=engine, settings=settings, clock=clock)


def _track(*, engine: Engine, settings: Settings, clock: Clock) -> WorkResult:
    from orderflow.carriers.poller import track

    return track(engine=engine, settings=settings, clock=clock)


def _notify_customers(*, engine: Engine, settings: Settings, clock: Clock) -> WorkResult:
    from orderflow.customers.notify import notify_customers

    return notify_customers(engine=engine, settings=settings, clock=clock)


def _run_rules(*, engine: Engine, settings: Settings, clock: Clock) -> WorkResult:
    from orderflow.rules.run import run_rules

    return run_rules(engine=engine, settings=settings, clock=clock)


STEPS: tuple[Step, ...] = (
    Step(IMPORT, _import),
    Step(DISPATCH, _dispatch, exclusive=False),  # claims each vendor order: several hosts share the work
    Step(FETCH, _fetch),
    Step(TRACK, _track),
    Step(NOTIFY_CUSTOMERS, _notify_customers, exclusive=False),  # claims each notice, like dispatch
    Step(RULES_RUN, _run_rules),  # last, so it judges what the steps before it just did
)
"""The pipeline in order, named by :data:`orderflow.schedule.SYNC_STEP_NAMES` (``job_missing`` watches each)."""


def run_sync(*, engine: Engine, settings: Settings, clock: Clock, steps: Sequence[Step] = STEPS,
             on_step: Callable[[StepReport], None] | None = None) -> SyncReport:
    """Run every step as its own job inside the ``sync`` job; ``on_step`` hears each step as it ends.

    Raises :class:`LockHeld` when another sync is running (nothing done, nothing pinged).
    """
    report = SyncReport()
    health_url = (secret(settings.sync.health_url_env, setting="sync.health_url_env") if settings.sync.health_url_env
                  else None)

    def tell_monitor(signal: Signal, body: str = "") -> None:
        if health_url:
            warning = ping(health_url, signal, body=body, timeout=settings.sync.health_timeout_seconds)
            if warning:
                report.warnings.append(warning)

    def work() -> WorkResult:
        tell_monitor("start")
        for step in steps:
            outcome = run_step(step, engine=engine, settings=settings, clock=clock)
            report.steps.append(outcome)
            if on_step is not None:
                on_step(outcome)
        statuses: Counter[str] = Counter(step.status for step in report.steps)
        # Capped at "partial": each failed step's own row carries its failure (see the module docstring).
        recorded = min(report.exit_code, ExitCode.PARTIAL_FAILURE, key=SEVERITY.index)
        return WorkResult(counts=dict(statuses), problems=report.problems, exit_code=recorded, detail=report)

    try:
        run_job(SYNC_COMMAND, engine=engine, clock=clock, work=work)
    except LockHeld:
        raise
    except Exception as exc:
        tell_monitor("fail", f"{SYNC_COMMAND}: {exc}")
        raise
    if report.exit_code is ExitCode.OK:
        tell_monitor("success")
    else:
        tell_monitor("fail", "\n".join(report.problems))
    return report


def run_step(step: Step, *, engine: Engine, settings: Settings, clock: Clock) -> StepReport:
    """Run one step as its job; whatever it raises becomes its report instead of stopping the caller.

    Each step has its own deadline (``[limits] job_minutes``), so a step with a backlog never keeps the steps
    after it, ``rules run`` above all, from running.
    """
    try:
        result = run_job(step.name, engine=engine, clock=clock, exclusive=step.exclusive,
                         deadline_seconds=settings.limits.job_seconds,
                         work=lambda: step.work(engine=engine, settings=settings, clock=clock))
    except LockHeld as exc:
        return StepReport(step.name, "skipped", ExitCode.OK, note=str(exc).removeprefix(f"{step.name}: "))
    except OrderflowError as exc:
        return StepReport(step.name, "failed", exc.exit_code, problems=[str(exc)], error=exc)
    except Exception as exc:  # a bug in one step must not keep the others from running
        lines = str(exc).strip().splitlines()
        reason = f"internal error: {type(exc).__name__}" + (f": {lines[0]}" if lines else "")
        return StepReport(step.name, "failed", ExitCode.INTERNAL, problems=[reason], error=exc)
    return StepReport(step.name, _STATUS_BY_CODE.get(result.exit_code, "failed"), result.exit_code,
                      counts=result.counts, problems=list(result.problems))
