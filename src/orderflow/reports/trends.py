"""The shop day by day: each day's headline figures, judged as of that day's end, for trends and comparisons.

For each of a run of days (in the shop's zone), from one read of the period:

- ``orders_received``: orders placed that day that had reached us by its end;
- ``vendor_orders_sent``: vendor orders sent that day;
- ``first_scanned`` and ``delivered``: parcels the carrier first scanned, or delivered, that day, whose tracking
  had reached us by its end;
- ``open_<severity>``: the queue at the day's end by severity, and ``open_by_type`` by rule;
- ``value_at_risk``: what the vendor orders named by an open late, rejected, out-of-stock or carrier-exception
  problem at the day's end are worth (their lines' quantity times price, in the orders' currency);
- on-time rates of the parcels first scanned that day (a first scan by the vendor order's ship-by), by vendor and by
  carrier, as ``(on time, out of)``.

The same parcels give each vendor's week (on-time rate, median days from sending to first scan) and each
carrier's transit days (first scan to delivery) for the charts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, or_, select

from orderflow.config import Settings
from orderflow.db.models import Order, OrderLine, Shipment, VendorOrder, VendorOrderLine
from orderflow.reports.business_days import with_ship_by
from orderflow.reports.cells import read_frame, read_in
from orderflow.reports.queue_then import QueueHistory
from orderflow.rules.vocabulary import SEVERITY_ORDER

AT_RISK = ("vendor_late", "vendor_rejected", "out_of_stock", "carrier_exception")
"""Problems that put an order's value at risk: it may not ship, or may not arrive."""
BLOCKING = ("dispatch_failed", "not_acknowledged", "vendor_on_hold", "vendor_rejected", "out_of_stock",
            "vendor_late")
"""Problems with which a vendor holds orders up: it cannot be reached, answers no, or is late."""
WEEKS = 8


@dataclass(frozen=True)
class Bounds:
    """One day of the shop's: its start and the instant it is judged at (its end, or now)."""

    day: date
    starts: datetime
    as_of: datetime


@dataclass
class DayFigures:
    day: date
    orders_received: int = 0
    vendor_orders_sent: int = 0
    first_scanned: int = 0
    delivered: int = 0
    open_by_severity: dict[str, int] = field(default_factory=dict)
    open_by_type: dict[str, int] = field(default_factory=dict)
    value_at_risk: Decimal = Decimal(0)
    on_time_by_vendor: dict[str, tuple[int, int]] = field(default_factory=dict)
    on_time_by_carrier: dict[str, tuple[int, int]] = field(default_factory=dict)
    blocked: dict[str, tuple[int, Decimal]] = field(default_factory=dict)
    """Per vendor, the vendor orders it holds up with a blocking problem and what they are worth."""

    def headline(self) -> dict[str, float]:
        """The figures compared day to day, by name."""
        return {"orders_received": self.orders_received, "vendor_orders_sent": self.vendor_orders_sent,
                "first_scanned": self.first_scanned, "delivered": self.delivered,
                **{f"open_{severity}": self.open_by_severity.get(severity, 0) for severity in SEVERITY_ORDER},
                "value_at_risk": float(self.value_at_risk)}


@dataclass
class Series:
    """Days in order, and the parcels of the weeks behind them (for the charts)."""

    days: list[DayFigures]
    parcels: pd.DataFrame
    """Parcels first scanned or delivered in the :data:`WEEKS` weeks up to the last day: ``vendor``, ``carrier``,
    ``first_scan_at``, ``delivered_at``, ``sent_at``, ``on_time`` (NaN where no ship-by is known)."""


def daily_series(connection: Connection, settings: Settings, days: list[Bounds]) -> Series:
    """The figures of each of ``days`` (consecutive, oldest first)."""
    first, last = days[0], days[-1]
    parcels_since = min(first.starts, last.as_of - timedelta(weeks=WEEKS))
    orders = read_frame(connection, select(Order.placed_at, Order.created_at)
                        .where(Order.placed_at >= first.starts, Order.placed_at <= last.as_of))
    sent = read_frame(connection, select(VendorOrder.sent_at)
                      .where(VendorOrder.sent_at >= first.starts, VendorOrder.sent_at <= last.as_of))
    parcels = _parcels(connection, settings, parcels_since, last.as_of)
    queue = QueueHistory(connection, first.as_of, last.as_of)
    at_each = {bounds.day: queue.at(bounds.as_of) for bounds in days}
    named = {document["vendor_order"] for documents in at_each.values() for document in documents
             if document["vendor_order"] and document["rule"] in (*AT_RISK, *BLOCKING)}
    values = vendor_order_values(connection, sorted(named))
    figures = []
    for bounds in days:
        def on(column: str, frame: pd.DataFrame, bounds: Bounds = bounds) -> pd.Series[bool]:
            return (frame[column] >= bounds.starts) & (frame[column] <= bounds.as_of)

        known = parcels[parcels["reported_at"] <= bounds.as_of]
        scanned = known[on("first_scan_at", known)]
        documents = at_each[bounds.day]
        figures.append(DayFigures(
            day=bounds.day, orders_received=int((on("placed_at", orders) & (orders["created_at"] <= bounds.as_of))
                                                .sum()),
            vendor_orders_sent=int(on("sent_at", sent).sum()), first_scanned=len(scanned),
            delivered=int(on("delivered_at", known).sum()),
            open_by_severity=dict(Counter(document["severity"] for document in documents)),
            open_by_type=dict(Counter(document["rule"] for document in documents)),
            value_at_risk=sum((values.get(vendor_order, Decimal(0)) for vendor_order in
                               {d["vendor_order"] for d in documents if d["rule"] in AT_RISK and d["vendor_order"]}),
                              Decimal(0)),
            on_time_by_vendor=_on_time(scanned, "vendor"), on_time_by_carrier=_on_time(scanned, "carrier"),
            blocked=_blocked(documents, values)))
    return Series(days=figures, parcels=parcels)


