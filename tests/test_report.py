"""``orderflow report daily``: five CSV files for the shop's day, and one email a day with them attached.

A small hand-made shop (two vendors, a dozen vendor orders, eight parcels, a few notifications) whose every
figure can be worked out by hand; the report is read back from the files and from the email a real SMTP server
(aiosmtpd on loopback) received, and checked row by row.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from orderflow.calendars import BusinessCalendar
from orderflow.cli.main import app
from orderflow.config import CalendarSettings, Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import (
    JobRun,
    Notification,
    NotificationEvent,
    Order,
    OrderLine,
    OutboxMessage,
    Shipment,
    ShipmentLine,
    Silence,
    TrackingEvent,
    VendorOrder,
    VendorOrderLine,
)
from orderflow.errors import ConfigError, ExitCode, InputError
from orderflow.jobs import WorkResult
from orderflow.reports.business_days import business_days_between
from orderflow.reports.cells import csv_bytes, fraction, money, percent
from orderflow.reports.charts import CHART_FILES
from orderflow.reports.daily import daily_report, write_files
from orderflow.reports.period import trends_report
from orderflow.reports.report_day import FILES
from orderflow.reports.summary import Summary, VendorStanding, render, report_templates, summarize
from orderflow.testing.smtp import SmtpServer
from orderflow.vendors.registry import sync_vendors
from tests.support.cli import orderflow
from tests.support.shop_with_vendors import vendor_block, write_settings

SHOP = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)  # Thursday 07:00 in New York: the report is for Wednesday 4 Nov
RECIPIENTS = ["manager@teebarn.example", "owner@teebarn.example"]


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def end_of(day: date) -> datetime:
    """A ship-by: the last microsecond of ``day`` in New York, where both vendors work."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHOP).astimezone(UTC) - timedelta(microseconds=1)


# --- the hand-made shop -----------------------------------------------------------------------------------------

@dataclass
class Parcel:
    number: str
    reported: datetime
    first_scan: datetime | None = None
    delivered: datetime | None = None
    status: str = "in_transit"
    units: int | None = None
    """Units of the vendor order's first line in it; ``None``: every line, whole."""
    shipped_at: datetime | None = None
    events: Sequence[tuple[datetime, str, str, str]] = ()
    """(time, status, description, location)."""
    last_event_at: datetime | None = None


@dataclass
class Part:
    """One vendor order of an order: its lines are ``(qty, price)``."""

    order: str
    vendor: str
    state: str
    sent: datetime
    ship_by: datetime
    lines: Sequence[tuple[int, str]] = ((1, "20.00"),)
    acked: datetime | None = None
    parcels: Sequence[Parcel] = ()
    line_changes: dict[str, Any] = field(default_factory=dict)
    """Fields set on the first line (rejections, backorders)."""
    rejected: str | None = None
    """A rejection of the whole vendor order, with this reason."""


PLACED = {"900": utc(9, 1, 14), "1001": utc(10, 26, 14), "1002": utc(10, 27, 14), "1003": utc(10, 30, 14),
          "1004": utc(11, 2, 14), "1005": utc(10, 28, 14), "1006": utc(10, 29, 14), "1007": utc(11, 2, 16),
          "1008": utc(10, 30, 16), "1009": utc(10, 28, 14)}
SHIP_CITY = {"1007": "=SUM(1+1)"}
CANCELLED_ORDERS = {"1009"}

PARTS = [
    # Outside the scorecard's 30 days; its parcel was still on the way at the end of Wednesday.
    Part("900", "ACME", "delivered", utc(9, 1, 15), end_of(date(2026, 9, 3)), acked=utc(9, 5, 19), parcels=[
        Parcel("1ZOLD0000900", utc(10, 1, 12), first_scan=utc(10, 1, 14), delivered=utc(11, 5, 9), status="delivered",
               events=[(utc(10, 1, 14), "in_transit", "Origin scan", "Reno, NV"),
                       (utc(10, 2, 8), "in_transit", "Departed facility", "Salt Lake City, UT"),
                       (utc(11, 5, 9), "delivered", "Delivered", "Portland, ME")], last_event_at=utc(11, 5, 9))]),
    # ACME: scanned the day after sending, on time; acknowledged in 2 hours; tracking 4 hours after the scan.
    Part("1001", "ACME", "delivered", utc(10, 26, 15), end_of(date(2026, 10, 28)), acked=utc(10, 26, 17), parcels=[
        Parcel("1ZACME001", utc(10, 27, 20), first_scan=utc(10, 27, 16), delivered=utc(10, 29, 18),
               status="delivered")]),
    # Scanned late (Monday for a Thursday ship-by); tracking came before the scan; still on the way.
    Part("1002", "ACME", "shipped", utc(10, 27, 15), end_of(date(2026, 10, 29)), acked=utc(10, 27, 21), parcels=[
        Parcel("1ZACME002", utc(11, 2, 13), first_scan=utc(11, 2, 15),
               events=[(utc(11, 2, 15), "in_transit", "Origin scan", "Reno, NV"),
                       (utc(11, 3, 9), "in_transit", "Departed facility", "Memphis, TN")],
               last_event_at=utc(11, 3, 9))]),
    # Rejected whole.
    Part("1003", "ACME", "rejected", utc(10, 30, 15), end_of(date(2026, 11, 3)), acked=utc(10, 30, 16),
         rejected="address invalid", line_changes={"state": "rejected"}),
    # Due at the very end of Wednesday: not late yet, not due for the scorecard; its line is backordered.
    Part("1004", "ACME", "accepted", utc(11, 2, 15), end_of(date(2026, 11, 4)),
         line_changes={"state": "backordered", "qty_backordered": 1}),
    # A label, never scanned: late, and tracking not scanned.
    Part("1005", "ACME", "accepted", utc(10, 28, 15), end_of(date(2026, 10, 30)), lines=[(2, "25.00"), (1, "9.99")],
         acked=utc(10, 28, 15, 30), parcels=[
             Parcel("1ZACME005", utc(10, 29, 14), shipped_at=utc(10, 29, 12), status="label_created")]),
    # One of three units scanned on time (then delivered after a failed attempt): still late for the other two.
    Part("1006", "ACME", "partially_shipped", utc(10, 29, 15), end_of(date(2026, 11, 2)), lines=[(3, "12.50")],
         acked=utc(10, 29, 18), parcels=[
             Parcel("1ZACME006", utc(11, 2, 23), first_scan=utc(11, 2, 18), delivered=utc(11, 4, 15),
                    status="delivered", units=1,
                    events=[(utc(11, 3, 17), "delivery_attempted", "Nobody home", "Portland, ME")])]),
    # Scanned on Wednesday, on time; the carrier's exception came after the report's day ended.
    Part("1007", "ACME", "shipped", utc(11, 2, 17), end_of(date(2026, 11, 4)), acked=utc(11, 3, 14), parcels=[
        Parcel("1ZACME007", utc(11, 4, 22), first_scan=utc(11, 4, 20), status="exception",
               events=[(utc(11, 4, 20), "in_transit", "Picked up", "Reno, NV"),
                       (utc(11, 5, 10), "exception", "Damaged", "Memphis, TN")], last_event_at=utc(11, 5, 10))]),
    # Sent, never shipped, but its order was cancelled: not late, not judged.
    Part("1009", "ACME", "sent", utc(10, 28, 15), end_of(date(2026, 10, 30))),
    # BOLT: scanned late; one of two units rejected as discontinued; acknowledged after a day.
    Part("1001", "BOLT", "delivered", utc(10, 26, 15), end_of(date(2026, 10, 28)), lines=[(2, "30.00")],
         acked=utc(10, 27, 15), line_changes={"qty_rejected": 1, "reason": "discontinued"}, parcels=[
             Parcel("1ZBOLT001", utc(10, 28, 20), first_scan=utc(10, 29, 14), delivered=utc(10, 31, 16),
                    status="delivered")]),
    # Scanned on Wednesday, a day late; tracking 6 hours after the scan.
    Part("1008", "BOLT", "shipped", utc(10, 30, 17), end_of(date(2026, 11, 3)), acked=utc(10, 30, 21), parcels=[
        Parcel("1ZBOLT008", utc(11, 4, 19), first_scan=utc(11, 4, 13),
               events=[(utc(11, 4, 13), "in_transit", "Origin scan", "Dallas, TX")], last_event_at=utc(11, 4, 13))]),
]


