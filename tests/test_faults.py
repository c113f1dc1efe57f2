"""Faults: every remote orderflow talks to, failing in each way it really fails, through the real commands.

The promise each test checks: the run fails, or partly fails, with ONE clear line on stderr and the exit code
that tells cron what happened (5 remote or database unavailable, 6 partial failure); nothing is lost or
doubled; and the next run, once the fault is gone, completes the work.

The matrix: each component and fault, and the tests that specify it (here, or next to the feature; a test
below checks that every test named here exists).

SFTP, dispatch: the server dies mid-upload
    TestSftp::test_server_dies_mid_upload_and_the_po_lands_once_whole
SFTP, fetch: the server dies mid-download (and, killed just before the read)
    TestSftp::test_server_dies_mid_download_and_the_file_is_taken_once
    test_fetch.py::TestSftpFeedback::test_a_download_cut_mid_file_is_taken_next_run
SFTP, dispatch: the server hangs after accepting TCP, or presents a changed host key
    TestSftp::test_a_server_that_cannot_be_trusted_or_reached_gets_nothing_until_it_is_mended
SFTP, transport: deadlines, a server killed between operations, unknown or changed host keys, fetch too
    test_file_transports.py::TestDeadlines::test_a_server_that_accepts_but_never_speaks_is_abandoned
    test_file_transports.py::TestDeadlines::test_a_server_that_hangs_mid_session_is_abandoned_at_the_operation_deadline
    test_file_transports.py::TestServerDies::test_the_next_operation_after_sshd_is_killed_is_unavailable
    test_security.py::TestHostKeys::test_dispatch_sends_nothing_to_an_untrusted_host
    test_security.py::TestHostKeys::test_fetch_reads_nothing_from_an_untrusted_host
HTTP vendor (Printful): a 5xx burst, a connection reset, truncated JSON
    TestVendorApi::test_a_5xx_burst_longer_than_the_retries_leaves_the_order_for_the_next_run
    TestVendorApi::test_an_order_created_but_its_answer_lost_is_never_created_twice
HTTP vendor: 429 and 500 retried in the run; slow past the deadline after creating; the JSON API's 5xx
    test_dispatch_printful.py::TestPrintfulDispatch::test_429_and_500_are_retried
    test_dispatch_printful.py::TestPrintfulDispatch::test_timeout_after_create_is_looked_up_not_resent
    test_dispatch_printful.py::TestPrintfulDispatch::test_unknown_outcome_that_cannot_be_checked_needs_reconcile
    test_dispatch.py::TestJsonApiVendor::test_5xx_is_retried_with_the_same_key
HTTP carriers (track): a 5xx burst, slow past the deadline, a connection reset, truncated JSON
    TestCarriers::test_a_carrier_failing_changes_no_parcel_and_the_next_run_reads_it
    test_tracking.py::TestFaults::test_429_and_500_are_retried
    test_tracking.py::TestFaults::test_a_malformed_answer_is_recorded_and_the_run_goes_on
HTTP storefront (import): a 5xx burst, slow past the deadline, a connection reset, truncated JSON
    TestStorefront::test_a_page_that_fails_keeps_the_pages_before_it_and_the_next_run_resumes
    test_http_source.py::TestRetries::test_rate_limiting_is_retried
    test_http_source.py::TestRetries::test_a_retry_after_longer_than_a_minute_is_left_to_the_next_run
    test_http_source.py::TestAuthentication::test_refused_credentials_are_rejected_without_retrying
HTTP webhook (push): a 5xx burst, a connection reset (before the post was taken)
    TestPush::test_a_push_that_fails_waits_and_goes_once
HTTP webhook: slow past the deadline; 429 with Retry-After
    test_mail_and_webhooks.py::TestPostJson::test_timeout_is_temporary
    test_push.py::TestPush::test_a_rate_limited_webhook_is_sent_later_not_twice
SMTP (push): a temporary 4xx
    TestPush::test_a_push_that_fails_waits_and_goes_once
SMTP (customers notify, report daily): a temporary 4xx; refused recipients
    test_customers.py::TestFailures::test_an_unavailable_mail_server_is_retried_on_the_next_run
    test_customers.py::TestFailures::test_a_refused_or_missing_address_fails_alone_and_once
    test_report.py::TestEmail::test_a_mail_server_down_is_retried_by_the_next_run
SMTP (the mailer): 4xx at MAIL, RCPT and DATA; refused recipients, all or some
    test_mail_and_webhooks.py::TestMailerFailures::test_451_is_temporary_and_the_retry_is_delivered
    test_mail_and_webhooks.py::TestMailerFailures::test_partial_refusal_says_who_got_it_and_who_did_not
Database (PostgreSQL): the backend terminated mid-run
    TestDatabase::test_a_backend_terminated_mid_run_fails_the_run_in_one_line_and_the_next_run_completes

Deadlines are configured short (``timeout_seconds``); nothing here sleeps through time: hung servers are
held on events and released, and the clock is moved with ``--now``.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from orderflow.carriers.status import PackageStatus
from orderflow.catalog import CatalogRow
from orderflow.cli.main import app
from orderflow.db.engine import make_engine, session_factory
from orderflow.db.models import (
    IngestedFile,
    InventoryLevel,
    JobRun,
    Order,
    OutboxMessage,
    Shipment,
    TrackingEvent,
    VendorOrder,
)
from orderflow.errors import ExitCode
from orderflow.storefronts.importing import import_orders
from orderflow.testing.carriers import FakeCarrier, Scan
from orderflow.testing.http_server import Answer, Cut, LocalHttpServer
from orderflow.testing.printful import FakePrintful
from orderflow.testing.smtp import SmtpServer
from orderflow.testing.sshd import SshServer
from orderflow.testing.webhook import FakeWebhook
from tests.support.sample_shop import stock_catalog
from tests.support.servers import create_schema, running_sshd
from tests.support.shop_with_vendors import place_orders, shopify_export, vendor_block, vendor_orders, write_settings

NOW = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)  # past every retry delay and breaker pause a single failure causes
runner = CliRunner()


def run(folder: Path, database_url: str, *args: str, now: datetime = NOW) -> Result:
    """One orderflow command against the shop in ``folder``, as cron runs it (no terminal).

    In this process Python's log records go to pytest's capture rather than stderr; the tests that run
    orderflow as a child process (the Printful 5xx burst, the database) see every line cron would.
    """
    return runner.invoke(app, ["--config", str(folder / "orderflow.toml"), "--db", database_url,
                               "--now", now.isoformat(), *args])


def one_problem(result: Result, code: ExitCode, command: str) -> str:
    """The run's single problem line; every other stderr line is the run's summary, and no traceback."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    problems = [line for line in lines if line.startswith("orderflow: ")]
    assert len(problems) == 1, result.stderr
    assert all(line.startswith(f"{command}: ") for line in lines if line not in problems), result.stderr
    assert "Traceback" not in result.output
    return problems[0]


