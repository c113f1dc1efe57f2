"""Each vendor over a window (``report.scorecard_days``, 30 by default): how fast, how reliable, how honest.

The window holds the vendor orders sent to the vendor for orders placed in the ``days`` before the report's
instant; everything is judged at that instant. One row per configured vendor (and any other vendor found in
the window), with:

- ``vendor_orders``: vendor orders sent to it;
- ``acknowledged_median_hours``: median hours from sending to its acknowledgement;
- ``orders_due`` and ``on_time_ship_rate``: of the vendor orders that are due (ship-by passed, or scanned
  already; neither it nor its order cancelled, not rejected whole), the share whose first carrier scan (or
  delivery) came by the ship-by. A label is not a scan, and the vendor's own ship date is not evidence, except
  for a parcel of a carrier orderflow cannot ask (no section, no credentials, freight): that counts on the
  vendor's word, as ``vendor_late`` counts it;
- ``rejection_rate`` and ``top_rejection_reasons``: vendor orders with any rejection (whole or some lines), and
  the three most common reasons with how many vendor orders each (``out of stock (3); discontinued (1)``);
- ``out_of_stock_lines``: lines the vendor backordered;
- ``median_business_days_to_first_scan``: from sending to the first carrier scan, in the vendor's business days;
- ``median_tracking_upload_lag_hours``: how long after the first scan the vendor's tracking reached us (0 when
  the tracking came first, as it should);
- ``tracking_not_scanned``: valid numbers with no carrier scan 2 of the vendor's business days after its ship
  date (as the ``tracking_not_scanned`` rule counts them; not those of a carrier orderflow cannot ask);
- ``carrier_exceptions``: parcels the carrier reported an exception or a failed delivery attempt for.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Connection, select

from orderflow.carriers.apis import carriers_we_cannot_ask
from orderflow.carriers.numbers import FREIGHT
from orderflow.carriers.status import PackageStatus
from orderflow.config import Settings
from orderflow.db.models import (
    LineState,
    Order,
    OrderState,
    Shipment,
    TrackingEvent,
    VendorOrder,
    VendorOrderLine,
    VendorOrderState,
)
from orderflow.orders.lateness import NOT_SCANNED_AFTER_BUSINESS_DAYS
from orderflow.reports.business_days import vendor_business_days, with_ship_by
from orderflow.reports.cells import fraction, one_decimal, read_frame, read_in

COLUMNS = ("vendor", "name", "orders_due", "on_time_ship_rate", "vendor_orders", "rejection_rate",
           "top_rejection_reasons", "acknowledged_median_hours", "out_of_stock_lines",
           "median_business_days_to_first_scan",
           "median_tracking_upload_lag_hours", "tracking_not_scanned", "carrier_exceptions")
CARRIER_EXCEPTIONS = (PackageStatus.EXCEPTION, PackageStatus.DELIVERY_ATTEMPTED)
TOP_REASONS = 3
NO_REASON = "no reason given"


def vendor_scorecard(connection: Connection, *, settings: Settings, as_of: datetime, days: int) -> pd.DataFrame:
    """One row per vendor with the raw figures (rates as fractions, NaN where there was nothing to measure)."""
    window = _window(as_of - timedelta(days=days), as_of)
    orders = read_frame(connection, select(
        VendorOrder.id.label("vendor_order"), VendorOrder.vendor_code.label("vendor"), VendorOrder.state,
        VendorOrder.sent_at, VendorOrder.acknowledged_at, VendorOrder.rejected_at, VendorOrder.rejection_reason,
        VendorOrder.rejection_code, VendorOrder.ship_by, VendorOrder.cancel_confirmed_at, Order.placed_at,
        Order.state.label("order_state"), Order.cancelled_at)
        .join(Order, Order.id == VendorOrder.order_id).where(*window))
    orders = states_then(orders, as_of)
    lines = lines_then(read_frame(connection, select(
        VendorOrderLine.vendor_order_id.label("vendor_order"), VendorOrder.vendor_code.label("vendor"),
        VendorOrderLine.state, VendorOrderLine.qty_rejected, VendorOrderLine.qty_backordered, VendorOrderLine.reason,
        VendorOrderLine.reason_code)
        .join(VendorOrder, VendorOrder.id == VendorOrderLine.vendor_order_id)
        .join(Order, Order.id == VendorOrder.order_id).where(*window)), orders, as_of)
    parcels = read_frame(connection, select(
        Shipment.id.label("shipment"), Shipment.vendor_order_id.label("vendor_order"),
        VendorOrder.vendor_code.label("vendor"),
        Shipment.carrier, Shipment.tracking_valid, Shipment.status, Shipment.first_scan_at, Shipment.delivered_at,
        Shipment.shipped_at, Shipment.reported_at)
        .join(VendorOrder, VendorOrder.id == Shipment.vendor_order_id)
        .join(Order, Order.id == VendorOrder.order_id).where(*window, Shipment.reported_at <= as_of))
    # By the window's parcel ids (the events' index leads with them): a join lets SQLite, which keeps no
    # statistics, walk all tracking events of the history instead.
    exceptions = read_in(connection, parcels["shipment"].tolist(), lambda chunk: (
        select(TrackingEvent.shipment_id.label("shipment")).distinct()
        .where(TrackingEvent.shipment_id.in_(chunk), TrackingEvent.status.in_(CARRIER_EXCEPTIONS),
               TrackingEvent.occurred_at <= as_of)))

    names = {vendor.code: vendor.name for vendor in settings.vendors}
    codes = list(dict.fromkeys([*names, *sorted(set(orders["vendor"]))]))
    card = pd.DataFrame({"vendor": codes, "name": [names.get(code, code) for code in codes]}, index=codes)
    card["vendor_orders"] = orders["vendor"].value_counts()
    acknowledged = orders[orders["acknowledged_at"] <= as_of]
    card["acknowledged_median_hours"] = (
        (acknowledged["acknowledged_at"] - acknowledged["sent_at"]).dt.total_seconds().div(3600)
        .groupby(acknowledged["vendor"]).median())
    _on_time(card, orders, parcels, settings, as_of)
    _rejections(card, orders, lines, as_of)
    backordered = lines[(lines["qty_backordered"] > 0) | (lines["state"] == LineState.BACKORDERED)]
    card["out_of_stock_lines"] = backordered["vendor"].value_counts()
    scanned = parcels[parcels["first_scan_at"] <= as_of]
    card["median_tracking_upload_lag_hours"] = (
        (scanned["reported_at"] - scanned["first_scan_at"]).dt.total_seconds().div(3600).clip(lower=0)
        .groupby(scanned["vendor"]).median())
    card["tracking_not_scanned"] = _not_scanned(parcels, settings, as_of)
    card["carrier_exceptions"] = parcels.loc[parcels["shipment"].isin(set(exceptions["shipment"])),
                                             "vendor"].value_counts()
    counts = ["vendor_orders", "orders_due", "out_of_stock_lines", "tracking_not_scanned", "carrier_exceptions"]
    card[counts] = card[counts].fillna(0).astype(int)
    card["top_rejection_reasons"] = card["top_rejection_reasons"].fillna("")
    return card.reset_index(drop=True)[list(COLUMNS)]


def states_then(orders: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Vendor orders (and their orders) with the state they had at ``as_of`` where their times tell it: a
    rejection, a confirmed cancellation or an order's cancellation that came later had not happened then; one
    before it (or with no time kept) had. Any other later state is taken as still open then."""
    later = {"rejected_at": VendorOrderState.REJECTED, "cancel_confirmed_at": VendorOrderState.CANCELLED}
    orders = orders.copy()
    for column, state in later.items():
        undone = (orders["state"] == state) & (orders[column] > as_of)
        orders.loc[undone, "state"] = VendorOrderState.SENT
    orders.loc[orders["cancelled_at"] > as_of, "order_state"] = OrderState.OPEN
    return orders


