"""Vendor answers as partners send them: parcels that list no lines, freight, items named by UPC or our SKU.

Orders are imported on Monday with every line of ``SKU-ACME`` (vendor SKU ``ACME-1``, UPC 012345678905, two
units a line); answers are applied the way ``fetch`` applies them. Both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from orderflow.carriers.numbers import FREIGHT
from orderflow.clock import Clock
from orderflow.customers.notify import notify_customers
from orderflow.db.engine import session_factory
from orderflow.db.models import InventoryLevel, Shipment, ShipmentLine, VendorOrder, VendorOrderLine
from orderflow.orders.view import find_order, order_story
from orderflow.rules.tracking_rules import tracking_not_scanned
from orderflow.testing.smtp import SmtpServer
from orderflow.vendors.feedback import Feedback, FeedbackResult
from orderflow.vendors.formats.csv_feedback import parse_vendor_csv
from orderflow.vendors.records import Parcel, ShipNotice, ShippedLine, StockLevel
from tests.support.customers import shop as customer_shop
from tests.support.customers import text_of
from tests.support.shop_with_vendors import place_orders
from tests.support.vendor_shop import (
    MON,
    PARCEL_1,
    PARCEL_2,
    TUE,
    WED,
    change,
    evaluate,
    notice,
    open_shop,
    states,
    tell,
)

UPC = "012345678905"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def tracking_only(number: str) -> ShipNotice:
    """A tracking file row with only the PO and a tracking number."""
    return ShipNotice(vendor_order_id="TB5001-ACME", shipped_at=TUE, carrier="UPS", service=None,
                      parcels=(Parcel(number, "UPS", ()),), source_ref="tracking.csv")


def parcel_lines(engine: Engine) -> dict[str, list[tuple[int, int]]]:
    """Each parcel's (line number, quantity)."""
    with session_factory(engine)() as session:
        rows = session.execute(select(Shipment.tracking_number, VendorOrderLine.line_no, ShipmentLine.qty)
                               .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
                               .join(VendorOrderLine, VendorOrderLine.id == ShipmentLine.vendor_order_line_id)
                               .order_by(Shipment.tracking_number, VendorOrderLine.line_no)).all()
    found: dict[str, list[tuple[int, int]]] = {}
    for number, line, qty in rows:
        found.setdefault(number, []).append((line, qty))
    return found


def told_stock(engine: Engine, *stock: StockLevel) -> FeedbackResult:
    with session_factory(engine)() as session, session.begin():
        return Feedback(session=session, vendor_code="ACME", now=WED, file="answer").apply(stock=stock)


class TestParcelWithoutLines:
    def test_a_po_and_tracking_only_file_ships_the_whole_vendor_order(self, engine: Engine, tmp_path: Path) -> None:
        """The parcel carries every unshipped line, so the lines, vendor order and order are shipped."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]})
        tell(engine, TUE, ship_notices=(tracking_only(PARCEL_1),))
        assert parcel_lines(engine) == {PARCEL_1: [(1, 2), (2, 2)]}
        assert states(engine) == {"5001": "shipped", "TB5001-ACME": "shipped", "TB5001-ACME:1": "shipped",
                                  "TB5001-ACME:2": "shipped"}

    def test_it_carries_only_what_earlier_parcels_did_not(self, engine: Engine, tmp_path: Path) -> None:
        """After a parcel that listed line 1, a parcel that lists nothing carries line 2 alone."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]})
        tell(engine, TUE, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), TUE),))
        tell(engine, WED, ship_notices=(tracking_only(PARCEL_2),))
        assert parcel_lines(engine) == {PARCEL_1: [(1, 2)], PARCEL_2: [(2, 2)]}

    def test_in_one_notice_listed_parcels_are_placed_first(self, engine: Engine, tmp_path: Path) -> None:
        """A notice with a bare parcel before a listing one: the bare one takes only what the other did not."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]})
        listed = Parcel(PARCEL_2, "UPS", (ShippedLine(2, "ACME-1", 2),))
        tell(engine, TUE, ship_notices=(ShipNotice("TB5001-ACME", TUE, "UPS", None, (
            Parcel(PARCEL_1, "UPS", ()), listed), "856"),))
        assert parcel_lines(engine) == {PARCEL_1: [(1, 2)], PARCEL_2: [(2, 2)]}

    def test_reading_the_file_again_changes_nothing(self, engine: Engine, tmp_path: Path) -> None:
        """The same bare parcel twice: still one parcel with the same lines."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        tell(engine, TUE, ship_notices=(tracking_only(PARCEL_1),))
        tell(engine, WED, ship_notices=(tracking_only(PARCEL_1),))
        assert parcel_lines(engine) == {PARCEL_1: [(1, 2)]}


