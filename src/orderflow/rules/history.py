"""Each vendor's habits, learned from its own recent orders: how soon it answers, ships and uploads tracking.

From data orderflow already keeps, over the vendor orders sent (and parcels first scanned) in a rolling
window of :data:`HISTORY_DAYS` days, each measured in the vendor's own business days:

- **ack lag**: from sending the order to its acknowledgement;
- **handling**: from sending the order to the first carrier scan of its first parcel;
- **upload lag**: from a parcel's first carrier scan to when the vendor told us its tracking (0 when the
  number came before the scan, as it usually does).

Each is a median, a 90th percentile and the longest, with how many samples they rest on. ``orderflow vendors``
shows them; ``vendor_late`` waits out a vendor's longest recent upload lag, when it is longer than the wait
every vendor gets, before "no tracking" becomes a notification.

    >>> vendor_history(session, settings, now)["ACME"].upload_lag  # doctest: +SKIP
    Spread(median=0.0, p90=1.2, samples=41, longest=1.6)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from orderflow.calendars import BusinessCalendar, VendorCalendars
from orderflow.config import Settings
from orderflow.db.models import Shipment, VendorOrder

HISTORY_DAYS = 60
MIN_SAMPLES = 5
"""Fewer samples than this say nothing about a vendor's habits: a spread is only given from this many on."""


@dataclass(frozen=True)
class Spread:
    """Business days: the median, the 90th percentile (nearest rank) and the longest of ``samples``
    measurements."""

    median: float
    p90: float
    samples: int
    longest: float = 0.0

    @property
    def text(self) -> str:
        """``0.4 / 1.2 bd (n=41)``."""
        return f"{self.median:.1f} / {self.p90:.1f} bd (n={self.samples})"


@dataclass(frozen=True)
class VendorHistory:
    vendor_code: str
    ack_lag: Spread | None
    handling: Spread | None
    upload_lag: Spread | None


def spread(values: Sequence[float]) -> Spread | None:
    """Median and nearest-rank 90th percentile, or ``None`` below :data:`MIN_SAMPLES` values.

    >>> spread([0, 0, 0, 0, 0, 0, 0, 0, 1.5, 3])
    Spread(median=0.0, p90=1.5, samples=10, longest=3)
    """
    if len(values) < MIN_SAMPLES:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    p90 = ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]
    return Spread(median=round(median, 2), p90=round(p90, 2), samples=len(ordered), longest=round(ordered[-1], 2))


def vendor_history(session: Session, settings: Settings, now: datetime,
                   days: int = HISTORY_DAYS) -> dict[str, VendorHistory]:
    """Every configured vendor's habits over the ``days`` before ``now`` (two indexed queries)."""
    since = now - timedelta(days=days)
    calendars = VendorCalendars(settings.vendors)
    acks: dict[str, list[float]] = defaultdict(list)
    handling: dict[str, list[float]] = defaultdict(list)
    uploads: dict[str, list[float]] = defaultdict(list)
    first_scan = (select(Shipment.vendor_order_id, func.min(Shipment.first_scan_at).label("scanned"))
                  .where(Shipment.first_scan_at <= now).group_by(Shipment.vendor_order_id).subquery())
    for code, sent, acked, scanned in session.execute(
            select(VendorOrder.vendor_code, VendorOrder.sent_at, VendorOrder.acknowledged_at, first_scan.c.scanned)
            .outerjoin(first_scan, first_scan.c.vendor_order_id == VendorOrder.id)
            .where(VendorOrder.sent_at > since, VendorOrder.sent_at <= now)):
        calendar = calendars.calendar(code)
        if calendar is None:
            continue
        if acked is not None and acked <= now:
            acks[code].append(_days(calendar, sent, acked))
        if scanned is not None:
            handling[code].append(_days(calendar, sent, scanned))
    for code, scanned, reported in session.execute(
            select(VendorOrder.vendor_code, Shipment.first_scan_at, Shipment.reported_at)
            .join(VendorOrder, VendorOrder.id == Shipment.vendor_order_id).where(*_uploads(since, now))):
        calendar = calendars.calendar(code)
        if calendar is not None and scanned is not None:  # the query asked for a scan; the type cannot say so
            uploads[code].append(_days(calendar, scanned, reported))
    return {vendor.code: VendorHistory(vendor.code, spread(acks[vendor.code]), spread(handling[vendor.code]),
                                       spread(uploads[vendor.code]))
            for vendor in settings.vendors}


def longest_upload_lags(session: Session, settings: Settings, now: datetime,
                        days: int = HISTORY_DAYS) -> dict[str, float | None]:
    """Each configured vendor's longest upload lag over the ``days`` before ``now``: ``vendor_history``'s
    ``upload_lag.longest`` (``None`` below :data:`MIN_SAMPLES` parcels), without the rest of the history.

    ``vendor_late`` needs only this, and on a shop with a year of parcels measuring every lag and every order's
    answer and handling cost seconds a run: the parcels are counted in the database, and only those whose
    tracking came after their first scan (the others' lag is 0) are measured."""
    since = now - timedelta(days=days)
    calendars = VendorCalendars(settings.vendors)
    parcels: dict[str, int] = dict(session.execute(
        select(VendorOrder.vendor_code, func.count()).join(Shipment, Shipment.vendor_order_id == VendorOrder.id)
        .where(*_uploads(since, now)).group_by(VendorOrder.vendor_code)).all())
    longest: dict[str, float] = defaultdict(float)
    for code, scanned, reported in session.execute(
            select(VendorOrder.vendor_code, Shipment.first_scan_at, Shipment.reported_at)
            .join(VendorOrder, VendorOrder.id == Shipment.vendor_order_id)
            .where(*_uploads(since, now), Shipment.reported_at > Shipment.first_scan_at)):
        calendar = calendars.calendar(code)
        if calendar is not None and scanned is not None:
            longest[code] = max(longest[code], _days(calendar, scanned, reported))
    return {vendor.code: round(longest[vendor.code], 2) if parcels.get(vendor.code, 0) >= MIN_SAMPLES else None
            for vendor in settings.vendors}


def _uploads(since: datetime, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The parcels whose upload lag is measured: first scanned in the window, their tracking in by ``now``."""
    return Shipment.first_scan_at > since, Shipment.first_scan_at <= now, Shipment.reported_at <= now


def _days(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    return max(calendar.business_days_between(start, end), 0.0)
