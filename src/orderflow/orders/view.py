"""One order's whole story, and the list of orders, as plain documents (the ``--format json`` contract).

The field names here are a contract: later features add fields (shipments, events, notifications) but never
rename these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, selectinload

from orderflow.db.models import (
    Notification,
    Order,
    OrderLine,
    Shipment,
    TrackingEvent,
    VendorOrder,
    VendorOrderState,
)
from orderflow.errors import InputError
from orderflow.orders.records import normalize_order_number

VENDOR_ORDER_STATES = {state.value for state in VendorOrderState}


def find_order(session: Session, number: str, *, source: str | None = None) -> Order:
    """The order shown as ``number`` (``1042`` or ``#1042``); ambiguous numbers need ``source``."""
    wanted = normalize_order_number(number)
    query = select(Order).where(Order.order_number == wanted).options(
        selectinload(Order.lines), selectinload(Order.vendor_orders).selectinload(VendorOrder.lines),
        selectinload(Order.vendor_orders).selectinload(VendorOrder.shipments).selectinload(Shipment.lines))
    if source:
        query = query.where(Order.source == source)
    found = list(session.scalars(query))
    if not found:
        raise InputError(f"no order {wanted}" + (f" from source {source!r}" if source else ""))
    if len(found) > 1:
        raise InputError(f"order {wanted} exists in several sources ({', '.join(o.source for o in found)}); "
                         "name one with --source")
    return found[0]


def _shipment(shipment: Shipment, line_no: dict[int, int], events: list[TrackingEvent]) -> dict[str, Any]:
    return {
        "id": shipment.id, "vendor_order": shipment.vendor_order_id, "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number, "tracking_valid": shipment.tracking_valid,
        "tracking_note": shipment.tracking_note, "shipped_at": shipment.shipped_at,
        "reported_at": shipment.reported_at, "status": shipment.status, "first_scan_at": shipment.first_scan_at,
        "last_event_at": shipment.last_event_at, "estimated_delivery": shipment.estimated_delivery,
        "delivered_at": shipment.delivered_at,
        "lines": sorted(({"line": line_no[line.vendor_order_line_id], "qty": line.qty} for line in shipment.lines),
                        key=lambda line: line["line"]),
        "events": [{"at": event.occurred_at, "status": event.status, "code": event.code,
                    "description": event.description, "location": event.location} for event in events],
    }


def _notifications(session: Session, order: Order) -> list[dict[str, Any]]:
    """Every notification about this order, live ones first in queue order, then the resolved ones newest first."""
    from orderflow.rules.queue import as_document, sort_key

    vendor_order_ids = [vo.id for vo in order.vendor_orders]
    about_order = Notification.order_number == order.order_number
    if vendor_order_ids:
        about_order = about_order | Notification.vendor_order_id.in_(vendor_order_ids)
    found = list(session.scalars(select(Notification).where(about_order)))
    live = sorted((as_document(n) for n in found if n.state != "resolved"), key=sort_key("type"))
    resolved = sorted((as_document(n) for n in found if n.state == "resolved"),
                      key=lambda d: (d["resolved_at"].timestamp() if d["resolved_at"] else 0.0, d["id"]),
                      reverse=True)
    return live + resolved


def order_story(order: Order, session: Session | None = None) -> dict[str, Any]:
    """The order's whole story; pass the session to include tracking events and notifications."""
    vendor_of_line = {line.order_line_id: vo.vendor_code for vo in order.vendor_orders for line in vo.lines}
    # An order line says where it was routed; once routed, how it is going is its vendor order line's state.
    progress = {line.order_line_id: line.state for vo in order.vendor_orders for line in vo.lines}
    line_no = {line.id: line.line_no for vo in order.vendor_orders for line in vo.lines}
    shipments = [shipment for vo in order.vendor_orders for shipment in vo.shipments]
    events: dict[int, list[TrackingEvent]] = {shipment.id: [] for shipment in shipments}
    if session is not None and shipments:
        for event in session.scalars(select(TrackingEvent).where(TrackingEvent.shipment_id.in_(list(events)))
                                     .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc())):
            events[event.shipment_id].append(event)
    return {
        "order_number": order.order_number,
        "source": order.source,
        "placed_at": order.placed_at,
        "customer": {"name": order.customer_name, "email": order.customer_email},
        "shipping": {
            "name": order.ship_name, "company": order.ship_company, "address1": order.ship_address1,
            "address2": order.ship_address2, "city": order.ship_city, "province": order.ship_province,
            "zip": order.ship_zip, "country": order.ship_country, "phone": order.ship_phone,
        },
        "state": order.state,
        "financial_status": order.financial_status,
        "cancelled_at": order.cancelled_at,
        "lines": [
            {"line": line.line_no, "sku": line.sku, "qty": line.qty, "price": line.price,
             "vendor": vendor_of_line.get(line.id, line.vendor_code),
             "state": progress.get(line.id, line.state) if line.state == "pending" else line.state}
            for line in order.lines
        ],
        "vendor_orders": [
            {"id": vo.id, "vendor": vo.vendor_code, "state": vo.state, "ship_by": vo.ship_by,
             "cancel_requested_at": vo.cancel_requested_at, "last_error": vo.last_error,
             "lines": [
                 {"line": line.line_no, "sku": line.sku, "vendor_sku": line.vendor_sku, "qty": line.qty,
                  "state": line.state, **({"reason": line.reason} if line.reason else {}),
                  **({"qty_shipped": line.qty_shipped} if line.qty_shipped else {}),
                  **({"expected_at": line.expected_at} if line.expected_at else {})}
                 for line in vo.lines
             ]}
            for vo in order.vendor_orders
        ],
        "shipments": [_shipment(shipment, line_no, events[shipment.id]) for shipment in shipments],
        "notifications": _notifications(session, order) if session is not None else [],
    }


def _filtered(query: Select[Order], *, state: str | None, vendor: str | None,
              since: datetime | None) -> Select[Order]:
    if state in VENDOR_ORDER_STATES - {"cancelled", "shipped", "delivered"}:
        query = query.where(exists().where(VendorOrder.order_id == Order.id, VendorOrder.state == state))
    elif state == "unroutable":
        query = query.where(exists().where(OrderLine.order_id == Order.id, OrderLine.state == "unroutable"))
    elif state:
        query = query.where(Order.state == state)
    if vendor:
        query = query.where(exists().where(VendorOrder.order_id == Order.id,
                                           VendorOrder.vendor_code == vendor.upper()))
    if since:
        query = query.where(Order.placed_at >= since)
    return query


def list_orders(session: Session, *, state: str | None = None, vendor: str | None = None,
                since: datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Newest first. ``state`` is an order state (open, cancelled, ...), a vendor order state (sent,
    rejected, ...) matched by any of the order's vendor orders, or ``unroutable``."""
    query = _filtered(select(Order), state=state, vendor=vendor, since=since)
    orders = list(session.scalars(
        query.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)
        .options(selectinload(Order.vendor_orders))))
    return [
        {"order_number": order.order_number, "placed_at": order.placed_at, "state": order.state,
         "vendor_orders": [{"id": vo.id, "vendor": vo.vendor_code, "state": vo.state}
                           for vo in order.vendor_orders]}
        for order in orders
    ]
