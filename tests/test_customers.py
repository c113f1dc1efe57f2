"""Shipment notices to customers: one per parcel, by email (a real SMTP server) or POSTed to the storefront.

Order 9001 has two ACME lines and one STITCH line (2 units each), imported on Mon 2 Nov 2026; parcels are added
as a vendor's ship notice would add them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from orderflow.calendars import VendorCalendars
from orderflow.cli.main import app
from orderflow.clock import Clock
from orderflow.config import Settings
from orderflow.customers.notify import notify_customers, plan_notices
from orderflow.db.engine import make_engine, session_factory
from orderflow.db.models import JobRun, Order, OutboxMessage, Shipment, ShipmentLine, VendorOrderLine
from orderflow.errors import ConfigError, ExitCode
from orderflow.jobs import WorkResult
from orderflow.rules.findings import RuleContext
from orderflow.rules.tracking_rules import customer_not_notified
from orderflow.testing.http_server import Answer, LocalHttpServer
from orderflow.testing.smtp import SmtpServer
from tests.support.customers import shop, text_of
from tests.support.servers import create_schema
from tests.support.shop_with_vendors import place_orders

MON = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
TUE = MON + timedelta(days=1)
UPS_NUMBER = "1Z5R89390357567127"
FEDEX_NUMBER = "986578788855"
UPS_LINK = f"https://wwwapps.ups.com/WebTracking/track?track=yes&trackNums={UPS_NUMBER}"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def settings(engine: Engine, tmp_path: Path, smtp: SmtpServer) -> Settings:
    settings = shop(tmp_path, smtp)
    place_orders(engine, settings, MON, tmp_path, orders={"9001": ["SKU-ACME", "SKU-ACME", "SKU-STITCH"]})
    return settings


def add_parcel(engine: Engine, number: str = UPS_NUMBER, *, vendor_order: str = "TB9001-ACME", lines: tuple[int, ...]
               = (1,), carrier: str | None = "ups", scanned: bool = True, **fields: Any) -> int:
    """A parcel carrying 2 units of each of the vendor order's ``lines``, scanned by the carrier on Monday."""
    scan = {"status": "in_transit", "first_scan_at": MON} if scanned else {"status": "label_created"}
    with session_factory(engine)() as session, session.begin():
        shipment = Shipment(vendor_order_id=vendor_order, carrier=carrier, tracking_number=number, reported_at=MON,
                            shipped_at=MON, created_at=MON, updated_at=MON, **{**scan, **fields})
        session.add(shipment)
        session.flush()
        for line_no in lines:
            line = session.scalars(select(VendorOrderLine).where(
                VendorOrderLine.vendor_order_id == vendor_order, VendorOrderLine.line_no == line_no)).one()
            line.qty_shipped += 2
            session.add(ShipmentLine(shipment_id=shipment.id, vendor_order_line_id=line.id, qty=2))
        return shipment.id


def notify(engine: Engine, settings: Settings, now: datetime = TUE, **extra: Any) -> WorkResult:
    return notify_customers(engine=engine, settings=settings, clock=Clock(fixed=now), **extra)


def notified_at(engine: Engine, shipment_id: int) -> datetime | None:
    with session_factory(engine)() as session:
        return session.get_one(Shipment, shipment_id).customer_notified_at


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def set_email(engine: Engine, order_number: str, address: str) -> None:
    with session_factory(engine)() as session, session.begin():
        session.execute(update(Order).where(Order.order_number == order_number).values(customer_email=address))


class TestPolicy:
    def test_scanned_waits_for_the_carriers_first_scan(self, engine: Engine, settings: Settings,
                                                       smtp: SmtpServer) -> None:
        """A label alone tells the customer nothing; the email goes once the carrier has scanned the parcel."""
        parcel = add_parcel(engine, scanned=False)
        assert notify(engine, settings).counts["planned"] == 0
        assert smtp.messages == []
        with session_factory(engine)() as session, session.begin():
            session.execute(update(Shipment).values(status="in_transit", first_scan_at=TUE))
        result = notify(engine, settings)
        assert (result.counts["sent"], len(smtp.messages), notified_at(engine, parcel)) == (1, 1, TUE)

    def test_tracking_announces_a_valid_number_at_once(self, engine: Engine, tmp_path: Path,
                                                       smtp: SmtpServer) -> None:
        """With notify_when = "tracking" a valid number is enough; a number that fails its check digits is not."""
        settings = shop(tmp_path, smtp, 'notify_when = "tracking"')
        place_orders(engine, settings, MON, tmp_path, orders={"9001": ["SKU-ACME", "SKU-STITCH"]})
        add_parcel(engine, scanned=False)
        add_parcel(engine, "1Z5R89390357567128", vendor_order="TB9001-STITCH", scanned=False, tracking_valid=False)
        assert notify(engine, settings).counts == {"planned": 1, "sent": 1, "waiting": 0, "failed": 0, "unknown": 0}
        [message] = smtp.messages
        assert UPS_NUMBER in text_of(message)


