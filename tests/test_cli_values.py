"""Values typed on the command line are checked where they are typed, and every list command prints its formats.

A typo must never look like an answer ("Nothing needs a person right now."): a wrong value exits 2 (a usage
error) naming the valid values. A reader that goes away (``| head -1``) ends a command quietly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from orderflow.carriers.catalogue import CARRIERS as CARRIER_RECORDS
from orderflow.carriers.numbers import CARRIERS
from orderflow.cli.main import CLOSED_PIPE_STATUS, app, hoist_root_options
from orderflow.cli.orders import IMPORT_FORMATS, ORDER_STATES
from orderflow.cli.tracking import CARRIER_CODES
from orderflow.db.models import OrderState, VendorOrderState
from orderflow.errors import ExitCode
from orderflow.storefronts.formats import ORDER_FORMATS
from tests.support.cli import orderflow
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings
from tests.support.stand_in_rules import MON

NOW = "2026-11-04T16:00:00Z"


@pytest.fixture
def shop(engine: Engine, database_url: str, tmp_path: Path) -> list[str]:
    """A shop with vendors ACME (Chicago) and PF, two orders and the rules run once."""
    settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"),
                              '[vendors.calendar]\ntimezone = "America/Chicago"\n',
                              vendor_block("PF", "csv", "local", path="pf"))
    place_orders(engine, settings, MON, tmp_path, orders={"9101": ["SKU-ACME", "SKU-PF"], "9102": ["SKU-ACME"]})
    options = ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now", NOW]
    assert orderflow(*options, "rules", "run").returncode in (0, 6)
    return options


BAD_VALUES = [
    (("notifications", "--type", "vendor_lat"), "did you mean 'vendor_late'?"),
    (("notifications", "--severity", "urgent"), "valid: critical, high, warning, info"),
    (("notifications", "--vendor", "NOPE"), "valid: ACME, PF"),
    (("notifications", "--vendor", "ACMEE"), "did you mean 'ACME'?"),
    (("notifications", "--state", "bogus"), "valid: open, acknowledged, snoozed, resolved, all"),
    (("notifications", "--format", "yaml"), "valid: table, csv, json"),
    (("notifications", "--sort", "foo"), "valid: type, severity, age, vendor"),
    (("notifications", "--since", "yesterdy"), "did you mean 'yesterday'?"),
    (("notifications", "snooze", "1", "--for", "2x"), "2d, 6h, 30m"),
    (("notifications", "snooze", "1", "--until", "tomorow"), "did you mean 'tomorrow'?"),
    (("notifications", "snooze", "1", "--until", "2026-02-30"), "not a real day"),
    (("notifications", "silence", "--match", "vendor=ACMEE", "--for", "1d", "--comment", "x"), "did you mean 'ACME'?"),
    (("notifications", "silence", "--match", "rule=late", "--for", "1d", "--comment", "x"), "valid: job_failed"),
    (("notifications", "silence", "--match", "colour=red", "--for", "1d", "--comment", "x"), "valid: rule, vendor"),
    (("orders", "--state", "bogus"), "valid: open, cancelled"),
    (("orders", "--vendor", "NOPE"), "valid: ACME, PF"),
    (("orders", "--since", "last week"), "a date (2026-11-09)"),
    (("order", "9101", "--format", "csv"), "valid: table, json"),
    (("vendors", "--format", "yaml"), "valid: table, csv, json"),
    (("rules", "list", "--format", "xml"), "valid: table, csv, json"),
    (("jobs", "--format", "yaml"), "valid: table, csv, json"),
    (("catalog", "--format", "yaml"), "valid: table, csv, json"),
    (("dispatch", "--vendor", "NOPE"), "valid: ACME, PF"),
    (("fetch", "--vendor", "NOPE"), "valid: ACME, PF"),
    (("track", "--carrier", "royalmail"), "valid: ups, fedex, usps, dhl"),
    (("import", "--format", "xlsx"), "valid: shopify_csv, mapped_csv, json"),
    (("--log-format", "yaml", "jobs"), "yaml"),
]


class TestBadValues:
    @pytest.mark.parametrize(("args", "names"), BAD_VALUES, ids=[" ".join(args) for args, _ in BAD_VALUES])
    def test_exit_2_naming_the_valid_values(self, shop: list[str], args: tuple[str, ...], names: str) -> None:
        """A wrong value is a usage error (exit 2) whose message names what would be right; nothing runs."""
        result = orderflow(*shop, *args)
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert names in " ".join(result.stderr.split())
        assert "Nothing needs a person" not in result.stdout

    def test_the_cli_names_match_the_library(self) -> None:
        """The choices typed on the command line are the library's own names."""
        assert CARRIER_CODES == CARRIERS == tuple(carrier.code for carrier in CARRIER_RECORDS)
        assert IMPORT_FORMATS == ORDER_FORMATS
        assert set(ORDER_STATES) == {*OrderState, *VendorOrderState, "unroutable"}


LIST_COMMANDS = [("notifications",), ("notifications", "silences"), ("orders",), ("vendors",), ("jobs",),
                 ("catalog",), ("rules", "list")]


