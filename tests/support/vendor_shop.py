"""A shop whose vendor orders went to ACME on Monday 2 Nov 2026, and what its vendors say back.

The shop is in New York; the orders of ``open_shop`` were placed on Monday 2 Nov 2026 at 10:04 New York time,
before the vendor's 14:00 cut-off. Vendor files are applied the way ``fetch`` applies them (``tell``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from orderflow.calendars import VendorCalendars
from orderflow.config import Settings
from orderflow.db.engine import session_factory
from orderflow.db.models import Order, Shipment, VendorOrder, VendorOrderLine
from orderflow.rules.findings import Finding, Rule, RuleContext
from orderflow.vendors.feedback import Feedback
from orderflow.vendors.records import (
    Acknowledgement,
    AckStatus,
    LineAck,
    LineAckStatus,
    Parcel,
    ShipNotice,
    ShippedLine,
    StockLevel,
)
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings

MON = datetime(2026, 11, 2, 15, 4, tzinfo=UTC)  # Mon 2 Nov 10:04 New York: when the fixture orders were placed
# ACME works New York hours with 2 handling days: ship by Wed 4 Nov, grace until Thu 5 Nov 12:00 New York.
GRACE = datetime(2026, 11, 5, 17, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ACME = vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0)
PARCEL_1, PARCEL_2, PARCEL_3 = "1Z4R8W670312345676", "1Z4R8W670312345694", "1Z999AA10123456784"
Summary = tuple[str, str, str, str]
DUE_WEDNESDAY = " (ship by Wed 4 Nov 23:59 EST, ACME's time)"
"""How lateness evidence names the fixture orders' deadline, on ACME's clock."""
WAITED = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)
"""Tue 10 Nov 12:00 New York: three business days past the grace deadline, when "no tracking" has waited long
enough for tracking uploaded late."""
NO_TRACKING = "no tracking 3.0 business days after the grace deadline"


UPS_TRACKED = '[carriers.ups]\nclient_id_env = "TEST_UPS_ID"\nclient_secret_env = "TEST_UPS_SECRET"\n'
"""The shop can ask UPS about its parcels, so a parcel UPS never scanned is evidence against the vendor."""


def open_shop(engine: Engine, tmp_path: Path, orders: dict[str, list[str]], *blocks: str,
              sent: bool = True, carriers: str = "") -> Settings:
    """Configure the vendors (and ``carriers``), import the orders on Monday and, unless told otherwise, mark
    them sent then."""
    with pytest.MonkeyPatch.context() as environment:  # the secrets are checked when the settings are read
        environment.setenv("TEST_UPS_ID", "id")
        environment.setenv("TEST_UPS_SECRET", "secret")
        settings = write_settings(tmp_path, *(blocks or (ACME,)), carriers)
    place_orders(engine, settings, MON, tmp_path, orders=orders)
    if sent:
        change(engine, update(VendorOrder).values(state="sent", sent_at=MON, attempts=1))
    return settings


def change(engine: Engine, *statements: Any) -> None:
    with session_factory(engine)() as session, session.begin():
        for statement in statements:
            session.execute(statement)


def tell(engine: Engine, at: datetime, *, acks: tuple[Acknowledgement, ...] = (),
         ship_notices: tuple[ShipNotice, ...] = (), stock: tuple[StockLevel, ...] = (), vendor: str = "ACME") -> None:
    """What a vendor file says, applied the way ``fetch`` applies it."""
    with session_factory(engine)() as session, session.begin():
        Feedback(session=session, vendor_code=vendor, now=at, file="feedback").apply(
            acks=acks, ship_notices=ship_notices, stock=stock)


def line_ack(line: int, status: LineAckStatus, code: str = "", reason: str = "",
             expected: date | None = None) -> LineAck:
    return LineAck(line=line, vendor_sku="ACME-1", qty=2, status=status, code=code, reason=reason,
                   expected_date=expected)


def ack(vendor_order_id: str, status: AckStatus, *lines: LineAck, reason: str = "") -> Acknowledgement:
    return Acknowledgement(vendor_order_id=vendor_order_id, status=status, vendor_reference="", lines=lines,
                           reason=reason, source_ref="855")


def notice(vendor_order_id: str, number: str, lines: tuple[int, ...], shipped_at: datetime) -> ShipNotice:
    """One parcel holding both units of each given line."""
    parcel = Parcel(tracking_number=number, carrier="UPS",
                    lines=tuple(ShippedLine(line=line, vendor_sku="ACME-1", qty=2) for line in lines))
    return ShipNotice(vendor_order_id=vendor_order_id, shipped_at=shipped_at, carrier="UPS", service=None,
                      parcels=(parcel,), source_ref="856")


def scanned(engine: Engine, number: str, at: datetime) -> None:
    """The carrier's first physical scan of a parcel, as the tracker records it."""
    change(engine, update(Shipment).where(Shipment.tracking_number == number).values(
        first_scan_at=at, last_event_at=at, status="in_transit"))


def evaluate(rule: Rule, engine: Engine, settings: Settings, now: datetime) -> list[Finding]:
    with session_factory(engine)() as session:
        context = RuleContext(session=session, now=now, settings=settings,
                              calendars=VendorCalendars(settings.vendors))
        return list(rule(context))


def summary(rule: Rule, engine: Engine, settings: Settings, now: datetime) -> list[Summary]:
    """``(rule, subject id, severity, evidence)`` of each finding."""
    return [(f.rule, f.subject.id, f.severity, f.evidence) for f in evaluate(rule, engine, settings, now)]


TUE, WED, THU, FRI = (MON + timedelta(days=day) for day in (1, 2, 3, 4))


def states(engine: Engine) -> dict[str, str]:
    """Every order (by number), vendor order (by id) and vendor order line (``id:line``) with its state."""
    with session_factory(engine)() as session:
        found = dict(session.execute(select(Order.order_number, Order.state)).all())
        found |= dict(session.execute(select(VendorOrder.id, VendorOrder.state)).all())
        found |= {f"{vo_id}:{line_no}": state for vo_id, line_no, state in session.execute(
            select(VendorOrderLine.vendor_order_id, VendorOrderLine.line_no, VendorOrderLine.state))}
        return found
