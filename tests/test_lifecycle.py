"""The order lifecycle rollup: delivered parcels finish vendor order lines, vendor orders and orders, forward only.

State is built with orderflow's own import and vendor feedback (whose ``apply`` runs the rollup); what the
carrier did is set on the parcels, then rolled up the way ``track`` does after applying answers. One test
goes through ``track`` itself against a local UPS.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from orderflow.carriers.poller import track
from orderflow.carriers.status import PackageStatus
from orderflow.clock import Clock
from orderflow.db.engine import session_factory
from orderflow.db.models import Order, Shipment, VendorOrder
from orderflow.orders.lifecycle import RollUp, roll_up
from orderflow.rules.vendor_rules import cancel_not_confirmed, vendor_late, vendor_rejected
from orderflow.testing.carriers import FakeCarrier, Scan
from orderflow.vendors.records import LineAck, Parcel, ShipNotice, ShippedLine
from tests.support.carriers import carrier_toml
from tests.support.shop_with_vendors import vendor_block
from tests.support.vendor_shop import (
    FRI,
    MON,
    PARCEL_1,
    PARCEL_2,
    THU,
    TUE,
    WED,
    ack,
    change,
    notice,
    open_shop,
    states,
    summary,
    tell,
)

BETA = vendor_block("BETA", "csv", "local", path="beta")
ACME = vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0)


def deliver(engine: Engine, number: str, at: datetime) -> None:
    """The carrier delivered the parcel, as the tracker records it."""
    change(engine, update(Shipment).where(Shipment.tracking_number == number).values(
        status="delivered", first_scan_at=at - timedelta(days=1), last_event_at=at, delivered_at=at))


def settle(engine: Engine, at: datetime, *vendor_order_ids: str) -> RollUp:
    """The rollup for the given vendor orders, in its own transaction."""
    with session_factory(engine)() as session, session.begin():
        return roll_up(session=session, vendor_order_ids=vendor_order_ids, now=at)


def split_notice(number_a: str, number_b: str) -> ShipNotice:
    """Line 1's two units in two parcels, one each."""
    return ShipNotice(vendor_order_id="TB5001-ACME", shipped_at=MON, carrier="UPS", service=None, source_ref="856",
                      parcels=tuple(Parcel(number, "UPS", (ShippedLine(line=1, vendor_sku="ACME-1", qty=1),))
                                    for number in (number_a, number_b)))


class TestVendorOrderDelivered:
    def test_partial_shipments_then_all_delivered(self, engine: Engine, tmp_path: Path) -> None:
        """A delivered line alone finishes nothing; the second parcel ships the order; its delivery ends it."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]})
        tell(engine, TUE, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), TUE),))
        deliver(engine, PARCEL_1, WED)
        assert settle(engine, WED, "TB5001-ACME") == RollUp(lines_delivered=1)
        assert states(engine) == {"5001": "open", "TB5001-ACME": "partially_shipped",
                                  "TB5001-ACME:1": "delivered", "TB5001-ACME:2": "pending"}

        tell(engine, THU, ship_notices=(notice("TB5001-ACME", PARCEL_2, (2,), THU),))
        assert states(engine) == {"5001": "shipped", "TB5001-ACME": "shipped",
                                  "TB5001-ACME:1": "delivered", "TB5001-ACME:2": "shipped"}

        deliver(engine, PARCEL_2, FRI)
        assert settle(engine, FRI, "TB5001-ACME") == RollUp(lines_delivered=1, vendor_orders_delivered=1,
                                                           orders_delivered=1)
        assert states(engine) == {"5001": "delivered", "TB5001-ACME": "delivered",
                                  "TB5001-ACME:1": "delivered", "TB5001-ACME:2": "delivered"}
        with session_factory(engine)() as session:
            assert session.scalar(select(VendorOrder.delivered_at)) == FRI, "the last parcel's delivery"

    def test_a_line_in_two_parcels_waits_for_both(self, engine: Engine, tmp_path: Path) -> None:
        """One of the two parcels carrying a line delivered: the line, vendor order and order stay shipped."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        tell(engine, TUE, ship_notices=(split_notice(PARCEL_1, PARCEL_2),))
        deliver(engine, PARCEL_1, WED)
        assert settle(engine, WED, "TB5001-ACME") == RollUp()
        assert states(engine) == {"5001": "shipped", "TB5001-ACME": "shipped", "TB5001-ACME:1": "shipped"}
        deliver(engine, PARCEL_2, THU)
        settle(engine, THU, "TB5001-ACME")
        assert states(engine) == {"5001": "delivered", "TB5001-ACME": "delivered", "TB5001-ACME:1": "delivered"}


@pytest.fixture
def ups(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCarrier]:
    for name in ("ID", "SECRET", "KEY"):
        monkeypatch.setenv(f"TEST_CARRIER_{name}", name.lower())
    fake = FakeCarrier("ups", now=lambda: FRI)
    fake.start()
    yield fake
    fake.stop()