def vendor_order_values(connection: Connection, ids: list[str]) -> dict[str, Decimal]:
    """What each vendor order is worth: its lines' quantity times their price."""
    frame = read_in(connection, ids, lambda chunk: (
        select(VendorOrderLine.vendor_order_id.label("vendor_order"), OrderLine.qty, OrderLine.price)
        .join(OrderLine, OrderLine.id == VendorOrderLine.order_line_id)
        .where(VendorOrderLine.vendor_order_id.in_(chunk))))
    values: dict[str, Decimal] = {}
    for vendor_order, qty, price in frame[["vendor_order", "qty", "price"]].itertuples(index=False):
        values[vendor_order] = values.get(vendor_order, Decimal(0)) + int(qty) * Decimal(price)
    return values


def _parcels(connection: Connection, settings: Settings, since: datetime, until: datetime) -> pd.DataFrame:
    frame = read_frame(connection, select(
        Shipment.first_scan_at, Shipment.delivered_at, Shipment.reported_at, Shipment.carrier,
        VendorOrder.vendor_code.label("vendor"), VendorOrder.sent_at, VendorOrder.ship_by, Order.placed_at)
        .join(VendorOrder, VendorOrder.id == Shipment.vendor_order_id)
        .join(Order, Order.id == VendorOrder.order_id)
        .where(or_(and_(Shipment.first_scan_at >= since, Shipment.first_scan_at <= until),
                   and_(Shipment.delivered_at >= since, Shipment.delivered_at <= until))))
    frame["carrier"] = frame["carrier"].fillna("unknown").str.upper()
    deadlines = with_ship_by(frame, settings)["ship_by"]
    frame["on_time"] = (frame["first_scan_at"] <= deadlines.reindex(frame.index)).astype(float).where(
        frame.index.isin(deadlines.index) & frame["first_scan_at"].notna())
    return frame


def _on_time(scanned: pd.DataFrame, by: str) -> dict[str, tuple[int, int]]:
    judged = scanned[scanned["on_time"].notna()]
    groups = judged["on_time"].astype(bool).groupby(judged[by])
    return {str(key): (int(group.sum()), len(group)) for key, group in groups}


def _blocked(documents: list[dict[str, Any]], values: dict[str, Decimal]) -> dict[str, tuple[int, Decimal]]:
    held: dict[str, set[str]] = {}
    for document in documents:
        if document["rule"] in BLOCKING and document["vendor"] and document["vendor_order"]:
            held.setdefault(document["vendor"], set()).add(document["vendor_order"])
    return {vendor: (len(orders), sum((values.get(order, Decimal(0)) for order in orders), Decimal(0)))
            for vendor, orders in held.items()}


def compare(days: list[DayFigures]) -> list[tuple[str, float, float | None, float | None]]:
    """Each headline figure of the last day, with the day before's and the average of the 7 days before it."""
    today, before = days[-1].headline(), [figures.headline() for figures in days[-8:-1]]
    return [(name, value, before[-1][name] if before else None,
             sum(figures[name] for figures in before) / len(before) if before else None)
            for name, value in today.items()]


def rates(days: list[DayFigures], by: str) -> dict[str, tuple[tuple[int, int], tuple[int, int]]]:
    """Per vendor (``by="vendor"``) or carrier: its on-time count on the last day, and over the 7 days before."""
    attribute = f"on_time_by_{by}"
    today: dict[str, tuple[int, int]] = getattr(days[-1], attribute)
    week: dict[str, tuple[int, int]] = {}
    for figures in days[-8:-1]:
        for key, (good, out_of) in getattr(figures, attribute).items():
            earlier = week.get(key, (0, 0))
            week[key] = (earlier[0] + good, earlier[1] + out_of)
    return {key: (today.get(key, (0, 0)), week.get(key, (0, 0))) for key in sorted({*today, *week})}


def weekly_vendors(parcels: pd.DataFrame, until: datetime) -> pd.DataFrame:
    """Per vendor and week (ending at ``until``, oldest first): on-time rate and median days from sending to first
    scan of the parcels first scanned that week."""
    scanned = parcels[parcels["first_scan_at"].notna() & (parcels["first_scan_at"] <= until)].copy()
    weeks_back = ((pd.Timestamp(until) - scanned["first_scan_at"]).dt.total_seconds() // (7 * 86400)).astype(int)
    scanned = scanned[weeks_back < WEEKS].assign(week=WEEKS - 1 - weeks_back[weeks_back < WEEKS])
    scanned["days_to_scan"] = (scanned["first_scan_at"] - scanned["sent_at"]).dt.total_seconds() / 86400
    grouped = scanned.groupby(["vendor", "week"])
    return pd.DataFrame({"on_time_rate": grouped["on_time"].mean(),
                         "median_days_to_first_scan": grouped["days_to_scan"].median()}).reset_index()
