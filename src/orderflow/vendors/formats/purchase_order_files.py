"""Purchase orders as CSV and JSON documents (X12 lives in :mod:`orderflow.vendors.formats.x12`).

CSV: one row per line with the order's fields repeated, columns chosen per vendor (``csv_columns``) from
:data:`PO_CSV_COLUMNS`. JSON: one document per vendor order, the body the generic JSON
vendor API receives::

    {"id": "TB1042-ACME", "order_number": "1042", "order_date": "2026-03-12", "requested_ship_date": null,
     "customer_email": "...", "ship_to": {"name": ..., "company": ..., "address1": ..., "address2": ...,
     "city": ..., "province": ..., "zip": "04101", "country": "US", "phone": ...},
     "lines": [{"line": 1, "sku": "TB-HCT-BLK-L", "vendor_sku": "ACM-G500-BLK-L", "upc": "086753090017",
                "description": "...", "qty": 2}]}
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from orderflow.spreadsheets import defang
from orderflow.vendors.formats.purchase_order_columns import PO_CSV_COLUMNS
from orderflow.vendors.records import PurchaseOrder, PurchaseOrderLine


def _csv_values(po: PurchaseOrder, line: PurchaseOrderLine) -> dict[str, Any]:
    ship = po.ship_to
    return {
        "po_number": po.vendor_order_id, "order_number": po.order_number, "order_date": po.order_date.isoformat(),
        "requested_ship_date": po.requested_ship_date.isoformat() if po.requested_ship_date else "",
        "line_number": line.line, "sku": line.sku, "vendor_sku": line.vendor_sku, "upc": line.upc,
        "description": line.description, "quantity": line.qty, "unit_price": line.retail_price or "",
        "ship_name": ship.name, "ship_company": ship.company, "ship_address1": ship.address1,
        "ship_address2": ship.address2, "ship_city": ship.city, "ship_state": ship.province, "ship_zip": ship.zip,
        "ship_country": ship.country, "ship_phone": ship.phone, "customer_email": po.customer_email,
    }


def render_csv(po: PurchaseOrder, columns: Sequence[str] | None = None) -> bytes:
    """The purchase order as CSV (RFC 4180, UTF-8, header row). Zip and UPC stay text, leading zeros kept.

    Text cells are defanged: a customer's name of ``=1+4003`` reaches the vendor's spreadsheet as text.
    """
    chosen = list(columns or PO_CSV_COLUMNS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(chosen)
    for line in po.lines:
        values = _csv_values(po, line)
        writer.writerow([defang(value) if isinstance(value, str) else value
                         for value in (values[column] for column in chosen)])
    return out.getvalue().encode("utf-8")


def po_document(po: PurchaseOrder) -> dict[str, Any]:
    ship = po.ship_to
    return {
        "id": po.vendor_order_id, "order_number": po.order_number, "order_date": po.order_date.isoformat(),
        "requested_ship_date": po.requested_ship_date.isoformat() if po.requested_ship_date else None,
        "customer_email": po.customer_email,
        "ship_to": {"name": ship.name, "company": ship.company, "address1": ship.address1,
                    "address2": ship.address2, "city": ship.city, "province": ship.province, "zip": ship.zip,
                    "country": ship.country, "phone": ship.phone},
        "lines": [{"line": line.line, "sku": line.sku, "vendor_sku": line.vendor_sku, "upc": line.upc,
                   "description": line.description, "qty": line.qty} for line in po.lines],
    }


def render_json(po: PurchaseOrder) -> bytes:
    return json.dumps(po_document(po), indent=2, ensure_ascii=False).encode("utf-8")