class TestThroughTracking:
    def test_a_parcel_first_seen_delivered_finishes_its_order(self, engine: Engine, tmp_path: Path,
                                                              ups: FakeCarrier) -> None:
        """Tracking uploaded late, the first poll already says delivered: ``track`` delivers the order."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]}, ACME, carrier_toml({"ups": ups}))
        ups.add_parcel(PARCEL_1, [Scan(TUE, PackageStatus.LABEL_CREATED, "Label created"),
                                  Scan(WED, PackageStatus.IN_TRANSIT, "Picked up", "Chicago IL US"),
                                  Scan(THU, PackageStatus.DELIVERED, "Delivered", "Portland ME US")])
        tell(engine, FRI, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), TUE),))
        assert states(engine)["5001"] == "shipped"
        result = track(engine=engine, settings=settings, clock=Clock(FRI))
        assert result.counts["ok"] == 1
        assert states(engine) == {"5001": "delivered", "TB5001-ACME": "delivered", "TB5001-ACME:1": "delivered"}


class TestOrderRollup:
    def test_a_rejected_vendor_order_beside_a_delivered_one(self, engine: Engine, tmp_path: Path) -> None:
        """Rejected alone: open; the other vendor ships: shipped; its parcel delivered: the order stays shipped,
        since the customer has not got the rejected item, and the rejection stays raised."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-BETA"]}, ACME, BETA)
        tell(engine, TUE, vendor="BETA", acks=(ack("TB5001-BETA", "rejected", reason="Discontinued"),))
        assert states(engine)["5001"] == "open", "nothing shipped yet"

        tell(engine, WED, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), WED),))
        assert states(engine) == {"5001": "shipped", "TB5001-ACME": "shipped", "TB5001-BETA": "rejected",
                                  "TB5001-ACME:1": "shipped", "TB5001-BETA:1": "rejected"}
        assert [finding[1] for finding in summary(vendor_rejected, engine, settings, THU)] == ["TB5001-BETA"]

        deliver(engine, PARCEL_1, FRI)
        settle(engine, FRI, "TB5001-ACME")
        assert states(engine) == {"5001": "shipped", "TB5001-ACME": "delivered", "TB5001-BETA": "rejected",
                                  "TB5001-ACME:1": "delivered", "TB5001-BETA:1": "rejected"}
        assert [finding[1] for finding in summary(vendor_rejected, engine, settings, FRI)] == ["TB5001-BETA"]

    def test_a_line_rejected_in_part_still_owes_units(self, engine: Engine, tmp_path: Path) -> None:
        """Line 1 rejected in part, none shipped, line 2 delivered: the vendor order and order stay unfinished."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME", "SKU-ACME"]})
        tell(engine, TUE, acks=(ack("TB5001-ACME", "accepted_with_changes",
                                    LineAck(line=1, vendor_sku="ACME-1", qty=1, status="rejected", code="IQ",
                                            reason="Only one left", expected_date=None)),))
        tell(engine, TUE, ship_notices=(notice("TB5001-ACME", PARCEL_1, (2,), TUE),))
        deliver(engine, PARCEL_1, WED)
        settle(engine, WED, "TB5001-ACME")
        assert states(engine) == {"5001": "open", "TB5001-ACME": "shipped",
                                  "TB5001-ACME:1": "rejected", "TB5001-ACME:2": "delivered"}
        assert [finding[1] for finding in summary(vendor_late, engine, settings, FRI)] == ["TB5001-ACME"]

    def test_a_cancelled_order_is_never_touched(self, engine: Engine, tmp_path: Path) -> None:
        """Cancelled after the vendor shipped: delivery moves nothing, so the unconfirmed cancel stays raised."""
        settings = open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        tell(engine, TUE, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), TUE),))
        change(engine, update(Order).values(state="cancelled"), update(VendorOrder).values(cancel_requested_at=TUE))
        deliver(engine, PARCEL_1, WED)
        assert settle(engine, WED, "TB5001-ACME") == RollUp()
        assert states(engine) == {"5001": "cancelled", "TB5001-ACME": "shipped", "TB5001-ACME:1": "shipped"}
        assert [finding[1] for finding in summary(cancel_not_confirmed, engine, settings, FRI)] == ["TB5001-ACME"]

    def test_each_order_is_judged_on_its_own(self, engine: Engine, tmp_path: Path) -> None:
        """Only the touched orders move, and only those whose parcels all arrived."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME"], "5002": ["SKU-ACME"]})
        tell(engine, TUE, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), TUE),
                                        notice("TB5002-ACME", PARCEL_2, (1,), TUE)))
        deliver(engine, PARCEL_1, WED)
        deliver(engine, PARCEL_2, WED)
        assert settle(engine, WED, "TB5002-ACME") == RollUp(lines_delivered=1, vendor_orders_delivered=1,
                                                           orders_delivered=1)
        assert (states(engine)["5001"], states(engine)["5002"]) == ("shipped", "delivered")


class TestForwardOnly:
    def test_a_stale_answer_or_notice_after_delivery_moves_nothing_back(self, engine: Engine,
                                                                       tmp_path: Path) -> None:
        """A parcel back in transit and a repeated ship notice leave the delivered rows delivered."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        tell(engine, TUE, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), TUE),))
        deliver(engine, PARCEL_1, WED)
        settle(engine, WED, "TB5001-ACME")
        delivered = {"5001": "delivered", "TB5001-ACME": "delivered", "TB5001-ACME:1": "delivered"}
        assert states(engine) == delivered
        change(engine, update(Shipment).values(status="in_transit"))
        assert settle(engine, THU, "TB5001-ACME") == RollUp()
        tell(engine, THU, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), TUE),))
        assert states(engine) == delivered

    def test_a_rerun_changes_nothing(self, engine: Engine, tmp_path: Path) -> None:
        """The second rollup over the same rows moves none and keeps the first one's times."""
        open_shop(engine, tmp_path, {"5001": ["SKU-ACME"]})
        tell(engine, TUE, ship_notices=(notice("TB5001-ACME", PARCEL_1, (1,), TUE),))
        deliver(engine, PARCEL_1, WED)
        assert settle(engine, WED, "TB5001-ACME") != RollUp()
        assert settle(engine, THU, "TB5001-ACME") == RollUp()
        with session_factory(engine)() as session:
            assert session.execute(select(VendorOrder.delivered_at, VendorOrder.updated_at, Order.updated_at)
                                   .join(Order)).one() == (WED, WED, WED)
