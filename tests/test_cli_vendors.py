"""dispatch, vendors, fetch and track through the real entry point, as cron and staff run them."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from orderflow.clock import Clock
from orderflow.errors import ExitCode
from tests.support.cli import orderflow
from tests.support.sample_shop import SAMPLES
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings

NOW = "2026-11-03T15:00:00Z"


def shop(tmp_path: Path, engine: Engine, database_url: str) -> list[str]:
    settings = write_settings(tmp_path, vendor_block("ACME", "x12", "local", path="acme", settle_seconds=0),
                              vendor_block("STITCH", "csv", "local", path="stitch"))
    place_orders(engine, settings, Clock(datetime(2026, 11, 2, tzinfo=UTC)).now(), tmp_path,
                 orders={"5101": ["SKU-ACME", "SKU-STITCH"], "5102": ["SKU-ACME"]})
    return ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now", NOW]


class TestDispatchCommand:
    def test_dry_run_sends_nothing(self, engine: Engine, database_url: str, tmp_path: Path) -> None:
        """--dry-run lists what would go, by vendor and file name, and changes nothing."""
        options = shop(tmp_path, engine, database_url)
        result = orderflow(*options, "dispatch", "--dry-run")
        assert result.returncode == 0
        for expected in ("TB5101-ACME.edi", "TB5102-ACME.edi", "TB5101-STITCH.csv"):
            assert expected in result.stdout
        assert not (tmp_path / "acme" / "to_vendor").exists() or not any((tmp_path / "acme" / "to_vendor").iterdir())

    def test_dispatch_then_vendors_json(self, engine: Engine, database_url: str, tmp_path: Path) -> None:
        """dispatch is quiet under cron; vendors --format json then counts each vendor's orders by state."""
        options = shop(tmp_path, engine, database_url)
        sent = orderflow(*options, "dispatch")
        assert (sent.returncode, sent.stdout, sent.stderr) == (0, "", "")
        overview = json.loads(orderflow(*options, "vendors", "--format", "json").stdout)
        assert [(v["code"], v["vendor_orders"]["sent"], v["breaker"]) for v in overview] == [
            ("ACME", 2, "closed"), ("STITCH", 1, "closed")]


class TestFetchAndTrackCommands:
    def test_fetch_refused_file_exit_4(self, engine: Engine, database_url: str, tmp_path: Path) -> None:
        """A vendor file that is not readable is one line on stderr, moved to rejected/, exit code 4."""
        options = shop(tmp_path, engine, database_url)
        inbox = tmp_path / "acme" / "from_vendor"
        inbox.mkdir(parents=True)
        cut = (SAMPLES / "x12_856_ship_notice.edi").read_bytes()[:300]
        (inbox / "asn.edi").write_bytes(cut)
        os.utime(inbox / "asn.edi", (0, 0))
        result = orderflow(*options, "fetch")
        assert result.returncode == ExitCode.INPUT_REFUSED
        assert result.stderr.startswith("orderflow: fetch: ACME:asn.edi")
        assert (tmp_path / "acme" / "rejected" / "asn.edi").exists()

    def test_track_without_carriers_is_quiet(self, engine: Engine, database_url: str, tmp_path: Path) -> None:
        """With no carrier configured there is nothing to poll: exit 0, nothing printed."""
        options = shop(tmp_path, engine, database_url)
        result = orderflow(*options, "track")
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

    def test_track_unknown_carrier_is_a_config_error(self, engine: Engine, database_url: str,
                                                     tmp_path: Path) -> None:
        """--carrier must name a configured carrier."""
        options = shop(tmp_path, engine, database_url)
        result = orderflow(*options, "track", "--carrier", "ups")
        assert result.returncode == ExitCode.CONFIG
        assert "carrier 'ups' is not configured" in result.stderr
