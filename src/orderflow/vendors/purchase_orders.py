"""Purchase orders as the vendor sees them, built from the database for a batch of vendor orders.

Their dates are the vendor's: the order date is the day the order came in on the vendor's own clock, and the
requested ship date is the day of the very ``ship_by`` the rules judge the vendor by, in the vendor's zone.
A database instant's UTC date would tell a Chicago vendor due Wednesday 23:59 that it has until Thursday.

A batch is read in two queries of plain rows (each vendor order with its order's ship-to; every line with its
order line and catalog item), only the columns a purchase order shows: a batch of 200 built as ORM objects
spent most of its time making objects (and parsing each order's raw storefront JSON) that nothing kept.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from orderflow.calendars import VendorCalendars
from orderflow.db.models import CatalogItem, Order, OrderLine, VendorOrder, VendorOrderLine
from orderflow.orders.records import Address
from orderflow.vendors.records import PurchaseOrder, PurchaseOrderLine


def purchase_orders(session: Session, vendor_order_ids: list[str],
                    calendars: VendorCalendars) -> dict[str, PurchaseOrder]:
    """The purchase order for each vendor order id, in two queries, dated on each vendor's calendar."""
    if not vendor_order_ids:
        return {}
    heads = session.execute(
        select(VendorOrder.id, VendorOrder.vendor_code, VendorOrder.ship_by, Order.order_number, Order.placed_at,
               Order.customer_email, Order.ship_name, Order.ship_company, Order.ship_address1, Order.ship_address2,
               Order.ship_city, Order.ship_province, Order.ship_zip, Order.ship_country, Order.ship_phone)
        .join(Order, Order.id == VendorOrder.order_id)
        .where(VendorOrder.id.in_(vendor_order_ids))).all()
    lines: dict[str, list[PurchaseOrderLine]] = defaultdict(list)
    for row in session.execute(
            select(VendorOrderLine.vendor_order_id, VendorOrderLine.line_no, VendorOrderLine.sku,
                   VendorOrderLine.vendor_sku, VendorOrderLine.qty, OrderLine.name, OrderLine.price,
                   CatalogItem.upc, CatalogItem.description, CatalogItem.vendor_variant_id)
            .join(OrderLine, OrderLine.id == VendorOrderLine.order_line_id)
            .outerjoin(CatalogItem, CatalogItem.sku == VendorOrderLine.sku)
            .where(VendorOrderLine.vendor_order_id.in_(vendor_order_ids))
            .order_by(VendorOrderLine.vendor_order_id, VendorOrderLine.line_no)):
        lines[row.vendor_order_id].append(PurchaseOrderLine(
            line=row.line_no, sku=row.sku, vendor_sku=row.vendor_sku, upc=row.upc or "",
            description=row.description or row.name, qty=row.qty, unit_cost=None,
            variant_id=row.vendor_variant_id, retail_price=row.price))
    return {head.id: _purchase_order(head, tuple(lines[head.id]), calendars) for head in heads}


def _purchase_order(head: Row[*tuple[Any, ...]], lines: tuple[PurchaseOrderLine, ...],
                    calendars: VendorCalendars) -> PurchaseOrder:
    ship_by = head.ship_by or calendars.ship_by(head.vendor_code, head.placed_at)
    return PurchaseOrder(
        vendor_order_id=head.id, order_number=head.order_number,
        order_date=_vendor_day(calendars, head.vendor_code, head.placed_at),
        ship_to=Address(name=head.ship_name, company=head.ship_company, address1=head.ship_address1,
                        address2=head.ship_address2, city=head.ship_city, province=head.ship_province,
                        zip=head.ship_zip, country=head.ship_country, phone=head.ship_phone),
        customer_email=head.customer_email, lines=lines,
        requested_ship_date=_vendor_day(calendars, head.vendor_code, ship_by) if ship_by else None)


def _vendor_day(calendars: VendorCalendars, vendor_code: str, moment: datetime) -> date:
    """The date of ``moment`` on the vendor's clock (the shop's UTC date for a vendor no longer configured)."""
    calendar = calendars.calendar(vendor_code)
    return moment.astimezone(calendar.zone).date() if calendar else moment.date()
