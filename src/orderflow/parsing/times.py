"""Times as others write them, read into aware UTC: one reader for every form, and the rules for what is missing.

>>> parse_time("2026-03-12 09:41:02 -0400").isoformat()
'2026-03-12T13:41:02+00:00'
>>> parse_time("2024-11-22T13:58:00", naive=parse_offset("-7:00")).isoformat()
'2024-11-22T20:58:00+00:00'
>>> parse_time("2026-03-14", date_at=NOON).isoformat()
'2026-03-14T12:00:00+00:00'

ISO 8601 in every offset form: ``Z`` or ``z``, ``+HH:MM``, ``+HHMM``, ``+HH`` and the single-digit hour some
carriers write (``-7:00``); ``T`` or a space between date and time, and a space before the offset (Shopify's
``2026-03-12 09:41:02 -0400``); fractions of a second to any length (cut to microseconds). What differs from
one sender to the next is only what a missing part means, and each caller says that:

- ``naive``: the zone of a time written without an offset (``UTC``, a storefront's zone, an offset a carrier
  gives apart); ``None`` refuses such a time, for formats that always write one.
- ``date_at``: where a date written alone is placed (:data:`NOON`); ``None`` reads it as its midnight.

A day wanted as a day is :func:`parse_date`. X12 and UPS write compact digits instead:
:func:`parse_compact_date` (``CCYYMMDD``) and :func:`parse_compact_clock` (``HHMM``, ``HHMMSS``, with decimal
seconds after).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, tzinfo

from orderflow.parsing.text import shown
from orderflow.parsing.values import ascii_digits

NOON = time(12, 0)
"""Where a date written alone is placed, in UTC: that instant falls on the same calendar day in every US and
European time zone, so a ship date never shows as the day before in the shop's reports."""

_SINGLE_DIGIT_HOUR = re.compile(r"([+-])(\d)(:\d{2})$")
_LOWER_Z = re.compile(r"z$")


def parse_time(text: str, *, naive: tzinfo | None = UTC, date_at: time | None = None,
               expected: str = "an ISO 8601 time") -> datetime:
    """An ISO 8601 time in any offset form as aware UTC; ``ValueError`` saying ``not <expected>`` otherwise.

    A time without an offset is taken in ``naive`` (refused when it is ``None``); a date alone is placed at
    ``date_at`` there, or at its midnight.
    """
    value = _iso_text(text)
    try:
        moment = _date_alone(value, date_at) or datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not {expected}: {shown(text)}") from None
    if moment.tzinfo is None:
        if naive is None:
            raise ValueError(f"not {expected}: {shown(text)}")
        moment = moment.replace(tzinfo=naive)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise ValueError(f"a time out of range: {shown(text)}") from None


def _iso_text(text: str) -> str:
    """The text with the offset forms the standard reader does not take (``z``, ``-7:00``) written its way."""
    return _SINGLE_DIGIT_HOUR.sub(r"\g<1>0\2\3", _LOWER_Z.sub("Z", text.strip()))


def _date_alone(value: str, date_at: time | None) -> datetime | None:
    if date_at is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), date_at)
    except ValueError:
        return None


def parse_date(text: str, *, expected: str = "an ISO 8601 date like 2026-03-14") -> date:
    """An ISO 8601 date; a date with a time gives the day as written (its own offset, not UTC's)."""
    try:
        return datetime.fromisoformat(_iso_text(text)).date()
    except ValueError:
        raise ValueError(f"not {expected}: {shown(text)}") from None


def parse_offset(text: str) -> tzinfo:
    """A UTC offset written apart from its time (``-05:00``, ``-0500``, ``-7:00``, ``Z``) as a zone."""
    try:
        zone = datetime.strptime(_iso_text(text), "%z").tzinfo
    except ValueError:
        zone = None
    if zone is None:
        raise ValueError(f"not a UTC offset: {shown(text)}")
    return zone


def parse_local_time(text: str, *, date_format: str, zone: tzinfo) -> datetime:
    """A time in ``date_format`` (a ``strptime`` pattern, or ``"iso"``); without an offset it is taken in
    ``zone``. Returns UTC."""
    if date_format == "iso":
        return parse_time(text, naive=zone)
    try:
        moment = datetime.strptime(text.strip(), date_format)  # noqa: DTZ007 - given its zone below
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"not a time in the format {date_format}: {shown(text)}") from None


def parse_compact_date(text: str) -> date:
    """``'20260314'`` (``CCYYMMDD``, as X12 and UPS write a day) as a date."""
    value = text.strip()
    try:
        if len(value) != 8 or not ascii_digits(value):
            raise ValueError(value)
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise ValueError(f"{shown(text)} is not a CCYYMMDD date") from None


def parse_compact_clock(text: str) -> time:
    """``'0713'``, ``'071356'``, ``'07135612'`` (``HHMM``, ``HHMMSS``, decimal seconds after) as a time of day."""
    value = text.strip()
    try:
        if len(value) not in (4, 6, 7, 8) or not ascii_digits(value):
            raise ValueError(value)
        return time(int(value[:2]), int(value[2:4]), int(value[4:6] or 0))
    except ValueError:
        raise ValueError(f"{shown(text)} is not an HHMM time") from None


def combine_utc(day: date, clock: time, zone: tzinfo) -> datetime:
    """A day and a time of day in ``zone`` as aware UTC; ``ValueError`` past the ends of the calendar."""
    try:
        return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"a time out of range: {day.isoformat()} {clock.isoformat()}") from None
