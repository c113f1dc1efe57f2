"""The simulated carriers: real tracking numbers, each parcel's journey as scans, and the four fake APIs.

Numbers pass their carrier's check digit (a running serial completed with the one digit that
:func:`orderflow.carriers.numbers.validate` accepts), so orderflow takes them as the real thing. A journey
is the whole list of scans a carrier will ever publish for a parcel, with their future times; the fakes in
:mod:`orderflow.testing.carriers` show each scan only once the simulated clock has reached it.

    numbers = TrackingNumbers(random.Random(7))
    scans, estimate = journey("delayed", labelled_at=monday_15h, pickup_at=monday_19h, origin="Reno NV US",
                              destination="Austin TX US", rng=rng)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, cast

from orderflow.calendars import shop_calendar
from orderflow.carriers.catalogue import CARRIERS as CATALOGUE
from orderflow.carriers.numbers import validate
from orderflow.carriers.status import PackageStatus as S
from orderflow.testing.carriers import CarrierName, FakeCarrier, Scan

CARRIERS: tuple[CarrierName, ...] = tuple(cast("CarrierName", carrier.code) for carrier in CATALOGUE)
"""Every carrier orderflow knows, each simulated by its fake (``testing.carriers``)."""
SHOP_TIME_ZONE = "America/New_York"
CARRIER_CALENDAR = shop_calendar(SHOP_TIME_ZONE)
"""Carriers deliver Monday to Friday (orderflow's rules count their days the same way)."""
DELIVERY_HOUR = time(17, 0)
"""The estimate carriers give: the end of the working day the parcel should arrive."""

# A running serial without its check digit: a UPS 1Z (shipper 4R8W67, service 03), a FedEx Express 12-digit,
# a USPS IMpb 22-digit and a DHL Express 10-digit number.
_PATTERNS = {"ups": "1Z4R8W6703{serial:07d}", "fedex": "7946{serial:07d}", "usps": "940011189922385{serial:06d}",
             "dhl": "33{serial:07d}"}
_HUBS = {"ups": "Louisville KY US", "fedex": "Memphis TN US", "usps": "Kansas City MO US", "dhl": "Cincinnati OH US"}


@dataclass(frozen=True)
class Outage:
    """A carrier's tracking API answering nothing but errors from ``starts`` to ``ends``."""

    carrier: str
    starts: datetime
    ends: datetime


CarrierFate = Literal["delivered", "delivered_late", "delayed", "exception", "returned", "stalled"]


class TrackingNumbers:
    """Valid numbers for each carrier, never the same twice in one world."""

    def __init__(self, rng: random.Random) -> None:
        start = rng.randrange(1_000, 9_000) * 100
        self._serials = dict.fromkeys(CARRIERS, start)

    def next(self, carrier: CarrierName) -> str:
        while True:
            self._serials[carrier] += 1
            stem = _PATTERNS[carrier].format(serial=self._serials[carrier])
            for digit in "0123456789":
                if validate(stem + digit, carrier).valid:
                    return stem + digit

    @staticmethod
    def typo(number: str) -> str:
        """The number as a vendor's clerk mistypes it: the last digit off by one, so the check digit fails."""
        return number[:-1] + str((int(number[-1]) + 1) % 10)


def journey(fate: CarrierFate | None, *, carrier: CarrierName, labelled_at: datetime, pickup_at: datetime, origin: str,
            destination: str, rng: random.Random) -> tuple[tuple[Scan, ...], datetime | None]:
    """Every scan the carrier will publish for one parcel, and its estimated delivery.

    ``fate`` None: a label that is never scanned (no estimate either, as carriers give none for a label).
    """
    label = Scan(labelled_at, S.LABEL_CREATED, "Shipper created a label, carrier has not received the package")
    if fate is None:
        return (label,), None
    transit = rng.choice((1, 2) if fate in ("delayed", "stalled") else (1, 2, 2, 3))
    due_day = CARRIER_CALENDAR.add_working_days(pickup_at.astimezone(CARRIER_CALENDAR.zone).date(), transit)
    estimate = _at(due_day, DELIVERY_HOUR)
    hub = _HUBS[carrier]
    scans = [label, Scan(pickup_at, S.IN_TRANSIT, "Picked up", origin),
             Scan(pickup_at + timedelta(hours=4), S.IN_TRANSIT, "Departed facility", origin)]
    if fate == "stalled":
        return tuple(scans), estimate
    arrived = max(_at(due_day, time(3, 30)) - timedelta(days=1), pickup_at + timedelta(hours=6))
    scans.append(Scan(arrived, S.IN_TRANSIT, "Arrived at facility", hub))
    if fate == "exception":
        scans.append(Scan(_at(due_day, time(11, 10)), S.EXCEPTION, "Delivery exception", destination,
                          reason="address"))
        return tuple(scans), estimate
    if fate == "returned":
        next_day = CARRIER_CALENDAR.next_working_day(due_day)
        scans += [Scan(_at(due_day, time(12, 5)), S.EXCEPTION, "Delivery refused", destination, reason="refused"),
                  Scan(_at(next_day, time(9, 40)), S.RETURNED_TO_SENDER, "Returning to sender", destination)]
        return tuple(scans), estimate
    if fate == "delayed":
        scans.append(Scan(_at(due_day, time(6, 15)), S.DELAYED, "Delay: weather", hub, reason="weather"))
        scans += [Scan(_at(due_day + timedelta(days=days), time(10, 20)), S.IN_TRANSIT, "In transit", hub)
                  for days in range(1, 8)]
        return tuple(scans), estimate
    delivery_day = due_day
    if fate == "delivered_late":
        scans.append(Scan(_at(due_day, time(6, 15)), S.DELAYED, "Delay: weather", hub, reason="weather"))
        delivery_day = CARRIER_CALENDAR.next_working_day(due_day)
    minutes = rng.randint(11 * 60, 16 * 60)
    scans += [Scan(_at(delivery_day, time(8, 30)), S.OUT_FOR_DELIVERY, "Out for delivery", destination),
              Scan(_at(delivery_day, time(minutes // 60, minutes % 60)), S.DELIVERED, "Delivered", destination)]
    return tuple(scans), estimate


def _at(day: date, wall: time) -> datetime:
    return datetime.combine(day, wall, tzinfo=CARRIER_CALENDAR.zone).astimezone(UTC)


class SimulatedCarriers:
    """The four fake carrier APIs on 127.0.0.1, told the time by ``now`` and the parcels by :meth:`script`.

    Use as a context manager; ``credentials`` are the throw-away ones the fakes accept.
    """

    def __init__(self, *, now: Callable[[], datetime], credentials: Mapping[str, str],
                 outages: Sequence[Outage] = ()) -> None:
        self.outages = tuple(outages)
        self.fakes: dict[CarrierName, FakeCarrier] = {
            code: FakeCarrier(code, client_id=credentials["client_id"], client_secret=credentials["client_secret"],
                              api_key=credentials["api_key"], now=now) for code in CARRIERS}
        self._stack = ExitStack()

    def __enter__(self) -> SimulatedCarriers:
        for fake in self.fakes.values():
            self._stack.enter_context(fake)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def __iter__(self) -> Iterator[tuple[CarrierName, FakeCarrier]]:
        return iter(self.fakes.items())

    def script(self, carrier: CarrierName, number: str, scans: Sequence[Scan], estimate: datetime | None) -> None:
        self.fakes[carrier].add_parcel(number, scans, estimated_delivery=estimate)

    def at(self, moment: datetime) -> None:
        """Switch each carrier's outage on or off for the hour that begins at ``moment``."""
        for code, fake in self.fakes.items():
            fake.outage(any(outage.carrier == code and outage.starts <= moment < outage.ends
                            for outage in self.outages))
