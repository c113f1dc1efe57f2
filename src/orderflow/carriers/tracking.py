"""What a carrier's answer does to a parcel: events stored once, status forward only, the next check planned.

- Events are unique per (shipment, time, code): re-polling adds nothing.
- A terminal parcel (delivered, cancelled, a completed return) never moves back on a stale answer.
- ``first_scan_at`` is the first event that is a physical scan (beyond ``label_created``): the evidence the
  rules use to tell a late vendor from late tracking.
- The next check follows what the parcel is doing (out for delivery: soon; label created: later; delivered:
  never); after ``expire_after_days`` without news the parcel is no longer followed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from orderflow.carriers.status import FetchOutcome, PackageStatus, TrackingEvent, TrackingResult, is_terminal, summarize
from orderflow.config import TrackingSettings
from orderflow.db.bulk import table_of
from orderflow.db.models import Shipment
from orderflow.db.models import TrackingEvent as StoredEvent

CARRIER_FAILURES = {FetchOutcome.AUTH_ERROR, FetchOutcome.RATE_LIMITED, FetchOutcome.CARRIER_ERROR}
NOT_A_SCAN = {PackageStatus.LABEL_CREATED, PackageStatus.UNKNOWN, PackageStatus.CANCELLED}
SHIPMENTS = table_of(Shipment).c
EVENTS = table_of(StoredEvent).c


@dataclass
class Parcel:
    """The columns of a shipment an answer reads and changes, as a plain row: a batch of answers is stored with
    one select, one update and one insert, a fraction of what loading and flushing as many ORM objects costs."""

    id: int
    vendor_order_id: str
    carrier: str | None
    reported_at: datetime
    status: str
    first_scan_at: datetime | None
    last_event_at: datetime | None
    estimated_delivery: datetime | None
    delivered_at: datetime | None
    exception_reason: str | None
    last_checked_at: datetime | None
    last_outcome: str | None
    invalid_polls: int
    first_invalid_at: datetime | None
    next_check_at: datetime | None
    tracking_expired_at: datetime | None
    updated_at: datetime


PARCEL_COLUMNS = tuple(field.name for field in fields(Parcel))
WRITTEN = tuple(name for name in PARCEL_COLUMNS if name not in ("id", "vendor_order_id", "reported_at"))
"""The columns :func:`apply_result` may change."""


def load_parcels(session: Session, shipment_ids: list[int]) -> dict[int, Parcel]:
    """The shipments of a batch as :class:`Parcel` rows, by id, in one query."""
    query = select(*(SHIPMENTS[name] for name in PARCEL_COLUMNS)).where(SHIPMENTS.id.in_(shipment_ids)) \
        .with_for_update()  # no other run changes them between this read and the write back
    return {row[0]: Parcel(*row) for row in session.execute(query)}


def save_parcels(session: Session, parcels: list[Parcel]) -> None:
    """Write back what :func:`apply_result` changed, one statement for the batch."""
    if parcels:
        session.execute(update(table_of(Shipment)).where(SHIPMENTS.id == bindparam("parcel_id"))
                        .values({name: bindparam(f"new_{name}") for name in WRITTEN}),
                        [{"parcel_id": parcel.id, **{f"new_{name}": getattr(parcel, name) for name in WRITTEN}}
                         for parcel in parcels])


def store_events(session: Session, new: dict[int, list[TrackingEvent]], *, now: datetime) -> None:
    """Insert each shipment's new events (from :func:`apply_result`), one statement for the batch."""
    rows: list[dict[str, Any]] = [
        {"shipment_id": shipment_id, "occurred_at": event.at, "status": event.status, "code": event.code,
         "description": event.description, "location": event.location, "recorded_at": now}
        for shipment_id, events in new.items() for event in events]
    if rows:
        session.execute(insert(table_of(StoredEvent)), rows)


def known_events(session: Session, shipment_ids: list[int]) -> dict[int, list[TrackingEvent]]:
    """The stored events of many shipments in one query, for applying a batch of answers."""
    known: dict[int, list[TrackingEvent]] = {shipment_id: [] for shipment_id in shipment_ids}
    query = select(EVENTS.shipment_id, EVENTS.occurred_at, EVENTS.status, EVENTS.code, EVENTS.description,
                   EVENTS.location).where(EVENTS.shipment_id.in_(shipment_ids))
    for shipment_id, at, status, code, description, location in session.execute(query):
        known[shipment_id].append(TrackingEvent(at=at, status=PackageStatus(status), code=code,
                                                description=description, location=location))
    return known


