"""The simulated business, and what really happens to each of its orders: the truth the demo is scored on.

Threadbare, a shop in New York, sells tees, hoodies, caps, mugs and socks made or stocked by seven vendors.
Every order is planned in full when the world is made, from the seed: when it is placed, what it holds, and
for each vendor's part its *fate* (shipped on time, rejected, late, tracking uploaded days late, labelled and
never scanned, ...) and, for each parcel, the carrier's (delivered, delayed, exception, returned, stalled).
The simulated vendors and carriers only play these plans out; orderflow sees nothing but their files, API
answers and scans. :mod:`orderflow.demo.scoring` then says, from the same plans, what the staff queue should
hold at the end.

    world = World(seed=7, days=5, orders_per_day=12)
    world.ticks[0], world.end          # hourly cron runs, Monday 06:00 to the last day 21:00 (shop time)
    world.orders[0].vendor_orders[0].fate

Most fates are drawn by weight; a few vendor orders are steered into the problems the demo must show (each
of :data:`SHOWN_RULES` at least twice when the calendar allows). A fate whose problem would still be settling
at the end (inside a polling or clearing window) is tried with other timings, then given up for a plain
on-time delivery, so that the final queue can be scored without doubt.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from orderflow.calendars import after_business_days
from orderflow.config import CalendarSettings
from orderflow.demo.carriers import CarrierFate, Outage, TrackingNumbers, journey
from orderflow.demo.plans import (
    FIRST_DAY,
    Customer,
    OrderPlan,
    ParcelPlan,
    PlannedLine,
    Product,
    VendorFate,
    VendorOrderPlan,
    VendorProfile,
)
from orderflow.demo.scoring import expectations

SHOP_ZONE = ZoneInfo("America/New_York")
FIRST_TICK, LAST_TICK = time(6, 0), time(21, 0)
ORDERS_FROM, ORDERS_UNTIL = time(7, 0), time(21, 0)
PO_PREFIX = "TB"
FIRST_ORDER_NUMBER = 1001
SHOWN_RULES = ("vendor_rejected", "out_of_stock", "vendor_late", "tracking_not_scanned", "carrier_exception",
               "delivery_late")
"""The problems every demo run must show in its final queue."""
CLEARED_LATENESS = "cleared_lateness"
"""Not a rule but a story the demo tells: tracking uploaded days late for a parcel scanned on time, which
orderflow waits for rather than raise a lateness the evidence would then disprove."""
SHOWN_AT_LEAST = 2
STEER_CHANCE = 0.5
"""How often an order that could show a problem shown only once so far is steered into it (a problem not shown
at all yet is always tried first); the other orders' fates are drawn by weight."""
UPLOAD_LATE_BY = (1.0, 3.0)
"""Tracking uploaded late comes this many of the vendor's business days after the grace deadline, as real
vendors' late uploads do."""
TIMINGS = 4
"""How many timings of one fate are tried for one that is settled at the end."""

CARRIER_FATES: Mapping[CarrierFate, float] = {"delivered": 0.80, "delivered_late": 0.05, "delayed": 0.04,
                                              "exception": 0.05, "returned": 0.02, "stalled": 0.04}
STEERING: Mapping[str, tuple[tuple[VendorFate, CarrierFate], ...]] = {
    "vendor_rejected": (("rejected", "delivered"),),
    "vendor_late": (("late", "delivered"), ("never_scanned", "delivered")),
    "tracking_not_scanned": (("never_scanned", "delivered"),),
    "carrier_exception": (("on_time", "exception"),),
    "delivery_late": (("on_time", "delayed"), ("on_time", "stalled")),
    CLEARED_LATENESS: (("upload_late", "delivered"),),
}


# --- the business ------------------------------------------------------------------------------------------

def _calendar(zone: str, cutoff: time, handling_days: int) -> CalendarSettings:
    return CalendarSettings(timezone=zone, cutoff=cutoff, handling_days=handling_days)