def clean(result: Result) -> None:
    assert (result.exit_code, result.stderr) == (0, ""), result.output


def count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- SFTP ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cuttable_sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """A real sshd whose sessions can be cut at an exact byte; tests give it their own remote folders."""
    with running_sshd(tmp_path_factory.mktemp("cuttable-sshd"), cuttable=True) as server:
        yield server


def sftp_vendor(server: SshServer, remote: Path, **keys: object) -> str:
    for folder in ("to_vendor", "from_vendor"):
        (remote / folder).mkdir(parents=True, exist_ok=True)
    settings: dict[str, object] = {
        "host": server.host, "port": server.port, "username": server.username, "key_file": str(server.user_key_path),
        "known_hosts": str(server.known_hosts_path), "remote_dir": str(remote), "settle_seconds": 0,
        "timeout_seconds": 2, **keys}
    return vendor_block("ACME", "csv", "sftp", **settings)


def big_order(engine: Engine, folder: Path, block: str, *, lines: int) -> bytes:
    """Order 5001 with ``lines`` lines for ACME imported; returns the PO file ACME should receive."""
    settings = write_settings(folder, block)
    stock_catalog(engine, settings, NOW, [CatalogRow(f"SKU-{n}", "ACME", f"ACME-{n}", description=f"Tee {n}")
                                          for n in range(lines)])
    export = folder / "orders.csv"
    export.write_text(shopify_export({"5001": [f"SKU-{n}" for n in range(lines)]}), encoding="utf-8")
    assert import_orders(engine=engine, settings=settings, now=NOW, paths=[export]).exit_code == ExitCode.OK
    from orderflow.calendars import VendorCalendars
    from orderflow.vendors.formats.purchase_order_files import render_csv
    from orderflow.vendors.purchase_orders import purchase_orders

    with session_factory(engine)() as session:
        calendars = VendorCalendars(settings.vendors)
        return render_csv(purchase_orders(session, ["TB5001-ACME"], calendars)["TB5001-ACME"], None)


