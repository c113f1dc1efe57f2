"""Routing: each order line goes to its vendor through the catalog; one vendor order per (order, vendor).

A vendor order's id is ``<po_prefix><order number>-<VENDOR>`` (``TB1042-ACME``); it is the join key for
everything the vendor sends back. A line whose SKU is not in the catalog stays ``unroutable`` (the
``unroutable_line`` rule raises it) while the order's other vendors go ahead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from orderflow.db.bulk import chunked
from orderflow.db.models import (
    CatalogItem,
    LineState,
    Order,
    OrderLine,
    OrderState,
    Vendor,
    VendorOrder,
    VendorOrderLine,
    VendorOrderState,
)


def vendor_order_id(po_prefix: str, order_number: str, vendor_code: str) -> str:
    """``vendor_order_id("TB", "1042", "ACME")`` gives ``"TB1042-ACME"``."""
    return f"{po_prefix}{order_number}-{vendor_code}"


@dataclass(frozen=True)
class Route:
    vendor_code: str
    vendor_sku: str


@dataclass
class Catalog:
    """The crosswalk in memory, for routing a batch without a query per line."""

    routes: dict[str, Route]

    @classmethod
    def load(cls, session: Session) -> Catalog:
        rows = session.execute(
            select(CatalogItem.sku, CatalogItem.vendor_code, CatalogItem.vendor_sku)
            .join(Vendor, Vendor.code == CatalogItem.vendor_code)
            .where(Vendor.active.is_(True))
        )
        return cls({sku: Route(vendor, vendor_sku) for sku, vendor, vendor_sku in rows})


@dataclass(frozen=True)
class LineToRoute:
    order_id: int
    order_number: str
    line_id: int
    line_no: int
    sku: str
    qty: int


@dataclass
class RoutingResult:
    routed_lines: int = 0
    unroutable_lines: int = 0
    vendor_orders_created: int = 0
    problems: list[str] = field(default_factory=list)


def route_new_lines(*, session: Session, lines: list[LineToRoute], catalog: Catalog, po_prefix: str,
                    now: datetime) -> RoutingResult:
    """Route lines of orders that have no vendor orders yet: create the vendor orders and their lines in bulk."""
    result = RoutingResult()
    by_vendor_order: dict[str, list[tuple[LineToRoute, Route]]] = defaultdict(list)
    unroutable: list[int] = []
    for line in lines:
        route = catalog.routes.get(line.sku)
        if route is None:
            unroutable.append(line.line_id)
        else:
            by_vendor_order[vendor_order_id(po_prefix, line.order_number, route.vendor_code)].append((line, route))
    if by_vendor_order:
        session.execute(insert(VendorOrder), [
            {"id": vo_id, "order_id": routed[0][0].order_id, "vendor_code": routed[0][1].vendor_code,
             "state": VendorOrderState.PENDING, "attempts": 0, "created_at": now, "updated_at": now}
            for vo_id, routed in by_vendor_order.items()
        ])
        session.execute(insert(VendorOrderLine), [
            {"vendor_order_id": vo_id, "order_line_id": line.line_id, "line_no": number, "sku": line.sku,
             "vendor_sku": route.vendor_sku, "qty": line.qty, "state": LineState.PENDING}
            for vo_id, routed in by_vendor_order.items()
            for number, (line, route) in enumerate(sorted(routed, key=lambda pair: pair[0].line_no), start=1)
        ])
        routed_ids = [line.line_id for routed in by_vendor_order.values() for line, _ in routed]
        vendor_of = {line.line_id: route.vendor_code for routed in by_vendor_order.values() for line, route in routed}
        for chunk in chunked(routed_ids):
            for line_row in session.scalars(select(OrderLine).where(OrderLine.id.in_(chunk))):
                line_row.vendor_code = vendor_of[line_row.id]
    for chunk in chunked(unroutable):
        for line_row in session.scalars(select(OrderLine).where(OrderLine.id.in_(chunk))):
            line_row.state = LineState.UNROUTABLE
            line_row.unroutable_since = now
    result.routed_lines = sum(len(routed) for routed in by_vendor_order.values())
    result.unroutable_lines = len(unroutable)
    result.vendor_orders_created = len(by_vendor_order)
    return result


def route_waiting_lines(*, session: Session, catalog: Catalog, po_prefix: str, now: datetime) -> RoutingResult:
    """Route unroutable lines whose SKU the catalog now knows (after a catalog import).

    A line joins its vendor's order while that order is still pending; if the vendor order was already sent,
    the line stays unroutable and a problem says so: it needs a separate order with the vendor.
    """
    result = RoutingResult()
    waiting = session.execute(
        select(OrderLine, Order)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.state == LineState.UNROUTABLE, Order.state == OrderState.OPEN)
        .order_by(Order.id, OrderLine.line_no)
    ).all()
    for line, order in waiting:
        route = catalog.routes.get(line.sku)
        if route is None:
            continue
        vo_id = vendor_order_id(po_prefix, order.order_number, route.vendor_code)
        vendor_order = session.get(VendorOrder, vo_id)
        if vendor_order is None:
            vendor_order = VendorOrder(id=vo_id, order_id=order.id, vendor_code=route.vendor_code,
                                       state=VendorOrderState.PENDING, attempts=0, created_at=now, updated_at=now)
            session.add(vendor_order)
            result.vendor_orders_created += 1
        elif vendor_order.state != VendorOrderState.PENDING:
            result.problems.append(
                f"order {order.order_number} line {line.line_no} ({line.sku}): {vo_id} was already "
                f"{vendor_order.state}; the line needs a separate order with {route.vendor_code}")
            continue
        next_no = 1 + max((existing.line_no for existing in vendor_order.lines), default=0)
        vendor_order.lines.append(VendorOrderLine(
            order_line_id=line.id, line_no=next_no, sku=line.sku, vendor_sku=route.vendor_sku, qty=line.qty,
            state=LineState.PENDING))
        vendor_order.updated_at = now
        line.vendor_code = route.vendor_code
        line.state = LineState.PENDING
        line.unroutable_since = None
        result.routed_lines += 1
    session.flush()
    return result
