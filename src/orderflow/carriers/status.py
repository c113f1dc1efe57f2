"""The normalized tracking model every carrier connector produces.

Two things are kept apart on purpose:

* :class:`FetchOutcome` says whether one poll got data at all (``not_found`` is an outcome, not a status);
* :class:`PackageStatus` says what the data means for the parcel.

A connector turns a carrier reply into :class:`TrackingResult` values, one per tracking number asked for::

    >>> from datetime import UTC, datetime
    >>> scan = TrackingEvent(at=datetime(2024, 4, 25, 15, 5, tzinfo=UTC), status=PackageStatus.IN_TRANSIT,
    ...                      code="PU", description="Picked up", location="COSTA MESA, CA, US")
    >>> summarize([scan])
    <PackageStatus.IN_TRANSIT: 'in_transit'>

The carrier's raw code and text stay next to every normalized status: all four carriers' code lists are
incomplete or change without notice, so the raw values are what a person reads when a mapping is wrong.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


class FetchOutcome(enum.StrEnum):
    """What one poll of a carrier got us, independent of where the parcel is."""

    OK = "ok"
    NOT_FOUND = "not_found"
    INVALID_NUMBER = "invalid_number"
    AUTH_ERROR = "auth_error"
    RATE_LIMITED = "rate_limited"
    CARRIER_ERROR = "carrier_error"


class PackageStatus(enum.StrEnum):
    """Where the parcel is, in the shop's words. ``stalled`` is derived elsewhere from event age."""

    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERY_ATTEMPTED = "delivery_attempted"
    DELAYED = "delayed"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


TERMINAL_STATUSES = frozenset({PackageStatus.DELIVERED, PackageStatus.CANCELLED})

# Statuses that carry an exception reason; the rules alert on all but ``delayed``, which is a warning.
PROBLEM_STATUSES = frozenset({
    PackageStatus.DELIVERY_ATTEMPTED,
    PackageStatus.DELAYED,
    PackageStatus.EXCEPTION,
    PackageStatus.RETURNED_TO_SENDER,
})

# A record that exists before the carrier has touched the parcel; it is not a scan.
NOT_PHYSICAL = frozenset({PackageStatus.LABEL_CREATED, PackageStatus.CANCELLED, PackageStatus.UNKNOWN})

# First match wins, so the more specific reasons come first ("refused" before "address": a refusal at
# the right address is still a refusal). Keywords are lower-case substrings of the carrier's text.
EXCEPTION_REASON_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("refused", ("refus",)),
    ("damaged", ("damage",)),
    ("lost", ("lost", "cannot be located", "unable to locate")),
    ("address", ("address", "no such number", "no such street")),
    ("customs", ("customs", "clearance")),
    ("weather", ("weather", "natural disaster")),
    ("recipient_unavailable", ("not available", "not home", "business closed", "no one available")),
)


@dataclass(frozen=True)
class TrackingEvent:
    """One carrier scan: when (aware UTC), what it means, and the carrier's own code and words."""

    at: datetime
    status: PackageStatus
    code: str
    description: str
    location: str


@dataclass(frozen=True)
class TrackingResult:
    """Everything one poll learned about one tracking number.

    ``status`` is ``None`` unless ``outcome`` is ``ok``. ``events`` are newest first. ``message`` is the
    carrier's own text: its status description when the poll succeeded, its error text otherwise.
    ``raw_status_code`` is the carrier's status code for the parcel, or for a failed poll the carrier's
    error code (``TW0001``, ``TRACKING.TRACKINGNUMBER.NOTFOUND``), or the HTTP status when it gave none.
    ``retry_after`` (seconds) is set on ``rate_limited`` when the carrier said how long to wait.
    """

    tracking_number: str
    outcome: FetchOutcome
    status: PackageStatus | None = None
    events: tuple[TrackingEvent, ...] = ()
    estimated_delivery: datetime | None = None
    delivered_at: datetime | None = None
    exception_reason: str | None = None
    message: str = ""
    raw_status_code: str = ""
    retry_after: float | None = None

    @property
    def latest_event_at(self) -> datetime | None:
        return self.events[0].at if self.events else None

    @property
    def is_terminal(self) -> bool:
        """True when polling this number again can no longer change the story."""
        return self.status is not None and is_terminal(self.status, self.events)


def is_terminal(status: PackageStatus, events: Sequence[TrackingEvent] = ()) -> bool:
    """``delivered`` and ``cancelled`` always; ``returned_to_sender`` once the return itself is delivered."""
    if status in TERMINAL_STATUSES:
        return True
    return status is PackageStatus.RETURNED_TO_SENDER and return_completed(events)


def return_completed(events: Iterable[TrackingEvent]) -> bool:
    """True when a delivered scan follows the first return scan: the parcel is back with the sender."""
    scans = list(events)
    returns = [event.at for event in scans if event.status is PackageStatus.RETURNED_TO_SENDER]
    if not returns:
        return False
    first_return = min(returns)
    return any(event.status is PackageStatus.DELIVERED and event.at >= first_return for event in scans)


def newest_first(events: Iterable[TrackingEvent]) -> tuple[TrackingEvent, ...]:
    """Events sorted newest first; the carrier's own order is kept between events with the same time."""
    return tuple(sorted(events, key=lambda event: event.at, reverse=True))


def summarize(events: Iterable[TrackingEvent], current: PackageStatus | None = None) -> PackageStatus:
    """The parcel's status from its events and, when the carrier gives one, its own current status.

    Priority, first match wins:

    1. ``returned_to_sender`` anywhere: a later "delivered" is the return reaching the sender.
    2. ``delivered`` anywhere: later scans are noise and never move a delivered parcel back.
    3. otherwise the newest known signal (the carrier's current status, then events newest first),
       skipping ``unknown`` and skipping ``label_created`` once any physical scan exists, because a
       stale label record must not pull a moving parcel back to "not shipped".
    """
    ordered = newest_first(events)
    signals = ([current] if current is not None else []) + [event.status for event in ordered]
    if PackageStatus.RETURNED_TO_SENDER in signals:
        return PackageStatus.RETURNED_TO_SENDER
    if PackageStatus.DELIVERED in signals:
        return PackageStatus.DELIVERED
    physical = any(status not in NOT_PHYSICAL for status in signals)
    for status in signals:
        if status is PackageStatus.UNKNOWN:
            continue
        if status is PackageStatus.LABEL_CREATED and physical:
            continue
        return status
    return PackageStatus.UNKNOWN


def reason_from_text(*texts: str) -> str | None:
    """A short normalized reason (``refused``, ``damaged``, ``lost``, ``address``, ...) found in carrier text.

    >>> reason_from_text("Delivery exception", "Customer refused delivery")
    'refused'
    """
    words = " ".join(texts).lower()
    for reason, keywords in EXCEPTION_REASON_KEYWORDS:
        if any(keyword in words for keyword in keywords):
            return reason
    return None