class TestSftp:
    def test_server_dies_mid_upload_and_the_po_lands_once_whole(self, engine: Engine, database_url: str,
                                                                tmp_path: Path, cuttable_sshd: SshServer) -> None:
        """A half-written temp file is left, never the PO's own name; the next run replaces it with the whole PO."""
        remote = tmp_path / "remote"
        expected = big_order(engine, tmp_path, sftp_vendor(cuttable_sshd, remote), lines=800)
        assert len(expected) > 100_000
        cuttable_sshd.cut_next_session(after_upload_bytes=70_000)

        failed = run(tmp_path, database_url, "dispatch")

        line = one_problem(failed, ExitCode.PARTIAL_FAILURE, "dispatch")
        assert "connection lost trying to upload to_vendor/TB5001-ACME.csv" in line
        [temp] = (remote / "to_vendor").iterdir()
        assert temp.name == "TB5001-ACME.csv.tmp"
        assert 0 < temp.stat().st_size < len(expected)
        assert vendor_orders(engine)["TB5001-ACME"].state == "pending"

        clean(run(tmp_path, database_url, "dispatch", now=LATER))
        assert [path.name for path in (remote / "to_vendor").iterdir()] == ["TB5001-ACME.csv"]
        assert (remote / "to_vendor" / "TB5001-ACME.csv").read_bytes() == expected
        vendor_order = vendor_orders(engine)["TB5001-ACME"]
        assert (vendor_order.state, vendor_order.attempts) == ("sent", 2)

    def test_server_dies_mid_download_and_the_file_is_taken_once(self, engine: Engine, database_url: str,
                                                                  tmp_path: Path, cuttable_sshd: SshServer) -> None:
        """Nothing of a file cut off is applied or ledgered, and it stays; the next run takes all of it, once."""
        remote = tmp_path / "remote"
        settings = write_settings(tmp_path, sftp_vendor(cuttable_sshd, remote))
        stock_catalog(engine, settings, NOW, [])
        stock = "vendor_sku,quantity_available\n" + "".join(f"ACME-{n:05d},{n % 50}\n" for n in range(1000))
        (remote / "from_vendor" / "stock.csv").write_text(stock)
        cuttable_sshd.cut_next_session(after_download_bytes=len(stock) // 2)

        failed = run(tmp_path, database_url, "fetch")

        line = one_problem(failed, ExitCode.PARTIAL_FAILURE, "fetch")
        assert "connection lost trying to read from_vendor/stock.csv" in line
        assert (count(engine, IngestedFile), count(engine, InventoryLevel)) == (0, 0)
        assert [path.name for path in (remote / "from_vendor").iterdir()] == ["stock.csv"]

        clean(run(tmp_path, database_url, "fetch", now=LATER))
        clean(run(tmp_path, database_url, "fetch", now=LATER + timedelta(minutes=5)))
        assert (count(engine, IngestedFile), count(engine, InventoryLevel)) == (1, 1000)
        assert list((remote / "from_vendor").iterdir()) == []
        assert (remote / "archive" / "stock.csv").read_text() == stock

    @pytest.mark.parametrize("fault", ["hangs after accepting TCP", "changed host key"])
    def test_a_server_that_cannot_be_trusted_or_reached_gets_nothing_until_it_is_mended(
            self, fault: str, engine: Engine, database_url: str, tmp_path: Path, own_sshd: SshServer) -> None:
        """A hung or impostor server: one line, the PO stays pending; once mended the next run sends it once."""
        remote = tmp_path / "remote"
        big_order(engine, tmp_path, sftp_vendor(own_sshd, remote, timeout_seconds=0.5), lines=1)
        genuine = own_sshd.known_hosts_path.read_text()
        if fault == "changed host key":
            other = own_sshd.generate_key("impostor_host_key")
            own_sshd.known_hosts_path.write_text(own_sshd.known_hosts_line(Path(f"{other}.pub")))
        else:
            own_sshd.pause()  # the kernel still completes the TCP handshake; sshd never says a word
        started = time.monotonic()
        try:
            failed = run(tmp_path, database_url, "dispatch")
        finally:
            own_sshd.resume()
            own_sshd.known_hosts_path.write_text(genuine)
        assert time.monotonic() - started < 5, "the vendor's timeout_seconds (0.5s) bounds the wait, not 10s"

        line = one_problem(failed, ExitCode.PARTIAL_FAILURE, "dispatch")
        assert line.startswith(f"orderflow: dispatch: vendor ACME: sftp ACME (127.0.0.1:{own_sshd.port}): ")
        assert ("CHANGED" if fault == "changed host key" else "Error reading SSH protocol banner") in line
        assert list((remote / "to_vendor").iterdir()) == []
        assert vendor_orders(engine)["TB5001-ACME"].state == "pending"

        clean(run(tmp_path, database_url, "dispatch", now=LATER))
        assert [path.name for path in (remote / "to_vendor").iterdir()] == ["TB5001-ACME.csv"]
        assert vendor_orders(engine)["TB5001-ACME"].state == "sent"


# --- HTTP: a vendor's API ------------------------------------------------------------------------------------

PRINTFUL_TOKEN = "pf-fault-token-0d6c"


@pytest.fixture
def printful(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePrintful]:
    monkeypatch.setenv("TEST_PRINTFUL_TOKEN", PRINTFUL_TOKEN)
    with FakePrintful(token=PRINTFUL_TOKEN, hang_seconds=5.0) as fake:
        yield fake


def printful_shop(engine: Engine, folder: Path, fake: FakePrintful) -> None:
    settings = write_settings(folder, vendor_block("PF", "printful", "http", kind="on_demand", base_url=fake.url,
                                                   token_env="TEST_PRINTFUL_TOKEN", timeout_seconds=1))
    place_orders(engine, settings, NOW, folder, orders={"7001": ["SKU-PF"]})


class TestVendorApi:
    def test_a_5xx_burst_longer_than_the_retries_leaves_the_order_for_the_next_run(
            self, engine: Engine, database_url: str, tmp_path: Path, printful: FakePrintful) -> None:
        """As cron sees it (a real process): one line, exit 6, the order pending; the next run creates it once."""
        printful_shop(engine, tmp_path, printful)
        printful.fail_next(3, 503, retry_after=0)  # every attempt of the run; no wait before the retries

        failed = subprocess.run(
            [sys.executable, "-m", "orderflow", "--config", str(tmp_path / "orderflow.toml"), "--db", database_url,
             "--now", NOW.isoformat(), "dispatch"],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "TEST_PRINTFUL_TOKEN": PRINTFUL_TOKEN})

        assert failed.returncode == ExitCode.PARTIAL_FAILURE, failed.stderr
        assert failed.stderr.splitlines() == [
            "orderflow: dispatch: vendor PF: 1 vendor order not sent (TB7001-PF), left for the next run: "
            "printful: unavailable for TB7001-PF: HTTP 503: Something went wrong",
            "dispatch: 0 sent, 0 accepted, 0 rejected, 1 failed, 0 needs reconcile"]
        assert (printful.creates, vendor_orders(engine)["TB7001-PF"].state) == ([], "pending")

        clean(run(tmp_path, database_url, "dispatch", now=LATER))
        assert (printful.creates, vendor_orders(engine)["TB7001-PF"].state) == (["TB7001-PF"], "accepted")

    @pytest.mark.parametrize(("cut", "expected"), [
        ("reset", "needs reconciling before any re-send"),
        ("truncate", "left for the next run: printful: unavailable for TB7001-PF: HTTP 400: the reply is not JSON"),
    ])
    def test_an_order_created_but_its_answer_lost_is_never_created_twice(
            self, cut: Cut, expected: str, *, engine: Engine, database_url: str, tmp_path: Path,
            printful: FakePrintful) -> None:
        """Printful made the order but the answer is reset or cut off: one line; the next run finds it, no resend."""
        printful_shop(engine, tmp_path, printful)
        printful.cut_next(100, cut)  # the create and every look-up after it in this run

        line = one_problem(run(tmp_path, database_url, "dispatch"), ExitCode.PARTIAL_FAILURE, "dispatch")

        assert expected in line
        assert printful.creates == ["TB7001-PF"]
        printful.cut_next(0)
        clean(run(tmp_path, database_url, "dispatch", now=LATER))
        assert (printful.creates, vendor_orders(engine)["TB7001-PF"].state) == (["TB7001-PF"], "accepted")


