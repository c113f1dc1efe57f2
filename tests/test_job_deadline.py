"""A run's deadline: after ``[limits] job_minutes`` a job starts no new unit of work, keeps what it did, says so
and exits 6; the next run goes on from there. Time is the test's own ticks, never waited for."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from sqlalchemy import Engine, select

from orderflow.clock import Clock
from orderflow.config import Settings, VendorSettings
from orderflow.db.engine import session_factory
from orderflow.db.models import InventoryLevel, JobRun
from orderflow.errors import ExitCode
from orderflow.jobs import WorkResult, run_job, time_is_up
from orderflow.sync import Step, run_sync
from orderflow.vendors.channels import file_transport
from orderflow.vendors.fetch import FetchIO, fetch
from orderflow.vendors.transports.base import FileTransport
from tests.support.sample_shop import SAMPLE_CATALOG, stock_catalog
from tests.support.shop_with_vendors import vendor_block, write_settings

NOW = datetime(2026, 11, 9, 15, 0, tzinfo=UTC)
OLD = datetime(2026, 11, 1, 12, 0, tzinfo=UTC).timestamp()  # vendor files written well before we look


class Ticks:
    """A monotonic clock the test moves: each slow piece of work adds its minutes."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, minutes: float) -> None:
        self.seconds += minutes * 60


def slow_units(ticks: Ticks, done: list[int], *, units: int, minutes_each: float,
               exit_code: ExitCode = ExitCode.OK) -> WorkResult:
    """Work of ``units`` units taking ``minutes_each``, asking the deadline before each as the jobs do."""
    for unit in range(units):
        if time_is_up():
            break
        ticks.advance(minutes_each)
        done.append(unit)
    return WorkResult(counts={"done": len(done)}, exit_code=exit_code)


def last_run(engine: Engine, command: str) -> JobRun:
    with session_factory(engine)() as session:
        run = session.scalars(select(JobRun).where(JobRun.command == command).order_by(JobRun.id.desc())).first()
        assert run is not None
        return run


class TestRunJob:
    def test_work_stops_at_the_deadline_and_the_run_says_so(self, engine: Engine) -> None:
        """Units of 10 minutes under a 25-minute deadline: three are done (the third starts at 20), the run is
        partial, exits 6, and its first problem line says why and where the limit is set."""
        ticks, done = Ticks(), []
        result = run_job("fetch", engine=engine, clock=Clock(fixed=NOW, monotonic=ticks), deadline_seconds=25 * 60,
                         work=lambda: slow_units(ticks, done, units=5, minutes_each=10))
        assert done == [0, 1, 2]
        assert result.exit_code is ExitCode.PARTIAL_FAILURE
        assert result.problems[0] == ("stopped taking new work at its deadline (25 minutes, limits.job_minutes); "
                                      "what is left waits for the next run")
        run = last_run(engine, "fetch")
        assert (run.outcome, run.exit_code, run.counts) == ("partial", 6, {"done": 3})
        assert (run.error or "").startswith("stopped taking new work at its deadline")

    def test_work_done_inside_the_deadline_is_untouched(self, engine: Engine) -> None:
        ticks, done = Ticks(), []
        result = run_job("fetch", engine=engine, clock=Clock(fixed=NOW, monotonic=ticks), deadline_seconds=60 * 60,
                         work=lambda: slow_units(ticks, done, units=5, minutes_each=10))
        assert (done, result.exit_code, result.problems) == ([0, 1, 2, 3, 4], ExitCode.OK, [])
        assert last_run(engine, "fetch").outcome == "ok"

    @pytest.mark.parametrize(("given", "expected"), [(ExitCode.INPUT_REFUSED, ExitCode.PARTIAL_FAILURE),
                                                     (ExitCode.CONFIG, ExitCode.CONFIG)])
    def test_a_run_cut_short_is_partial_unless_it_is_worse(self, engine: Engine, given: ExitCode,
                                                           expected: ExitCode) -> None:
        """Refused rows (exit 4) and a deadline: partial (6), since work was left. A config failure (3) is worse
        than either and stays."""
        ticks, done = Ticks(), []
        result = run_job("import", engine=engine, clock=Clock(fixed=NOW, monotonic=ticks), deadline_seconds=60,
                         work=lambda: slow_units(ticks, done, units=3, minutes_each=5, exit_code=given))
        assert (done, result.exit_code) == ([0], expected)

    def test_without_a_deadline_time_is_never_up(self, engine: Engine) -> None:
        ticks, done = Ticks(), []
        run_job("fetch", engine=engine, clock=Clock(fixed=NOW, monotonic=ticks),
                work=lambda: slow_units(ticks, done, units=4, minutes_each=600))
        assert done == [0, 1, 2, 3]
        assert not time_is_up()  # outside any job


