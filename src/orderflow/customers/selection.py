"""Which parcels are due a shipment notice, and what it says: the items, the carrier, the link, the order's progress.

The policy (``[customers] notify_when``):

- ``scanned`` (default): the carrier has physically scanned the parcel (``first_scan_at``, or a status past
  "label created"), so the link the customer gets shows the parcel moving;
- ``tracking``: as soon as the vendor reported a valid tracking number (or the carrier scanned it anyway).

Only parcels still unannounced (no notice decided for them yet), on live orders and vendor orders, not
cancelled, and reported or first scanned within ``max_age_days``.

Where the order stands is told as "2 of 5 parcels shipped": *shipped* counts the order's parcels with a valid
number or a scan (every vendor, whatever the policy); *expected* adds one parcel for every part of the order
that still has units to ship (each vendor order with units left, and once more for lines not yet routed to a
vendor). It is an honest lower bound: a vendor may split its part into more parcels. The units still to come
are listed too.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, exists, literal, or_, select
from sqlalchemy.orm import Session

from orderflow.carriers.numbers import tracking_url
from orderflow.carriers.status import NOT_PHYSICAL, PackageStatus
from orderflow.config import CustomerSettings
from orderflow.db.models import (
    LineState,
    Order,
    OrderLine,
    OrderState,
    OutboxMessage,
    Shipment,
    ShipmentLine,
    VendorOrder,
    VendorOrderLine,
    VendorOrderState,
)

NOTICE_KEY_PREFIX = "customer_notice:shipment:"
"""One notice per parcel, whatever the channel: the outbox ``dedupe_key`` is this plus the shipment id."""

_ENDED_ORDERS = (OrderState.CANCELLED, OrderState.FULFILLED_ELSEWHERE)
_CLOSED_LINES = (LineState.CANCELLED, LineState.REJECTED, LineState.FULFILLED_ELSEWHERE)
_CLOSED_VENDOR_ORDERS = (VendorOrderState.CANCELLED, VendorOrderState.REJECTED)
_CANCELLED = PackageStatus.CANCELLED.value
_NOT_SCANNED = tuple(status.value for status in NOT_PHYSICAL)


def notice_key(shipment_id: int) -> str:
    return f"{NOTICE_KEY_PREFIX}{shipment_id}"


def due_parcels(session: Session, customers: CustomerSettings, now: datetime) -> list[tuple[Shipment, Order]]:
    """The parcels the policy says to announce now and that have no notice decided yet, oldest first."""
    scanned = or_(Shipment.first_scan_at.is_not(None), Shipment.status.not_in(_NOT_SCANNED))
    ready = scanned if customers.notify_when == "scanned" else or_(scanned, Shipment.tracking_valid.is_(True))
    cutoff = now - timedelta(days=customers.max_age_days)
    decided = exists().where(
        OutboxMessage.dedupe_key == literal(NOTICE_KEY_PREFIX) + cast(Shipment.id, String))
    rows = session.execute(
        select(Shipment, Order)
        .join(VendorOrder, Shipment.vendor_order_id == VendorOrder.id)
        .join(Order, VendorOrder.order_id == Order.id)
        .where(Shipment.customer_notified_at.is_(None), Shipment.status != _CANCELLED,
               or_(Shipment.reported_at >= cutoff, Shipment.first_scan_at >= cutoff),
               VendorOrder.state != VendorOrderState.CANCELLED, Order.state.not_in(_ENDED_ORDERS), ready, ~decided)
        .order_by(Shipment.id)).all()
    return [(shipment, order) for shipment, order in rows]


def usable_address(text: str) -> str | None:
    """The one plain address in ``text`` (``"Pat <pat@example.com>"`` or ``pat@example.com``), else None."""
    _, address = email.utils.parseaddr(text)
    local, at, domain = address.rpartition("@")
    if not (local and at and "." in domain) or any(char.isspace() or char in ",;<>" for char in address):
        return None
    return address


@dataclass
class NoticeWriter:
    """Builds each parcel's notice (the outbox payload: a snapshot of what is true when it is decided)."""

    session: Session
    tracking_urls: dict[str, str]
    zone: ZoneInfo
    _progress: dict[int, dict[str, Any]] = field(default_factory=dict)

    def payload(self, shipment: Shipment, order: Order) -> dict[str, Any]:
        number = shipment.tracking_number
        carrier = shipment.carrier
        estimate = shipment.estimated_delivery
        return {
            "shipment_id": shipment.id, "order_number": order.order_number, "vendor_order_id": shipment.vendor_order_id,
            "customer_name": order.customer_name, "to": usable_address(order.customer_email) or "",
            "carrier_code": carrier, "carrier": carrier_name(carrier, shipment.carrier_named),
            "tracking_number": number, "tracking_url": _link(self.tracking_urls, carrier, number),
            "shipped_at": (shipment.shipped_at or shipment.reported_at).isoformat(),
            "estimated_delivery": estimate.astimezone(self.zone).date().isoformat() if estimate else None,
            "items": self._items(shipment.id),
            **self._order_progress(order.id),
        }

    def _items(self, shipment_id: int) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(OrderLine.sku, OrderLine.name, ShipmentLine.qty)
            .join(VendorOrderLine, ShipmentLine.vendor_order_line_id == VendorOrderLine.id)
            .join(OrderLine, VendorOrderLine.order_line_id == OrderLine.id)
            .where(ShipmentLine.shipment_id == shipment_id).order_by(OrderLine.line_no))
        return [{"sku": sku, "name": name or sku, "qty": qty} for sku, name, qty in rows]

    def _order_progress(self, order_id: int) -> dict[str, Any]:
        if order_id not in self._progress:
            self._progress[order_id] = _progress(self.session, order_id)
        return self._progress[order_id]