VENDORS: tuple[VendorProfile, ...] = (
    VendorProfile("INKW", "Inkwave Print", "on_demand", "printful", "usps", "USPS", "USPS Ground Advantage",
                  "Los Angeles CA US", _calendar("America/Los_Angeles", time(12), 3), acknowledges=True),
    VendorProfile("STCH", "Stitchworks Embroidery", "on_demand", "printful", "ups", "UPS", "UPS Ground",
                  "Chicago IL US", _calendar("America/Chicago", time(12), 4), acknowledges=True),
    VendorProfile("ACME", "Acme Blanks", "stocked", "x12", "ups", "UPSN", "UPS Ground", "Reno NV US",
                  _calendar("America/Chicago", time(14), 2), acknowledges=True, x12_id="ACMEBLANKS"),
    VendorProfile("NRTH", "Northline Outfitters", "stocked", "x12", "fedex", "FDEG", "FedEx Ground",
                  "Portland ME US", _calendar("America/New_York", time(11), 1), acknowledges=True,
                  x12_id="NORTHLINE"),
    VendorProfile("CAPS", "Cap Depot", "stocked", "csv", "usps", "USPS", "Priority Mail", "Denver CO US",
                  _calendar("America/Denver", time(13), 2), acknowledges=True),
    VendorProfile("MUGS", "Mug Foundry", "on_demand", "csv", "fedex", "FedEx Home Delivery", "Home Delivery",
                  "Columbus OH US", _calendar("America/New_York", time(15), 3), acknowledges=False),
    VendorProfile("SOCK", "Sock Shed", "stocked", "csv", "dhl", "DHL", "DHL eCommerce", "Memphis TN US",
                  _calendar("America/Chicago", time(12), 2), acknowledges=False),
)


