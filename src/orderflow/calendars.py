"""Vendor business calendars: ship-by deadlines, business hours and ages counted in the vendor's own time.

A vendor works on its ``working_days`` in its own time zone, except on public holidays (the ``holidays``
package, by country and subdivision) and its ``extra_holidays``. Every answer is an aware UTC datetime, so a
deadline never depends on the shop's zone or on when a cron run happened to look.

>>> from orderflow.config import CalendarSettings, VendorSettings
>>> calendar = BusinessCalendar.from_settings(CalendarSettings(timezone="America/Chicago", handling_days=2))
>>> calendar.ship_by(datetime(2026, 11, 25, 16, 0, tzinfo=UTC)).isoformat()  # Wednesday 10:00 in Chicago
'2026-12-01T05:59:59.999999+00:00'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import takewhile
from zoneinfo import ZoneInfo

from orderflow.config import CalendarSettings, VendorSettings
from orderflow.errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GRACE_HOUR = time(12, 0)


@dataclass(frozen=True)
class BusinessCalendar:
    """One vendor's working calendar. Build it with :meth:`from_settings`."""

    settings: CalendarSettings
    zone: ZoneInfo
    _holidays_by_year: dict[int, frozenset[date]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: CalendarSettings) -> BusinessCalendar:
        """Check the calendar can ever produce a deadline, and that its holiday country exists."""
        if not settings.working_days:
            raise ConfigError("calendar: working_days is empty, so no deadline could ever be met")
        if settings.opens >= settings.closes:
            raise ConfigError(f"calendar: opens ({settings.opens}) must be before closes ({settings.closes})")
        calendar = cls(settings=settings, zone=ZoneInfo(settings.timezone))
        calendar._public_holidays(datetime.now(UTC).year)  # a misspelt country fails here, not mid-run
        return calendar

    def is_working_day(self, day: date) -> bool:
        """A configured weekday that is neither a public holiday nor one of the vendor's own days off."""
        return (
            WEEKDAYS[day.weekday()] in self.settings.working_days
            and day not in self.settings.extra_holidays
            and day not in self._public_holidays(day.year)
        )

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day``; ``n=0`` gives ``day`` itself."""
        if n < 0:
            raise ValueError(f"cannot add {n} working days")
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def ship_by(self, placed_at: datetime) -> datetime:
        """The end of the last day the vendor has to ship an order placed at ``placed_at``.

        Day 0 is the order's local date in the vendor's zone when that is a working day and the order came in
        before the cut-off; otherwise it is the next working day. The due day is day 0 plus ``handling_days``
        working days, and the deadline is the end of the due day, 23:59:59.999999 local time, given in UTC.

        Example, Chicago, cut-off 14:00, two handling days, US holidays: an order at 10:00 on Wednesday
        2026-11-25 counts from that Wednesday; Thanksgiving (Thursday) is skipped, so Friday is day 1, Monday
        2026-11-30 is day 2 and the order must ship by 2026-11-30 23:59:59.999999 CST (06:00 UTC less 1 µs).
        """
        local_date = _aware(placed_at).astimezone(self.zone).date()
        # The cut-off is compared as an instant so an order in a repeated autumn hour is judged consistently.
        before_cutoff = placed_at < self._at(local_date, self.settings.cutoff)
        day0 = local_date if self.is_working_day(local_date) and before_cutoff else self.next_working_day(local_date)
        return self._end_of_day(self.add_working_days(day0, self.settings.handling_days))

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The instant ``hours`` of business hours (``opens``..``closes`` on working days) after ``start``.

        Outside business hours the count starts at the next opening, so a Saturday order with an 8-hour
        acknowledgement window is due at Monday's closing time.
        """
        if hours < 0:
            raise ValueError(f"cannot add {hours} business hours")
        remaining = timedelta(hours=hours)
        cursor = _aware(start).astimezone(UTC)
        day = cursor.astimezone(self.zone).date()
        while True:
            if self.is_working_day(day):
                opens, closes = self._at(day, self.settings.opens), self._at(day, self.settings.closes)
                begin = max(cursor, opens)
                if begin <= closes:
                    if remaining <= closes - begin:
                        return begin + remaining
                    remaining -= closes - begin
            day += timedelta(days=1)

    def business_days_between(self, start: datetime, end: datetime) -> float:
        """How many of the vendor's working days lie between two instants, counting part days by the clock.

        Each working day counts as 1 from local midnight to the next local midnight (so a 23-hour DST day is
        still one whole day), in proportion to the time of it that lies between ``start`` and ``end``;
        weekends and holidays count 0. Friday 18:00 to Monday 09:00 is 0.25 + 0.375 = 0.625. The result is
        negative when ``end`` is before ``start``.
        """
        start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
        if end < start:
            return -self.business_days_between(end, start)
        total = 0.0
        days = takewhile(lambda day: day[0] < end, self.days_from(start.astimezone(self.zone).date()))
        for day_start, day_end, working in days:
            if working:
                total += (min(end, day_end) - max(start, day_start)) / (day_end - day_start)
        return total

    def days_from(self, first: date) -> Iterator[tuple[datetime, datetime, bool]]:
        """The calendar's days from ``first`` on, without end: each as its local midnight and the next one (in
        UTC, so a DST day is 23 or 25 hours long) and whether it is a working day. Every count of business days
        walks these, one pair of instants at a time or many at once (:mod:`orderflow.reports.business_days`)."""
        day, day_start = first, self._start_of_day(first)
        while True:
            day_end = self._start_of_day(day + timedelta(days=1))
            yield day_start, day_end, self.is_working_day(day)
            day, day_start = day + timedelta(days=1), day_end

    def grace_deadline(self, ship_by: datetime) -> datetime:
        """Noon local on the vendor's next working day after ``ship_by``: the default grace for lateness."""
        day = _aware(ship_by).astimezone(self.zone).date()
        return self._at(self.next_working_day(day), GRACE_HOUR)

    def _public_holidays(self, year: int) -> frozenset[date]:
        if self.settings.holidays is None:
            return frozenset()
        if year not in self._holidays_by_year:
            from orderflow.public_holidays import public_holidays

            self._holidays_by_year[year] = public_holidays(self.settings.holidays, self.settings.subdivision, year)
        return self._holidays_by_year[year]

    def _at(self, day: date, wall_time: time) -> datetime:
        return datetime.combine(day, wall_time, tzinfo=self.zone).astimezone(UTC)

    def _start_of_day(self, day: date) -> datetime:
        return self._at(day, time(0))

    def _end_of_day(self, day: date) -> datetime:
        # The instant before the next local midnight: 23:59:59.999999 local, whatever the day's length.
        return self._start_of_day(day + timedelta(days=1)) - timedelta(microseconds=1)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"a naive datetime has no meaning here: {moment.isoformat()}")
    return moment


