"""``orderflow sync``: the whole pipeline once, each step its own job, a failing step never stopping the rest."""

from __future__ import annotations

import re
import shlex
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner, Result

from orderflow.carriers.status import PackageStatus
from orderflow.catalog import CatalogRow
from orderflow.cli.main import app
from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.locks import command_lock
from orderflow.db.models import JobRun, Notification, Shipment
from orderflow.errors import ExitCode, LockHeld, RemoteRejected, RemoteUnavailable
from orderflow.jobs import WorkResult
from orderflow.rules.job_rules import SYNC_STEPS
from orderflow.rules.run import run_rules
from orderflow.sync import SEVERITY, STEPS, Step, run_sync, worst
from orderflow.testing.carriers import FakeCarrier, Scan
from orderflow.testing.http_server import Answer, LocalHttpServer
from tests.support.pipeline_world import shopify_export
from tests.support.sample_shop import stock_catalog
from tests.support.shop_with_vendors import vendor_block, vendor_orders, write_settings
from tests.support.sync import NOW, closed_port

UPS_NUMBER = "1Z5R89390357567127"
CRONTAB = Path(__file__).resolve().parents[1] / "crontab.example"
runner = CliRunner()
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
Configure = Callable[..., list[str]]  # (health URL, *vendor blocks, timeout=) -> command-line options


@pytest.fixture
def down_vendor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The [[vendors]] block of DOWN, whose SFTP server is down (nothing listens on its port)."""
    monkeypatch.setenv("TEST_SFTP_PASSWORD", "pw")
    (tmp_path / "known_hosts").write_text("")
    return vendor_block("DOWN", "csv", "sftp", host="127.0.0.1", port=closed_port(), username="teebox",
                        password_env="TEST_SFTP_PASSWORD", known_hosts="known_hosts")


def sync(*args: str, env: Mapping[str, str] | None = None) -> Result:
    return runner.invoke(app, [*args, "sync"], env=env)


def cli_options(tmp_path: Path, database_url: str) -> list[str]:
    return ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now", NOW.isoformat()]


def job_rows(engine: Engine) -> list[tuple[str, str, int | None]]:
    with session_factory(engine)() as session:
        return [(run.command, run.outcome, run.exit_code)
                for run in session.scalars(select(JobRun).order_by(JobRun.id))]


@pytest.fixture
def ups(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCarrier]:
    monkeypatch.setenv("TEST_CARRIER_ID", "id")
    monkeypatch.setenv("TEST_CARRIER_SECRET", "secret")
    with FakeCarrier("ups", now=lambda: NOW) as fake:
        fake.add_parcel(UPS_NUMBER, [Scan(NOW - timedelta(hours=3), PackageStatus.IN_TRANSIT, "Picked up",
                                          "Chicago IL US")])
        yield fake


class TestSyncEndToEnd:
    def shop(self, tmp_path: Path, engine: Engine, ups: FakeCarrier, down_vendor: str) -> Settings:
        """ACME is served from a local folder; DOWN's SFTP server is down; orders wait in the inbox."""
        source = '[sources.shop]\nkind = "inbox"\nformat = "shopify_csv"\npath = "inbox"\nsettle_seconds = 0\n'
        carrier = (f'[carriers.ups]\nbase_url = "{ups.url}"\nclient_id_env = "TEST_CARRIER_ID"\n'
                   'client_secret_env = "TEST_CARRIER_SECRET"\n')
        settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0),
                                  down_vendor, source, carrier)
        stock_catalog(engine, settings, NOW, [CatalogRow(f"SKU-{code}", code, f"{code}-1")
                                              for code in ("ACME", "DOWN")])
        (tmp_path / "inbox").mkdir()
        (tmp_path / "inbox" / "orders.csv").write_text(shopify_export({"7001": ["SKU-ACME", "SKU-DOWN"]}))
        # ACME's answer is already waiting: the parcel for TB7001-ACME, with a UPS tracking number.
        (tmp_path / "acme" / "from_vendor").mkdir(parents=True)
        (tmp_path / "acme" / "from_vendor" / "tracking.csv").write_text(
            "po_number,line_number,vendor_sku,quantity_shipped,carrier,service,tracking_number,ship_date\n"
            f"TB7001-ACME,1,ACME-1,2,UPS,Ground,{UPS_NUMBER},2026-11-03\n")
        return settings

    def test_a_vendor_whose_sftp_is_down_fails_its_own_steps_only(
            self, engine: Engine, database_url: str, tmp_path: Path, ups: FakeCarrier, down_vendor: str) -> None:
        """Import, dispatch, fetch and track all do their work for ACME; DOWN's two steps say so; exit code 6."""
        self.shop(tmp_path, engine, ups, down_vendor)
        result = sync(*cli_options(tmp_path, database_url))
        assert result.exit_code == ExitCode.PARTIAL_FAILURE, result.stderr
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert [line.split(": ")[:3] for line in lines] == [
            ["orderflow", "dispatch", "vendor DOWN"], ["orderflow", "fetch", "vendor DOWN"]]
        assert lines[0].endswith("cannot connect: Connection refused")
        assert sorted(job_rows(engine)) == sorted([
            ("import", "ok", 0), ("dispatch", "partial", 6), ("fetch", "partial", 6), ("track", "ok", 0),
            ("customers notify", "ok", 0), ("rules run", "ok", 0), ("sync", "partial", 6)])
        assert [path.name for path in (tmp_path / "acme" / "to_vendor").iterdir()] == ["TB7001-ACME.csv"]
        assert (tmp_path / "acme" / "archive" / "tracking.csv").exists()
        parts = vendor_orders(engine)
        assert (parts["TB7001-ACME"].state, parts["TB7001-DOWN"].state) == ("shipped", "pending")
        with session_factory(engine)() as session:
            [parcel] = session.scalars(select(Shipment))
        assert (parcel.tracking_number, parcel.status) == (UPS_NUMBER, "in_transit")
        assert ups.track_requests == 1