class TestFreight:
    def test_a_freight_shipment_is_kept_under_its_pro_and_never_polled(self, engine: Engine,
                                                                       tmp_path: Path) -> None:
        """An LTL notice becomes one freight shipment carrying its lines, with no carrier poll scheduled."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        tell(engine, TUE, ship_notices=(ShipNotice(
            "TB5001-ACME", TUE, "ODFL", None, (), "856", freight=True, pro_number="08812345678",
            bill_of_lading="BOL1", freight_lines=(ShippedLine(1, "ACME-1", 2),)),))
        with session_factory(engine)() as session:
            shipment = session.scalars(select(Shipment)).one()
            assert (shipment.carrier, shipment.carrier_named, shipment.tracking_number, shipment.next_check_at) == (
                FREIGHT, "ODFL", "08812345678", None)
            assert shipment.tracking_note == ("freight shipment (PRO 08812345678, bill of lading BOL1): followed "
                                              "with the freight carrier, not polled")
        assert parcel_lines(engine) == {"08812345678": [(1, 2)]}
        assert states(engine)["TB5001-ACME"] == "shipped"

    def test_a_freight_shipment_is_never_called_unscanned(self, engine: Engine, tmp_path: Path) -> None:
        """A week on, a freight shipment (no parcel carrier scans it) is not a tracking_not_scanned finding,
        while a parcel shipped the same day, asked after and never scanned, is."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"], "5002": ["SKU-ACME"]})
        tell(engine, TUE, ship_notices=(
            ShipNotice("TB5001-ACME", TUE, "ODFL", None, (), "856", freight=True, pro_number="08812345678",
                       freight_lines=(ShippedLine(1, "ACME-1", 2),)),
            notice("TB5002-ACME", PARCEL_1, (1,), TUE)))
        # The poller asks the parcel carrier about the parcel; nothing ever asks about the freight shipment.
        change(engine, update(Shipment).where(Shipment.tracking_number == PARCEL_1).values(
            last_checked_at=TUE + timedelta(days=6)))
        with session_factory(engine)() as session:
            parcel_id = session.scalar(select(Shipment.id).where(Shipment.tracking_number == PARCEL_1))
            assert session.scalar(select(Shipment.next_check_at).where(Shipment.carrier == FREIGHT)) is None
        found = evaluate(tracking_not_scanned, engine, settings, TUE + timedelta(days=7))
        assert [finding.subject.id for finding in found] == [str(parcel_id)]


