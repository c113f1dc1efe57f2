"""The job runner: one run per command at a time, every run recorded, a crashed run never blocks the next."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from orderflow.clock import Clock
from orderflow.db.engine import make_engine
from orderflow.db.locks import holder_identity
from orderflow.db.models import JobLock, JobOutcome, JobRun
from orderflow.errors import ExitCode, InputError, LockHeld
from orderflow.jobs import YOUNG_OBJECTS, WorkResult, recent_runs, run_job

SPAWN = multiprocessing.get_context("spawn")
WAIT = 60  # seconds; a bound on how long a broken test may hang, never a pause


def hold_lock(url: str, started: Any, release: Any) -> None:
    """Child process: run a job whose work waits until the parent says so."""
    engine = make_engine(url)

    def work() -> WorkResult:
        started.set()
        release.wait(WAIT)
        return WorkResult(counts={"held": 1})

    run_job("import", engine=engine, clock=Clock(), work=work)


def start_holder(url: str) -> tuple[Any, Any]:
    started, release = SPAWN.Event(), SPAWN.Event()
    holder = SPAWN.Process(target=hold_lock, args=(url, started, release))
    holder.start()
    assert started.wait(WAIT), "the holder process never started its work"
    return holder, release


def runs(engine: Engine) -> list[JobRun]:
    return recent_runs(engine, limit=100)


class TestRunJob:
    def test_a_run_is_recorded_with_its_counts(self, engine: Engine, clock: Clock) -> None:
        """A successful run leaves one row: command, host, pid, times, outcome ok, counts."""
        result = run_job("import", engine=engine, clock=clock, work=lambda: WorkResult(counts={"stored": 3}))
        assert result.exit_code is ExitCode.OK
        [run] = runs(engine)
        assert (run.command, run.outcome, run.exit_code, run.counts) == ("import", "ok", 0, {"stored": 3})
        assert run.pid == os.getpid()
        assert run.started_at == run.finished_at == clock.now()

    def test_refused_rows_give_a_refused_outcome(self, engine: Engine, clock: Clock) -> None:
        """Work that refused some input is recorded as refused, with its problems."""
        run_job("import", engine=engine, clock=clock, work=lambda: WorkResult(
            counts={"stored": 2, "refused": 1}, problems=["a.csv:7: qty: not a number"],
            exit_code=ExitCode.INPUT_REFUSED))
        [run] = runs(engine)
        assert (run.outcome, run.exit_code, run.error) == ("refused", 4, "a.csv:7: qty: not a number")

    def test_a_failure_is_recorded_then_raised(self, engine: Engine, clock: Clock) -> None:
        """An error in the work is written to the run's row and raised for the CLI to report."""
        def work() -> WorkResult:
            raise InputError("not a Shopify export", file="x.csv")

        with pytest.raises(InputError):
            run_job("import", engine=engine, clock=clock, work=work)
        [run] = runs(engine)
        assert (run.outcome, run.exit_code, run.error) == (JobOutcome.FAILED, 4, "x.csv: not a Shopify export")

    def test_the_lock_is_released_after_a_failure(self, engine: Engine, clock: Clock) -> None:
        """A failed run does not leave its command locked."""
        def work() -> WorkResult:
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            run_job("import", engine=engine, clock=clock, work=work)
        run_job("import", engine=engine, clock=clock, work=WorkResult)
        assert [run.outcome for run in runs(engine)] == ["ok", "failed"]


class TestLongLivedObjects:
    def test_the_objects_before_a_run_are_set_aside_during_it_and_handed_back_after(self, engine: Engine,
                                                                                   clock: Clock) -> None:
        """The collector skips what existed before the work (a big import no longer walks it again and again),
        and nothing stays beyond its reach once the run is over, nested runs (sync's steps) included."""
        assert gc.get_freeze_count() == 0
        seen: list[int] = []

        def step() -> WorkResult:
            seen.append(gc.get_freeze_count())
            return WorkResult(counts={})

        def work() -> WorkResult:
            seen.append(gc.get_freeze_count())
            run_job("import", engine=engine, clock=clock, work=step)
            seen.append(gc.get_freeze_count())
            return WorkResult(counts={})

        run_job("sync", engine=engine, clock=clock, work=work)
        assert seen[0] > 0, seen
        assert min(seen[1:]) >= seen[0], seen  # the inner run kept them aside, and did not hand them back
        assert gc.get_freeze_count() == 0

    def test_the_young_objects_are_collected_less_often_during_a_run(self, engine: Engine, clock: Clock) -> None:
        """A run's batches are not walked again and again by the collector; Python's own pace is back after it."""
        before = gc.get_threshold()
        seen: list[int] = []

        def work() -> WorkResult:
            seen.append(gc.get_threshold()[0])
            return WorkResult(counts={})

        run_job("import", engine=engine, clock=clock, work=work)
        assert seen == [max(before[0], YOUNG_OBJECTS)]
        assert gc.get_threshold() == before

    def test_they_are_handed_back_after_a_failed_run_too(self, engine: Engine, clock: Clock) -> None:
        def work() -> WorkResult:
            raise InputError("bad")

        with pytest.raises(InputError):
            run_job("import", engine=engine, clock=clock, work=work)
        assert gc.get_freeze_count() == 0


