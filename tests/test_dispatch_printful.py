"""Dispatch to Printful's v1 API (a local server that speaks it): created once, whatever goes wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.errors import ExitCode
from orderflow.testing.printful import FakePrintful
from orderflow.vendors.dispatch import dispatch
from tests.support.shop_with_vendors import place_orders, vendor_block, vendor_orders, write_settings

TOKEN = "pf-test-token"


@pytest.fixture
def printful(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePrintful]:
    monkeypatch.setenv("TEST_PRINTFUL_TOKEN", TOKEN)
    with FakePrintful(token=TOKEN, hang_seconds=5.0) as fake:
        yield fake


def printful_settings(folder: Path, fake: FakePrintful, *extra: str) -> Settings:
    return write_settings(folder, vendor_block("PF", "printful", "http", kind="on_demand", base_url=fake.url,
                                               token_env="TEST_PRINTFUL_TOKEN", timeout_seconds=0.5), *extra)


def run_cli(settings_dir: Path, database_url: str, *args: str,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orderflow", "--config", str(settings_dir / "orderflow.toml"), "--db", database_url,
         *args], capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "TEST_PRINTFUL_TOKEN": TOKEN, **(env or {})})


class TestPrintfulDispatch:
    def test_created_and_confirmed(self, engine: Engine, clock: Clock, tmp_path: Path,
                                   printful: FakePrintful) -> None:
        """A vendor order is created at Printful with our id and confirmed: accepted, Printful's id kept."""
        settings = printful_settings(tmp_path, printful)
        place_orders(engine, settings, clock.now(), tmp_path, orders={"7001": ["SKU-PF"]})
        result = dispatch(engine=engine, settings=settings, clock=clock)
        assert result.counts["accepted"] == 1
        assert printful.creates == ["TB7001-PF"]
        vo = vendor_orders(engine)["TB7001-PF"]
        assert vo.state == "accepted"
        assert vo.vendor_reference is not None

    def test_a_400_with_a_reason_is_a_rejection(self, engine: Engine, clock: Clock, tmp_path: Path,
                                                printful: FakePrintful) -> None:
        """Printful refusing the order is stored as a rejection with its reason, on the order and its lines."""
        printful.reject_when = lambda body: "Recipient address is invalid" if body["external_id"] == "TB7002-PF" \
            else None
        settings = printful_settings(tmp_path, printful)
        place_orders(engine, settings, clock.now(), tmp_path, orders={"7002": ["SKU-PF"]})
        result = dispatch(engine=engine, settings=settings, clock=clock)
        assert result.counts["rejected"] == 1
        assert result.problems == ["TB7002-PF: rejected by PF: Recipient address is invalid"]
        vo = vendor_orders(engine)["TB7002-PF"]
        assert (vo.state, vo.rejection_reason) == ("rejected", "Recipient address is invalid")

    def test_wrong_token_is_not_the_orders_fault(self, engine: Engine, clock: Clock, tmp_path: Path,
                                                 printful: FakePrintful, monkeypatch: pytest.MonkeyPatch) -> None:
        """A 401 leaves the order pending with the error, and the token never appears in messages."""
        monkeypatch.setenv("TEST_PRINTFUL_TOKEN", "wrong-token-value")
        settings = printful_settings(tmp_path, printful)
        place_orders(engine, settings, clock.now(), tmp_path, orders={"7003": ["SKU-PF"]})
        result = dispatch(engine=engine, settings=settings, clock=clock)
        assert result.exit_code is ExitCode.PARTIAL_FAILURE
        vo = vendor_orders(engine)["TB7003-PF"]
        assert vo.state == "pending"
        assert vo.last_error is not None
        assert "not authorised" in vo.last_error
        assert "wrong-token-value" not in " ".join(result.problems) + vo.last_error

    def test_429_and_500_are_retried(self, engine: Engine, clock: Clock, tmp_path: Path,
                                     printful: FakePrintful) -> None:
        """A 429 with Retry-After and a 500 are retried within the run; the order is created once."""
        printful.rate_limit_next(1, retry_after=0)
        printful.fail_next(1, status=500)
        settings = printful_settings(tmp_path, printful)
        place_orders(engine, settings, clock.now(), tmp_path, orders={"7004": ["SKU-PF"]})
        assert dispatch(engine=engine, settings=settings, clock=clock).counts["accepted"] == 1
        assert printful.creates == ["TB7004-PF"]

    def test_timeout_after_create_is_looked_up_not_resent(self, engine: Engine, clock: Clock, tmp_path: Path,
                                                          printful: FakePrintful) -> None:
        """Printful created the order but the answer never came: the lookup finds it; no second create."""
        printful.hang_after_create_next(1)
        settings = printful_settings(tmp_path, printful)
        place_orders(engine, settings, clock.now(), tmp_path, orders={"7005": ["SKU-PF"]})
        result = dispatch(engine=engine, settings=settings, clock=clock)
        printful.release.set()
        assert result.counts["accepted"] == 1
        assert printful.creates == ["TB7005-PF"]
        assert ("GET", "/orders/@TB7005-PF") in printful.requests

    def test_unknown_outcome_that_cannot_be_checked_needs_reconcile(self, engine: Engine, clock: Clock,
                                                                    tmp_path: Path, printful: FakePrintful) -> None:
        """If the order may exist and Printful cannot be asked, it waits in needs_reconcile: never a blind resend."""
        printful.hang_after_create_next(1)
        printful.fail_lookups_next(2)  # the two retries after the unknown create both look, and both fail
        settings = printful_settings(tmp_path, printful)
        place_orders(engine, settings, clock.now(), tmp_path, orders={"7006": ["SKU-PF"]})
        result = dispatch(engine=engine, settings=settings, clock=clock)
        printful.release.set()
        assert result.counts["needs_reconcile"] == 1
        assert vendor_orders(engine)["TB7006-PF"].state == "needs_reconcile"
        assert printful.creates == ["TB7006-PF"]

        later = dispatch(engine=engine, settings=settings, clock=Clock(clock.now() + timedelta(minutes=10)))
        assert later.counts["accepted"] == 1, "a later run reconciles it by looking it up"
        assert printful.creates == ["TB7006-PF"]