class TestMessage:
    def test_the_email_tells_items_carrier_link_and_what_is_still_to_come(
            self, engine: Engine, settings: Settings, smtp: SmtpServer) -> None:
        """Sender, reply-to and shop name from the settings; the parcel's items, its link, and 1 of 3 parcels."""
        parcel = add_parcel(engine, estimated_delivery=datetime(2026, 11, 6, 2, 0, tzinfo=UTC))
        notify(engine, settings)
        [message] = smtp.messages
        assert (message["From"], message["Reply-To"], message["To"]) == (
            "Tee Barn <hello@teebarn.example>", "help@teebarn.example", "Pat Doe <pat@example.com>")
        assert message["Message-ID"] == f"<orderflow.shipment.{parcel}@teebarn.example>"
        assert message["Subject"] == "Part of your Tee Barn order 9001 has shipped (1 of 3 parcels)"
        text = text_of(message)
        assert "In this parcel:\n  2 x Tee SKU-ACME\n" in text
        assert f"Carrier: UPS\nTracking number: {UPS_NUMBER}\nFollow it: {UPS_LINK}\n" in text
        assert "Expected: Thursday, November 5\n" in text  # 02:00 UTC on the 6th is still the 5th in the shop's zone
        assert "1 of 3 parcels shipped.\nStill to ship:\n  2 x Tee SKU-ACME\n  2 x Tee SKU-STITCH\n" in text
        assert f'<a href="{UPS_LINK.replace("&", "&amp;")}">{UPS_NUMBER}</a>' in text_of(message, "html")

    def test_the_last_parcels_say_the_order_is_complete(self, engine: Engine, settings: Settings,
                                                        smtp: SmtpServer) -> None:
        """Two parcels found in one run complete the order: both say 3 of 3, nothing still to ship."""
        add_parcel(engine)
        notify(engine, settings)
        add_parcel(engine, "1Z5R89390357567135", lines=(2,))
        add_parcel(engine, FEDEX_NUMBER, vendor_order="TB9001-STITCH", carrier="fedex")
        notify(engine, settings, TUE + timedelta(hours=1))
        last = smtp.messages[1:]
        assert [m["Subject"] for m in last] == ["Your Tee Barn order 9001 has shipped"] * 2
        assert all("3 of 3 parcels shipped.\nThat is everything you ordered." in text_of(m) for m in last)
        assert "Carrier: FedEx" in text_of(last[1])

    def test_shop_templates_and_tracking_links_replace_ours(self, engine: Engine, tmp_path: Path,
                                                            smtp: SmtpServer) -> None:
        """A shop's own subject template wins, its missing files fall back to ours, its link template is used."""
        (tmp_path / "mail").mkdir()
        (tmp_path / "mail" / "shipment_subject.txt").write_text(
            "{{ shop_name }} #{{ order_number }}: {{ carrier }} {{ tracking_number }}\n", encoding="utf-8")
        settings = shop(tmp_path, smtp, 'templates = "mail"\n[customers.tracking_urls]\n'
                                        'ups = "https://track.teebarn.example/ups/{number}"')
        place_orders(engine, settings, MON, tmp_path, orders={"9001": ["SKU-ACME"]})
        add_parcel(engine)
        notify(engine, settings)
        [message] = smtp.messages
        assert message["Subject"] == f"Tee Barn #9001: UPS {UPS_NUMBER}"
        assert f"Follow it: https://track.teebarn.example/ups/{UPS_NUMBER}\n" in text_of(message)

    def test_a_template_naming_an_unknown_value_stops_before_sending(self, engine: Engine, tmp_path: Path,
                                                                     smtp: SmtpServer) -> None:
        """A typo in a shop template is a configuration error naming the file; the email waits, untried."""
        (tmp_path / "mail").mkdir()
        subject = tmp_path / "mail" / "shipment_subject.txt"
        subject.write_text("Order {{ order_numbr }}\n", encoding="utf-8")
        settings = shop(tmp_path, smtp, 'templates = "mail"')
        place_orders(engine, settings, MON, tmp_path, orders={"9001": ["SKU-ACME"]})
        add_parcel(engine)
        with pytest.raises(ConfigError, match=r"shipment_subject\.txt: 'order_numbr' is undefined"):
            notify(engine, settings)
        [row] = outbox_rows(engine)
        assert (row.state, row.attempts, row.claimed_until, smtp.messages) == ("pending", 0, None, [])
        subject.write_text("Order {{ order_number }}\n", encoding="utf-8")
        notify(engine, settings)
        assert [m["Subject"] for m in smtp.messages] == ["Order 9001"]