def build_shop(engine: Engine, settings: Settings) -> None:
    with session_factory(engine)() as session, session.begin():
        sync_vendors(session=session, settings=settings, now=NOW)
        orders: dict[str, Order] = {}
        for number, placed in PLACED.items():
            orders[number] = Order(source="shopify", order_number=number, placed_at=placed, content_hash=number,
                                   customer_name="Pat Doe", ship_city=SHIP_CITY.get(number, "Portland"),
                                   state="cancelled" if number in CANCELLED_ORDERS else "open",
                                   created_at=placed, updated_at=placed)
            session.add(orders[number])
        session.flush()
        for part in PARTS:
            _add_part(session, orders[part.order], part)
        for fields in NOTIFICATIONS:
            notification = Notification(fingerprint=f"fp-{fields['subject_id']}-{fields['rule']}",
                                        subject_type="vendor_order", vendor_order_id=fields["subject_id"],
                                        last_seen_at=NOW, **fields)
            session.add(notification)
            session.flush()
            session.add_all(history_of(notification))


def history_of(notification: Notification) -> list[NotificationEvent]:
    """The events the rules and staff would have recorded: opened, then acknowledged (an hour later) or
    resolved."""
    opened = notification.opened_at
    assert opened is not None
    events = [NotificationEvent(notification_id=notification.id, at=opened, from_state=None, to_state="open",
                                reason=f"{notification.rule}: {notification.evidence}")]
    if notification.state == "acknowledged":
        events.append(NotificationEvent(notification_id=notification.id, at=opened + timedelta(hours=1),
                                        from_state="open", to_state="acknowledged", reason="acknowledged",
                                        actor=notification.acked_by or ""))
    if notification.resolved_at is not None:
        events.append(NotificationEvent(notification_id=notification.id, at=notification.resolved_at,
                                        from_state="open", to_state="resolved", reason="auto: no longer found"))
    return events


def _add_part(session: Any, order: Order, part: Part) -> None:
    vendor_order_id = f"TB{order.order_number}-{part.vendor}"
    session.add(VendorOrder(id=vendor_order_id, order_id=order.id, vendor_code=part.vendor, state=part.state,
                            ship_by=part.ship_by, sent_at=part.sent, acknowledged_at=part.acked,
                            rejected_at=part.acked if part.rejected else None, rejection_reason=part.rejected,
                            created_at=part.sent, updated_at=part.sent))
    vendor_lines = []
    for number, (qty, price) in enumerate(part.lines, start=1):
        line = OrderLine(order_id=order.id, line_no=len(order.lines) + 1, sku=f"SKU-{part.vendor}", qty=qty,
                         price=Decimal(price), vendor_code=part.vendor, state="accepted")
        order.lines.append(line)
        session.flush()
        vendor_line = VendorOrderLine(vendor_order_id=vendor_order_id, order_line_id=line.id, line_no=number,
                                      sku=line.sku, vendor_sku=f"{part.vendor}-{number}", qty=qty,
                                      **({"state": "accepted"} | (part.line_changes if number == 1 else {})))
        session.add(vendor_line)
        vendor_lines.append(vendor_line)
    session.flush()
    for parcel in part.parcels:
        shipment = Shipment(vendor_order_id=vendor_order_id, carrier="ups", tracking_number=parcel.number,
                            reported_at=parcel.reported, shipped_at=parcel.shipped_at, status=parcel.status,
                            first_scan_at=parcel.first_scan, delivered_at=parcel.delivered,
                            last_event_at=parcel.last_event_at, created_at=parcel.reported, updated_at=parcel.reported)
        session.add(shipment)
        session.flush()
        contents = [(vendor_lines[0], parcel.units)] if parcel.units else [(line, line.qty) for line in vendor_lines]
        for vendor_line, units in contents:
            session.add(ShipmentLine(shipment_id=shipment.id, vendor_order_line_id=vendor_line.id, qty=units))
        for at, status, description, location in parcel.events:
            session.add(TrackingEvent(shipment_id=shipment.id, occurred_at=at, status=status, code=status.upper(),
                                      description=description, location=location, recorded_at=at))


NOTIFICATIONS: list[dict[str, Any]] = [
    {"rule": "vendor_late", "severity": "warning", "state": "open", "subject_id": "TB1005-ACME",
     "vendor_code": "ACME", "order_number": "1005", "evidence": '=HYPERLINK("http://evil.example")',
     "opened_at": utc(11, 2, 18)},
    {"rule": "vendor_rejected", "severity": "critical", "state": "open", "subject_id": "TB1003-ACME",
     "vendor_code": "ACME", "order_number": "1003", "evidence": "whole order rejected by ACME: address invalid",
     "opened_at": utc(10, 30, 16)},
    {"rule": "carrier_exception", "severity": "warning", "state": "acknowledged", "subject_id": "TB1006-ACME",
     "vendor_code": "ACME", "order_number": "1006", "evidence": "UPS: delivery attempted", "opened_at": utc(11, 3, 17),
     "acked_by": "sam"},
    {"rule": "vendor_late", "severity": "warning", "state": "resolved", "subject_id": "TB1002-ACME",
     "vendor_code": "ACME", "order_number": "1002", "evidence": "no tracking", "opened_at": utc(10, 31, 17),
     "resolved_at": utc(11, 2, 15)},
    {"rule": "not_acknowledged", "severity": "warning", "state": "open", "subject_id": "TB1003-ACME",
     "vendor_code": "ACME", "order_number": "1003", "evidence": "not acknowledged", "opened_at": utc(10, 30, 20),
     "suppressed_by": "vendor_rejected"},
]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(tls="starttls") as server:
        server.require_auth("reports", "s3cret")
        yield server


