"""Purchase orders as the vendor sees them, built from the database for a batch of vendor orders.

Their dates are the vendor's: the order date is the day the order came in on the vendor's own clock, and the
requested ship date is the day of the very ``ship_by`` the rules judge the vendor by, in the vendor's zone.
A database instant's UTC date would tell a Chicago vendor due Wednesday 23:59 that it has until Thursday.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from orderflow.calendars import VendorCalendars
from orderflow.db.models import CatalogItem, OrderLine, VendorOrder
from orderflow.orders.records import Address
from orderflow.vendors.records import PurchaseOrder, PurchaseOrderLine


def purchase_orders(session: Session, vendor_order_ids: list[str],
                    calendars: VendorCalendars) -> dict[str, PurchaseOrder]:
    """The purchase order for each vendor order id, in one round of queries, dated on each vendor's calendar."""
    vendor_orders = list(session.scalars(
        select(VendorOrder).where(VendorOrder.id.in_(vendor_order_ids))
        .options(selectinload(VendorOrder.order), selectinload(VendorOrder.lines))))
    line_ids = [line.order_line_id for vo in vendor_orders for line in vo.lines]
    order_lines = {line.id: line for line in session.scalars(select(OrderLine).where(OrderLine.id.in_(line_ids)))}
    skus = {line.sku for vo in vendor_orders for line in vo.lines}
    catalog = {item.sku: item for item in session.scalars(select(CatalogItem).where(CatalogItem.sku.in_(skus)))}
    return {vo.id: _purchase_order(vo, order_lines, catalog, calendars) for vo in vendor_orders}


def _purchase_order(vo: VendorOrder, order_lines: dict[int, OrderLine], catalog: dict[str, CatalogItem],
                    calendars: VendorCalendars) -> PurchaseOrder:
    order = vo.order
    lines = []
    for line in vo.lines:
        item = catalog.get(line.sku)
        order_line = order_lines[line.order_line_id]
        lines.append(PurchaseOrderLine(
            line=line.line_no, sku=line.sku, vendor_sku=line.vendor_sku, upc=(item.upc if item else None) or "",
            description=(item.description if item else None) or order_line.name, qty=line.qty, unit_cost=None,
            variant_id=item.vendor_variant_id if item else None, retail_price=order_line.price))
    return PurchaseOrder(
        vendor_order_id=vo.id, order_number=order.order_number,
        order_date=_vendor_day(calendars, vo.vendor_code, order.placed_at),
        ship_to=Address(name=order.ship_name, company=order.ship_company, address1=order.ship_address1,
                        address2=order.ship_address2, city=order.ship_city, province=order.ship_province,
                        zip=order.ship_zip, country=order.ship_country, phone=order.ship_phone),
        customer_email=order.customer_email, lines=tuple(lines),
        requested_ship_date=_vendor_day(calendars, vo.vendor_code, ship_by) if (
            ship_by := vo.ship_by or calendars.ship_by(vo.vendor_code, order.placed_at)) else None)


def _vendor_day(calendars: VendorCalendars, vendor_code: str, moment: datetime) -> date:
    """The date of ``moment`` on the vendor's clock (the shop's UTC date for a vendor no longer configured)."""
    calendar = calendars.calendar(vendor_code)
    return moment.astimezone(calendar.zone).date() if calendar else moment.date()