class TestOncePerParcel:
    def test_two_runs_send_one_email_per_parcel(self, engine: Engine, settings: Settings, smtp: SmtpServer) -> None:
        """The second run finds every parcel decided and sent: nothing more goes out."""
        parcels = [add_parcel(engine), add_parcel(engine, FEDEX_NUMBER, vendor_order="TB9001-STITCH",
                                                   carrier="fedex")]
        first = notify(engine, settings)
        second = notify(engine, settings, TUE + timedelta(minutes=10))
        assert (first.counts["sent"], second.counts["planned"], second.counts["sent"]) == (2, 0, 0)
        assert sorted(m["Message-ID"] for m in smtp.messages) == [
            f"<orderflow.shipment.{parcel}@teebarn.example>" for parcel in parcels]
        assert [row.state for row in outbox_rows(engine)] == ["sent", "sent"]

    def test_a_kill_after_sending_never_sends_again(self, engine: Engine, settings: Settings, smtp: SmtpServer,
                                                    database_url: str) -> None:
        """SIGKILL after the server took the email: re-runs send nothing; once its lease is over it is unknown."""
        parcel = add_parcel(engine)
        crashed = cli_notify(settings, database_url, crash_at="customers.after_send")
        assert crashed.returncode == -9
        assert len(smtp.messages) == 1
        rerun = notify(engine, settings)
        assert (rerun.exit_code, rerun.counts["sent"], rerun.problems, len(smtp.messages)) == (ExitCode.OK, 0, [], 1)
        with session_factory(engine)() as session, session.begin():  # as if the dead run's lease had run out
            session.execute(update(OutboxMessage).values(claimed_until=datetime.now(UTC) - timedelta(seconds=1)))
        later = notify(engine, settings, TUE + timedelta(hours=1))
        assert (later.exit_code, later.counts["unknown"], len(smtp.messages)) == (ExitCode.PARTIAL_FAILURE, 1, 1)
        assert later.problems == [f"order 9001 parcel {UPS_NUMBER}: the run sending this notice died before "
                                  "recording it; it may have arrived, so it is not sent again"]
        assert notified_at(engine, parcel) is None
        assert notify(engine, settings, TUE + timedelta(hours=2)).problems == []

    @pytest.mark.postgres
    def test_two_processes_at_once_on_postgresql(self, postgres_url: str, tmp_path: Path, smtp: SmtpServer) -> None:
        """Two `customers notify` processes started together on PostgreSQL: every parcel gets exactly one email."""
        engine = make_engine(postgres_url)
        try:
            create_schema(engine)
            settings = shop(tmp_path, smtp)
            place_orders(engine, settings, MON, tmp_path, orders={"9001": ["SKU-ACME"]})
            for index in range(30):
                add_parcel(engine, f"1ZTEST{index:04d}")
        finally:
            engine.dispose()
        processes = [cli_process(settings, postgres_url) for _ in range(2)]
        for process in processes:
            _, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr
        received = Counter(m["Message-ID"] for m in smtp.messages)
        assert len(received) == 30
        assert set(received.values()) == {1}
        engine = make_engine(postgres_url)
        with session_factory(engine)() as session:
            runs = [run.counts for run in session.scalars(select(JobRun))]
        engine.dispose()
        assert [sum(counts[name] for counts in runs) for name in ("planned", "sent")] == [30, 30]