@pytest.fixture
def shop(engine: Engine, tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The hand-made shop, with email over STARTTLS and a login from the environment. It tracks its UPS parcels,
    so a label UPS never scanned is no evidence of shipping."""
    monkeypatch.setenv("REPORT_SMTP_USER", "reports")
    monkeypatch.setenv("REPORT_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("REPORT_UPS_ID", "id")
    monkeypatch.setenv("REPORT_UPS_SECRET", "secret")
    settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"),
                              vendor_block("BOLT", "csv", "local", path="bolt"), f"""
[carriers.ups]
client_id_env = "REPORT_UPS_ID"
client_secret_env = "REPORT_UPS_SECRET"
[email]
host = "{smtp.host}"
port = {smtp.port}
starttls = true
username_env = "REPORT_SMTP_USER"
password_env = "REPORT_SMTP_PASSWORD"
sender = "Tee Barn ops <ops@teebarn.example>"
tls_ca_file = "{smtp.ca_file}"
[report]
recipients = {json.dumps(RECIPIENTS)}
""")
    build_shop(engine, settings)
    return settings


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def files_of(folder: Path) -> dict[str, list[dict[str, str]]]:
    return {name: rows((folder / name).read_bytes()) for name in FILES}


def report(engine: Engine, settings: Settings, tmp_path: Path, **options: Any) -> dict[str, list[dict[str, str]]]:
    """Run the report in this process and read its files back."""
    result = daily_report(engine=engine, settings=settings, now=NOW, out_dir=tmp_path / "out", **options)
    assert result.exit_code == ExitCode.OK, result.problems
    return files_of(tmp_path / "out")


def attachments(message: EmailMessage) -> dict[str, list[dict[str, str]]]:
    found = {}
    for part in message.iter_attachments():
        assert part.get_content_type() == "text/csv"
        content = part.get_payload(decode=True)
        assert isinstance(content, bytes)
        found[str(part.get_filename())] = rows(content)
    return found


def pick(table: list[dict[str, str]], *columns: str) -> list[tuple[str, ...]]:
    return [tuple(row[column] for column in columns) for row in table]


# --- the email ------------------------------------------------------------------------------------------------

class TestEmail:
    def test_cron_sends_the_day_once_with_the_files_attached(self, shop: Settings, smtp: SmtpServer, engine: Engine,
                                                             database_url: str, tmp_path: Path) -> None:
        """The CLI emails one message over STARTTLS with login; its CSVs match the database; a re-run sends nothing."""
        options = ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now", NOW.isoformat(),
                   "report", "daily", "--email"]
        environment = {"REPORT_SMTP_USER": "reports", "REPORT_SMTP_PASSWORD": "s3cret"}
        first = orderflow(*options, env=environment)
        assert (first.returncode, first.stderr) == (0, "")
        again = daily_report(engine=engine, settings=shop, now=NOW + timedelta(hours=1), email=True)
        assert (again.exit_code, again.counts["already_sent"], again.problems) == (ExitCode.OK, 1, [])
        [mail] = smtp.received
        assert (mail.login, mail.encrypted, sorted(mail.recipients)) == ("reports", True, RECIPIENTS)
        message = mail.message
        assert message["Subject"] == ("[orderflow] Daily report for Wed 4 Nov 2026: 3 open problems, 2 shipped, "
                                      "2 late")
        sent = attachments(message)
        assert list(sent) == list(FILES)
        with session_factory(engine)() as session:
            scanned_wednesday = list(session.execute(
                select(Shipment.tracking_number, VendorOrder.id, Order.order_number)
                .join(VendorOrder, VendorOrder.id == Shipment.vendor_order_id)
                .join(Order, Order.id == VendorOrder.order_id)
                .where(Shipment.first_scan_at >= utc(11, 4, 5), Shipment.first_scan_at < utc(11, 5, 5))
                .order_by(Shipment.first_scan_at)))
            [command] = session.scalars(select(JobRun.command))
        assert pick(sent["shipped.csv"], "tracking_number", "vendor_order", "order_number") == [
            tuple(row) for row in scanned_wednesday]
        assert pick(sent["shipped.csv"], "ship_city") == [("Portland",), ("'=SUM(1+1)",)]
        assert [row["evidence"] for row in sent["open_notifications.csv"]][2] == "'=HYPERLINK(\"http://evil.example\")"
        assert sent == files_of(tmp_path / "reports" / "2026-11-04")
        assert command == "report daily"

    def test_the_summary_has_html_and_a_link_free_text(self, shop: Settings, smtp: SmtpServer, engine: Engine,
                                                       tmp_path: Path) -> None:
        """The body counts problems by type and severity and names the worst vendor; the text has no links."""
        report(engine, shop, tmp_path, email=True)
        [message] = smtp.messages
        plain = message.get_body(("plain",))
        rich = message.get_body(("html",))
        assert plain is not None
        assert rich is not None
        text, html = plain.get_content(), rich.get_content()
        assert "Open problems: 3 (1 critical, 2 warning)" in text
        assert "  vendor rejected                    1         0         0         0       1" in text
        # Held up: TB1003 rejected (20.00) and TB1005 late (59.99); its hidden not_acknowledged counts for nothing.
        assert ("  ACME (Vendor ACME): holding up 2 vendor orders worth 79.99, on time 60.0% of 5, 2 late now, "
                "rejected 12.5% of 8, 3 open problems") in text
        assert text.index("ACME (Vendor ACME)") < text.index("BOLT (Vendor BOLT)")
        assert "http" not in text
        assert "<td style=\"border:1px solid #ccc;padding:2px 8px;text-align:left\">vendor rejected</td>" in html
        assert "ACME (Vendor ACME)" in html

    def test_the_charts_are_inline_pictures_the_html_refers_to_and_files_in_the_folder(
            self, shop: Settings, smtp: SmtpServer, engine: Engine, tmp_path: Path) -> None:
        """multipart/alternative holds the text and a multipart/related of the HTML and its PNGs; every cid: in
        the HTML names a part's Content-ID, every picture is used, and each is the PNG saved in the folder."""
        report(engine, shop, tmp_path, email=True)
        [message] = smtp.messages
        [alternative] = [part for part in message.iter_parts() if part.get_content_type() == "multipart/alternative"]
        plain, related = alternative.iter_parts()
        assert (plain.get_content_type(), related.get_content_type()) == ("text/plain", "multipart/related")
        html_part, *pictures = related.iter_parts()
        assert html_part.get_content_type() == "text/html"
        html = html_part.get_content()
        referred = re.findall(r'src="cid:([^"]+)"', html)
        by_id = {str(picture["Content-ID"]).strip("<>"): picture for picture in pictures}
        assert sorted(referred) == sorted(by_id)
        assert {picture.get_filename() for picture in pictures} == set(CHART_FILES)
        for picture in pictures:
            content = picture.get_payload(decode=True)
            assert picture.get_content_type() == "image/png"
            assert isinstance(content, bytes)
            assert content.startswith(b"\x89PNG\r\n\x1a\n")
            assert content == (tmp_path / "out" / str(picture.get_filename())).read_bytes()
        assert "Charts are off" not in plain.get_content()

    def test_each_headline_figure_beside_the_day_before_and_the_week(self, shop: Settings, smtp: SmtpServer,
                                                                     engine: Engine, tmp_path: Path) -> None:
        """Wednesday's figures, Tuesday's, and the average of the 7 days before Wednesday, worked out by hand."""
        report(engine, shop, tmp_path, email=True)
        [message] = smtp.messages
        plain = message.get_body(("plain",))
        assert plain is not None
        lines = plain.get_content().splitlines()
        assert [line for line in lines if line.startswith("  ") and line.split()[0] in (
            "figure", "Orders", "Vendor", "Parcels", "Open", "Value")][:10] == [
            "  figure                        that day  day before   7-day avg",
            # placed 28 Oct to 3 Nov: 1005, 1009, 1006, 1003, 1008, 1004, 1007 (seven in seven days)
            "  Orders received                      0           0           1",
            "  Vendor orders sent                   0           0           1",
            # the week before: 1ZBOLT001 (29 Oct), 1ZACME002 and 1ZACME006 (2 Nov)
            "  Parcels first scanned                2           0         0.4",
            "  Parcels delivered                    1           0         0.3",  # 1ZACME006; 1ZACME001, 1ZBOLT001
            # TB1003's rejection, open since 30 Oct: five of the seven days before
            "  Open problems, critical              1           1         0.7",
            "  Open problems, high                  0           0           0",
            "  Open problems, warning               2           2         0.7",
            "  Open problems, info                  0           0           0",
            # TB1003 20.00 + TB1005 59.99 + TB1006 37.50 (exception)
            "  Value of orders at risk         117.49      117.49       42.50"]
        assert "  ACME                       that day 1 of 1 (100.0%); the 7 days before 1 of 2 (50.0%)" in lines
        assert "  UPS                        that day 1 of 2 (50.0%); the 7 days before 1 of 3 (33.3%)" in lines

    def test_resend_sends_the_same_day_again_on_purpose(self, shop: Settings, smtp: SmtpServer, engine: Engine,
                                                        tmp_path: Path) -> None:
        """--resend sends a second message for the day, with its own Message-ID; without it nothing more goes."""
        report(engine, shop, tmp_path, email=True)
        report(engine, shop, tmp_path, email=True)
        report(engine, shop, tmp_path, email=True, resend=True)
        first, again = smtp.messages
        assert first["Message-ID"] != again["Message-ID"]
        assert attachments(first) == attachments(again)

    def test_a_mail_server_down_is_retried_by_the_next_run(self, shop: Settings, smtp: SmtpServer, engine: Engine,
                                                           tmp_path: Path) -> None:
        """A 451 leaves the day's email waiting (exit 5, one line saying so); the next run sends it once."""
        smtp.fail_next(1, 451)
        failed = daily_report(engine=engine, settings=shop, now=NOW, out_dir=tmp_path / "out", email=True)
        assert failed.exit_code == ExitCode.REMOTE_UNAVAILABLE
        [problem] = failed.problems
        assert problem.startswith("the report for 2026-11-04 was not sent: mail server 127.0.0.1:")
        report(engine, shop, tmp_path, email=True)
        report(engine, shop, tmp_path, email=True)
        assert len(smtp.messages) == 1
        with session_factory(engine)() as session:
            [row] = session.scalars(select(OutboxMessage))
        assert (row.dedupe_key, row.state, row.attempts) == ("report_daily:2026-11-04", "sent", 2)

    def test_a_missing_mail_password_leaves_the_email_waiting_not_maybe_sent(
            self, shop: Settings, smtp: SmtpServer, engine: Engine, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> None:
        """Nothing went out, so the day's email waits with why (not 'sending', which would later read as maybe
        sent); once the password is back the next run sends it, once."""
        monkeypatch.delenv("REPORT_SMTP_PASSWORD")
        with pytest.raises(ConfigError, match="REPORT_SMTP_PASSWORD"):
            daily_report(engine=engine, settings=shop, now=NOW, out_dir=tmp_path / "out", email=True)
        with session_factory(engine)() as session:
            [row] = session.scalars(select(OutboxMessage))
        assert (row.state, smtp.messages) == ("pending", [])
        assert "REPORT_SMTP_PASSWORD" in (row.last_error or "")
        monkeypatch.setenv("REPORT_SMTP_PASSWORD", "s3cret")
        sent = daily_report(engine=engine, settings=shop, now=NOW, out_dir=tmp_path / "out", email=True)
        assert (sent.exit_code, sent.counts["emailed"], len(smtp.messages)) == (ExitCode.OK, 1, 1)

    def test_a_run_that_died_while_sending_is_not_sent_again_by_itself(self, shop: Settings, smtp: SmtpServer,
                                                                       engine: Engine, tmp_path: Path) -> None:
        """An email left 'sending' by a dead run may have arrived: cron only says so (exit 6); --resend sends it."""
        with session_factory(engine)() as session, session.begin():
            session.add(OutboxMessage(kind="report_email", dedupe_key="report_daily:2026-11-04", state="sending",
                                      attempts=1, created_at=NOW, claimed_until=datetime.now(UTC) - timedelta(1)))
        stuck = daily_report(engine=engine, settings=shop, now=NOW, out_dir=tmp_path / "out", email=True)
        assert (stuck.exit_code, stuck.counts["maybe_sent"], smtp.messages) == (ExitCode.PARTIAL_FAILURE, 1, [])
        [problem] = stuck.problems
        assert problem.startswith("the report for 2026-11-04 may have been sent already (a run died while sending")
        report(engine, shop, tmp_path, email=True, resend=True)
        assert len(smtp.messages) == 1

    def test_resend_goes_with_email(self, engine: Engine, tmp_path: Path) -> None:
        """--resend alone is refused: it only means something for the email."""
        settings = write_settings(tmp_path)
        with pytest.raises(InputError, match="--resend re-sends the email: use it with --email"):
            daily_report(engine=engine, settings=settings, now=NOW, out_dir=tmp_path / "out", resend=True)

    def test_email_needs_recipients(self, engine: Engine, tmp_path: Path) -> None:
        """--email without report.recipients is a configuration error, before anything is built."""
        settings = write_settings(tmp_path, "[email]\nhost = \"localhost\"\n")
        with pytest.raises(ConfigError, match=r"report\.recipients"):
            daily_report(engine=engine, settings=settings, now=NOW, out_dir=tmp_path / "out", email=True)


# --- a past day, the same whenever it is made -----------------------------------------------------------------

WEDNESDAY = date(2026, 11, 4)


def what_happened_since(engine: Engine) -> None:
    """Thursday to Monday, as the rules, staff and carriers would change the shop: notifications acknowledged,
    resolved, reworded and opened; a late parcel scanned at last, another delivered, a vendor order rejected,
    an order cancelled, and tracking for a parcel scanned on Wednesday that only reached us on Friday."""
    with session_factory(engine)() as session, session.begin():
        notes = {(n.rule, n.vendor_order_id): n for n in session.scalars(select(Notification))}
        late = notes["vendor_late", "TB1005-ACME"]
        session.add(NotificationEvent(notification_id=late.id, at=utc(11, 6, 14), from_state="open",
                                      to_state="acknowledged", reason="on it", actor="kim"))
        late.state, late.acked_by, late.evidence = "acknowledged", "kim", "6 business days late"
        rejected = notes["vendor_rejected", "TB1003-ACME"]
        session.add(NotificationEvent(notification_id=rejected.id, at=utc(11, 7, 9), from_state="open",
                                      to_state="resolved", reason="staff: re-sent"))
        rejected.state, rejected.resolved_at = "resolved", utc(11, 7, 9)
        for note in notes.values():
            note.last_seen_at = note.pushed_at = utc(11, 9, 12)
        fresh = Notification(fingerprint="fp-new", rule="carrier_exception", severity="critical", state="open",
                             subject_type="vendor_order", subject_id="TB1007-ACME", vendor_order_id="TB1007-ACME",
                             vendor_code="ACME", order_number="1007", evidence="Damaged", opened_at=utc(11, 5, 10),
                             last_seen_at=utc(11, 9, 12))
        session.add(fresh)
        session.flush()
        session.add_all(history_of(fresh))

        parcels = {p.tracking_number: p for p in session.scalars(select(Shipment))}
        label = parcels["1ZACME005"]
        label.first_scan_at = label.last_event_at = utc(11, 6, 15)
        label.status = "in_transit"
        session.add(TrackingEvent(shipment_id=label.id, occurred_at=utc(11, 6, 15), status="in_transit",
                                  code="IT", description="Origin scan", recorded_at=utc(11, 6, 16)))
        orders = {v.id: v for v in session.scalars(select(VendorOrder))}
        orders["TB1005-ACME"].state, orders["TB1005-ACME"].updated_at = "shipped", utc(11, 6, 16)
        for line in orders["TB1005-ACME"].lines:
            line.qty_shipped, line.state = line.qty, "shipped"
        on_the_way = parcels["1ZACME002"]
        on_the_way.status, on_the_way.delivered_at, on_the_way.last_event_at = "delivered", utc(11, 7, 18), \
            utc(11, 7, 18)
        session.add(TrackingEvent(shipment_id=on_the_way.id, occurred_at=utc(11, 7, 18), status="delivered",
                                  code="D", description="Delivered", recorded_at=utc(11, 7, 19)))
        partly = orders["TB1006-ACME"]
        partly.state, partly.rejected_at, partly.updated_at = "rejected", utc(11, 6, 9), utc(11, 6, 9)
        partly.lines[0].state, partly.lines[0].qty_rejected = "rejected", 2
        bolt = session.scalars(select(Order).where(Order.order_number == "1008")).one()
        bolt.state, bolt.cancelled_at = "cancelled", utc(11, 8, 9)
        session.add(Shipment(vendor_order_id="TB1007-ACME", carrier="ups", tracking_number="1ZLATE007",
                             reported_at=utc(11, 6, 12), first_scan_at=utc(11, 4, 21), status="in_transit",
                             created_at=utc(11, 6, 12), updated_at=utc(11, 6, 12)))


class TestAPastDay:
    def test_the_report_for_a_day_is_the_same_on_the_next_day_and_five_days_on(self, shop: Settings, engine: Engine,
                                                                              tmp_path: Path) -> None:
        """Wednesday's report made on Thursday and again on Monday, after a week of changes, has the same files
        byte for byte; and those changes did show in Monday's own report (so the comparison can fail)."""
        first = daily_report(engine=engine, settings=shop, now=NOW, day=WEDNESDAY, out_dir=tmp_path / "thursday")
        assert first.counts["open_notifications"] == 3
        what_happened_since(engine)
        monday = NOW + timedelta(days=4)
        again = daily_report(engine=engine, settings=shop, now=monday, day=WEDNESDAY, out_dir=tmp_path / "monday")
        for name in FILES:
            assert (tmp_path / "monday" / name).read_bytes() == (tmp_path / "thursday" / name).read_bytes(), name
        assert again.counts == first.counts
        today = files_of(_written(daily_report(engine=engine, settings=shop, now=monday, out_dir=tmp_path / "now")))
        assert pick(today["open_notifications.csv"], "rule", "state", "acked_by") == [
            ("carrier_exception", "open", ""), ("carrier_exception", "acknowledged", "sam"),
            ("vendor_late", "acknowledged", "kim")]
        assert "1ZACME002" not in [row["tracking_number"] for row in today["in_transit_aging.csv"]]

    def test_a_notification_without_events_is_told_by_its_own_times(self, shop: Settings, engine: Engine,
                                                                     tmp_path: Path) -> None:
        """Opened on Tuesday and acknowledged on Thursday, with no events kept: open on Wednesday's report."""
        with session_factory(engine)() as session, session.begin():
            session.add(Notification(fingerprint="fp-old", rule="vendor_late", severity="warning",
                                     state="acknowledged", subject_type="vendor_order", subject_id="TB1002-ACME",
                                     vendor_order_id="TB1002-ACME", vendor_code="ACME", evidence="made by hand",
                                     opened_at=utc(11, 3, 12), acked_at=utc(11, 5, 11), acked_by="kim"))
        queue = report(engine, shop, tmp_path)["open_notifications.csv"]
        assert pick(queue, "vendor_order", "state", "acked_by", "evidence")[-1] == (
            "TB1002-ACME", "open", "", "made by hand")

    def test_a_silence_hides_only_while_it_was_active(self, shop: Settings, engine: Engine, tmp_path: Path) -> None:
        """A silence on ACME's lateness from Tuesday to Thursday hid it on Wednesday, though it has ended since
        and the notification no longer says it is hidden; on Friday it shows."""
        with session_factory(engine)() as session, session.begin():
            session.add(Silence(matchers={"rule": "vendor_late", "vendor": "acme"}, starts_at=utc(11, 3, 12),
                                ends_at=utc(11, 5, 12), comment="ACME's van broke down", created_by="sam",
                                created_at=utc(11, 3, 12)))
        wednesday = report(engine, shop, tmp_path, day=WEDNESDAY)["open_notifications.csv"]
        assert [row["rule"] for row in wednesday] == ["vendor_rejected", "carrier_exception"]
        friday = daily_report(engine=engine, settings=shop, now=utc(11, 7, 12), day=date(2026, 11, 6),
                              out_dir=tmp_path / "friday")
        assert [row["rule"] for row in files_of(_written(friday))["open_notifications.csv"]] == [
            "vendor_rejected", "carrier_exception", "vendor_late"]

    def test_a_folder_written_after_the_day_is_kept_unless_forced(self, shop: Settings, engine: Engine,
                                                                   tmp_path: Path) -> None:
        """A second run for a day that is over keeps the folder as it is (counted 'kept'); --force writes it
        again; a folder written while the day was still going is replaced by the next run."""
        folder = tmp_path / "out"
        daily_report(engine=engine, settings=shop, now=NOW - timedelta(hours=12), day=WEDNESDAY, out_dir=folder)
        assert json.loads((folder / "report.json").read_text())["final"] is False
        daily_report(engine=engine, settings=shop, now=NOW, day=WEDNESDAY, out_dir=folder)
        assert json.loads((folder / "report.json").read_text()) == {
            "day": "2026-11-04", "as_of": "2026-11-05T04:59:59.999999+00:00", "final": True}
        (folder / "shipped.csv").write_text("edited by hand")
        kept = daily_report(engine=engine, settings=shop, now=NOW, day=WEDNESDAY, out_dir=folder)
        assert (kept.counts["kept"], (folder / "shipped.csv").read_text()) == (1, "edited by hand")
        forced = daily_report(engine=engine, settings=shop, now=NOW, day=WEDNESDAY, out_dir=folder, force=True)
        assert "kept" not in forced.counts
        assert len(rows((folder / "shipped.csv").read_bytes())) == 2

    def test_the_cli_says_a_folder_was_kept(self, shop: Settings, database_url: str, tmp_path: Path) -> None:
        """The command line's --force, and the line that says a folder was kept."""
        options = ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now", NOW.isoformat(),
                   "report", "daily", "--out", str(tmp_path / "out")]
        assert orderflow(*options).returncode == 0
        kept = orderflow("--verbose", *options)
        assert kept.returncode == 0
        assert f"report daily: kept the report already in {tmp_path / 'out'} (written after the day was over; " \
               "--force writes it again)" in kept.stderr
        forced = orderflow("--verbose", *options, "--force")
        assert (forced.returncode, forced.stderr.splitlines()[-1]) == (0, f"report daily: files in {tmp_path / 'out'}")


def _written(result: WorkResult) -> Path:
    return Path(result.detail[0]).parent


class TestTrends:
    def test_the_charts_and_the_daily_series_for_a_period(self, shop: Settings, database_url: str,
                                                          tmp_path: Path) -> None:
        """`report trends --days 10` writes the charts and one row per day, the last day's figures as the daily
        report has them (see the headline test)."""
        out = tmp_path / "trends"
        done = orderflow("--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now", NOW.isoformat(),
                         "report", "trends", "--days", "10", "--out", str(out))
        assert (done.returncode, done.stderr) == (0, "")
        assert {path.name for path in out.iterdir()} == {"daily_series.csv", *CHART_FILES}
        series = rows((out / "daily_series.csv").read_bytes())
        assert [row["day"] for row in series] == [f"2026-{day}" for day in (
            "10-26", "10-27", "10-28", "10-29", "10-30", "10-31", "11-01", "11-02", "11-03", "11-04")]
        assert series[-1] == {"day": "2026-11-04", "orders_received": "0", "vendor_orders_sent": "0",
                              "first_scanned": "2", "delivered": "1", "open_critical": "1", "open_high": "0",
                              "open_warning": "2", "open_info": "0", "open_total": "3", "value_at_risk": "117.49",
                              "on_time_rate": "0.500", "on_time_out_of": "2"}
        # Monday 2 Nov: 1ZACME002 late, 1ZACME006 on time; nothing judged on Sunday
        assert pick(series, "on_time_rate", "on_time_out_of")[-4:-2] == [("", "0"), ("0.500", "2")]

    def test_a_period_out_of_range_is_refused(self, shop: Settings, engine: Engine, tmp_path: Path) -> None:
        """A period of no days, or of more than a year, is refused with the limits named."""
        with pytest.raises(InputError, match="--days must be from 1 to 366, not 0"):
            trends_report(engine=engine, settings=shop, now=NOW, days=0, out_dir=tmp_path)


# --- the tables -----------------------------------------------------------------------------------------------

class TestTables:
    def test_open_notifications_are_the_queue_as_ranked_on_screen(self, shop: Settings, engine: Engine,
                                                                  database_url: str, tmp_path: Path) -> None:
        """The file lists what `orderflow notifications` lists, in its order: hidden and resolved ones left out."""
        files = report(engine, shop, tmp_path)
        screen = CliRunner().invoke(app, ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url,
                                          "--now", NOW.isoformat(), "notifications", "--format", "json"])
        assert screen.exit_code == 0, screen.output
        listed = json.loads(screen.stdout)
        assert pick(files["open_notifications.csv"], "rank", "id", "rule", "state", "vendor_order", "acked_by") == [
            (str(rank), str(item["id"]), item["rule"], item["state"], item["vendor_order"], item["acked_by"] or "")
            for rank, item in enumerate(listed, start=1)]
        assert [item["rule"] for item in listed] == ["vendor_rejected", "carrier_exception", "vendor_late"]
        assert files["open_notifications.csv"][0]["opened_at"] == "2026-10-30 12:00"  # New York time

    def test_shipped_lists_the_parcels_first_scanned_that_day(self, shop: Settings, engine: Engine,
                                                              tmp_path: Path) -> None:
        """Parcels scanned on Wednesday in New York, earliest first, judged against their ship-by."""
        shipped = report(engine, shop, tmp_path)["shipped.csv"]
        assert pick(shipped, "first_scan_at", "order_number", "vendor_order", "vendor", "carrier", "tracking_number",
                    "vendor_shipped_at", "tracking_received_at", "ship_by", "on_time", "status") == [
            ("2026-11-04 08:00", "1008", "TB1008-BOLT", "BOLT", "UPS", "1ZBOLT008", "", "2026-11-04 14:00",
             "2026-11-03 23:59", "no", "in_transit"),
            ("2026-11-04 15:00", "1007", "TB1007-ACME", "ACME", "UPS", "1ZACME007", "", "2026-11-04 17:00",
             "2026-11-04 23:59", "yes", "in_transit")]  # the exception came on Thursday

    def test_late_vendor_orders_with_days_late_and_evidence(self, shop: Settings, engine: Engine,
                                                            tmp_path: Path) -> None:
        """Past ship-by with unscanned units, most late first; a cancelled order's vendor order is not late."""
        late = report(engine, shop, tmp_path)["late_vendor_orders.csv"]
        assert pick(late, "vendor_order", "order_number", "vendor", "ship_by", "business_days_late",
                    "units_due", "units_scanned", "value", "currency", "evidence") == [
            ("TB1005-ACME", "1005", "ACME", "2026-10-30 23:59", "3.0", "3", "0", "59.99", "USD",
             "label created Thu 29 Oct, never scanned (1ZACME005)"),
            ("TB1006-ACME", "1006", "ACME", "2026-11-02 23:59", "2.0", "3", "1", "37.50", "USD",
             "1 of 3 units scanned")]

    def test_in_transit_aging_as_of_the_end_of_the_day(self, shop: Settings, engine: Engine, tmp_path: Path) -> None:
        """Scanned and not delivered by Wednesday's end, longest first, with the last event known by then."""
        aging = report(engine, shop, tmp_path)["in_transit_aging.csv"]
        assert pick(aging, "tracking_number", "vendor_order", "first_scan_at", "days_since_first_scan", "last_status",
                    "last_event_at", "last_event") == [
            ("1ZOLD0000900", "TB900-ACME", "2026-10-01 10:00", "34.6", "in_transit", "2026-10-02 04:00",
             "Departed facility — Salt Lake City, UT"),
            ("1ZACME002", "TB1002-ACME", "2026-11-02 10:00", "2.6", "in_transit", "2026-11-03 04:00",
             "Departed facility — Memphis, TN"),
            ("1ZBOLT008", "TB1008-BOLT", "2026-11-04 08:00", "0.7", "in_transit", "2026-11-04 08:00",
             "Origin scan — Dallas, TX"),
            ("1ZACME007", "TB1007-ACME", "2026-11-04 15:00", "0.4", "in_transit", "2026-11-04 15:00",
             "Picked up — Reno, NV")]

    def test_a_past_day(self, shop: Settings, engine: Engine, tmp_path: Path) -> None:
        """--date Monday: Monday's scans, and lateness judged at Monday's end."""
        files = report(engine, shop, tmp_path, day=date(2026, 11, 2))
        assert pick(files["shipped.csv"], "tracking_number", "on_time") == [("1ZACME002", "no"), ("1ZACME006", "yes")]
        assert pick(files["late_vendor_orders.csv"], "vendor_order", "business_days_late", "units_scanned") == [
            ("TB1005-ACME", "1.0", "0")]
        assert pick(files["in_transit_aging.csv"], "tracking_number", "days_since_first_scan") == [
            ("1ZOLD0000900", "32.6"), ("1ZACME002", "0.6"), ("1ZACME006", "0.5")]

    def test_a_day_not_begun_is_refused(self, shop: Settings, engine: Engine, tmp_path: Path) -> None:
        """A day after today in the shop's zone is refused with the day named."""
        with pytest.raises(InputError, match=r"--date 2026-11-06 has not begun yet in America/New_York"):
            daily_report(engine=engine, settings=shop, now=NOW, day=date(2026, 11, 6), out_dir=tmp_path)