class TestSteps:
    def test_the_steps_are_the_commands_the_job_rules_know(self) -> None:
        """The pipeline runs in the documented order under the command names job_missing treats as sync steps."""
        names = [step.name for step in STEPS]
        assert names == ["import", "dispatch", "fetch", "track", "customers notify", "rules run"]
        assert set(names) == SYNC_STEPS
        assert [step.name for step in STEPS if not step.exclusive] == ["dispatch", "customers notify"]

    def test_every_exit_code_has_a_place_in_the_order(self) -> None:
        """A new exit code must be ranked, or the worst of a sync could not be told."""
        assert sorted(SEVERITY) == sorted(ExitCode)

    @pytest.mark.parametrize(("codes", "expected"), [
        ([], ExitCode.OK),
        ([ExitCode.OK, ExitCode.LOCK_HELD], ExitCode.LOCK_HELD),
        ([ExitCode.PARTIAL_FAILURE, ExitCode.INPUT_REFUSED, ExitCode.OK], ExitCode.PARTIAL_FAILURE),
        ([ExitCode.PARTIAL_FAILURE, ExitCode.REMOTE_UNAVAILABLE], ExitCode.REMOTE_UNAVAILABLE),
        ([ExitCode.CONFIG, ExitCode.REMOTE_UNAVAILABLE], ExitCode.CONFIG),
        ([ExitCode.REMOTE_REJECTED, ExitCode.REMOTE_UNAVAILABLE], ExitCode.REMOTE_REJECTED),
        ([ExitCode.PARTIAL_FAILURE, ExitCode.REMOTE_REJECTED], ExitCode.REMOTE_REJECTED),
        ([ExitCode.CONFIG, ExitCode.REMOTE_REJECTED], ExitCode.CONFIG),
        ([ExitCode.CONFIG, ExitCode.INTERNAL], ExitCode.INTERNAL),
    ])
    def test_worst_code_order(self, codes: list[ExitCode], expected: ExitCode) -> None:
        """Refused input < partial failure < remote unavailable < remote rejected < configuration < internal."""
        assert worst(codes) is expected