class TestFailures:
    def test_an_unavailable_mail_server_is_retried_on_the_next_run(self, engine: Engine, settings: Settings,
                                                                   smtp: SmtpServer) -> None:
        """A 451 leaves the parcel unannounced (the rule sees it, the error is kept); the next run sends it."""
        smtp.fail_next(1, 451)
        parcel = add_parcel(engine)
        first = notify(engine, settings)
        assert (first.exit_code, first.counts["waiting"], smtp.messages) == (ExitCode.REMOTE_UNAVAILABLE, 1, [])
        [row] = outbox_rows(engine)
        assert (row.state, row.attempts, notified_at(engine, parcel)) == ("pending", 1, None)
        assert "451" in (row.last_error or "")
        assert [f.subject.shipment_id for f in unnotified(engine, settings)] == [parcel]
        second = notify(engine, settings, TUE + timedelta(minutes=10))
        assert (second.exit_code, second.counts["sent"], len(smtp.messages)) == (ExitCode.OK, 1, 1)
        assert unnotified(engine, settings) == []

    def test_three_failures_in_a_row_leave_the_rest_for_the_next_run(self, engine: Engine, settings: Settings,
                                                                     smtp: SmtpServer) -> None:
        """A mail server failing three times running is not tried for every other parcel in the same run."""
        smtp.fail_next(5, 421)
        for index in range(5):
            add_parcel(engine, f"1ZTEST{index:04d}")
        result = notify(engine, settings)
        assert (result.counts["waiting"], len(result.problems)) == (3, 3)
        assert [(row.state, row.attempts) for row in outbox_rows(engine)] == [("pending", 1)] * 3 + [("pending", 0)] * 2

    def test_a_refused_or_missing_address_fails_alone_and_once(self, engine: Engine, tmp_path: Path,
                                                               smtp: SmtpServer) -> None:
        """One problem line each; the good parcel goes; nothing is retried until the order gets an address."""
        settings = shop(tmp_path, smtp)
        place_orders(engine, settings, MON, tmp_path, orders={"9001": ["SKU-ACME"], "9002": ["SKU-ACME"],
                                                              "9003": ["SKU-ACME"]})
        set_email(engine, "9002", "gone@example.com")
        set_email(engine, "9003", "")
        smtp.refuse(["gone@example.com"])
        for index, order in enumerate(("9001", "9002", "9003")):
            add_parcel(engine, f"1ZTEST{index:04d}", vendor_order=f"TB{order}-ACME")
        first = notify(engine, settings)
        assert (first.exit_code, first.counts["sent"], first.counts["failed"]) == (ExitCode.INPUT_REFUSED, 1, 2)
        assert sorted(first.problems) == [
            "order 9002 parcel 1ZTEST0001: mail server 127.0.0.1:"
            f"{smtp.port}: recipient(s) refused: gone@example.com (550 5.1.1 <gone@example.com>: Recipient "
            "address rejected: User unknown)",
            "order 9003 parcel 1ZTEST0002: no usable customer email address on the order ('none given')"]
        again = notify(engine, settings, TUE + timedelta(minutes=10))
        assert (again.exit_code, again.problems, len(smtp.messages)) == (ExitCode.OK, [], 1)
        set_email(engine, "9003", "Sam <sam@example.com>")
        notify(engine, settings, TUE + timedelta(minutes=20))
        assert [m["To"] for m in smtp.messages] == ["Pat Doe <pat@example.com>", "Pat Doe <sam@example.com>"]


    def test_a_name_with_line_breaks_never_adds_a_header_or_stops_the_others(self, engine: Engine, tmp_path: Path,
                                                                               smtp: SmtpServer) -> None:
        """A customer name carrying CR/LF and a Bcc is one display name on one line; every parcel still goes."""
        settings = shop(tmp_path, smtp)
        place_orders(engine, settings, MON, tmp_path, orders={"9001": ["SKU-ACME"], "9002": ["SKU-ACME"]})
        with session_factory(engine)() as session, session.begin():
            session.execute(update(Order).where(Order.order_number == "9001")
                            .values(customer_name="Evil\r\nBcc: x@y.example"))
        for index, order in enumerate(("9001", "9002")):
            add_parcel(engine, f"1ZTEST{index:04d}", vendor_order=f"TB{order}-ACME")
        result = notify(engine, settings)
        assert (result.exit_code, result.counts["sent"], result.problems) == (ExitCode.OK, 2, [])
        assert [mail.recipients for mail in smtp.received] == [("pat@example.com",)] * 2
        assert smtp.messages[0]["To"] == '"Evil Bcc: x@y.example" <pat@example.com>'
        assert smtp.messages[0]["Bcc"] is None

    def test_a_notice_that_cannot_be_built_fails_alone_with_its_reason(self, engine: Engine, tmp_path: Path,
                                                                      smtp: SmtpServer) -> None:
        """An outbox row whose snapshot cannot become an email is failed with why; the notice behind it goes."""
        settings = shop(tmp_path, smtp)
        place_orders(engine, settings, MON, tmp_path, orders={"9001": ["SKU-ACME"], "9002": ["SKU-ACME"]})
        add_parcel(engine, "1ZTEST0000", vendor_order="TB9001-ACME")
        with session_factory(engine)() as session, session.begin():
            plan_notices(session=session, settings=settings, now=TUE)
            first = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
            assert first is not None
            first.payload = {**first.payload, "estimated_delivery": "soon"}
        add_parcel(engine, "1ZTEST0001", vendor_order="TB9002-ACME")
        result = notify(engine, settings)
        assert (result.exit_code, result.counts["sent"], result.counts["failed"]) == (ExitCode.INPUT_REFUSED, 1, 1)
        assert result.problems == ["order 9001 parcel 1ZTEST0000: the notice cannot be written: "
                                   "ValueError: Invalid isoformat string: 'soon'"]
        assert [(row.state, row.last_error) for row in outbox_rows(engine)] == [
            ("failed", "the notice cannot be written: ValueError: Invalid isoformat string: 'soon'"), ("sent", None)]