class TestWritingFiles:
    def test_a_full_disk_leaves_no_partial_file(self, tmp_path: Path) -> None:
        """The disk fills while a file is written (its temporary name leads to /dev/full): a configuration error
        naming the folder, and no half-written file left beside the others."""
        folder = tmp_path / "report"
        folder.mkdir()
        (folder / ".shipped.csv.partial").symlink_to("/dev/full")
        with pytest.raises(ConfigError, match=f"cannot write the report to {folder}: No space left on device"):
            write_files({"open_notifications.csv": b"a\n", "shipped.csv": b"b\n"}, folder)
        assert sorted(path.name for path in folder.iterdir()) == ["open_notifications.csv"]


class TestScorecard:
    def test_every_column_on_the_hand_made_shop(self, shop: Settings, engine: Engine, tmp_path: Path) -> None:
        """Each figure as worked out by hand (see the comments) for both vendors over the last 30 days."""
        card = {row["vendor"]: row for row in report(engine, shop, tmp_path)["vendor_scorecard.csv"]}
        assert card == {
            "ACME": {
                "vendor": "ACME", "name": "Vendor ACME",
                "vendor_orders": "8",  # 1001-1007 and 1009; 900 was placed before the window
                "acknowledged_median_hours": "2.5",  # 0.5, 1, 2, 3, 6, 21
                "orders_due": "5",  # 1001, 1002, 1005, 1006, 1007 (1003 rejected, 1004 not due, 1009 cancelled)
                "on_time_ship_rate": "0.600",  # 1001, 1006, 1007
                "rejection_rate": "0.125", "top_rejection_reasons": "address invalid (1)",
                "out_of_stock_lines": "1",  # 1004
                # sent to first scan: 1001 1.04, 1006 2.08, 1007 2.13, 1002 3.96 business days
                "median_business_days_to_first_scan": "2.1",
                "median_tracking_upload_lag_hours": "3.0",  # 0 (1002), 2 (1007), 4 (1001), 5 (1006)
                "tracking_not_scanned": "1",  # 1005's label
                "carrier_exceptions": "1",  # 1006's failed attempt; 1007's exception came after the day
            },
            "BOLT": {
                "vendor": "BOLT", "name": "Vendor BOLT", "vendor_orders": "2",
                "acknowledged_median_hours": "14.0",  # 4 and 24
                "orders_due": "2", "on_time_ship_rate": "0.000",
                "rejection_rate": "0.500", "top_rejection_reasons": "discontinued (1)",
                "out_of_stock_lines": "0",
                "median_business_days_to_first_scan": "2.9",  # 2.96 and 2.79
                "median_tracking_upload_lag_hours": "3.0",  # 0 and 6
                "tracking_not_scanned": "0", "carrier_exceptions": "0",
            },
        }

    def test_a_vendor_without_orders_has_empty_figures(self, engine: Engine, tmp_path: Path) -> None:
        """A configured vendor with nothing in the window gets zero counts and empty rates, not nan."""
        settings = write_settings(tmp_path, vendor_block("IDLE", "csv", "local", path="idle"))
        with session_factory(engine)() as session, session.begin():
            sync_vendors(session=session, settings=settings, now=NOW)
        [row] = report(engine, settings, tmp_path)["vendor_scorecard.csv"]
        assert row == {"vendor": "IDLE", "name": "Vendor IDLE", "vendor_orders": "0", "acknowledged_median_hours": "",
                       "orders_due": "0", "on_time_ship_rate": "", "rejection_rate": "", "top_rejection_reasons": "",
                       "out_of_stock_lines": "0", "median_business_days_to_first_scan": "",
                       "median_tracking_upload_lag_hours": "", "tracking_not_scanned": "0", "carrier_exceptions": "0"}


