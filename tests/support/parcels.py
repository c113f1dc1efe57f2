"""Parcels, scans and carrier poll runs written straight into a shop's database, on New York wall-clock times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update

from orderflow.carriers.tracking import CARRIER_FAILURES
from orderflow.db.engine import session_factory
from orderflow.db.models import (
    CarrierPollRun,
    Shipment,
    ShipmentLine,
    TrackingEvent,
    VendorOrderLine,
)

SHOP_ZONE = ZoneInfo("America/New_York")
UPS_NUMBER = "1Z5R89390357567127"


def et(day: int, hour: int, minute: int = 0) -> datetime:
    """A November 2026 wall-clock time in New York, as the aware UTC instant the database holds."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHOP_ZONE).astimezone(UTC)


T0 = et(2, 10)


def add_parcel(engine: Engine, number: str = UPS_NUMBER, *, vendor_order: str = "TB9001-ACME",
               carrier: str | None = "ups", lines: Sequence[int] = (1,), **fields: Any) -> int:
    """A parcel the vendor reported on Mon 2 Nov (unless ``fields`` say otherwise), carrying PO lines ``lines``."""
    values: dict[str, Any] = {"reported_at": T0, "shipped_at": T0, "status": "label_created", "created_at": T0,
                              "updated_at": T0, **fields}
    with session_factory(engine)() as session, session.begin():
        shipment = Shipment(vendor_order_id=vendor_order, carrier=carrier, tracking_number=number, **values)
        session.add(shipment)
        session.flush()
        for line_no in lines:
            line_id = session.scalar(select(VendorOrderLine.id).where(
                VendorOrderLine.vendor_order_id == vendor_order, VendorOrderLine.line_no == line_no))
            assert line_id is not None
            session.add(ShipmentLine(shipment_id=shipment.id, vendor_order_line_id=line_id, qty=2))
        return shipment.id


def add_event(engine: Engine, shipment_id: int, at: datetime, status: str, description: str, *, location: str = "",
              recorded_at: datetime | None = None) -> None:
    with session_factory(engine)() as session, session.begin():
        session.add(TrackingEvent(shipment_id=shipment_id, occurred_at=at, status=status, code=status.upper(),
                                  description=description, location=location, recorded_at=recorded_at or at))


def change_parcel(engine: Engine, shipment_id: int, **fields: Any) -> None:
    with session_factory(engine)() as session, session.begin():
        session.execute(update(Shipment).where(Shipment.id == shipment_id).values(**fields))


def add_poll_run(engine: Engine, carrier: str, at: datetime, outcomes: dict[str, int]) -> None:
    failures = sum(count for outcome, count in outcomes.items() if outcome in CARRIER_FAILURES)
    with session_factory(engine)() as session, session.begin():
        session.add(CarrierPollRun(carrier=carrier, at=at, outcomes=outcomes, polls=sum(outcomes.values()),
                                   failures=failures))
