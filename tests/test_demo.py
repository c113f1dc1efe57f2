"""``orderflow demo``: a simulated week whose final queue shows every promised problem, and only real ones."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from orderflow.carriers.numbers import validate
from orderflow.cli.main import app
from orderflow.demo.carriers import Outage
from orderflow.demo.files import MARKER
from orderflow.demo.run import prepare_directory
from orderflow.demo.scoring import expectations, score_queue
from orderflow.demo.world import SHOWN_RULES, World
from orderflow.errors import ConfigError, ExitCode

runner = CliRunner()
SMALL_WEEK = ["--days", "4", "--orders-per-day", "8", "--seed", "3"]


@dataclass(frozen=True)
class DemoRun:
    directory: Path
    result: Result

    @property
    def config(self) -> str:
        return str(self.directory / "orderflow.toml")

    def queue(self) -> list[dict[str, object]]:
        listed = runner.invoke(app, ["--config", self.config, "notifications", "--format", "json"])
        assert listed.exit_code == 0, listed.output
        documents: list[dict[str, object]] = json.loads(listed.stdout)
        return documents


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One small demo week (four days, eight orders a day), run through the command line at 80 columns, from
    the folder that holds the demo's (so the paths it prints are short, as with the default ``--dir``)."""
    home = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(home)
        result = runner.invoke(app, ["demo", "--dir", "shop", *SMALL_WEEK], env={"COLUMNS": "80"})
    return DemoRun(home / "shop", result)


class TestDemoWeek:
    def test_exits_zero(self, demo_run: DemoRun) -> None:
        """The whole week runs to its end without a failure."""
        assert demo_run.result.exit_code == 0, demo_run.result.output

    def test_queue_shows_every_promised_problem(self, demo_run: DemoRun) -> None:
        """The final queue holds at least one of each problem the demo promises."""
        rules = {document["rule"] for document in demo_run.queue()}
        assert set(SHOWN_RULES) <= rules, f"missing: {set(SHOWN_RULES) - rules}"

    def test_no_vendor_late_for_a_parcel_scanned_before_ship_by(self, demo_run: DemoRun) -> None:
        """A vendor order with a carrier scan before its ship-by is never in the queue as late."""
        with sqlite3.connect(demo_run.directory / "orderflow.db") as db:
            on_time = {row[0] for row in db.execute(
                "SELECT DISTINCT vendor_orders.id FROM vendor_orders JOIN shipments "
                "ON shipments.vendor_order_id = vendor_orders.id "
                "WHERE shipments.first_scan_at <= vendor_orders.ship_by")}
        late = {document["vendor_order"] for document in demo_run.queue() if document["rule"] == "vendor_late"}
        assert on_time, "the week should have parcels scanned on time"
        assert late, "the week should have a late vendor"
        assert not late & on_time

    def test_queue_matches_the_simulated_truth(self, demo_run: DemoRun) -> None:
        """The one-line score says the queue holds every real problem and nothing else."""
        score = re.search(r"precision (\d+)% \((\d+)/(\d+)\), recall (\d+)% \((\d+)/(\d+)\)", demo_run.result.stdout)
        assert score is not None, demo_run.result.stdout
        assert (score.group(1), score.group(4)) == ("100", "100")
        assert int(score.group(2)) == len(demo_run.queue())

    def test_output_fits_an_80_column_terminal(self, demo_run: DemoRun) -> None:
        """No line of the output is wider than 80 columns, and none is a traceback or a warning."""
        output = demo_run.result.output
        assert [line for line in output.splitlines() if len(line) > 80] == []
        assert "Traceback" not in output
        assert "Warning" not in output

    def test_the_queue_is_one_aligned_table_under_a_summary(self, demo_run: DemoRun) -> None:
        """The queue opens with a one-line summary, then one header and a group row per type, each row's
        columns starting where the header's do."""
        stdout = demo_run.result.stdout
        queue = stdout[stdout.index("(orderflow notifications --sort type):\n"):stdout.index("One order's story")]
        lines = queue.splitlines()[1:]
        assert re.fullmatch(r"\d+ in the queue: .* · oldest \d+\.\d business days", lines[0])
        header = lines[1]
        assert header.split()[:5] == ["id", "sev", "age", "order", "vendor"]
        assert sum(line.startswith("id ") for line in lines) == 1, "one table, not one per type"
        groups = [line for line in lines if line.startswith("── ")]
        assert len(groups) == len({document["rule"] for document in demo_run.queue()})
        evidence_at = header.index("evidence")
        rows = [line for line in lines if re.match(r"\d+ +(crit|high|warn|info) ", line)]
        assert rows
        assert all(line[evidence_at - 1] == " " for line in rows)

    def test_ends_with_the_queue_a_story_the_report_and_what_to_try(self, demo_run: DemoRun) -> None:
        """The output shows the queue, one order's story, where the report is, and commands to explore further."""
        stdout = demo_run.result.stdout
        story = re.search(r"One order's story \(orderflow order (\d+)\):\nOrder (\d+) ", stdout)
        assert story is not None
        assert story.group(1) == story.group(2)
        report = re.search(r"The daily report \(5 CSV files\): shop/(\S+)", stdout)
        assert report is not None
        assert len(list((demo_run.directory / report.group(1)).glob("*.csv"))) == 5
        assert "orderflow --config shop/orderflow.toml notifications --sort type" in stdout
        assert "The staff queue at Thu 21:00" in stdout

    def test_orderflow_check_passes_on_the_demos_set_up(self, demo_run: DemoRun) -> None:
        """While its servers ran, every check of the demo's set-up passed: vendors, carriers, mail, folders."""
        line = re.search(r"orderflow check, while the demo's servers ran: (\d+) checks, (\w+) problems",
                         demo_run.result.stdout)
        assert line is not None
        assert int(line.group(1)) > 40
        assert line.group(2) == "no"

    def test_the_folder_still_works_once_the_servers_are_gone(self, demo_run: DemoRun) -> None:
        """Afterwards the written configuration loads as it is, and reading commands work on what the week left."""
        for command in (["orders", "--format", "json"], ["vendors", "--format", "json"], ["jobs", "--limit", "3"]):
            result = runner.invoke(app, ["--config", demo_run.config, *command])
            assert result.exit_code == 0, result.output