_RANGE: tuple[tuple[str, str, str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    # our SKU stem, vendor, vendor SKU stem, description, price, colours, sizes
    ("TB-SUNWAVE", "INKW", "INK-SUNWAVE", "Sunrise Wave Tee", "26.00", ("BLK", "WHT"), ("S", "M", "L", "XL")),
    ("TB-MTNLINE", "INKW", "INK-MTNLINE", "Mountain Line Tee", "28.00", ("NVY", "SND"), ("M", "L", "XL")),
    ("TB-EMBCREW", "STCH", "STC-EMB-LOGO", "Embroidered Logo Crew", "48.00", ("FRS", "BLK"), ("M", "L")),
    ("TB-EMBCAP", "STCH", "STC-EMB-CAP", "Embroidered Cap", "30.00", ("KHK", "NVY"), ("OS",)),
    ("TB-HCT", "ACME", "ACM-G500", "Heavy Cotton Tee", "24.00", ("BLK", "WHT", "NVY"), ("S", "M", "L", "XL")),
    ("TB-HBH", "ACME", "ACM-18500", "Heavy Blend Hoodie", "52.00", ("NVY", "GRY"), ("M", "L", "XL")),
    ("TB-BEANIE", "NRTH", "NTH-BN", "Cuffed Beanie", "22.00", ("BLK", "RED", "GRN"), ("OS",)),
    ("TB-JOGGER", "NRTH", "NTH-JG", "Fleece Jogger", "46.00", ("GRY", "BLK"), ("S", "M", "L")),
    ("TB-DADCAP", "CAPS", "CPD-DAD", "Dad Cap", "25.00", ("KHK", "BLK", "NVY"), ("OS",)),
    ("TB-MUG-SUN", "MUGS", "MGF-11OZ-SUN", "Sunrise Mug 11 oz", "18.00", ("WHT",), ("OS",)),
    ("TB-MUG-MTN", "MUGS", "MGF-15OZ-MTN", "Mountain Mug 15 oz", "21.00", ("BLK",), ("OS",)),
    ("TB-SOCK", "SOCK", "SKS-CREW", "Crew Socks", "14.00", ("BLK", "WHT"), ("M", "L")),
)
_OUT_OF_STOCK = frozenset({"ACM-G500-WHT-M", "NTH-BN-GRN", "CPD-DAD-NVY", "SKS-CREW-WHT-L"})
OUT_OF_STOCK_WEIGHT = 0.3
"""Items at zero are chosen this much less often than others: customers still order them, now and then."""


def _upc(serial: int) -> str:
    """A UPC-A code (12 digits, valid check digit) in the shop's own prefix range."""
    digits = f"08675309{serial:03d}"
    total = 3 * sum(int(d) for d in digits[0::2]) + sum(int(d) for d in digits[1::2])
    return digits + str((10 - total % 10) % 10)


def _catalog() -> tuple[Product, ...]:
    products: list[Product] = []
    for stem, vendor, vendor_stem, description, price, colours, sizes in _RANGE:
        for colour in colours:
            for size in sizes:
                suffix = colour if size == "OS" else f"{colour}-{size}"
                vendor_sku = f"{vendor_stem}-{suffix}" if len(colours) > 1 or size != "OS" else vendor_stem
                sku = f"{stem}-{suffix}" if len(colours) > 1 or size != "OS" else stem
                short = vendor_sku in _OUT_OF_STOCK
                name = description if size == "OS" and len(colours) == 1 else \
                    f"{description} - {colour}" + ("" if size == "OS" else f" / {size}")
                products.append(Product(sku=sku, vendor=vendor, vendor_sku=vendor_sku, upc=_upc(len(products) + 1),
                                        description=name, price=Decimal(price),
                                        variant_id=str(4_012_001 + len(products)),
                                        weight=OUT_OF_STOCK_WEIGHT if short else 1.0, out_of_stock=short))
    return tuple(products)


CATALOG: tuple[Product, ...] = _catalog()

_FIRST_NAMES = ("Jordan", "Sam", "Avery", "Riley", "Morgan", "Casey", "Jamie", "Taylor", "Quinn", "Harper",
                "Rowan", "Emerson", "Dakota", "Reese", "Skyler", "Logan", "Parker", "Hayden", "Elliot", "Sawyer")
_LAST_NAMES = ("Rivera", "Okafor", "Nguyen", "Schmidt", "Patel", "Kowalski", "Haddad", "Lindqvist", "Moreau",
               "Tanaka", "Delgado", "Brennan", "Adeyemi", "Castillo", "Novak", "Fischer", "Romano", "Walsh")
_STREETS = ("Harbor Rd", "Alder St", "Maple Ave", "Cedar Ln", "Lakeview Dr", "Elm St", "Bayview Ter",
            "Orchard Way", "Summit Ave", "Willow Ct")
_PLACES = (("Portland", "ME", "04101"), ("Eugene", "OR", "97401"), ("Austin", "TX", "78701"),
           ("Madison", "WI", "53703"), ("Asheville", "NC", "28801"), ("Boise", "ID", "83702"),
           ("Burlington", "VT", "05401"), ("Savannah", "GA", "31401"), ("Tucson", "AZ", "85701"),
           ("Ann Arbor", "MI", "48104"), ("Providence", "RI", "02903"), ("Spokane", "WA", "99201"))


# --- the world -----------------------------------------------------------------------------------------------

def at_local(day: date, wall: time, zone: ZoneInfo = SHOP_ZONE) -> datetime:
    """A wall-clock time on a day somewhere, as an aware UTC instant."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


class World:
    """The simulated week: its hourly cron runs, its outage, and every order with its whole future."""

    def __init__(self, *, seed: int, days: int, orders_per_day: int) -> None:
        if days < 1 or orders_per_day < 1:
            raise ValueError("the demo needs at least one day and one order a day")
        self.days, self.orders_per_day = days, orders_per_day
        self.rng = random.Random(seed)
        self.numbers = TrackingNumbers(self.rng)
        self.last_day = FIRST_DAY + timedelta(days=days - 1)
        self.start = at_local(FIRST_DAY, FIRST_TICK)
        self.end = at_local(self.last_day, LAST_TICK)
        hours = int((self.end - self.start) / timedelta(hours=1))
        self.ticks: tuple[datetime, ...] = tuple(self.start + timedelta(hours=hour) for hour in range(hours + 1))
        self.outages = self._outages()
        self.shown: dict[str, int] = dict.fromkeys((*SHOWN_RULES, CLEARED_LATENESS), 0)
        self.orders: list[OrderPlan] = []
        for number, placed_at in enumerate(self._order_times(), start=FIRST_ORDER_NUMBER):
            self.orders.append(self._plan_order(str(number), placed_at))

    # --- time ------------------------------------------------------------------------------------------------

    def tick_at_or_after(self, moment: datetime) -> datetime:
        """The first hourly run at or after ``moment`` (the last one for anything later)."""
        hours = max(0.0, (moment - self.start) / timedelta(hours=1))
        index = min(math.ceil(hours), len(self.ticks) - 1)
        return self.ticks[index]

    def _order_times(self) -> list[datetime]:
        times = []
        for offset in range(self.days):
            day = FIRST_DAY + timedelta(days=offset)
            opens, closes = at_local(day, ORDERS_FROM), min(at_local(day, ORDERS_UNTIL), self.end)
            seconds = (closes - opens).total_seconds()
            times += sorted(opens + timedelta(seconds=int(self.rng.uniform(0, seconds)))
                            for _ in range(self.orders_per_day))
        return times

    def _outages(self) -> tuple[Outage, ...]:
        """FedEx's tracking API is down for eight hours on Wednesday, when Monday's parcels are on their way (on a
        shorter week, on its second day)."""
        if self.days < 3:
            return ()
        day = FIRST_DAY + timedelta(days=min(2, self.days - 2))
        return (Outage("fedex", at_local(day, time(8)), at_local(day, time(16))),)

    # --- orders ----------------------------------------------------------------------------------------------

    def _plan_order(self, number: str, placed_at: datetime) -> OrderPlan:
        rng = self.rng
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        city, province, zip_code = rng.choice(_PLACES)
        customer = Customer(name=f"{first} {last}", email=f"{first}.{last}@example.com".lower(),
                            address1=f"{rng.randint(2, 980)} {rng.choice(_STREETS)}", city=city,
                            province=province, zip=zip_code, phone=f"+1555{rng.randint(1000000, 9999999)}")
        products = self._pick_products(placed_at)
        lines = tuple(PlannedLine(product, 2 if rng.random() < 0.2 else 1) for product in products)
        order = OrderPlan(number=number, placed_at=placed_at, customer=customer, lines=lines)
        received_at = self.tick_at_or_after(placed_at)
        for vendor in VENDORS:
            mine = tuple(line for line in lines if line.product.vendor == vendor.code)
            if mine:
                order.vendor_orders.append(self._plan_vendor_order(order, vendor, mine, received_at))
        for (rule, _key), verdict in expectations([order], at=self.end, outages=()).items():
            if rule in self.shown and verdict is True:
                self.shown[rule] += 1
        self.shown[CLEARED_LATENESS] += sum(self.cleared_lateness(plan) for plan in order.vendor_orders)
        return order

    def _pick_products(self, placed_at: datetime) -> list[Product]:
        rng = self.rng
        count = rng.choices((1, 2, 3), weights=(0.45, 0.35, 0.2))[0]
        chosen: list[Product] = []
        while len(chosen) < count:
            product = rng.choices(CATALOG, weights=[p.weight for p in CATALOG])[0]
            if product not in chosen:
                chosen.append(product)
        wants_stock_out = self.shown["out_of_stock"] < SHOWN_AT_LEAST and placed_at < self.end - timedelta(hours=30)
        if wants_stock_out and not any(p.out_of_stock for p in chosen) and rng.random() < STEER_CHANCE:
            chosen[-1] = rng.choice([p for p in CATALOG if p.out_of_stock])
        return list(dict.fromkeys(chosen))

    # --- vendor orders ---------------------------------------------------------------------------------------

    def _plan_vendor_order(self, order: OrderPlan, vendor: VendorProfile, lines: tuple[PlannedLine, ...],
                           received_at: datetime) -> VendorOrderPlan:
        """The first candidate fate whose problems are settled (not mid-way through a polling or clearing window)
        at the end; a steered candidate must also show the problem it was steered to."""
        backordered = tuple(line.product.vendor_sku for line in lines if line.product.out_of_stock)
        plan: VendorOrderPlan | None = None
        for vendor_fate, carrier_fate, wanted in self._candidates(vendor, received_at):
            for _ in range(TIMINGS):
                plan = self._fated(order, vendor, lines=lines, received_at=received_at, backordered=backordered,
                                   vendor_fate=vendor_fate, carrier_fate=carrier_fate)
                order.vendor_orders.append(plan)
                verdicts = expectations([order], at=self.end, outages=())
                order.vendor_orders.pop()
                settled = None not in verdicts.values()
                shows = wanted is None or (wanted == CLEARED_LATENESS and self.cleared_lateness(plan)) or \
                    any(verdict is True and rule == wanted for (rule, _key), verdict in verdicts.items())
                if settled and shows:
                    return plan
        assert plan is not None  # the candidates always end with a plain on-time fate
        return plan

    def _candidates(self, vendor: VendorProfile,
                    received_at: datetime) -> list[tuple[VendorFate, CarrierFate, str | None]]:
        """Fates to try in turn: steered ones (sometimes), one drawn by weight, and plain on time at last."""
        rng, candidates = self.rng, []
        missing = sorted((rule for rule, count in self.shown.items() if count < SHOWN_AT_LEAST and rule in STEERING),
                         key=lambda rule: self.shown[rule])
        unshown = any(self.shown[rule] == 0 for rule in missing)
        if missing and received_at < self.end and (unshown or rng.random() < STEER_CHANCE):
            candidates += [(vendor_fate, carrier_fate, rule) for rule in missing
                           for vendor_fate, carrier_fate in STEERING[rule] if vendor_fate in vendor.fates]
        vendor_fate = rng.choices(list(vendor.fates), weights=list(vendor.fates.values()))[0]
        carrier_fate = rng.choices(list(CARRIER_FATES), weights=list(CARRIER_FATES.values()))[0]
        return [*candidates, (vendor_fate, carrier_fate, None), ("on_time", "delivered", None)]

    def _fated(self, order: OrderPlan, vendor: VendorProfile, *, lines: tuple[PlannedLine, ...],
               received_at: datetime, backordered: tuple[str, ...], vendor_fate: VendorFate,
               carrier_fate: CarrierFate) -> VendorOrderPlan:
        rng, calendar = self.rng, vendor.business
        ship_by = calendar.ship_by(order.placed_at)
        grace = calendar.grace_deadline(ship_by)
        if vendor.exchange == "printful":
            answered_at: datetime | None = received_at
        elif vendor.acknowledges:
            answered_at = self._working(vendor, received_at + timedelta(minutes=rng.randint(30, 120)))
        else:
            answered_at = None
        plan = VendorOrderPlan(vendor_order_id=f"{PO_PREFIX}{order.number}-{vendor.code}", order_number=order.number,
                               vendor=vendor, lines=lines, placed_at=order.placed_at, received_at=received_at,
                               ship_by=ship_by, grace=grace, fate=vendor_fate, backordered=backordered,
                               answered_at=answered_at)
        shipped = tuple(line.product.vendor_sku for line in lines if line.product.vendor_sku not in backordered)
        if vendor_fate in ("failed", "on_hold"):
            plan.trouble_at = self._working(vendor, received_at + timedelta(hours=rng.uniform(2, 6)))
        if vendor_fate in ("rejected", "failed", "on_hold") or not shipped:
            return plan
        ready = max(received_at, answered_at or received_at) + timedelta(hours=1)
        if vendor_fate == "late":
            day = calendar.add_working_days(grace.astimezone(vendor.zone).date(), rng.choice((0, 1)))
            labelled_at = max(self._on(vendor, day, rng.uniform(13, 16.5)), grace + timedelta(hours=1))
        else:
            labelled_at = self._ship_time(vendor, ready, ship_by)
        pickup_at = max(self._on(vendor, labelled_at.astimezone(vendor.zone).date(), rng.uniform(18, 20.5)),
                        labelled_at + timedelta(hours=1))
        if vendor_fate == "upload_late":  # one to three of its business days after staff began to expect it
            uploaded_at = self._working(vendor, after_business_days(calendar, grace, rng.uniform(*UPLOAD_LATE_BY)))
        elif vendor.exchange == "printful":
            uploaded_at = labelled_at  # Printful's shipment is the label
        else:
            uploaded_at = labelled_at + timedelta(hours=rng.uniform(1, 3))
        number = self.numbers.next(vendor.carrier)
        scanned = vendor_fate != "never_scanned"
        customer = order.customer
        scans, estimate = journey(carrier_fate if scanned else None, carrier=vendor.carrier,
                                  labelled_at=labelled_at, pickup_at=pickup_at,
                                  origin=vendor.city, destination=f"{customer.city} {customer.province} US", rng=rng)
        plan.parcel = ParcelPlan(carrier=vendor.carrier, tracking_number=number,
                                 reported_number=self.numbers.typo(number) if vendor_fate == "typo" else number,
                                 labelled_at=labelled_at, uploaded_at=uploaded_at, scans=scans,
                                 estimated_delivery=estimate, fate=carrier_fate if scanned else None,
                                 vendor_skus=shipped)
        return plan

    def _ship_time(self, vendor: VendorProfile, ready: datetime, ship_by: datetime) -> datetime:
        """A label on one of the vendor's working days from ``ready`` to the ship-by day, in the afternoon."""
        calendar, rng = vendor.business, self.rng
        local = ready.astimezone(vendor.zone)
        first = local.date() if calendar.is_working_day(local.date()) and local.hour < 16 else \
            calendar.next_working_day(local.date())
        last = ship_by.astimezone(vendor.zone).date()
        days = [first]
        while days[-1] < last:
            days.append(calendar.next_working_day(days[-1]))
        days = [day for day in days if day <= last] or [first]
        day = rng.choices(days, weights=[0.5 ** index for index in range(len(days))])[0]  # most ship early
        return max(self._on(vendor, day, rng.uniform(13, 17)), ready)

    def _working(self, vendor: VendorProfile, moment: datetime) -> datetime:
        """``moment`` if the vendor's office is open then, else a little after it next opens."""
        calendar, settings = vendor.business, vendor.calendar
        local = moment.astimezone(vendor.zone)
        if calendar.is_working_day(local.date()) and settings.opens <= local.time() < settings.closes:
            return moment
        day = local.date() if calendar.is_working_day(local.date()) and local.time() < settings.opens else \
            calendar.next_working_day(local.date())
        opens = settings.opens.hour + settings.opens.minute / 60
        return self._on(vendor, day, opens + self.rng.uniform(0.25, 1.5))

    @staticmethod
    def _on(vendor: VendorProfile, day: date, hour: float) -> datetime:
        """``hour`` (9.5 is 09:30) on ``day`` in the vendor's zone, to the minute."""
        minutes = int(hour * 60)
        return at_local(day, time(minutes // 60, minutes % 60), vendor.zone)

    def cleared_lateness(self, plan: VendorOrderPlan) -> bool:
        """Scanned by its ship-by, but its tracking came after the grace deadline, early enough before the end
        for the wait on "no tracking" to be over and judged."""
        parcel = plan.parcel
        return plan.fate == "upload_late" and parcel is not None and parcel.first_scan_at is not None and \
            parcel.first_scan_at <= plan.ship_by and plan.grace < parcel.uploaded_at <= self.end - timedelta(hours=12)

    # --- what the simulation knows ---------------------------------------------------------------------------

    @property
    def vendor_orders(self) -> list[VendorOrderPlan]:
        return [vendor_order for order in self.orders for vendor_order in order.vendor_orders]

    def orders_between(self, after: datetime | None, until: datetime) -> list[OrderPlan]:
        """Orders placed after ``after`` (exclusive; None for the beginning of time) up to ``until``."""
        return [order for order in self.orders if (after is None or order.placed_at > after)
                and order.placed_at <= until]
