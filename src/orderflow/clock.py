"""The one source of "now": real time, or the instant given with ``--now`` / ``ORDERFLOW_NOW``.

Every timestamp orderflow writes and every deadline it checks goes through a :class:`Clock`, so tests and
the demo step through days without sleeping.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from time import monotonic as _monotonic

from orderflow.errors import ConfigError
from orderflow.parsing.times import parse_time


def parse_instant(text: str, *, what: str = "--now") -> datetime:
    """Parse an ISO-8601 instant; a naive value is taken as UTC. ``Z`` is accepted."""
    try:
        return parse_time(text)
    except ValueError as exc:
        raise ConfigError(f"{what}: not an ISO-8601 time: {text!r}") from exc


@dataclass(frozen=True)
class Clock:
    """``Clock()`` tells real time; ``Clock(fixed=...)`` always tells that instant (UTC, aware).

    ``monotonic`` measures how long a run has been going (its deadline), in seconds from any start: real
    elapsed time even for a fixed clock, or a test's own ticks.
    """

    fixed: datetime | None = None
    monotonic: Callable[[], float] = field(default=_monotonic, compare=False)

    def now(self) -> datetime:
        if self.fixed is not None:
            return self.fixed
        return datetime.now(UTC)


WHEN_FORMS = "a date (2026-11-09), a time (2026-11-09T14:00), today, tomorrow, yesterday, or +2d / -6h from now"
DURATION_FORMS = "a number with w, d, h or m (2d, 6h, 30m)"
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
_DAYS = {"today": 0, "tomorrow": 1, "yesterday": -1}


def parse_duration(text: str) -> timedelta:
    """``2d``, ``6h``, ``30m`` or ``1w`` as a length of time; ``ValueError`` naming the forms otherwise."""
    match = re.fullmatch(r"(\d+)\s*([wdhm])", text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not {DURATION_FORMS}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_when(text: str, *, now: datetime, zone: tzinfo) -> datetime:
    """A time a person types, as a UTC instant. A day (a date, today, tomorrow, yesterday) means its start in
    ``zone``, the shop's zone, as does a time without an offset; ``+2d`` or ``-6h`` counts from ``now``.

    >>> from zoneinfo import ZoneInfo
    >>> now = datetime(2026, 11, 6, 15, 0, tzinfo=UTC)
    >>> parse_when("2026-11-09", now=now, zone=ZoneInfo("America/New_York")).isoformat()
    '2026-11-09T05:00:00+00:00'
    >>> parse_when("tomorrow", now=now, zone=ZoneInfo("America/New_York")).isoformat()
    '2026-11-07T05:00:00+00:00'
    """
    cleaned = text.strip().lower()
    if cleaned in _DAYS:
        return _start_of(now.astimezone(zone).date() + timedelta(days=_DAYS[cleaned]), zone)
    if cleaned[:1] in "+-" and cleaned[1:2].isdigit():
        span = parse_duration(cleaned[1:])
        return now + span if cleaned[0] == "+" else now - span
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
        try:
            return _start_of(date.fromisoformat(cleaned), zone)
        except ValueError:
            raise ValueError(f"{text!r} is not a real day") from None
    try:
        value = datetime.fromisoformat(cleaned.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not {WHEN_FORMS}") from None
    return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)


def _start_of(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)
