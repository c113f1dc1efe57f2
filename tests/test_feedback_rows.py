"""Feedback reads vendor orders and parcels as plain rows and writes what changed in a few statements: objects the
caller's session already holds still show the result, and records applied one after another build on each other."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select, update

from orderflow.db.engine import session_factory
from orderflow.db.models import Shipment, ShipmentLine, VendorOrder
from orderflow.vendors.feedback import Feedback
from orderflow.vendors.records import Parcel, ShipNotice, ShippedLine
from tests.support.shop_with_vendors import place_orders, vendor_block, write_settings

MON = datetime(2026, 11, 2, 15, 4, tzinfo=UTC)
TUE = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
FIRST, SECOND = "1Z4R8W670312345671", "1Z4R8W670312345676"


def notice(number: str, *lines: tuple[int, int]) -> ShipNotice:
    return ShipNotice(vendor_order_id="TB5001-ACME", shipped_at=TUE, carrier="UPS", service=None, source_ref="856",
                      parcels=(Parcel(number, "UPS", tuple(ShippedLine(line=line, vendor_sku="", qty=qty)
                                                           for line, qty in lines)),))


def test_objects_the_session_holds_show_what_feedback_wrote(engine: Engine, tmp_path: Path) -> None:
    """A vendor order loaded before the ship notice reads its new state, lines and parcels afterwards."""
    settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"))
    place_orders(engine, settings, MON, tmp_path, orders={"5001": ["SKU-ACME", "SKU-ACME"]})
    with session_factory(engine)() as session, session.begin():
        session.execute(update(VendorOrder).values(state="sent", sent_at=MON, attempts=1))
        held = session.get_one(VendorOrder, "TB5001-ACME")
        assert ([line.qty for line in held.lines], held.shipments) == ([2, 2], [])
        Feedback(session=session, vendor_code="ACME", now=TUE, file="asn").apply(ship_notices=[notice(FIRST, (1, 2))])
        assert (held.state, [line.qty_shipped for line in held.lines]) == ("partially_shipped", [2, 0])
        assert [(parcel.tracking_number, [part.qty for part in parcel.lines]) for parcel in held.shipments] == [
            (FIRST, [2])]


def test_a_held_vendor_order_sees_a_parcel_that_changes_nothing_else(engine: Engine, tmp_path: Path) -> None:
    """A second parcel for a line already shipped changes neither the vendor order nor its lines, yet a vendor
    order loaded before it lists it among its parcels."""
    settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"))
    place_orders(engine, settings, MON, tmp_path, orders={"5001": ["SKU-ACME", "SKU-ACME"]})
    with session_factory(engine)() as session, session.begin():
        session.execute(update(VendorOrder).values(state="sent", sent_at=MON, attempts=1))
        Feedback(session=session, vendor_code="ACME", now=TUE, file="asn").apply(ship_notices=[notice(FIRST, (1, 2))])
    with session_factory(engine)() as session, session.begin():
        held = session.get_one(VendorOrder, "TB5001-ACME")
        assert [parcel.tracking_number for parcel in held.shipments] == [FIRST]
        Feedback(session=session, vendor_code="ACME", now=TUE, file="asn").apply(ship_notices=[notice(SECOND, (1, 2))])
        assert [parcel.tracking_number for parcel in held.shipments] == [FIRST, SECOND]


def test_notices_applied_one_after_another_build_on_each_other(engine: Engine, tmp_path: Path) -> None:
    """The same Feedback takes a second parcel and a repeat of the first: the repeat adds nothing, the second
    parcel ships the rest, and the database holds two parcels of one line each (two units)."""
    settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"))
    place_orders(engine, settings, MON, tmp_path, orders={"5001": ["SKU-ACME", "SKU-ACME"]})
    with session_factory(engine)() as session, session.begin():
        session.execute(update(VendorOrder).values(state="sent", sent_at=MON, attempts=1))
        feedback = Feedback(session=session, vendor_code="ACME", now=TUE, file="asn")
        feedback.apply(ship_notices=[notice(FIRST, (1, 2))])
        feedback.apply(ship_notices=[notice(FIRST, (1, 2)), notice(SECOND, (2, 2))])
        assert feedback.result.shipments_added == 2
    with session_factory(engine)() as session:
        assert session.scalar(select(VendorOrder.state)) == "shipped"
        assert sorted(session.execute(select(Shipment.tracking_number, ShipmentLine.qty)
                                      .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)).all()) == [
            (FIRST, 2), (SECOND, 2)]