class TestSync:
    def test_each_step_has_its_own_deadline(self, engine: Engine, tmp_path: Path) -> None:
        """A step with a backlog stops at its deadline; the steps after it still run, each with the whole limit."""
        settings = write_settings(tmp_path, "[limits]\njob_minutes = 30\n")
        ticks, slow, quick = Ticks(), [], []
        steps = (Step("fetch", lambda **_: slow_units(ticks, slow, units=10, minutes_each=20)),
                 Step("rules run", lambda **_: slow_units(ticks, quick, units=3, minutes_each=5)))
        report = run_sync(engine=engine, settings=settings, clock=Clock(fixed=NOW, monotonic=ticks), steps=steps)
        assert (len(slow), len(quick)) == (2, 3)
        assert [(step.name, step.status) for step in report.steps] == [("fetch", "partial"), ("rules run", "ok")]
        assert report.exit_code is ExitCode.PARTIAL_FAILURE
        assert report.problems == ["fetch: stopped taking new work at its deadline (30 minutes, limits.job_minutes); "
                                   "what is left waits for the next run"]


class SlowReads:
    """A vendor's folder whose every download takes ``minutes`` (a slow server), on the test's ticks."""

    def __init__(self, real: FileTransport, ticks: Ticks, minutes: float) -> None:
        self.real, self.ticks, self.minutes = real, ticks, minutes

    def read(self, name: str) -> bytes:
        self.ticks.advance(self.minutes)
        return self.real.read(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> SlowReads:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.real.__exit__(kind, error, trace)  # type: ignore[attr-defined]


def inventory_file(folder: Path, name: str, quantity: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("sku,quantity_available,updated_at\n"
                    f"ACM-G500-BLK-L,{quantity},2026-11-0{quantity}T06:00:00Z\n", encoding="utf-8")
    os.utime(path, (OLD, OLD))


class TestFetch:
    def test_a_slow_vendor_is_fetched_over_two_runs_and_nothing_is_lost(self, engine: Engine,
                                                                         tmp_path: Path) -> None:
        """Three stock files, each taking 20 minutes to download, under a 30-minute deadline: the first run takes
        two and leaves the third where it is (exit 6, saying so); the next run takes it."""
        settings: Settings = write_settings(
            tmp_path, vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0),
            "[limits]\njob_minutes = 30\n")
        stock_catalog(engine, settings, NOW, [row for row in SAMPLE_CATALOG if row.vendor == "ACME"])
        inbound = tmp_path / "acme" / "from_vendor"
        for number in (1, 2, 3):
            inventory_file(inbound, f"stock_{number}.csv", number)

        def run() -> WorkResult:
            ticks = Ticks()

            def slow(vendor: VendorSettings, settings: Settings) -> FileTransport:
                return SlowReads(file_transport(vendor, settings), ticks, minutes=20)  # type: ignore[return-value]

            return run_job("fetch", engine=engine, clock=Clock(fixed=NOW, monotonic=ticks),
                           deadline_seconds=settings.limits.job_seconds,
                           work=lambda: fetch(engine=engine, settings=settings, clock=Clock(fixed=NOW),
                                              io=FetchIO(file_transport=slow)))

        first = run()
        assert (first.exit_code, first.counts["files"]) == (ExitCode.PARTIAL_FAILURE, 2)
        assert "deadline (30 minutes" in first.problems[0]
        assert sorted(path.name for path in inbound.iterdir() if path.is_file()) == ["stock_3.csv"]
        second = run()
        assert (second.exit_code, second.counts["files"], second.problems) == (ExitCode.OK, 1, [])
        with session_factory(engine)() as session:
            assert session.scalars(select(InventoryLevel.quantity)).all() == [3]