def failing(error: Exception) -> Step:
    def work(**_: object) -> WorkResult:
        raise error

    return Step("dispatch", work)


def counting(name: str) -> Step:
    return Step(name, lambda **_: WorkResult(counts={"files": 1}))


@sqlite_only
class TestRunSync:
    def test_nothing_configured_is_a_quiet_success(self, engine: Engine, tmp_path: Path) -> None:
        """With no vendor, source or carrier every real step has nothing to do and succeeds."""
        report = run_sync(engine=engine, settings=write_settings(tmp_path), clock=Clock(NOW))
        assert [(step.name, step.status, step.problems) for step in report.steps] == [
            (step.name, "ok", []) for step in STEPS]
        assert report.exit_code is ExitCode.OK
        assert job_rows(engine) == [("sync", "ok", 0)] + [(step.name, "ok", 0) for step in STEPS]

    def test_a_step_that_raises_is_recorded_and_the_next_step_runs(self, engine: Engine, tmp_path: Path) -> None:
        """The step's row says failed with its code; the next step still runs; sync's own row is partial."""
        steps = [failing(RemoteUnavailable("vendor API down")), counting("fetch")]
        report = run_sync(engine=engine, settings=write_settings(tmp_path), clock=Clock(NOW), steps=steps)
        assert [(step.name, step.status, step.problems) for step in report.steps] == [
            ("dispatch", "failed", ["vendor API down"]), ("fetch", "ok", [])]
        assert report.exit_code is ExitCode.REMOTE_UNAVAILABLE
        assert job_rows(engine) == [("sync", "partial", 6), ("dispatch", "failed", 5), ("fetch", "ok", 0)]

    def test_a_remote_that_refused_us_outranks_one_that_was_down(self, engine: Engine, tmp_path: Path) -> None:
        """Refused credentials (exit 8: fix something) beat a remote that was down (exit 5: it passes)."""
        down = Step("fetch", failing(RemoteUnavailable("vendor SFTP down")).work)
        steps = [failing(RemoteRejected("vendor API: HTTP 401")), down]
        report = run_sync(engine=engine, settings=write_settings(tmp_path), clock=Clock(NOW), steps=steps)
        assert report.exit_code is ExitCode.REMOTE_REJECTED
        assert job_rows(engine) == [("sync", "partial", 6), ("dispatch", "failed", 8), ("fetch", "failed", 5)]

    def test_an_unexpected_error_is_an_internal_error_of_that_step_only(self, engine: Engine,
                                                                         tmp_path: Path) -> None:
        """A bug in one step is one line naming the exception; the next step runs; exit code 1."""
        steps = [failing(KeyError("sku")), counting("fetch")]
        report = run_sync(engine=engine, settings=write_settings(tmp_path), clock=Clock(NOW), steps=steps)
        assert report.problems == ["dispatch: internal error: KeyError: 'sku'"]
        assert isinstance(report.steps[0].error, KeyError)
        assert (report.exit_code, report.steps[1].status) == (ExitCode.INTERNAL, "ok")

    def test_a_step_whose_lock_is_held_is_skipped_not_failed(self, engine: Engine, tmp_path: Path) -> None:
        """A step whose lock is held is skipped with the holder named; it writes no row; exit code 0."""
        with command_lock(engine, "fetch"):
            report = run_sync(engine=engine, settings=write_settings(tmp_path), clock=Clock(NOW))
        fetch = report.steps[2]
        assert (fetch.name, fetch.status, fetch.problems) == ("fetch", "skipped", [])
        assert fetch.note is not None
        assert fetch.note.startswith("another run holds the lock (host ")
        assert report.exit_code is ExitCode.OK
        assert "fetch" not in [command for command, _, _ in job_rows(engine)]

    def test_another_sync_running_means_this_one_does_nothing(self, engine: Engine, tmp_path: Path) -> None:
        """While a sync holds its lock, a second one raises LockHeld before any step or row."""
        with command_lock(engine, "sync"), pytest.raises(LockHeld, match="sync: another run holds the lock"):
            run_sync(engine=engine, settings=write_settings(tmp_path), clock=Clock(NOW))
        assert job_rows(engine) == []

    def test_job_failed_names_the_failed_step_and_not_sync(self, engine: Engine, tmp_path: Path) -> None:
        """After a sync whose dispatch step raised, job_failed opens for dispatch alone, and job_missing not at all."""
        settings = write_settings(tmp_path)
        run_sync(engine=engine, settings=settings, clock=Clock(NOW),
                 steps=[counting("import"), failing(RemoteUnavailable("vendor API down"))])
        run_rules(engine=engine, settings=settings, clock=Clock(NOW + timedelta(minutes=5)))
        with session_factory(engine)() as session:
            alerts = [(alert.rule, alert.subject_id) for alert in session.scalars(
                select(Notification).where(Notification.subject_type == "job"))]
        assert alerts == [("job_failed", "dispatch")]


