"""Purchase orders as the vendor sees them, built from the database for a batch of vendor orders."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from orderflow.db.models import CatalogItem, OrderLine, VendorOrder
from orderflow.orders.records import Address
from orderflow.vendors.records import PurchaseOrder, PurchaseOrderLine


def purchase_orders(session: Session, vendor_order_ids: list[str]) -> dict[str, PurchaseOrder]:
    """The purchase order for each vendor order id, in one round of queries."""
    vendor_orders = list(session.scalars(
        select(VendorOrder).where(VendorOrder.id.in_(vendor_order_ids))
        .options(selectinload(VendorOrder.order), selectinload(VendorOrder.lines))))
    line_ids = [line.order_line_id for vo in vendor_orders for line in vo.lines]
    order_lines = {line.id: line for line in session.scalars(select(OrderLine).where(OrderLine.id.in_(line_ids)))}
    skus = {line.sku for vo in vendor_orders for line in vo.lines}
    catalog = {item.sku: item for item in session.scalars(select(CatalogItem).where(CatalogItem.sku.in_(skus)))}
    return {vo.id: _purchase_order(vo, order_lines, catalog) for vo in vendor_orders}


def _purchase_order(vo: VendorOrder, order_lines: dict[int, OrderLine],
                    catalog: dict[str, CatalogItem]) -> PurchaseOrder:
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
        vendor_order_id=vo.id, order_number=order.order_number, order_date=order.placed_at.date(),
        ship_to=Address(name=order.ship_name, company=order.ship_company, address1=order.ship_address1,
                        address2=order.ship_address2, city=order.ship_city, province=order.ship_province,
                        zip=order.ship_zip, country=order.ship_country, phone=order.ship_phone),
        customer_email=order.customer_email, lines=tuple(lines),
        requested_ship_date=vo.ship_by.date() if vo.ship_by else None)