class TestSecretsWhenUsed:
    """The demo's folder plus one API vendor whose token variable is unset, as in a staff member's shell."""

    EXTRA_VENDOR = ('\n[[vendors]]\ncode = "EMBR"\nname = "Embroidery API"\nformat = "json"\ntransport = "http"\n'
                    'base_url = "http://127.0.0.1:9/"\ntoken_env = "ORDERFLOW_TEST_EMBR_TOKEN"\n')

    @pytest.fixture
    def shop(self, demo_run: DemoRun, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        monkeypatch.delenv("ORDERFLOW_TEST_EMBR_TOKEN", raising=False)
        config = demo_run.directory / "orderflow.toml"
        extended = demo_run.directory / "with-embr.toml"
        extended.write_text(config.read_text() + self.EXTRA_VENDOR)
        end = re.search(r"the simulated clock stopped at (\S+)\)", demo_run.result.stdout)
        assert end is not None
        return ["--config", str(extended), "--now", end.group(1)]

    def test_reading_commands_need_no_secret(self, shop: list[str], tmp_path: Path) -> None:
        """The queue, an order, the vendors, the jobs, the rules, the catalog, the schema and the daily report's
        files all work without the vendor's token."""
        number = json.loads(runner.invoke(app, [*shop, "orders", "--format", "json"]).stdout)[0]["order_number"]
        for command in (["notifications"], ["order", str(number)], ["orders"], ["vendors"], ["jobs"],
                        ["rules", "list"], ["catalog"], ["db", "current"], ["report", "daily", "--out", str(tmp_path)]):
            result = runner.invoke(app, [*shop, *command])
            assert result.exit_code == 0, (command, result.output)

    def test_dispatch_names_the_missing_variable(self, shop: list[str]) -> None:
        """dispatch reaches the vendor, finds its token unset: exit 3 and one line naming setting and variable."""
        result = runner.invoke(app, [*shop, "dispatch", "--vendor", "EMBR"])
        assert result.exit_code == ExitCode.CONFIG
        assert ("orderflow: dispatch: vendor EMBR: vendors[7].token_env: environment variable "
                "ORDERFLOW_TEST_EMBR_TOKEN is not set") in result.output.splitlines()


class TestDemoFolder:
    def test_refuses_a_folder_that_is_not_a_demos(self, tmp_path: Path) -> None:
        """A folder with other files in it is left alone, with one line saying why (exit 3)."""
        (tmp_path / "notes.txt").write_text("mine")
        result = runner.invoke(app, ["demo", "--dir", str(tmp_path), *SMALL_WEEK])
        assert result.exit_code == ExitCode.CONFIG
        assert "is not an earlier demo's" in result.output
        assert (tmp_path / "notes.txt").read_text() == "mine"

    def test_empties_an_earlier_demos_folder(self, tmp_path: Path) -> None:
        """A folder an earlier demo made is emptied for the new one, and marked again."""
        (tmp_path / MARKER).write_text("")
        (tmp_path / "vendors" / "acme").mkdir(parents=True)
        (tmp_path / "orderflow.db").write_bytes(b"old")
        prepare_directory(tmp_path)
        assert sorted(path.name for path in tmp_path.iterdir()) == [MARKER, "storefront"]
        assert list((tmp_path / "storefront").rglob("*")) == [tmp_path / "storefront" / "inbox"]

    def test_refuses_a_file(self, tmp_path: Path) -> None:
        """A --dir that is a file is refused."""
        path = tmp_path / "file"
        path.write_text("")
        with pytest.raises(ConfigError, match="not a folder"):
            prepare_directory(path)


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=7, days=5, orders_per_day=12)


