"""What the simulated business plans for each order, shared by the world that draws the plans, the vendors and
carriers that play them out, and the scoring that says what the queue should hold.

Kept apart from :mod:`orderflow.demo.world` so that the scoring (which the world asks whether a fate settles in
time) and the simulated vendors read the plans without importing the world that makes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from orderflow.calendars import BusinessCalendar
from orderflow.carriers.status import NOT_PHYSICAL, PackageStatus
from orderflow.config import CalendarSettings
from orderflow.demo.carriers import CarrierFate
from orderflow.testing.carriers import CarrierName, Scan

FIRST_DAY = date(2026, 11, 2)
"""A Monday: the week opens with every vendor at work."""
RESTOCK_AFTER = timedelta(days=16)
"""When a backordered item comes back: the vendors promise it, and the scoring holds them to it."""

VendorFate = Literal["on_time", "late", "upload_late", "never_scanned", "typo", "rejected", "failed", "on_hold"]
Exchange = Literal["printful", "x12", "csv"]

API_FATES: Mapping[VendorFate, float] = {"on_time": 0.76, "late": 0.06, "never_scanned": 0.06, "rejected": 0.04,
                                         "failed": 0.03, "on_hold": 0.03}
ACKING_FILE_FATES: Mapping[VendorFate, float] = {"on_time": 0.69, "late": 0.06, "upload_late": 0.08,
                                                 "never_scanned": 0.05, "rejected": 0.04, "typo": 0.02}
SILENT_FILE_FATES: Mapping[VendorFate, float] = {"on_time": 0.74, "late": 0.06, "upload_late": 0.10,
                                                 "never_scanned": 0.06, "typo": 0.02}
REJECTIONS = {"printful": "Recipient address could not be verified",
              "x12": "Ship-to address failed validation", "csv": "Customer address incomplete"}
TROUBLES = {"failed": "Print file resolution is too low for this product",
            "on_hold": "Address needs confirmation: the apartment number is missing"}


@dataclass(frozen=True)
class VendorProfile:
    """One of the seven vendors: how orderflow reaches it, how it ships, and how it works."""

    code: str
    name: str
    kind: Literal["stocked", "on_demand"]
    exchange: Exchange
    carrier: CarrierName
    carrier_named: str
    """How the vendor names its carrier in what it sends: a name, a SCAC, a service."""
    service: str
    city: str
    calendar: CalendarSettings
    acknowledges: bool
    x12_id: str = ""

    @property
    def fates(self) -> Mapping[VendorFate, float]:
        if self.exchange == "printful":
            return API_FATES
        return ACKING_FILE_FATES if self.acknowledges else SILENT_FILE_FATES

    @cached_property
    def business(self) -> BusinessCalendar:
        return BusinessCalendar.from_settings(self.calendar)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.calendar.timezone)


@dataclass(frozen=True)
class Product:
    """One catalog row: our SKU, the vendor's, and what the storefront sells it for."""

    sku: str
    vendor: str
    vendor_sku: str
    upc: str
    description: str
    price: Decimal
    variant_id: str
    weight: float
    out_of_stock: bool = False
    """Stocked vendors each have one item at zero all week (their inventory feed says so)."""


# --- the plans -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedLine:
    product: Product
    qty: int


@dataclass
class ParcelPlan:
    """One carton: the number the carrier knows, the one the vendor reports, and what the carrier will scan."""

    carrier: CarrierName
    tracking_number: str
    reported_number: str
    """What the vendor uploads: the real number, or one with a typo (fate ``typo``)."""
    labelled_at: datetime
    """The label, and the ship date the vendor reports."""
    uploaded_at: datetime
    scans: tuple[Scan, ...]
    estimated_delivery: datetime | None
    fate: CarrierFate | None
    """None for a parcel that is never scanned."""
    vendor_skus: tuple[str, ...]

    @property
    def first_scan_at(self) -> datetime | None:
        physical = [scan.at for scan in self.scans if scan.family not in NOT_PHYSICAL]
        return min(physical) if physical else None

    @property
    def delivered_at(self) -> datetime | None:
        return next((scan.at for scan in self.scans if scan.family is PackageStatus.DELIVERED), None)

    def scans_by(self, moment: datetime) -> list[Scan]:
        return [scan for scan in self.scans if scan.at <= moment]


@dataclass
class VendorOrderPlan:
    """One vendor's part of an order and everything that vendor (and its carrier) will do with it."""

    vendor_order_id: str
    order_number: str
    vendor: VendorProfile
    lines: tuple[PlannedLine, ...]
    placed_at: datetime
    received_at: datetime
    """The hourly run that imports the order also dispatches it: that is when the vendor has it."""
    ship_by: datetime
    grace: datetime
    fate: VendorFate
    backordered: tuple[str, ...]
    """Vendor SKUs the vendor cannot supply (at zero stock): acknowledged as backordered, never shipped."""
    answered_at: datetime | None
    """The acknowledgement (or the rejection) arrives; Printful answers the moment it is sent the order."""
    trouble_at: datetime | None = None
    """Printful puts the order on hold, or fails it, after accepting it."""
    parcel: ParcelPlan | None = None

    @property
    def rejected_at(self) -> datetime | None:
        if self.fate == "rejected":
            return self.answered_at
        return self.trouble_at if self.fate == "failed" else None

    @property
    def held_at(self) -> datetime | None:
        return self.trouble_at if self.fate == "on_hold" else None

    @property
    def reason(self) -> str:
        return REJECTIONS[self.vendor.exchange] if self.fate == "rejected" else TROUBLES.get(self.fate, "")


@dataclass
class Customer:
    name: str
    email: str
    address1: str
    city: str
    province: str
    zip: str
    phone: str


@dataclass
class OrderPlan:
    number: str
    placed_at: datetime
    customer: Customer
    lines: tuple[PlannedLine, ...]
    vendor_orders: list[VendorOrderPlan] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.product.price * line.qty for line in self.lines), Decimal("0"))
