"""rules run end to end: the real pipeline's state judged by the real rules, through the real entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from orderflow.clock import Clock
from tests.support.cli import orderflow
from tests.support.fetch import LOCAL_ACME, drop, shop
from tests.support.sample_shop import SAMPLES

NOW = datetime(2026, 3, 16, 15, 0, tzinfo=UTC)  # Monday after the sample 855 arrived


def listed(options: list[str], *extra: str) -> list[dict]:  # type: ignore[type-arg]
    result = orderflow(*options, "notifications", "--format", "json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


class TestRulesRun:
    def test_a_rejected_line_is_raised_once_and_reruns_change_nothing(self, engine: Engine, database_url: str,
                                                                      tmp_path: Path) -> None:
        """The sample 855 rejects line 2: one critical vendor_rejected; the same --now again changes nothing."""
        from orderflow.vendors.fetch import fetch

        settings = shop(tmp_path, engine, Clock(NOW), LOCAL_ACME)
        drop(tmp_path / "acme" / "from_vendor", "ack.edi", (SAMPLES / "x12_855_po_acknowledgment.edi").read_bytes())
        fetch(engine=engine, settings=settings, clock=Clock(NOW))
        options = ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now", NOW.isoformat()]
        first = orderflow(*options, "--verbose", "rules", "run")
        assert first.returncode == 0, first.stderr
        rejected = [item for item in listed(options) if item["rule"] == "vendor_rejected"]
        assert [(item["vendor_order"], item["severity"], item["order_number"]) for item in rejected] == [
            ("TB1042-ACME", "critical", "1042")]
        assert "ACM-G500-WHT-M" in rejected[0]["evidence"]
        before = listed(options, "--state", "all", "--all")
        again = orderflow(*options, "--verbose", "rules", "run")
        assert "0 opened, 0 reopened" in again.stderr
        assert listed(options, "--state", "all", "--all") == before, "the same --now twice changes nothing"

    def test_rules_list(self, engine: Engine, database_url: str, tmp_path: Path) -> None:
        """rules list names all twenty-two rules of the catalogue with when each fires."""
        settings = shop(tmp_path, engine, Clock(NOW), LOCAL_ACME)
        assert settings.vendor_codes
        options = ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url]
        rules = json.loads(orderflow(*options, "rules", "list", "--format", "json").stdout)
        assert len(rules) == 22
        assert rules[0]["rule"] == "job_failed"
        assert all(rule["fires when"] for rule in rules)
