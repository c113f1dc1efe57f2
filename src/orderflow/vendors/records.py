"""What every vendor format produces or consumes: plain records, independent of the database and the format.

Outbound, a :class:`PurchaseOrder` is what we ask one vendor to ship (one per order x vendor). Inbound, a
vendor file (X12, CSV, JSON, a webhook) is read into a :class:`ParsedVendorFile`: acknowledgements, ship
notices and stock levels, plus a :class:`~orderflow.errors.Refusal` for each part that could not be read::

    parsed = parse_x12(path.read_bytes(), file=path.name)
    for ack in parsed.acks:
        ...  # ack.vendor_order_id is the join key, e.g. "TB1042-ACME"
    for refusal in parsed.refusals:
        ...  # shown to staff; the good records above are kept

Codes and names are kept as the vendor sent them (``code="IR"``, ``carrier="UPSN"``); mapping them to our own
vocabulary happens where the records are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from orderflow.errors import Refusal
from orderflow.orders.records import Address

AckStatus = Literal["accepted", "accepted_with_changes", "rejected", "acknowledged"]
LineAckStatus = Literal["accepted", "rejected", "backordered", "changed"]


@dataclass(frozen=True)
class PurchaseOrderLine:
    """One line we ask the vendor to ship. ``line`` is echoed back by the vendor in acks and ship notices."""

    line: int
    sku: str
    vendor_sku: str
    upc: str
    description: str
    qty: int
    unit_cost: Decimal | None
    variant_id: str | None = None
    """The vendor's own variant id (Printful sync variant), from the catalog's ``vendor_variant_id``."""
    retail_price: Decimal | None = None
    """What the customer paid per unit; print-on-demand vendors put it on packing slips and customs forms."""


@dataclass(frozen=True)
class PurchaseOrder:
    """One vendor order as sent to the vendor: ``vendor_order_id`` is e.g. ``TB1042-ACME``."""

    vendor_order_id: str
    order_number: str
    order_date: date
    ship_to: Address
    customer_email: str
    lines: tuple[PurchaseOrderLine, ...]
    requested_ship_date: date | None = None
    carrier_scac: str | None = None


@dataclass(frozen=True)
class LineAck:
    """The vendor's answer for one line (or part of a line: a partial backorder gives two)."""

    line: int | None
    vendor_sku: str
    qty: int
    status: LineAckStatus
    code: str
    reason: str
    expected_date: date | None
    upc: str = ""
    sku: str = ""
    """Our own SKU, when the vendor echoed it (X12 ``BP``/``IN``)."""


@dataclass(frozen=True)
class Acknowledgement:
    """The vendor's answer for a whole vendor order, with its per-line detail when the vendor gave one."""

    vendor_order_id: str
    status: AckStatus
    vendor_reference: str
    lines: tuple[LineAck, ...]
    reason: str
    source_ref: str


@dataclass(frozen=True)
class ShippedLine:
    """One line (or part of one) in a parcel. Matched by line number, then vendor SKU, our SKU or UPC/EAN."""

    line: int | None
    vendor_sku: str
    qty: int
    upc: str = ""
    sku: str = ""


@dataclass(frozen=True)
class Parcel:
    """One carton. ``tracking_number`` is ``""`` when the vendor said it shipped but sent no number."""

    tracking_number: str
    carrier: str | None
    lines: tuple[ShippedLine, ...]


@dataclass(frozen=True)
class ShipNotice:
    """What the vendor says it shipped for one vendor order. ``carrier`` is the raw name or SCAC as sent.

    A freight shipment (truckload or LTL) has no parcels: it travels under a PRO number (``pro_number``, the
    freight carrier's own reference) and a bill of lading, and what it carries is in ``freight_lines``.
    """

    vendor_order_id: str
    shipped_at: datetime | None
    carrier: str | None
    service: str | None
    parcels: tuple[Parcel, ...]
    source_ref: str
    freight: bool = False
    pro_number: str = ""
    bill_of_lading: str = ""
    freight_lines: tuple[ShippedLine, ...] = ()


@dataclass(frozen=True)
class StockLevel:
    """Quantity available for sale at one vendor for one vendor SKU, as of the vendor's snapshot time."""

    vendor_sku: str
    upc: str
    qty: int
    as_of: datetime | None
    next_available: date | None
    sku: str = ""
    """Our own SKU, when the vendor identified the item by it (X12 ``BP``/``IN``) instead of its own."""


@dataclass(frozen=True)
class ParsedVendorFile:
    """Everything read from one vendor file, and what was refused.

    ``interchange`` is the key the sender gave the whole file (for X12: sender id and ISA13), for dedupe.
    ``warnings`` are oddities that did not stop the reading (a control total that does not add up).
    ``purchase_orders`` is filled only when the file holds purchase orders (reading our own output back).
    """

    acks: list[Acknowledgement] = field(default_factory=list)
    ship_notices: list[ShipNotice] = field(default_factory=list)
    stock: list[StockLevel] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    interchange: str | None = None
    purchase_orders: list[PurchaseOrder] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