# --- HTTP: carriers ------------------------------------------------------------------------------------------

UPS_NUMBER = "1Z5R89390357567127"
FAULTS = ["5xx burst", "slow", "reset", "truncated"]


def add_parcel(engine: Engine, vendor_order_id: str) -> int:
    with session_factory(engine)() as session, session.begin():
        parcel = Shipment(vendor_order_id=vendor_order_id, carrier="ups", tracking_number=UPS_NUMBER,
                          reported_at=NOW, shipped_at=NOW, next_check_at=NOW, created_at=NOW, updated_at=NOW)
        session.add(parcel)
        session.flush()
        return parcel.id


def parcel_state(engine: Engine, parcel: int) -> tuple[str, int]:
    with session_factory(engine)() as session:
        found = session.get(Shipment, parcel)
        assert found is not None
        return found.status, int(session.scalar(select(func.count()).select_from(TrackingEvent)) or 0)


@pytest.fixture
def ups(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCarrier]:
    monkeypatch.setenv("TEST_CARRIER_ID", "id")
    monkeypatch.setenv("TEST_CARRIER_SECRET", "secret")
    with FakeCarrier("ups", now=lambda: LATER) as fake:
        fake.add_parcel(UPS_NUMBER, [Scan(NOW - timedelta(hours=5), PackageStatus.LABEL_CREATED, "Label created"),
                                     Scan(NOW - timedelta(hours=2), PackageStatus.IN_TRANSIT, "Picked up",
                                          "Chicago IL US")])
        yield fake