class TestListFormats:
    @pytest.mark.parametrize("command", LIST_COMMANDS, ids=" ".join)
    def test_table_csv_and_json(self, shop: list[str], command: tuple[str, ...]) -> None:
        """Every list command prints a table, CSV with a header row, and one JSON list."""
        table = orderflow(*shop, *command)
        assert table.returncode == 0, table.stderr
        csv_out = orderflow(*shop, *command, "--format", "csv")
        assert csv_out.returncode == 0, csv_out.stderr
        assert "," in csv_out.stdout.splitlines()[0]
        assert "┃" not in csv_out.stdout, "CSV, not a table"
        assert isinstance(json.loads(orderflow(*shop, *command, "--format", "json").stdout), list)

    @pytest.mark.parametrize("command", [*LIST_COMMANDS, ("order", "9101")], ids=" ".join)
    def test_a_reader_that_goes_away_ends_it_quietly(self, shop: list[str], command: tuple[str, ...]) -> None:
        """With stdout closed before the first line is written, the command stops with the shell's
        closed-pipe status (141) and says nothing: no "internal error", no traceback."""
        process = subprocess.Popen([sys.executable, "-m", "orderflow", *shop, *command], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        assert process.stdout is not None
        process.stdout.close()
        _, stderr = process.communicate(timeout=120)
        assert (process.returncode, stderr) == (CLOSED_PIPE_STATUS, "")


class TestRootOptionsAnywhere:
    def test_after_the_command(self, shop: list[str]) -> None:
        """`orderflow jobs -v --utc` means `orderflow -v --utc jobs`; root options with a value too."""
        config, database = shop[1], shop[3]
        result = orderflow("jobs", "--format", "json", "--config", config, "--db", database, "--now", NOW, "-v")
        assert result.returncode == 0, result.stderr
        assert [job["command"] for job in json.loads(result.stdout)] == ["rules run"]

    def test_words_keep_their_place(self) -> None:
        """A value that looks like a root option stays the command's; the command's own options stay put."""
        from typer.main import get_command

        command = get_command(app)
        assert hoist_root_options(command, ["notifications", "ack", "3", "--note", "-v", "--by", "ana", "-q"]) == \
            ["-q", "notifications", "ack", "3", "--note", "-v", "--by", "ana"]
        assert hoist_root_options(command, ["sync", "--now=2026-11-04T16:00:00Z", "--debug"]) == \
            ["--now=2026-11-04T16:00:00Z", "--debug", "sync"]
        assert hoist_root_options(command, ["--db", "sqlite://", "orders", "--format", "json"]) == \
            ["--db", "sqlite://", "orders", "--format", "json"]

    def test_shell_completion_is_on(self) -> None:
        """`--show-completion` run from bash prints bash's completion script. The shell is the process that
        started orderflow (a word after the option is not read), so the test starts it from bash itself rather
        than depend on whatever started the test run."""
        from_bash = f'"{sys.executable}" -m orderflow --show-completion; exit $?'  # not exec'd: bash stays the parent
        result = subprocess.run(["bash", "-c", from_bash], capture_output=True, text=True, check=False, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "_ORDERFLOW_COMPLETE=complete_bash" in result.stdout


class TestTimesSayTheirZone:
    def test_every_time_a_person_reads_names_its_zone(self, shop: list[str]) -> None:
        """The order view, the orders list, jobs, why and silences show shop time with its abbreviation; the
        ship-by deadline shows in the vendor's zone (Chicago), the one it is judged by."""
        wide = {"COLUMNS": "200"}
        story = orderflow(*shop, "order", "9101", env=wide).stdout
        assert "placed 2026-11-02 10:04 EST" in story
        assert "TB9101-ACME: pending, ship by 2026-11-04 23:59 CST" in story
        assert "2026-11-02 10:04 EST" in orderflow(*shop, "orders", env=wide).stdout
        assert "2026-11-04 11:00 EST" in orderflow(*shop, "jobs", env=wide).stdout
        silenced = orderflow(*shop, "notifications", "silence", "--match", "vendor=PF", "--until", "tomorrow",
                             "--comment", "PF is closed today")
        assert silenced.stdout.startswith("silence #1 until 2026-11-05 00:00 EST")
        assert "2026-11-05 00:00 EST" in orderflow(*shop, "notifications", "silences", env=wide).stdout

    def test_utc_switches_every_view(self, shop: list[str]) -> None:
        """--utc shows the same instants in UTC, saying so."""
        wide = {"COLUMNS": "200"}
        story = orderflow(*shop, "--utc", "order", "9101", env=wide).stdout
        assert "placed 2026-11-02 15:04 UTC" in story
        assert "ship by 2026-11-05 05:59 UTC" in story
        assert "2026-11-04 16:00 UTC" in orderflow(*shop, "jobs", "--utc", env=wide).stdout

    def test_json_keeps_iso_times_with_offsets(self, shop: list[str]) -> None:
        """JSON is for machines: ISO-8601 with the offset, whatever the view's zone."""
        story = json.loads(orderflow(*shop, "order", "9101", "--format", "json").stdout)
        assert story["placed_at"] == "2026-11-02T15:04:00+00:00"
