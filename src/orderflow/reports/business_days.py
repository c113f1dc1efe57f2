"""Business days between many pairs of instants at once, exactly as :meth:`BusinessCalendar.business_days_between`.

A report measures thousands of vendor orders (sent to first scan, ship-by to now); asking the calendar one pair
at a time walks the days of every pair. Here the calendar is asked once per date in the range, and each instant
becomes a position on a running count of working days: working days before its local date, plus the part of
its own day that has passed when that day is a working day. A difference of two positions is the answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from orderflow.calendars import BusinessCalendar, VendorCalendars, shop_calendar
from orderflow.config import Settings

_EPOCH = pd.Timestamp(0, tz=UTC)


def business_days_between(calendar: BusinessCalendar, starts: pd.Series[Any], ends: pd.Series[Any]) -> pd.Series[float]:
    """For each row, the working days from ``starts`` to ``ends`` (negative when ``ends`` is earlier); NaN where
    either is missing. Both are UTC ``datetime64`` series on the same index."""
    result = pd.Series(np.nan, index=starts.index, dtype=float)
    known = starts.notna() & ends.notna()
    if not known.any():
        return result
    local_starts, local_ends = starts[known].dt.tz_convert(calendar.zone), ends[known].dt.tz_convert(calendar.zone)
    first = min(local_starts.min(), local_ends.min()).date()
    last = max(local_starts.max(), local_ends.max()).date()
    dates = [first + timedelta(days=offset) for offset in range((last - first).days + 2)]
    working = np.array([calendar.is_working_day(day) for day in dates[:-1]], dtype=float)
    day_starts = np.array([datetime.combine(day, time(0), tzinfo=calendar.zone).timestamp() for day in dates])
    working_before = np.concatenate([[0.0], np.cumsum(working)])

    def position(local: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
        day = (local.dt.tz_localize(None).dt.normalize() - pd.Timestamp(first)).dt.days.to_numpy()
        seconds = (local - _EPOCH).dt.total_seconds().to_numpy()
        passed = (seconds - day_starts[day]) / (day_starts[day + 1] - day_starts[day])
        return np.asarray(working_before[day] + working[day] * passed, dtype=np.float64)

    result[known] = position(local_ends) - position(local_starts)
    return result


def vendor_business_days(settings: Settings, frame: pd.DataFrame, starts: str, ends: str | datetime,
                         ) -> pd.Series[float]:
    """Business days from column ``starts`` to column (or instant) ``ends``, each row on the calendar of its
    ``vendor`` (the shop's own for a vendor no longer configured)."""
    calendars = VendorCalendars(settings.vendors)
    result = pd.Series(np.nan, index=frame.index, dtype=float)
    for vendor, rows in frame.groupby("vendor"):
        calendar = calendars.calendar(str(vendor)) or shop_calendar(settings.timezone)
        until = rows[ends] if isinstance(ends, str) else pd.Series(pd.Timestamp(ends), index=rows.index)
        result[rows.index] = business_days_between(calendar, rows[starts], until)
    return result


def with_ship_by(frame: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Rows stored without a ``ship_by`` get it from their vendor's calendar and ``placed_at``, as the rules count
    it; rows whose vendor is not configured (so no deadline can be counted) are left out."""
    missing = frame["ship_by"].isna()
    if missing.any():
        calendars = VendorCalendars(settings.vendors)
        counted = [calendars.ship_by(str(vendor), placed.to_pydatetime()) for vendor, placed in
                   zip(frame.loc[missing, "vendor"], frame.loc[missing, "placed_at"], strict=True)]
        frame = frame.copy()
        frame.loc[missing, "ship_by"] = pd.to_datetime(pd.Series(counted, index=frame.index[missing], dtype=object),
                                                       utc=True)
    return frame[frame["ship_by"].notna()]