class FakeStorefront(LocalHttpServer):
    """A storefront's fulfilment endpoint: it wants its token, keeps what it accepted, can fail on request."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.failures = 0
        self.accepted: list[tuple[dict[str, str], dict[str, Any]]] = []
        self._lock = threading.Lock()

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, b'{"error": "unauthorized"}', {"Content-Type": "application/json"}
        with self._lock:
            if self.failures:
                self.failures -= 1
                return 503, b'{"error": "busy"}', {"Content-Type": "application/json"}
            self.accepted.append((dict(headers), json.loads(body)))
        return 201, b'{"ok": true}', {"Content-Type": "application/json"}


class TestStorefront:
    def test_the_fulfilment_is_posted_once_with_the_auth_header(self, engine: Engine, tmp_path: Path,
                                                                 smtp: SmtpServer,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
        """Instead of an email: one POST per parcel with the token from the environment, retried after a 503."""
        monkeypatch.setenv("TEST_SHOP_TOKEN", "s3cret")
        with FakeStorefront("s3cret") as storefront:
            settings = shop(tmp_path, smtp, f'channel = "storefront"\n[customers.storefront]\n'
                                            f'url = "{storefront.url}/fulfilments"\ntoken_env = "TEST_SHOP_TOKEN"')
            place_orders(engine, settings, MON, tmp_path, orders={"9001": ["SKU-ACME", "SKU-STITCH"]})
            parcel = add_parcel(engine)
            storefront.failures = 1
            assert notify(engine, settings).counts["waiting"] == 1
            for minutes in (10, 20):
                notify(engine, settings, TUE + timedelta(minutes=minutes))
            [(headers, document)] = storefront.accepted
        assert headers["idempotency-key"] == f"orderflow-shipment-{parcel}"
        assert document == {"order_number": "9001", "shipment_id": parcel, "carrier": "UPS", "carrier_code": "ups",
                            "items": [{"sku": "SKU-ACME", "name": "Tee SKU-ACME", "qty": 2}],
                            "tracking_number": UPS_NUMBER, "tracking_url": UPS_LINK,
                            "shipped_at": "2026-11-02T15:00:00+00:00"}
        assert (smtp.messages, notified_at(engine, parcel)) == ([], TUE + timedelta(minutes=10))


class TestCommand:
    def test_without_a_customers_section_the_command_says_so(self, tmp_path: Path) -> None:
        """`customers notify` on a shop that has not set notices up: exit 3 and the section to add."""
        (tmp_path / "orderflow.toml").write_text('po_prefix = "TB"\n', encoding="utf-8")
        result = CliRunner().invoke(app, ["--config", str(tmp_path / "orderflow.toml"), "customers", "notify"])
        assert result.exit_code == ExitCode.CONFIG
        assert "add a [customers] section" in result.output


def unnotified(engine: Engine, settings: Settings) -> list[Any]:
    with session_factory(engine)() as session:
        return customer_not_notified(RuleContext(session=session, now=TUE, settings=settings,
                                                 calendars=VendorCalendars(settings.vendors)))


def _command(settings: Settings, database_url: str) -> list[str]:
    return [sys.executable, "-m", "orderflow", "--config", str(settings.base_dir / "orderflow.toml"),
            "--db", database_url, "--now", TUE.isoformat(), "customers", "notify"]


def _env(crash_at: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "ORDERFLOW_CRASH_AT"}
    return env | {"ORDERFLOW_CRASH_AT": crash_at} if crash_at else env


def cli_notify(settings: Settings, database_url: str, *,
               crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(settings, database_url), env=_env(crash_at), capture_output=True, text=True,
                          timeout=60, check=False)


def cli_process(settings: Settings, database_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(_command(settings, database_url), env=_env(None), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