class TestCrashAndConcurrency:
    def test_killed_between_send_and_commit(self, engine: Engine, database_url: str, clock: Clock,
                                            tmp_path: Path, printful: FakePrintful) -> None:
        """SIGKILL after Printful created the order but before we recorded it: the next run finds it; one create."""
        settings = printful_settings(tmp_path, printful, vendor_block("ACME", "csv", "local", path="acme"))
        place_orders(engine, settings, clock.now(), tmp_path, orders={"7101": ["SKU-PF", "SKU-ACME"]})
        crashed = run_cli(tmp_path, database_url, "dispatch", env={"ORDERFLOW_CRASH_AT": "dispatch.after_send"})
        assert crashed.returncode == -9
        states = {vo_id: vo.state for vo_id, vo in vendor_orders(engine).items()}
        assert "sending" in states.values()
        again = run_cli(tmp_path, database_url, "dispatch")
        assert again.returncode == 0, again.stderr
        assert {vo_id: vo.state for vo_id, vo in vendor_orders(engine).items()} == {
            "TB7101-PF": "accepted", "TB7101-ACME": "sent"}
        assert printful.creates == ["TB7101-PF"]
        assert [p.name for p in (tmp_path / "acme" / "to_vendor").iterdir()] == ["TB7101-ACME.csv"]

    @pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
    def test_several_dispatchers_share_the_work(self, engine: Engine, database_url: str, clock: Clock,
                                                tmp_path: Path, printful: FakePrintful) -> None:
        """400 vendor orders, several dispatch processes at once (4 on PostgreSQL, 2 on SQLite): 400 creates."""
        settings = printful_settings(tmp_path, printful)
        place_orders(engine, settings, clock.now(), tmp_path,
                     orders={str(8000 + n): ["SKU-PF"] for n in range(400)})
        processes = 4 if database_url.startswith("postgresql") else 2
        command = [sys.executable, "-m", "orderflow", "--config", str(tmp_path / "orderflow.toml"),
                   "--db", database_url, "dispatch"]
        env = {**os.environ, "TEST_PRINTFUL_TOKEN": TOKEN}
        running = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(processes)]
        outputs = [process.communicate(timeout=300) for process in running]
        assert [process.returncode for process in running] == [0] * processes, outputs
        assert len(printful.creates) == 400
        assert len(set(printful.creates)) == 400
        assert {vo.state for vo in vendor_orders(engine).values()} == {"accepted"}
