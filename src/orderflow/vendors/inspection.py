"""What orderflow reads from one vendor file, without applying any of it: for onboarding a vendor, or for
seeing why a file was refused.

The file is read exactly as ``fetch`` reads it; nothing is stored, and an envelope addressed elsewhere or a
purchase order of another vendor is a warning, not a refusal::

    report = inspect_vendor_file(path.read_bytes(), file=path.name, vendor=settings.vendor("ACME"))
    report["shipments"][0]["parcels"][0]["tracking_number"]

A freight shipment's items are in its own ``items``; a parcel shipment's are in its parcels.
"""

from __future__ import annotations

from typing import Any

from orderflow.config import VendorSettings
from orderflow.errors import InputError
from orderflow.vendors.records import ParsedVendorFile, ShipNotice, ShippedLine


def inspect_vendor_file(data: bytes, *, file: str, vendor: VendorSettings) -> dict[str, Any]:
    """The contract document of ``orderflow inspect``; a file refused whole is one refusal in it."""
    from orderflow.vendors.fetch import parse_vendor_file

    try:
        parsed = parse_vendor_file(data, file=file, vendor=vendor).parsed
    except InputError as error:
        return _document(ParsedVendorFile(refusals=[error.refusal]), vendor)
    return _document(parsed, vendor)


def _document(parsed: ParsedVendorFile, vendor: VendorSettings) -> dict[str, Any]:
    own_orders = f"-{vendor.code}"
    warnings = list(parsed.warnings)
    named = [ack.vendor_order_id for ack in parsed.acks] + [notice.vendor_order_id for notice in parsed.ship_notices]
    warnings += [f"purchase order {order!r} is not one of {vendor.code}'s (they end in {own_orders})"
                 for order in dict.fromkeys(named) if not order.endswith(own_orders)]
    expected_sender = vendor.x12.receiver_id
    if parsed.interchange and expected_sender:
        warnings += [f"interchange {key} comes from {key.split(':')[0]!r}, not {expected_sender!r} as configured"
                     for key in parsed.interchange.split(",") if key.split(":")[0] != expected_sender]
    return {
        "acknowledgements": [{
            "vendor_order": ack.vendor_order_id, "status": ack.status,
            "lines": [{"line": line.line, "sku": line.sku, "vendor_sku": line.vendor_sku, "upc": line.upc,
                       "qty": line.qty, "status": line.status} for line in ack.lines],
        } for ack in parsed.acks],
        "shipments": [_shipment(notice) for notice in parsed.ship_notices],
        "stock": [{"vendor_sku": level.vendor_sku, "upc": level.upc, "qty": level.qty,
                   "next_available": level.next_available} for level in parsed.stock],
        "refusals": [{"where": _where(refusal.file, refusal.line, refusal.field), "reason": refusal.reason}
                     for refusal in parsed.refusals],
        "warnings": warnings,
    }


def _shipment(notice: ShipNotice) -> dict[str, Any]:
    return {
        "vendor_order": notice.vendor_order_id, "carrier": notice.carrier, "service": notice.service,
        "freight": notice.freight, "pro_number": notice.pro_number or None,
        "parcels": [{"tracking_number": parcel.tracking_number, "carrier": parcel.carrier,
                     "items": [_item(line) for line in parcel.lines]} for parcel in notice.parcels],
        "items": [_item(line) for line in notice.freight_lines],
    }


def _item(line: ShippedLine) -> dict[str, Any]:
    return {"line": line.line, "vendor_sku": line.vendor_sku, "upc": line.upc, "qty": line.qty}


def _where(file: str, line: int | None, field: str | None) -> str:
    return ":".join(part for part in (file, "" if line is None else str(line), field or "") if part)