@pytest.fixture(scope="module")
def fortnight() -> World:
    return World(seed=7, days=12, orders_per_day=12)


class TestWorld:
    def test_tracking_numbers_are_real(self, world: World) -> None:
        """Every parcel has a number that passes its carrier's check digit; a typo'd upload fails it."""
        parcels = [plan.parcel for plan in world.vendor_orders if plan.parcel is not None]
        assert all(validate(parcel.tracking_number, parcel.carrier).valid for parcel in parcels)
        typos = [parcel for parcel in parcels if parcel.reported_number != parcel.tracking_number]
        assert typos
        assert all(not validate(parcel.reported_number, parcel.carrier).valid for parcel in typos)

    def test_every_promised_problem_is_planned(self, world: World) -> None:
        """The default week plans each promised problem at least twice."""
        assert all(count >= 2 for rule, count in world.shown.items() if rule in SHOWN_RULES), world.shown

    def test_tracking_is_uploaded_late_as_real_vendors_upload_it(self, fortnight: World) -> None:
        """One to three of the vendor's business days after the grace deadline (a little more when that falls
        out of office hours); a fortnight is long enough to see one come in."""
        late = [plan for plan in fortnight.vendor_orders if plan.fate == "upload_late" and plan.parcel is not None]
        assert late
        for plan in late:
            assert plan.parcel is not None
            waited = plan.vendor.business.business_days_between(plan.grace, plan.parcel.uploaded_at)
            assert 1.0 <= waited <= 3.7, (plan.vendor_order_id, waited)
        assert any(fortnight.cleared_lateness(plan) for plan in fortnight.vendor_orders)

    def test_the_same_seed_gives_the_same_week(self, world: World) -> None:
        """Two worlds from one seed are the same, order for order and fate for fate."""
        again = World(seed=7, days=5, orders_per_day=12)
        fates = [(plan.vendor_order_id, plan.fate, plan.parcel.tracking_number if plan.parcel else None)
                 for plan in world.vendor_orders]
        assert fates == [(plan.vendor_order_id, plan.fate, plan.parcel.tracking_number if plan.parcel else None)
                         for plan in again.vendor_orders]


class TestTruth:
    def test_tracking_uploaded_late_is_waited_for_not_called_late(self, fortnight: World) -> None:
        """Scanned on time, uploaded after the grace deadline: the queue must not show lateness while "no
        tracking" waits, nor once the upload is in."""
        plan = next(plan for plan in fortnight.vendor_orders if fortnight.cleared_lateness(plan))
        assert plan.parcel is not None
        order = [order for order in fortnight.orders if order.number == plan.order_number]
        key = ("vendor_late", plan.vendor_order_id)
        for hours in range(1, int((plan.parcel.uploaded_at - plan.grace) / timedelta(hours=1))):
            assert expectations(order, at=plan.grace + timedelta(hours=hours), outages=()).get(key) is not True
        assert key not in expectations(order, at=plan.parcel.uploaded_at + timedelta(hours=12), outages=())

    def test_a_feed_outage_is_a_problem_once_orderflow_has_a_parcel_to_ask_about(self, fortnight: World) -> None:
        """Down before the first FedEx parcel is reported: nobody could see it, nothing is hurt. Down across that
        report: a problem from then on."""
        first = min(plan.parcel.uploaded_at for plan in fortnight.vendor_orders
                    if plan.parcel is not None and plan.parcel.carrier == "fedex"
                    and plan.parcel.reported_number == plan.parcel.tracking_number)
        key = ("tracking_feed_unhealthy", "fedex")
        unseen = (Outage("fedex", fortnight.start, first - timedelta(hours=1)),)
        assert key not in expectations(fortnight.orders, at=first - timedelta(hours=1), outages=unseen)
        seen = (Outage("fedex", fortnight.start, first + timedelta(hours=6)),)
        assert key not in expectations(fortnight.orders, at=first - timedelta(minutes=1), outages=seen)
        assert expectations(fortnight.orders, at=first + timedelta(hours=4), outages=seen)[key] is True

    def test_score_counts_right_wrong_and_missed(self) -> None:
        """Precision counts what the queue shows; recall what is real; unsure problems count for neither."""
        verdicts = {("vendor_late", "TB1-A"): True, ("vendor_late", "TB2-A"): True,
                    ("delivery_late", "3"): None}
        documents = [{"rule": "vendor_late", "vendor_order": "TB1-A", "subject": "vendor_order:TB1-A"},
                     {"rule": "delivery_late", "order_number": "3", "subject": "order:3"},
                     {"rule": "job_missing", "subject": "job:sync"}]
        score = score_queue(verdicts, documents)
        assert (score.precision, score.recall, score.unsure) == (0.5, 0.5, 1)
        assert score.line == ("Queue against the simulated truth: precision 50% (1/2), recall 50% (1/2); "
                              "1 settling")