class MonitorServer(LocalHttpServer):
    """A healthchecks.io-style monitor: records every ping; ``hold`` keeps answers back (a hung monitor)."""

    def __init__(self) -> None:
        super().__init__()
        self.pings: list[tuple[str, str, str]] = []
        self.hold = False
        self._lock = threading.Lock()

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        with self._lock:
            self.pings.append((method, target, body.decode()))
        if self.hold:
            self.release.wait(10)
        return 200, b"OK", {"Content-Type": "text/plain"}

    @property
    def paths(self) -> list[str]:
        with self._lock:
            return [target for _, target, _ in self.pings]


@pytest.fixture
def monitor() -> Iterator[MonitorServer]:
    with MonitorServer() as server:
        yield server


@sqlite_only
class TestHealthPings:
    @pytest.fixture
    def configure(self, tmp_path: Path, database_url: str,
                  monkeypatch: pytest.MonkeyPatch) -> Configure:
        """Writes a shop whose [sync] pings a URL; returns the command-line options to run it."""
        def shop(url: str, *blocks: str, timeout: float = 5) -> list[str]:
            monkeypatch.setenv("TEST_HEALTH_URL", url)
            write_settings(tmp_path, *blocks, f'[sync]\nhealth_url_env = "TEST_HEALTH_URL"\n'
                                              f"health_timeout_seconds = {timeout}\n")
            return cli_options(tmp_path, database_url)

        return shop

    def test_start_then_success(self, engine: Engine, configure: Configure, monitor: MonitorServer) -> None:
        """A clean run pings <url>/start, then <url>; nothing is written on stderr."""
        result = sync(*configure(f"{monitor.url}/ping/abc"))
        assert (result.exit_code, result.stderr) == (0, "")
        assert [(method, path) for method, path, _ in monitor.pings] == [("POST", "/ping/abc/start"),
                                                                        ("POST", "/ping/abc")]

    def test_start_then_fail_with_the_problems(self, engine: Engine, configure: Configure, monitor: MonitorServer,
                                               down_vendor: str) -> None:
        """A run with a failing step pings /start, then /fail with each problem line as the body."""
        result = sync(*configure(f"{monitor.url}/ping/abc/", down_vendor))
        assert result.exit_code == ExitCode.PARTIAL_FAILURE
        assert monitor.paths == ["/ping/abc/start", "/ping/abc/fail"]
        body = monitor.pings[1][2].splitlines()
        assert [line.split(": ")[:2] for line in body] == [["dispatch", "vendor DOWN"], ["fetch", "vendor DOWN"]]

    def test_an_unreachable_monitor_is_one_warning_per_ping(self, engine: Engine, configure: Configure) -> None:
        """A monitor that is down changes no exit code; each lost ping is one warning, the secret URL unsaid."""
        url = f"http://127.0.0.1:{closed_port()}/ping/s3cret-uuid"
        result = sync(*configure(url))
        assert result.exit_code == 0
        assert [line.split(" failed: ")[0] for line in result.stderr.splitlines()] == [
            "orderflow: sync: health ping (start)", "orderflow: sync: health ping (success)"]
        assert "s3cret-uuid" not in result.stderr

    def test_a_hung_monitor_costs_its_timeout_and_nothing_more(self, engine: Engine, configure: Configure,
                                                               monitor: MonitorServer) -> None:
        """A monitor that never answers is given up on after health_timeout_seconds; the run still succeeds."""
        monitor.hold = True
        result = sync(*configure(f"{monitor.url}/p", timeout=0.2))
        assert result.exit_code == 0
        assert [line.split(" failed: ")[0] for line in result.stderr.splitlines()] == [
            "orderflow: sync: health ping (start)", "orderflow: sync: health ping (success)"]
        assert monitor.paths == ["/p/start", "/p"]

    def test_no_ping_when_another_sync_is_running(self, engine: Engine, configure: Configure,
                                                  monitor: MonitorServer) -> None:
        """A sync that finds another one running exits 7 and leaves the monitor to the running one."""
        options = configure(f"{monitor.url}/p")
        with command_lock(engine, "sync"):
            result = sync(*options)
        assert result.exit_code == ExitCode.LOCK_HELD
        assert result.stderr.startswith("orderflow: sync: another run holds the lock")
        assert monitor.pings == []