def apply_result(shipment: Parcel, result: TrackingResult, *, carrier: str | None, now: datetime,
                 policy: TrackingSettings, stored: list[TrackingEvent]) -> list[TrackingEvent]:
    """Apply one poll's answer to ``shipment``; returns the new events, for :func:`store_events`.

    ``stored`` are the shipment's events already in the database (from :func:`known_events`, for a batch).
    """
    shipment.last_checked_at = now
    shipment.last_outcome = result.outcome
    shipment.updated_at = now
    if result.outcome in CARRIER_FAILURES:
        shipment.next_check_at = now + timedelta(minutes=policy.carrier_failure_minutes)
        return []
    if carrier and shipment.carrier is None and result.outcome is FetchOutcome.OK:
        shipment.carrier = carrier
    if result.outcome is FetchOutcome.INVALID_NUMBER:
        shipment.invalid_polls += 1
        shipment.first_invalid_at = shipment.first_invalid_at or now
        shipment.next_check_at = now + timedelta(hours=policy.not_found_later_hours)
        return []
    if result.outcome is FetchOutcome.NOT_FOUND:
        waited = now - shipment.reported_at
        hours = policy.not_found_later_hours if waited > timedelta(hours=policy.not_found_later_after_hours) \
            else policy.not_found_hours
        shipment.next_check_at = _or_expired(shipment, now, now + timedelta(hours=hours), policy)
        return []
    shipment.invalid_polls = 0
    shipment.first_invalid_at = None
    events = list(stored)
    new = _new_events(events, result.events)
    events += new
    _update_status(shipment, result, events)
    shipment.next_check_at = _next_check(shipment, now, policy)
    return new


def _new_events(known: list[TrackingEvent], answered: tuple[TrackingEvent, ...]) -> list[TrackingEvent]:
    """The answered events not stored yet: an event is (time, raw code), once."""
    seen = {(event.at, event.code) for event in known}
    new = []
    for event in answered:
        if (event.at, event.code) not in seen:
            seen.add((event.at, event.code))
            new.append(event)
    return new


def _update_status(shipment: Parcel, result: TrackingResult, events: list[TrackingEvent]) -> None:
    current = PackageStatus(shipment.status)
    if is_terminal(current, events):
        return
    shipment.status = summarize(events, result.status)
    scans = [event.at for event in events if event.status not in NOT_A_SCAN]
    if scans:
        shipment.first_scan_at = min(scans)
    if events:
        shipment.last_event_at = max(event.at for event in events)
    if result.estimated_delivery is not None:
        shipment.estimated_delivery = result.estimated_delivery
    delivered = [event.at for event in events if event.status is PackageStatus.DELIVERED]
    if shipment.status == PackageStatus.DELIVERED:
        shipment.delivered_at = result.delivered_at or (max(delivered) if delivered else shipment.last_event_at)
    shipment.exception_reason = result.exception_reason if shipment.status in (
        PackageStatus.EXCEPTION, PackageStatus.DELIVERY_ATTEMPTED) else None


def _next_check(shipment: Parcel, now: datetime, policy: TrackingSettings) -> datetime | None:
    status = PackageStatus(shipment.status)
    if status in (PackageStatus.DELIVERED, PackageStatus.CANCELLED):
        return None
    hours = {
        PackageStatus.OUT_FOR_DELIVERY: policy.out_for_delivery_hours,
        PackageStatus.LABEL_CREATED: policy.label_created_hours,
        PackageStatus.EXCEPTION: policy.exception_hours,
        PackageStatus.DELIVERY_ATTEMPTED: policy.exception_hours,
        PackageStatus.AVAILABLE_FOR_PICKUP: policy.pickup_hours,
        PackageStatus.RETURNED_TO_SENDER: policy.pickup_hours,
    }.get(status, policy.in_transit_hours)
    return _or_expired(shipment, now, now + timedelta(hours=hours), policy)


def _or_expired(shipment: Parcel, now: datetime, planned: datetime, policy: TrackingSettings) -> datetime | None:
    """No news for ``expire_after_days``: stop following it (the rules say why it is still open)."""
    last_news = shipment.last_event_at or shipment.reported_at
    if now - last_news > timedelta(days=policy.expire_after_days):
        shipment.tracking_expired_at = now
        return None
    return planned
