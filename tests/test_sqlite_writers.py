"""SQLite with several writers: cron's long fetch never makes an import or a staff command fail as "locked".

SQLite only: it is the database where one writer holds every other writer off (PostgreSQL locks rows).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from orderflow.db.engine import make_engine, reader, session_factory
from orderflow.db.models import JobRun, Notification
from tests.support.sample_shop import SAMPLES, stock_catalog
from tests.support.servers import create_schema
from tests.support.shop_with_vendors import vendor_block, write_settings

NOW = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
STOCK_ROWS = 100_000


def orderflow(config: Path, url: str, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "orderflow", "--config", str(config), "--db", url, "--now", NOW.isoformat(),
               *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={key: value for key, value in os.environ.items() if key != "ORDERFLOW_CRASH_AT"})


class TestWritersQueue:
    def test_an_import_and_an_ack_beside_a_long_fetch_both_succeed(self, tmp_path: Path) -> None:
        """A 100,000-row stock file is being fetched while an import and an ack start: all three exit 0, each
        with its job row, and the stock is all there."""
        url = f"sqlite:///{tmp_path / 'orderflow.db'}"
        settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0),
                                  vendor_block("PF", "csv", "local", path="pf"),
                                  vendor_block("STITCH", "csv", "local", path="stitch"))
        engine = make_engine(url)
        create_schema(engine)
        stock_catalog(engine, settings, NOW)
        with session_factory(engine)() as session, session.begin():
            session.add(Notification(fingerprint="fp-1", rule="vendor_late", severity="warning",
                                     subject_type="vendor_order", subject_id="TB1042-ACME", state="open",
                                     opened_at=NOW, last_seen_at=NOW))
        inbox = tmp_path / "acme" / "from_vendor"
        inbox.mkdir(parents=True)
        stock = inbox / "stock.csv"
        stock.write_text("Item Code,Qty\n" + "".join(f"ACM-{row:07d},{row % 40}\n" for row in range(STOCK_ROWS)),
                         encoding="utf-8")
        os.utime(stock, (0, 0))
        config = tmp_path / "orderflow.toml"
        fetch = orderflow(config, url, "fetch")
        while True:  # the fetch has begun once its job row is there
            with session_factory(reader(engine))() as session:  # a reader never waits on the fetch
                if session.scalar(select(JobRun.id).where(JobRun.command == "fetch")) is not None:
                    break
            assert fetch.poll() is None, fetch.communicate()
            time.sleep(0.05)
        others = [orderflow(config, url, "import", str(SAMPLES / "shopify_orders_export.csv")),
                  orderflow(config, url, "notifications", "ack", "1", "--note", "on it")]
        for process in others:
            _, stderr = process.communicate(timeout=120)
            assert process.returncode == 0, stderr
        assert fetch.poll() is None or fetch.returncode == 0  # the others did not simply run after it
        _, stderr = fetch.communicate(timeout=120)
        assert fetch.returncode == 0, stderr
        with session_factory(engine)() as session:
            runs = {run.command: run.outcome for run in session.scalars(select(JobRun))}
            acked = session.get_one(Notification, 1).state
        engine.dispose()
        assert (runs["fetch"], runs["import"], acked) == ("ok", "ok", "acknowledged")