def break_carrier(carrier: FakeCarrier, fault: str) -> None:
    """Make every request to ``carrier`` (tokens too) fail in the way ``fault`` names."""
    if fault == "5xx burst":
        carrier.outage(True)
    elif fault == "slow":
        carrier.latency = 30.0  # far past the client's deadline; mend_carrier lets the held answers go
    else:
        carrier.cut_next(100, "reset" if fault == "reset" else "truncate")


def mend_carrier(carrier: FakeCarrier) -> None:
    carrier.outage(False)
    carrier.latency = 0.0
    carrier.release.set()
    carrier.cut_next(0)


class TestCarriers:
    @pytest.mark.parametrize("fault", FAULTS)
    def test_a_carrier_failing_changes_no_parcel_and_the_next_run_reads_it(
            self, fault: str, engine: Engine, database_url: str, tmp_path: Path, ups: FakeCarrier) -> None:
        """Every call failing: one line naming the carrier, exit 6, the parcel untouched; then it is read, once."""
        settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"), f"""
[carriers.ups]
base_url = "{ups.url}"
client_id_env = "TEST_CARRIER_ID"
client_secret_env = "TEST_CARRIER_SECRET"
timeout_seconds = 0.3
""")
        place_orders(engine, settings, NOW, tmp_path, orders={"9001": ["SKU-ACME"]})
        parcel = add_parcel(engine, "TB9001-ACME")
        break_carrier(ups, fault)
        try:
            failed = run(tmp_path, database_url, "track")
        finally:
            mend_carrier(ups)

        line = one_problem(failed, ExitCode.PARTIAL_FAILURE, "track")
        assert line == "orderflow: track: carrier ups: every poll failed (1 carrier_error)"
        assert parcel_state(engine, parcel) == ("label_created", 0)

        clean(run(tmp_path, database_url, "track", now=LATER))
        clean(run(tmp_path, database_url, "track", now=LATER + timedelta(hours=5)))
        assert parcel_state(engine, parcel) == ("in_transit", 2)


# --- HTTP: the storefront's order API ------------------------------------------------------------------------

class Storefront(LocalHttpServer):
    """The shop's order API (see orderflow.storefronts.http_source): two pages of two orders each.

    ``fault`` (one of FAULTS, or None) breaks the second page only, so a test can see the first one kept.
    """

    def __init__(self) -> None:
        super().__init__()
        self.fault: str | None = None
        self.orders = [storefront_order(str(8001 + n), NOW - timedelta(hours=4 - n)) for n in range(4)]

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        second = parse_qs(urlsplit(target).query).get("page_token") == ["page-2"]
        if second and self.fault == "5xx burst":
            return 503, b"busy", {}
        if second and self.fault == "slow":
            self.release.wait(30)  # far past the client's deadline; the test sets release when done
        if not second and self.fault in ("reset", "truncated"):  # cut every request after this one
            self.cut_next(100, "reset" if self.fault == "reset" else "truncate")
        page = self.orders[2:] if second else self.orders[:2]
        document = {"orders": page, "next_page_token": None if second else "page-2"}
        return 200, json.dumps(document).encode(), {"Content-Type": "application/json"}


def storefront_order(number: str, updated: datetime) -> dict[str, object]:
    return {"order_number": number, "placed_at": updated.isoformat(), "updated_at": updated.isoformat(),
            "customer": {"name": "Pat Doe", "email": "pat@example.com"},
            "shipping": {"name": "Pat Doe", "address1": "1 Main St", "city": "Portland", "province": "ME",
                         "zip": "04101", "country": "US"},
            "currency": "USD", "total": "50.00", "financial_status": "paid",
            "lines": [{"sku": "SKU-ACME", "qty": 2, "price": "25.00"}]}


class TestStorefront:
    @pytest.mark.parametrize("fault", FAULTS)
    def test_a_page_that_fails_keeps_the_pages_before_it_and_the_next_run_resumes(
            self, fault: str, engine: Engine, database_url: str, tmp_path: Path) -> None:
        """The second page fails: one line, the first page's orders kept; the next run stores the rest, once."""
        with Storefront() as storefront:
            settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"),
                                      f'[sources.shop]\nkind = "http"\nurl = "{storefront.url}/orders"\n'
                                      "page_size = 2\ntimeout_seconds = 0.3\n")
            stock_catalog(engine, settings, NOW, [CatalogRow("SKU-ACME", "ACME", "ACME-1")])
            storefront.fault = fault
            try:
                failed = run(tmp_path, database_url, "import", "--source", "shop")
            finally:
                storefront.fault = None
                storefront.cut_next(0)
                storefront.release.set()

            code = ExitCode.INPUT_REFUSED if fault == "truncated" else ExitCode.REMOTE_UNAVAILABLE
            line = one_problem(failed, code, "import")
            assert "/orders" in line
            assert stored_orders(engine) == ["8001", "8002"]

            again = run(tmp_path, database_url, "import", "--source", "shop", now=LATER)
            assert again.exit_code == ExitCode.OK, again.output
            assert stored_orders(engine) == ["8001", "8002", "8003", "8004"]