class TestCommandLock:
    def test_second_run_exits_at_once_and_records_nothing(self, engine: Engine, database_url: str,
                                                          clock: Clock) -> None:
        """While one process runs a command, another run of it raises LockHeld and writes no row."""
        holder, release = start_holder(database_url)
        try:
            did_work = []
            with pytest.raises(LockHeld, match="import: another run holds the lock"):
                run_job("import", engine=engine, clock=clock, work=lambda: did_work.append(1) or WorkResult())
            assert did_work == []
            assert [run.outcome for run in runs(engine)] == ["running"]
            other = run_job("fetch", engine=engine, clock=clock, work=WorkResult)
            assert other.exit_code is ExitCode.OK, "another command's lock is independent"
        finally:
            release.set()
            holder.join(WAIT)
        assert holder.exitcode == 0
        assert sorted(run.command + ":" + run.outcome for run in runs(engine)) == ["fetch:ok", "import:ok"]

    def test_a_killed_holder_does_not_block_the_next_run(self, engine: Engine, database_url: str,
                                                         clock: Clock) -> None:
        """kill -9 of the run holding the lock frees it: the next run goes ahead and closes the dead run's row
        as abandoned, saying so."""
        holder, _release = start_holder(database_url)
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(WAIT)
        deadline = time.monotonic() + WAIT
        while True:  # PostgreSQL frees a dead client's advisory lock once its server process sees the socket close
            try:
                result = run_job("import", engine=engine, clock=clock, work=lambda: WorkResult(counts={"after": 1}))
                break
            except LockHeld:
                assert time.monotonic() < deadline, "the killed holder's lock was never freed"
        assert result.counts == {"after": 1}
        ok, abandoned = sorted(runs(engine), key=lambda run: run.outcome, reverse=True)
        assert (ok.outcome, abandoned.outcome, abandoned.finished_at) == ("ok", "abandoned", clock.now())
        assert abandoned.error == (f"the run (host {abandoned.host}, pid {holder.pid}) ended without recording "
                                   "how: killed, or its host lost; found by the next run")

    def test_a_dead_dispatch_on_this_host_is_abandoned_a_live_one_is_not(self, engine: Engine,
                                                                         clock: Clock) -> None:
        """Dispatch shares its work, so only a run whose process is gone from this host is closed."""
        gone = SPAWN.Process(target=os.getpid)
        gone.start()
        gone.join(WAIT)
        with engine.begin() as connection:
            for pid in (gone.pid, os.getpid()):
                connection.execute(insert(JobRun).values(command="dispatch", host=holder_identity()[0], pid=pid,
                                                         started_at=clock.now(), outcome="running", counts={}))
        run_job("dispatch", engine=engine, clock=clock, work=WorkResult, exclusive=False)
        assert sorted((run.pid == gone.pid, run.outcome) for run in runs(engine)) == [
            (False, "ok"), (False, "running"), (True, "abandoned")]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
class TestSqliteLease:
    def lease(self, engine: Engine, *, host: str, pid: int, expires_in: timedelta) -> None:
        now = datetime.now(UTC)
        with engine.begin() as connection:
            connection.execute(insert(JobLock).values(
                name="import", holder=f"{host}:{pid}", host=host, pid=pid, acquired_at=now,
                expires_at=now + expires_in))

    def test_a_live_lease_from_another_host_is_respected(self, engine: Engine, clock: Clock) -> None:
        """A lease held on another machine is honoured until it expires."""
        self.lease(engine, host="other-host", pid=1, expires_in=timedelta(minutes=5))
        with pytest.raises(LockHeld, match="host other-host, pid 1"):
            run_job("import", engine=engine, clock=clock, work=WorkResult)

    def test_an_expired_lease_is_taken_over(self, engine: Engine, clock: Clock) -> None:
        """A lease past its expiry belongs to nobody."""
        self.lease(engine, host="other-host", pid=1, expires_in=timedelta(minutes=-1))
        assert run_job("import", engine=engine, clock=clock, work=WorkResult).exit_code is ExitCode.OK
        with engine.connect() as connection:
            assert connection.execute(select(JobLock)).all() == []