def lines_then(lines: pd.DataFrame, orders: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Lines without the rejections their vendor order had after ``as_of`` (its ``rejected_at`` is its first)."""
    later = lines["vendor_order"].isin(set(orders.loc[orders["rejected_at"] > as_of, "vendor_order"]))
    lines = lines.copy()
    lines.loc[later, "qty_rejected"] = 0
    lines.loc[later & (lines["state"] == LineState.REJECTED), "state"] = LineState.ACCEPTED
    return lines


def format_scorecard(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard as a spreadsheet reads it: hours and days with one decimal, rates as decimal fractions
    (``0.923``) beside the count they are out of, empty where that count is 0."""
    text = card.copy()
    for column in ("acknowledged_median_hours", "median_business_days_to_first_scan",
                   "median_tracking_upload_lag_hours"):
        text[column] = one_decimal(card[column])
    for column in ("on_time_ship_rate", "rejection_rate"):
        text[column] = card[column].map(fraction)
    return text


def _window(starts: datetime, as_of: datetime) -> tuple[ColumnElement[bool], ...]:
    """Vendor orders sent by ``as_of``, for orders placed in the window (``placed_at`` is indexed)."""
    return (Order.placed_at >= starts, Order.placed_at <= as_of, VendorOrder.sent_at.is_not(None),
            VendorOrder.sent_at <= as_of)


def _first_evidence(parcels: pd.DataFrame, settings: Settings, as_of: datetime) -> pd.Series[Any]:
    """Each vendor order's first evidence of shipping by ``as_of``: a carrier scan, or a delivery; for a valid
    parcel of a carrier orderflow cannot ask (no section, no credentials, freight), the vendor's word, as
    ``vendor_late`` takes it: the ship date it gave, else when it reported the parcel."""
    scans = parcels[["first_scan_at", "delivered_at"]].min(axis=1)
    unaskable = parcels["carrier"].isin(unaskable_carriers(settings)) & parcels["tracking_valid"].astype(bool) \
        & scans.isna()
    word = parcels["shipped_at"].where(parcels["shipped_at"].notna(), parcels["reported_at"])
    scans = scans.where(~unaskable, word)
    scans = scans[scans <= as_of]
    return scans.groupby(parcels.loc[scans.index, "vendor_order"]).min()


def unaskable_carriers(settings: Settings) -> set[str]:
    """Carriers whose parcels count on the vendor's word: those orderflow cannot ask, and freight."""
    return set(carriers_we_cannot_ask(settings)) | {FREIGHT}


def _on_time(card: pd.DataFrame, orders: pd.DataFrame, parcels: pd.DataFrame, settings: Settings,
             as_of: datetime) -> None:
    first_scans = _first_evidence(parcels, settings, as_of).reindex(orders["vendor_order"])
    orders = orders.assign(first_scan=pd.to_datetime(pd.Series(first_scans.to_numpy(), index=orders.index), utc=True))
    wanted = (~orders["state"].isin((VendorOrderState.CANCELLED, VendorOrderState.REJECTED))
              & ~orders["order_state"].isin((OrderState.CANCELLED, OrderState.FULFILLED_ELSEWHERE)))
    counted = with_ship_by(orders[wanted], settings)
    due = counted[(counted["ship_by"] < as_of) | counted["first_scan"].notna()]
    on_time = (due["first_scan"] <= due["ship_by"]).groupby(due["vendor"])
    card["orders_due"] = on_time.size()
    card["on_time_ship_rate"] = on_time.mean()
    days = vendor_business_days(settings, orders, "sent_at", "first_scan")
    card["median_business_days_to_first_scan"] = days.groupby(orders["vendor"]).median()


def _rejections(card: pd.DataFrame, orders: pd.DataFrame, lines: pd.DataFrame, as_of: datetime) -> None:
    """The share of vendor orders with any rejection, and the most common reasons (one count per vendor order)."""
    rejected_orders = orders[(orders["state"] == VendorOrderState.REJECTED) | (orders["rejected_at"] <= as_of)]
    order_reasons: dict[str, str] = {
        row["vendor_order"]: _text(row["rejection_reason"]) or _text(row["rejection_code"]) or NO_REASON
        for row in rejected_orders.to_dict("records")}
    vendors: dict[str, str] = dict(zip(orders["vendor_order"].tolist(), orders["vendor"].tolist(), strict=True))
    reasons: dict[str, set[str]] = {}
    rejected_lines = lines[(lines["state"] == LineState.REJECTED) | (lines["qty_rejected"] > 0)]
    for row in rejected_lines.to_dict("records"):
        vendor_order = row["vendor_order"]
        if vendor_order in vendors:
            reasons.setdefault(vendor_order, set()).add(
                _text(row["reason"]) or _text(row["reason_code"]) or order_reasons.get(vendor_order, NO_REASON))
    for vendor_order, reason in order_reasons.items():
        reasons.setdefault(vendor_order, {reason})
    tallies: dict[str, Counter[str]] = {}
    for vendor_order, texts in reasons.items():
        tallies.setdefault(vendors[vendor_order], Counter()).update(texts)
    rejected = pd.Series([vendors[vendor_order] for vendor_order in reasons], dtype=object).value_counts()
    card["rejection_rate"] = (rejected.reindex(card.index).fillna(0) / card["vendor_orders"]).where(
        card["vendor_orders"] > 0, np.nan)
    card["top_rejection_reasons"] = pd.Series({
        vendor: "; ".join(f"{reason} ({count})" for reason, count in
                          sorted(tally.items(), key=lambda item: (-item[1], item[0]))[:TOP_REASONS])
        for vendor, tally in tallies.items()}, dtype=object)


def _text(value: Any) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _not_scanned(parcels: pd.DataFrame, settings: Settings, as_of: datetime) -> pd.Series[Any]:
    """Valid, uncancelled parcels with no scan or delivery by ``as_of``, 2 business days after the ship date; not
    those of a carrier orderflow cannot ask (nobody looked for their scans)."""
    waiting = parcels[parcels["tracking_valid"].astype(bool) & (parcels["status"] != PackageStatus.CANCELLED)
                      & ~parcels["carrier"].isin(unaskable_carriers(settings))
                      & ~(parcels["first_scan_at"] <= as_of) & ~(parcels["delivered_at"] <= as_of)].copy()
    waiting["ship_date"] = waiting["shipped_at"].where(waiting["shipped_at"].notna(), waiting["reported_at"])
    overdue = vendor_business_days(settings, waiting, "ship_date", as_of) >= NOT_SCANNED_AFTER_BUSINESS_DAYS
    return waiting.loc[overdue, "vendor"].value_counts()