class VendorCalendars:
    """Every configured vendor's calendar, built on first use and reused for the whole run.

    >>> calendars = VendorCalendars(settings.vendors)  # doctest: +SKIP
    >>> calendars.ship_by("ACME", placed_at)  # doctest: +SKIP
    """

    def __init__(self, vendors: Iterable[VendorSettings]) -> None:
        self._vendors = {vendor.code: vendor for vendor in vendors}
        self._calendars: dict[str, BusinessCalendar] = {}
        self._deadlines: dict[tuple[str, date, bool], datetime] = {}

    def calendar(self, vendor_code: str) -> BusinessCalendar | None:
        vendor = self._vendors.get(vendor_code)
        if vendor is None:
            return None
        if vendor_code not in self._calendars:
            self._calendars[vendor_code] = BusinessCalendar.from_settings(vendor.calendar)
        return self._calendars[vendor_code]

    def ship_by(self, vendor_code: str, placed_at: datetime) -> datetime | None:
        """Cached by (vendor, local day, before or after the cut-off): a big import has few distinct answers."""
        calendar = self.calendar(vendor_code)
        if calendar is None:
            return None
        local = placed_at.astimezone(calendar.zone)
        cutoff = calendar._at(local.date(), calendar.settings.cutoff)  # the calendar's own helper, same module
        key = (vendor_code, local.date(), placed_at < cutoff)
        if key not in self._deadlines:
            self._deadlines[key] = calendar.ship_by(placed_at)
        return self._deadlines[key]

    def ack_due(self, vendor_code: str, sent_at: datetime) -> datetime | None:
        """When an acknowledgement is due: the vendor's ack window in its business hours (None if it never acks).

        A vendor left on ``acknowledges = "auto"`` gets a due time too: whether it is held to it is the rule's
        call, from whether the vendor has ever acknowledged an order."""
        vendor = self._vendors.get(vendor_code)
        calendar = self.calendar(vendor_code)
        if vendor is None or calendar is None or vendor.acknowledges is False:
            return None
        return calendar.add_business_hours(sent_at, vendor.calendar.ack_window_hours)


@cache
def shop_calendar(timezone: str) -> BusinessCalendar:
    """The shop's business days, which the carriers keep too: Monday to Friday in the shop's zone, without US
    public holidays. Notification ages, reopen windows, and the carriers' days in the tracking rules."""
    return BusinessCalendar.from_settings(CalendarSettings(timezone=timezone, holidays="US"))


def after_business_days(calendar: BusinessCalendar, start: datetime, days: float) -> datetime:
    """The instant ``days`` of ``calendar``'s working days after ``start``, counted as
    :meth:`~orderflow.calendars.BusinessCalendar.business_days_between` counts them (weekends and holidays
    pass for nothing); ``start`` itself for 0."""
    if days <= 0:
        return start
    zone, remaining = calendar.zone, days
    day = start.astimezone(zone).date()
    while True:
        begins = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        ends = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        if calendar.is_working_day(day) and ends > start:
            cursor = max(start, begins)
            share = (ends - cursor) / (ends - begins)
            if remaining <= share:
                return cursor + (ends - begins) * remaining
            remaining -= share
        day += timedelta(days=1)