# --- the summary's templates and the vendors' ranking ------------------------------------------------------

def a_summary(*vendors: VendorStanding) -> Summary:
    return summarize(day=date(2026, 11, 4), zone=SHOP, as_of=utc(11, 5, 4), notifications=pd.DataFrame(
        {"rule": ["vendor_late"], "severity": ["warning"]}), shipped=1, late=1, in_transit=pd.Series([1.0]),
        standings=vendors, worst=5, scorecard_days=30, files=FILES)


def standing(code: str, *, name: str = "", late: int = 0, blocked: int = 0, value: str = "0") -> VendorStanding:
    return VendorStanding(code=code, name=name or code, vendor_orders=10, orders_due=10, on_time_rate=1.0,
                          rejection_rate=0.0, late_now=late, open_problems=late + blocked, blocked_orders=blocked,
                          blocked_value=Decimal(value))


class TestSummary:
    def test_a_vendor_holding_up_business_ranks_above_one_with_late_parcels(self) -> None:
        """Unreachable with 4 vendor orders worth 900 outranks 3 late worth 60; value decides before count."""
        unreachable = standing("DOWN", blocked=4, value="900.00")
        late = standing("SLOW", late=3, blocked=3, value="60.00")
        many_cheap = standing("CHEAP", blocked=10, value="50.00")
        assert [vendor.code for vendor in a_summary(late, many_cheap, unreachable).worst_vendors] == [
            "DOWN", "SLOW", "CHEAP"]

    def test_the_shop_replaces_a_template_and_the_html_is_escaped(self, tmp_path: Path) -> None:
        """The shop's daily.txt is used; daily.html stays ours, and a vendor's name cannot add markup to it."""
        (tmp_path / "daily.txt").write_text("{{ report.title }}: {{ report.open_problems }} open\n")
        summary = a_summary(standing("EVIL", name="<img src=x onerror=alert(1)>", late=1, blocked=1, value="5"))
        text, html = render(summary, report_templates(tmp_path))
        assert text == "Daily report for Wed 4 Nov 2026: 1 open\n"
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert "<img src=x" not in html

    def test_without_charts_the_email_says_they_are_off(self) -> None:
        """A summary with no charts says so, and how to have them, in both parts."""
        text, html = render(a_summary(), report_templates(None))
        assert "Charts are off: matplotlib is not installed here (pip install 'orderflow[charts]' adds it)." in text
        assert "Charts are off" in html
        assert "cid:" not in html

    def test_a_template_with_a_typo_is_a_configuration_error(self, tmp_path: Path) -> None:
        """A name the template uses that the summary lacks names the file, rather than printing nothing."""
        (tmp_path / "daily.txt").write_text("{{ report.titel }}\n")
        with pytest.raises(ConfigError, match=r"report template .*daily\.txt: .*titel"):
            render(a_summary(), report_templates(tmp_path))