class TestItemsByOtherIds:
    def test_a_line_named_only_by_its_upc_is_found_through_the_catalog(self, engine: Engine,
                                                                        tmp_path: Path) -> None:
        """A shipped item with no line number or vendor SKU, only the UPC, lands on its line."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        tell(engine, TUE, ship_notices=(ShipNotice("TB5001-ACME", TUE, "UPS", None, (
            Parcel(PARCEL_1, "UPS", (ShippedLine(None, "", 2, upc=UPC),)),), "856"),))
        assert parcel_lines(engine) == {PARCEL_1: [(1, 2)]}

    def test_a_line_named_by_our_sku_is_found(self, engine: Engine, tmp_path: Path) -> None:
        """A shipped item named by our SKU (X12 BP) lands on its line."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        tell(engine, TUE, ship_notices=(ShipNotice("TB5001-ACME", TUE, "UPS", None, (
            Parcel(PARCEL_1, "UPS", (ShippedLine(None, "", 2, sku="SKU-ACME"),)),), "856"),))
        assert parcel_lines(engine) == {PARCEL_1: [(1, 2)]}

    def test_stock_named_by_upc_or_our_sku_is_stored_under_the_vendor_sku(self, engine: Engine,
                                                                          tmp_path: Path) -> None:
        """Stock by UPC and by our SKU both land on ACME-1; an unknown UPC is refused naming it."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        result = told_stock(engine, StockLevel("", UPC, 5, TUE, None), StockLevel("", "", 7, WED, None, "SKU-ACME"),
                            StockLevel("", "999999999993", 1, WED, None))
        with session_factory(engine)() as session:
            assert session.execute(select(InventoryLevel.vendor_sku, InventoryLevel.quantity)).all() == [
                ("ACME-1", 7)]
        assert [refusal.reason for refusal in result.refusals] == [
            "stock for '999999999993': no catalog item of ACME has that SKU or UPC"]


class TestTrackingOnlyFileEndToEnd:
    def test_the_customer_is_told_the_right_items_and_the_order_is_shipped(self, engine: Engine, tmp_path: Path,
                                                                           smtp: SmtpServer) -> None:
        """A vendor CSV with only PO and tracking number: ACME's vendor order ships, the order view shows the
        parcel's items, and the customer's e-mail lists both ACME lines and only STITCH's as still to ship."""
        settings = customer_shop(tmp_path, smtp)
        place_orders(engine, settings, MON, tmp_path, orders={"9001": ["SKU-ACME", "SKU-ACME", "SKU-STITCH"]})
        change(engine, update(VendorOrder).values(state="sent", sent_at=MON, attempts=1))
        parsed = parse_vendor_csv(b"PO Number,Tracking Number\nTB9001-ACME,1Z5R89390357567127\n", file="t.csv")
        with session_factory(engine)() as session, session.begin():
            Feedback(session=session, vendor_code="ACME", now=TUE, file="t.csv").apply(
                ship_notices=parsed.ship_notices)
        assert states(engine)["TB9001-ACME"] == "shipped"
        change(engine, update(Shipment).values(status="in_transit", first_scan_at=TUE))
        with session_factory(engine)() as session:
            story = order_story(find_order(session, "9001"), session)
        assert story["shipments"][0]["lines"] == [{"line": 1, "qty": 2}, {"line": 2, "qty": 2}]
        notify_customers(engine=engine, settings=settings, clock=Clock(fixed=WED))
        [message] = smtp.messages
        text = text_of(message)
        assert "In this parcel:\n  2 x Tee SKU-ACME\n  2 x Tee SKU-ACME\n" in text
        assert "1 of 2 parcels shipped.\nStill to ship:\n  2 x Tee SKU-STITCH\n" in text


class TestLaterFilesListLines:
    def test_a_later_listing_takes_its_lines_from_the_bare_parcel(self, engine: Engine, tmp_path: Path) -> None:
        """A bare parcel carried both lines; a later file puts line 2 in another parcel: the bare one keeps
        line 1 only."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]})
        tell(engine, TUE, ship_notices=(tracking_only(PARCEL_1),))
        tell(engine, WED, ship_notices=(notice("TB5001-ACME", PARCEL_2, (2,), WED),))
        assert parcel_lines(engine) == {PARCEL_1: [(1, 2)], PARCEL_2: [(2, 2)]}
        assert states(engine)["TB5001-ACME"] == "shipped"

    def test_the_bare_parcel_listed_later_carries_what_it_lists(self, engine: Engine, tmp_path: Path) -> None:
        """The same parcel listed later with its lines: the listing replaces what it was assumed to carry,
        and reading that file again changes nothing."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]})
        tell(engine, TUE, ship_notices=(tracking_only(PARCEL_1),))
        listed = ShipNotice("TB5001-ACME", TUE, "UPS", None, (
            Parcel(PARCEL_1, "UPS", (ShippedLine(1, "ACME-1", 2), ShippedLine(2, "ACME-1", 1))),), "856")
        tell(engine, WED, ship_notices=(listed,))
        tell(engine, WED, ship_notices=(listed,))
        assert parcel_lines(engine) == {PARCEL_1: [(1, 2), (2, 1)]}