def _progress(session: Session, order_id: int) -> dict[str, Any]:
    shipped = len(session.scalars(
        select(Shipment.id).join(VendorOrder, Shipment.vendor_order_id == VendorOrder.id)
        .where(VendorOrder.order_id == order_id, Shipment.status != _CANCELLED,
               or_(Shipment.tracking_valid.is_(True), Shipment.first_scan_at.is_not(None)))).all())
    rows = session.execute(
        select(OrderLine, VendorOrderLine, VendorOrder.state)
        .outerjoin(VendorOrderLine, VendorOrderLine.order_line_id == OrderLine.id)
        .outerjoin(VendorOrder, VendorOrderLine.vendor_order_id == VendorOrder.id)
        .where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)).all()
    to_come, parts = [], set()
    for line, vendor_line, vendor_order_state in rows:
        if vendor_line is None:
            left, part = (0 if line.state in _CLOSED_LINES else line.qty), "not yet routed"
        else:
            closed = vendor_order_state in _CLOSED_VENDOR_ORDERS or vendor_line.state in _CLOSED_LINES
            left = 0 if closed else max(0, vendor_line.qty - vendor_line.qty_shipped - vendor_line.qty_rejected)
            part = vendor_line.vendor_order_id
        if left:
            to_come.append({"sku": line.sku, "name": line.name or line.sku, "qty": left})
            parts.add(part)
    return {"parcels_shipped": shipped, "parcels_expected": shipped + len(parts), "to_come": to_come}


def carrier_name(code: str | None, named: str | None) -> str:
    """UPS, FedEx, USPS, DHL by their names; another carrier as the vendor named it."""
    from orderflow.carriers.catalogue import BY_CODE

    if code in BY_CODE:
        return BY_CODE[code].name
    return named or (code.upper() if code else "the carrier")


def _link(tracking_urls: dict[str, str], carrier: str | None, number: str) -> str | None:
    if carrier is None:
        return None
    template = tracking_urls.get(carrier)
    if template is not None:
        return template.replace("{number}", quote(number, safe=""))
    return tracking_url(carrier, number)