# --- cells and business days ---------------------------------------------------------------------------------

class TestCells:
    @pytest.mark.parametrize("risky", ["=1+2", "+1", "-1", "@SUM(A1)"])
    def test_cells_that_start_like_formulas_are_defanged(self, risky: str) -> None:
        """Every cell that starts with = + - or @ gets a leading quote; others are kept as they are."""
        content = csv_bytes(pd.DataFrame({"cell": [risky, "plain"]}))
        assert rows(content) == [{"cell": "'" + risky}, {"cell": "plain"}]

    @pytest.mark.parametrize(("risky", "shown"), [("\tx", "\\tx"), ("\rx", "\\rx"), ("a\x1b[2Jb", "a\\x1b[2Jb")])
    def test_control_characters_are_spelled_out(self, risky: str, shown: str) -> None:
        """A tab, CR or escape from outside is written as the escape a person reads, so it can neither start
        a formula nor hide in the cell."""
        assert rows(csv_bytes(pd.DataFrame({"cell": [risky]}))) == [{"cell": shown}]

    def test_rates_in_files_are_numbers_a_spreadsheet_reads(self) -> None:
        """A rate is a decimal fraction with three decimals, empty (not 0) when it is out of nothing."""
        assert [fraction(0.6), fraction(12 / 13), fraction(0.0), fraction(None), fraction(float("nan"))] == [
            "0.600", "0.923", "0.000", "", ""]

    def test_money_and_rates_print_as_people_expect(self) -> None:
        """Two decimals for money (none for a missing amount), one for percentages."""
        assert [money(Decimal("1234.5")), money(Decimal("0.10")), money(None)] == ["1234.50", "0.10", ""]
        assert [percent(0.6), percent(1 / 3), percent(None)] == ["60.0%", "33.3%", ""]


class TestBusinessDays:
    def test_many_pairs_agree_with_the_calendar(self) -> None:
        """Across a DST change and Thanksgiving, each pair equals BusinessCalendar.business_days_between."""
        calendar = BusinessCalendar.from_settings(CalendarSettings(timezone="America/Chicago"))
        chance = random.Random(7)
        base = utc(10, 20, 0)
        pairs = [(base + timedelta(hours=chance.uniform(0, 900)), base + timedelta(hours=chance.uniform(0, 900)))
                 for _ in range(300)]
        got = business_days_between(calendar, pd.Series(pd.to_datetime([a for a, _ in pairs], utc=True)),
                                    pd.Series(pd.to_datetime([b for _, b in pairs], utc=True)))
        expected = [calendar.business_days_between(a, b) for a, b in pairs]
        assert got.tolist() == pytest.approx(expected, abs=1e-9)