def stored_orders(engine: Engine) -> list[str]:
    with session_factory(engine)() as session:
        return sorted(session.scalars(select(Order.order_number)))


# --- HTTP webhook and SMTP: pushes ----------------------------------------------------------------------------

@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWebhook]:
    with FakeWebhook() as server:
        monkeypatch.setenv("TEST_SLACK_WEBHOOK", server.webhook_url)
        yield server


class TestPush:
    @pytest.mark.parametrize("fault", ["webhook 5xx burst", "webhook reset", "smtp 4xx"])
    def test_a_push_that_fails_waits_and_goes_once(self, fault: str, *, engine: Engine, database_url: str,
                                                   tmp_path: Path, smtp: SmtpServer, webhook: FakeWebhook) -> None:
        """The failing channel's message waits (one line, exit 6); the other goes; later the first goes, once."""
        settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"), f"""
[email]
host = "{smtp.host}"
port = {smtp.port}
starttls = false
sender = "ops@teebarn.example"
timeout_seconds = 2
[push.email]
to = ["oncall@teebarn.example"]
[push.webhook]
url_env = "TEST_SLACK_WEBHOOK"
""")
        place_orders(engine, settings, NOW, tmp_path, orders={"9101": ["SKU-ACME"]})
        with session_factory(engine)() as session, session.begin():
            session.execute(update(VendorOrder).values(state="rejected", rejected_at=NOW,
                                                       rejection_reason="Discontinued item"))
        if fault == "smtp 4xx":
            smtp.fail_next(1, 451)
        elif fault == "webhook reset":
            webhook.cut_next(1, "drop")  # before Slack took it: a reset after would be posted again
        else:
            webhook.fail_next(1, 503)

        line = one_problem(run(tmp_path, database_url, "rules", "run"), ExitCode.PARTIAL_FAILURE, "rules run")

        kind = "push_email" if fault == "smtp 4xx" else "push_webhook"
        assert line.startswith(f"orderflow: rules run: push {kind} #")
        assert line.endswith("; will retry")
        assert (len(smtp.messages), len(webhook.posts)) == ((0, 1) if kind == "push_email" else (1, 0))
        with session_factory(engine)() as session, session.begin():  # as if the retry delay had passed
            session.execute(update(OutboxMessage).where(OutboxMessage.state == "pending").values(claimed_until=None))

        clean(run(tmp_path, database_url, "rules", "run", now=LATER))
        clean(run(tmp_path, database_url, "rules", "run", now=LATER + timedelta(minutes=10)))
        assert [m["Subject"] for m in smtp.messages] == ["[orderflow] critical: vendor rejected (1)"]
        assert [post["text"].splitlines()[0] for post in webhook.posts] == [
            "*[orderflow] critical: vendor rejected (1)*"]


# --- Database ----------------------------------------------------------------------------------------------------

class TestDatabase:
    @pytest.mark.postgres
    def test_a_backend_terminated_mid_run_fails_the_run_in_one_line_and_the_next_run_completes(
            self, postgres_url: str, tmp_path: Path) -> None:
        """pg_terminate_backend on every connection of a running import: exit 5, one line; a rerun stores all."""
        engine = make_engine(postgres_url)
        try:
            create_schema(engine)
            settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"))
            stock_catalog(engine, settings, NOW, [CatalogRow("SKU-ACME", "ACME", "ACME-1")])
            export = tmp_path / "orders.csv"
            export.write_text(shopify_export({str(6000 + n): ["SKU-ACME"] for n in range(50)}), encoding="utf-8")
            application = f"orderflow-fault-{uuid.uuid4().hex[:8]}"
            url = make_url(postgres_url).update_query_dict({"application_name": application})
            command = [sys.executable, "-m", "orderflow", "--config", str(tmp_path / "orderflow.toml"),
                       "--db", url.render_as_string(hide_password=False), "--now", NOW.isoformat(),
                       "import", str(export)]
            with engine.connect() as blocker, engine.execution_options(isolation_level="AUTOCOMMIT").connect() as admin:
                # The import waits on this lock, so it is surely mid-run when its connections are cut.
                blocker.exec_driver_sql("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
                importing = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                terminated = terminate_when_waiting(admin, application, importing)
                blocker.rollback()
            _, stderr = importing.communicate(timeout=60)
            assert terminated >= 1
            assert importing.returncode == ExitCode.REMOTE_UNAVAILABLE, stderr
            assert stderr == "orderflow: database unavailable: terminating connection due to administrator command\n"
            assert count(engine, Order) == 0

            rerun = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
            assert (rerun.returncode, rerun.stderr) == (0, ""), rerun.stderr
            assert count(engine, Order) == 50
            with session_factory(engine)() as session:
                outcomes = [(run.outcome, run.exit_code, run.error)
                            for run in session.scalars(select(JobRun).order_by(JobRun.id))]
            assert outcomes == [("failed", ExitCode.REMOTE_UNAVAILABLE, stderr.removeprefix("orderflow: ").strip()),
                                ("ok", ExitCode.OK, None)]
        finally:
            engine.dispose()


def terminate_when_waiting(admin: Connection, application: str, process: subprocess.Popen[str]) -> int:
    """Once ``application`` waits on a lock, pg_terminate_backend each of its connections; how many there were.

    ``admin`` autocommits: within one transaction pg_stat_activity would show the same snapshot every time.
    """
    deadline = time.monotonic() + 30
    while not admin.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %(name)s AND wait_event_type = 'Lock'",
            {"name": application}).scalar():
        assert time.monotonic() < deadline, "the import never reached the locked table"
        assert process.poll() is None, process.communicate()
        try:
            process.wait(timeout=0.05)  # paces the polling, and notices a process that ends early
        except subprocess.TimeoutExpired:
            continue
    return int(admin.exec_driver_sql(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = %(name)s) AS cut", {"name": application}).scalar() or 0)


class TestMatrix:
    def test_every_test_the_matrix_names_exists(self) -> None:
        """The module docstring's pointers name real test classes and functions, here or in their files."""
        pointers = [line.strip().split()[0] for line in (__doc__ or "").splitlines()
                    if line.startswith("    ") and "::" in line]
        assert len(pointers) > 20
        missing = [pointer for pointer in pointers if not names_a_test(pointer)]
        assert missing == []


def names_a_test(pointer: str) -> bool:
    """Whether ``[file.py::]Class::test_name`` is a test method defined in that file (default: this one)."""
    *where, cls, name = pointer.split("::")
    source = Path(__file__).with_name(where[0]) if where else Path(__file__)
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.ClassDef) and node.name == cls and any(
        isinstance(item, ast.FunctionDef) and item.name == name for item in node.body) for node in tree.body)
