"""Routing: each order line goes to its vendor through the catalog; one vendor order per (order, vendor).

A vendor order's id is ``<po_prefix><order number>-<VENDOR>`` (``TB1042-ACME``); it is the join key for
everything the vendor sends back. A line whose SKU is not in the catalog stays ``unroutable`` (the
``unroutable_line`` rule raises it) while the order's other vendors go ahead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from orderflow.calendars import VendorCalendars
from orderflow.config import VendorSettings
from orderflow.db.bulk import insert_rows, table_of
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
from orderflow.orders.records import item_name, name_key


def vendor_order_id(po_prefix: str, order_number: str, vendor_code: str) -> str:
    """``vendor_order_id("TB", "1042", "ACME")`` gives ``"TB1042-ACME"``."""
    return f"{po_prefix}{order_number}-{vendor_code}"


@dataclass(frozen=True)
class Route:
    vendor_code: str
    vendor_sku: str


@dataclass
class Catalog:
    """The crosswalk in memory, for routing a batch without a query per line, and the vendors' calendars
    that give each new vendor order its ship-by deadline. ``skus_by_name`` serves stores that sell without
    SKUs: a line's product and variant name (see :func:`item_name`) to the catalog's SKU."""

    routes: dict[str, Route]
    calendars: VendorCalendars | None = None
    skus_by_name: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, vendors: Iterable[VendorSettings] = ()) -> Catalog:
        rows = session.execute(
            select(CatalogItem.sku, CatalogItem.vendor_code, CatalogItem.vendor_sku, CatalogItem.product,
                   CatalogItem.variant)
            .join(Vendor, Vendor.code == CatalogItem.vendor_code)
            .where(Vendor.active.is_(True))
        ).all()
        return cls({row.sku: Route(row.vendor_code, row.vendor_sku) for row in rows}, VendorCalendars(vendors),
                   {name_key(item_name(row.product, row.variant or "")): row.sku for row in rows if row.product})

    def sku_of(self, sku: str, name: str) -> str:
        """The line's SKU, or for a line without one the SKU its product and variant name maps to ("" if none)."""
        return sku or self.skus_by_name.get(name_key(name), "")

    def ship_by(self, vendor_code: str, placed_at: datetime) -> datetime | None:
        """The vendor's deadline for an order placed at ``placed_at`` (handling days on its calendar)."""
        return self.calendars.ship_by(vendor_code, placed_at) if self.calendars else None


class LineToRoute(NamedTuple):
    order_id: int
    order_number: str
    line_id: int
    line_no: int
    sku: str
    qty: int
    placed_at: datetime
    """When its order was placed: a new vendor order's ship-by deadline counts from it."""


@dataclass
class RoutingResult:
    routed_lines: int = 0
    unroutable_lines: int = 0
    vendor_orders_created: int = 0
    problems: list[str] = field(default_factory=list)


def line_routing(sku: str, catalog: Catalog, now: datetime) -> tuple[str | None, LineState, datetime | None]:
    """The routing columns a new pending order line is inserted with: ``vendor_code``, ``state`` and
    ``unroutable_since`` (its vendor, or unroutable since ``now``).

    Written with the line, so routing a big import needs no second pass over the lines it just stored.
    """
    route = catalog.routes.get(sku)
    if route is None:
        return None, LineState.UNROUTABLE, now
    return route.vendor_code, LineState.PENDING, None


_VENDOR_ORDERS = table_of(VendorOrder)
_VENDOR_ORDER_LINES = table_of(VendorOrderLine)
_VENDOR_ORDER_COLUMNS = ("id", "order_id", "vendor_code", "state", "attempts", "created_at", "updated_at", "ship_by")
_VENDOR_LINE_COLUMNS = ("vendor_order_id", "order_line_id", "line_no", "sku", "vendor_sku", "qty", "state")


def route_new_lines(*, session: Session, lines: list[LineToRoute], catalog: Catalog, po_prefix: str,
                    now: datetime) -> RoutingResult:
    """Route lines of orders that have no vendor orders yet: create the vendor orders and their lines in bulk.

    The order lines themselves were inserted with :func:`line_routing`'s columns, which agree with this.
    States go in as their plain text: SQLite's driver binds a str subclass through a slower lookup, per value.
    """
    result = RoutingResult()
    by_vendor_order: dict[str, list[tuple[LineToRoute, Route]]] = defaultdict(list)
    routes = catalog.routes
    for line in lines:
        route = routes.get(line.sku)
        if route is None:
            result.unroutable_lines += 1
        else:
            by_vendor_order[vendor_order_id(po_prefix, line.order_number, route.vendor_code)].append((line, route))
    if by_vendor_order:
        insert_rows(session, _VENDOR_ORDERS, _VENDOR_ORDER_COLUMNS, [
            (vo_id, routed[0][0].order_id, routed[0][1].vendor_code, VendorOrderState.PENDING.value, 0, now, now,
             catalog.ship_by(routed[0][1].vendor_code, routed[0][0].placed_at))
            for vo_id, routed in by_vendor_order.items()
        ])
        insert_rows(session, _VENDOR_ORDER_LINES, _VENDOR_LINE_COLUMNS, [
            (vo_id, line.line_id, number, line.sku, route.vendor_sku, line.qty, LineState.PENDING.value)
            for vo_id, routed in by_vendor_order.items()
            for number, (line, route) in enumerate(sorted(routed, key=_line_no), start=1)
        ])
    result.routed_lines = sum(map(len, by_vendor_order.values()))
    result.vendor_orders_created = len(by_vendor_order)
    return result


def _line_no(routed: tuple[LineToRoute, Route]) -> int:
    return routed[0].line_no


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
        route = catalog.routes.get(catalog.sku_of(line.sku, line.name))
        if route is None:
            continue
        line.sku = catalog.sku_of(line.sku, line.name)
        vo_id = vendor_order_id(po_prefix, order.order_number, route.vendor_code)
        vendor_order = session.get(VendorOrder, vo_id)
        if vendor_order is None:
            vendor_order = VendorOrder(id=vo_id, order_id=order.id, vendor_code=route.vendor_code,
                                       state=VendorOrderState.PENDING, attempts=0, created_at=now, updated_at=now,
                                       ship_by=catalog.ship_by(route.vendor_code, order.placed_at))
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
