"""catalog, import, order and orders through the real entry point, as cron and staff run them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from orderflow.db.locks import command_lock
from orderflow.db.models import JobRun
from orderflow.errors import ExitCode
from tests.support.cli import orderflow
from tests.support.sample_shop import SAMPLES, shop_settings

CATALOG = """sku,vendor,vendor_sku,upc,on_demand
TB-HCT-BLK-L,ACME,ACM-G500-BLK-L,086753090017,
TB-HCT-WHT-M,ACME,ACM-G500-WHT-M,086753090024,
TB-HOOD-NVY-XL,ACME,ACM-18500-NVY-XL,086753090031,
TB-MTNLINE-HTR-S,PF,4016,,true
TB-CUSTNAME-WHT-L,PF,4017,,true
TB-SUNWAVE-WHT-XL,PF,4019,,true
"""
CATALOG_IMPORTED = "2026-11-30T09:00:00Z"


@pytest.fixture
def shop(tmp_path: Path, engine: Engine, database_url: str) -> list[str]:
    """Root options for a configured shop on the test database, with its catalog imported."""
    shop_settings(tmp_path)
    (tmp_path / "catalog.csv").write_text(CATALOG, encoding="utf-8")
    options = ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url]
    # Stamped before every instant the tests name, whatever the machine's date.
    assert orderflow(*options, "--now", CATALOG_IMPORTED, "catalog", "import",
                     str(tmp_path / "catalog.csv")).returncode == 0
    return options


class TestImportCommand:
    def test_quiet_on_success_and_unchanged_on_repeat(self, shop: list[str]) -> None:
        """Under cron a good import prints nothing; a repeat changes nothing."""
        first = orderflow(*shop, "import", str(SAMPLES / "shopify_orders_export.csv"))
        assert (first.returncode, first.stdout, first.stderr) == (0, "", "")
        again = orderflow(*shop, "--verbose", "import", str(SAMPLES / "shopify_orders_export.csv"))
        assert again.returncode == 0
        assert again.stderr.strip().endswith("import: 0 stored, 0 updated, 3 unchanged, 0 refused, 1 files, "
                                             "0 unroutable lines")

    def test_refused_rows_named_and_exit_code_4(self, shop: list[str], tmp_path: Path) -> None:
        """A bad row is one stderr line with file, line and column; the summary follows; exit code 4."""
        text = (SAMPLES / "shopify_orders_export.csv").read_text(encoding="utf-8-sig")
        bad = tmp_path / "bad.csv"
        bad.write_text(text.replace(",2,Heavy Cotton Tee", ",abc,Heavy Cotton Tee", 1), encoding="utf-8")
        result = orderflow(*shop, "import", str(bad))
        assert result.returncode == ExitCode.INPUT_REFUSED
        lines = result.stderr.splitlines()
        assert lines[0].startswith(f"orderflow: import: {bad}:3: Lineitem quantity: ")
        assert lines[-1] == "import: 2 stored, 0 updated, 0 unchanged, 1 refused, 1 files, 0 unroutable lines"

    def test_lock_held_exits_7_and_records_nothing(self, shop: list[str], engine: Engine) -> None:
        """While another run holds the import lock, a second import exits 7 at once with one line."""
        with command_lock(engine, "import"):
            result = orderflow(*shop, "import", str(SAMPLES / "shopify_orders_export.csv"))
        assert result.returncode == ExitCode.LOCK_HELD
        [line] = result.stderr.splitlines()
        assert line.startswith("orderflow: import: another run holds the lock")
        assert line.endswith("nothing done")
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(JobRun).where(JobRun.command == "import")) == 0


class TestOrderCommands:
    def test_order_json_and_hash_form(self, shop: list[str]) -> None:
        """order '#1042' --format json prints the order's story as one JSON document."""
        orderflow(*shop, "import", str(SAMPLES / "shopify_orders_export.csv"))
        result = orderflow(*shop, "order", "#1042", "--format", "json")
        assert result.returncode == 0
        story = json.loads(result.stdout)
        assert story["order_number"] == "1042"
        assert [vo["id"] for vo in story["vendor_orders"]] == ["TB1042-ACME", "TB1042-PF"]
        assert story["lines"][0] == {"line": 1, "sku": "TB-HCT-BLK-L", "qty": 2, "price": "24.00",
                                     "vendor": "ACME", "state": "pending"}

    def test_unknown_order(self, shop: list[str]) -> None:
        """An order that does not exist is one line and exit code 4."""
        result = orderflow(*shop, "order", "9999")
        assert (result.returncode, result.stderr) == (ExitCode.INPUT_REFUSED, "orderflow: no order 9999\n")

    def test_orders_json_and_csv(self, shop: list[str]) -> None:
        """orders --format json is a list of orders with their vendor orders; csv has a header row."""
        orderflow(*shop, "import", str(SAMPLES / "shopify_orders_export.csv"))
        listed = json.loads(orderflow(*shop, "orders", "--format", "json").stdout)
        assert [order["order_number"] for order in listed] == ["1043", "1042", "1041"]
        assert set(listed[0]) == {"order_number", "placed_at", "state", "vendor_orders"}
        csv_out = orderflow(*shop, "orders", "--state", "pending", "--format", "csv").stdout.splitlines()
        assert csv_out[0] == "order_number,placed_at,state,vendor_orders"
        assert len(csv_out) == 3

    def test_catalog_listing(self, shop: list[str]) -> None:
        """catalog --format json lists the crosswalk."""
        items = json.loads(orderflow(*shop, "catalog", "--format", "json").stdout)
        assert items[0] == {"sku": "TB-CUSTNAME-WHT-L", "vendor": "PF", "vendor_sku": "4017", "upc": None,
                            "description": None, "on_demand": True, "vendor_variant_id": None, "product": None,
                            "variant": None}


class TestOrderNotifications:
    def test_the_order_view_lists_its_notifications_with_the_queue_fields(self, shop: list[str]) -> None:
        """order --format json lists the order's notifications with exactly the queue's JSON fields."""
        # The import is stamped at a fixed instant before the rules' one: at the machine's clock it would come
        # after them once the real date passes, and nothing would be due yet.
        orderflow(*shop, "--now", "2026-11-30T12:00:00Z", "import", str(SAMPLES / "shopify_orders_export.csv"))
        ran = orderflow(*shop, "--now", "2026-12-01T12:00:00Z", "rules", "run")
        assert (ran.returncode, ran.stderr) == (ExitCode.OK, "")
        queue = json.loads(orderflow(*shop, "--now", "2026-12-01T12:00:00Z", "notifications", "--format",
                                     "json").stdout)
        story = json.loads(orderflow(*shop, "order", "1042", "--format", "json").stdout)
        about_1042 = [doc for doc in queue if doc["order_number"] == "1042"]
        assert about_1042, "the sample order 1042 should have raised something by then"
        assert story["notifications"] == about_1042
        other = json.loads(orderflow(*shop, "order", "1043", "--format", "json").stdout)
        assert other["notifications"] == [doc for doc in queue if doc["order_number"] == "1043"]
        table = orderflow(*shop, "order", "1042").stdout
        assert "Notifications" in table
        assert about_1042[0]["evidence"][:20] in table