def crontab_entries() -> list[tuple[str, str, str]]:
    """(kind, text, comment just above) for each environment line ("env") and job line ("job")."""
    entries, comment = [], ""
    for line in CRONTAB.read_text().splitlines():
        if line.startswith("#"):
            comment = line
        elif not line.strip():
            comment = ""
        else:
            entries.append(("env" if re.match(r"^[A-Z_]+=", line) else "job", line, comment))
            comment = ""
    return entries


class TestCrontabExample:
    def test_every_line_is_explained(self) -> None:
        """Each environment and job line has its own comment right above it."""
        entries = crontab_entries()
        assert entries
        assert [text for _, text, comment in entries if not comment] == []

    def test_environment_for_cron(self) -> None:
        """PATH, the configuration path and the log format are set, since cron's environment is bare."""
        names = [text.split("=")[0] for kind, text, _ in crontab_entries() if kind == "env"]
        assert names == ["PATH", "ORDERFLOW_CONFIG", "ORDERFLOW_LOG_FORMAT"]

    def test_every_job_is_a_real_orderflow_command_logging_to_a_file(self) -> None:
        """Each job line runs an existing orderflow command with valid options, appending to the log file."""
        schedules = {}
        for kind, text, _ in crontab_entries():
            if kind != "job":
                continue
            fields = text.split(maxsplit=5)
            command = shlex.split(fields[5])
            assert command[0] == "orderflow"
            assert command[-3:] == [">>", "/var/log/orderflow.log", "2>&1"], text
            args = command[1:-3]
            help_text = runner.invoke(app, [*args, "--help"], prog_name="orderflow")
            assert help_text.exit_code == 0, (text, help_text.output)
            words = " ".join(arg for arg in args if not arg.startswith("-"))
            assert help_text.output.lstrip().startswith(f"Usage: orderflow {words} "), help_text.output
            schedules[" ".join(args)] = " ".join(fields[:5])
        assert schedules == {"sync": "*/10 * * * *", "rules run": "0 8 * * *", "report daily --email": "0 7 * * *"}
