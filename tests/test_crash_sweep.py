"""The crash-point sweep: orderflow killed at each named point, then run again, loses and doubles nothing.

Each point in :data:`orderflow.crashpoints.POINTS` is reached by a real ``orderflow`` process with
``ORDERFLOW_CRASH_AT`` set, which dies there by SIGKILL (return code -9: a point that moved away fails the
test). A clean re-run follows, the vendors answering in between, and the whole shop is checked with
:meth:`tests.support.pipeline_world.PipelineWorld.verify`.
"""

from __future__ import annotations

import os
import re
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from orderflow.crashpoints import POINTS
from orderflow.db.engine import session_factory
from orderflow.db.locks import command_lock
from orderflow.db.migrate import head
from orderflow.db.models import JobRun, VendorOrder
from tests.support.pipeline_world import START, PipelineWorld
from tests.support.shop_with_vendors import write_settings

SYNC_POINTS = sorted(set(POINTS) - {"migrate.mid_step"})
AFTER_THE_VENDORS_ANSWER = {"fetch.after_ingest_commit", "customers.after_send"}
"""Points a sync reaches only once vendors have answered: a first clean sync and the vendors' answers come first."""
KILLED = -9


class TestSyncCrashPoints:
    def test_every_point_is_swept(self) -> None:
        """POINTS names exactly the crash points compiled into the code (called, or named by an outbox traffic), so
        the sweep below covers all of them."""
        root = Path(__file__).parent.parent
        compiled = {match for path in [*(root / "src").rglob("*.py"), *(root / "migrations").rglob("*.py")]
                    for match in re.findall(r'crash_point(?:\(|=)"([a-z_.]+)"', path.read_text(encoding="utf-8"))}
        assert compiled == set(POINTS)
        assert set(SYNC_POINTS) >= AFTER_THE_VENDORS_ANSWER

    @pytest.mark.parametrize("point", SYNC_POINTS)
    def test_killed_at_the_point_then_run_again(self, world: PipelineWorld, point: str) -> None:
        """The sync dies at the point; a clean run after it leaves every order, purchase order, file, email and
        push exactly once, nothing stuck and no lock held."""
        world.add_orders(6)
        if point in AFTER_THE_VENDORS_ANSWER:
            world.sync()
            world.vendor_side()
        crashed = world.run("sync", crash_at=point)
        assert crashed.returncode == KILLED, f"{point} was not reached: {crashed.stderr}"
        assert world.verify(settled=False) == []
        world.sync()
        assert world.verify() == []


class TestMigrationCrash:
    def test_killed_mid_step_then_upgraded(self, database_url: str, tmp_path: Path) -> None:
        """A ``db upgrade`` killed with a step applied but not committed leaves a database the next upgrade
        brings to the latest revision."""
        write_settings(tmp_path)
        command = [sys.executable, "-m", "orderflow", "--config", str(tmp_path / "orderflow.toml"),
                   "--db", database_url, "db"]

        def db(*args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
            env = {**os.environ, **({"ORDERFLOW_CRASH_AT": crash_at} if crash_at else {})}
            return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=120,
                                  check=False)

        crashed = db("upgrade", crash_at="migrate.mid_step")
        assert crashed.returncode == KILLED, crashed.stderr
        upgraded = db("upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        current = db("current")
        assert current.returncode == 0, current.stderr
        assert str(head()) in current.stdout


class TestVerifier:
    def test_it_sees_what_it_is_there_to_see(self, world: PipelineWorld) -> None:
        """After a clean run the verifier is silent; a second email, a changed purchase order, a stuck vendor
        order, a run left open by a live process and a held lock each give their own line."""
        world.add_orders(6)
        world.settle()
        assert world.verify() == []
        first = next(message for message in world.smtp.messages if "shipment" in str(message["Message-ID"]))
        with smtplib.SMTP(world.smtp.host, world.smtp.port) as client:
            client.send_message(first)
        acme = world.vendors["ACME"]
        (acme.sub("to_vendor") / "TB7001-ACME.csv").write_text("po_number\nTB7001-ACME\n")
        world.vendor_side()
        with session_factory(world.engine)() as session, session.begin():
            session.execute(update(VendorOrder).where(VendorOrder.id == "TB7002-STITCH").values(state="sending"))
            session.add(JobRun(command="fetch", host="here", pid=os.getpid(), started_at=START, outcome="running"))
        with command_lock(world.engine, "fetch"):
            problems = world.verify()
        shipment = int(str(first["Message-ID"]).split(".")[2].partition("@")[0])
        lock = "advisory lock for 'fetch' is still held" if world.engine.dialect.name == "postgresql" \
            else "job_locks: 'fetch' is still held"
        assert sorted(problems) == sorted([
            f"email for parcel {shipment} was handed over 2 times and is sent",
            "ACME received a second, different TB7001-ACME.csv",
            "vendor order TB7002-STITCH is still sending after a clean run",
            "STITCH holds ['TB7002-STITCH.csv', 'TB7004-STITCH.csv', 'TB7006-STITCH.csv'], "
            "not ['TB7004-STITCH.csv', 'TB7006-STITCH.csv']",
            f"job_runs: 'fetch' of pid {os.getpid()} is left running, but that process was not killed",
            lock,
        ])
