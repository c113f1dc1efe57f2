"""Which files in a vendor's folder are whole, judged only by what the vendor's server shows.

A server's clock may run hours ahead of ours (or behind), so a file's modification time is never compared
with our clock. A file is whole when the server shows the same size and time on two looks at least
``settle_seconds`` apart (by our clock, between our own looks), or when it is older than the newest file the
server shows (vendors write one file after another). Files dated in our future are reported, so a vendor
whose server clock is off is seen::

    ready, problems = settled_files(session, vendor_code="ACME", listed=transport.list_inbound(), now=now,
                                    settle_seconds=30)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from orderflow.db.models import VendorFileLook
from orderflow.vendors.transports.base import RemoteFile

# Clocks drift by seconds; a file dated further ahead than this says the server's clock is set wrong.
FUTURE_TOLERANCE = timedelta(minutes=5)


def settled_files(session: Session, *, vendor_code: str, listed: Sequence[RemoteFile], now: datetime,
                  settle_seconds: float) -> tuple[list[RemoteFile], list[str]]:
    """The files ready to read, and a problem line when the server dates files in our future.

    ``settle_seconds = 0`` takes every file at once (a folder only ever written by renaming whole files), and
    reports nothing about file times.
    What each waiting file showed is kept for the next look; files gone from the listing are forgotten.
    """
    if settle_seconds <= 0:
        # Nothing is judged by file times then, so a server clock that is off changes nothing to report.
        return list(listed), []
    problems = _future_dated(vendor_code, listed, now)
    looks = {look.name: look for look in session.scalars(
        select(VendorFileLook).where(VendorFileLook.vendor_code == vendor_code))}
    newest = max((_utc(remote.modified_at) for remote in listed), default=None)
    ready = []
    for remote in listed:
        look = looks.pop(remote.name, None)
        unchanged = look is not None and look.size == remote.size and \
            _utc(look.modified_at) == _utc(remote.modified_at)
        if (unchanged and look is not None and look.looked_at <= now - timedelta(seconds=settle_seconds)) or (
                newest is not None and _utc(remote.modified_at) < newest):
            ready.append(remote)
        elif look is None:
            session.add(VendorFileLook(vendor_code=vendor_code, name=remote.name, size=remote.size,
                                       modified_at=remote.modified_at, looked_at=now))
        elif not unchanged:
            look.size, look.modified_at, look.looked_at = remote.size, remote.modified_at, now
    if looks:
        session.execute(delete(VendorFileLook).where(VendorFileLook.vendor_code == vendor_code,
                                                     VendorFileLook.name.in_(list(looks))))
    return ready, problems


def _future_dated(vendor_code: str, listed: Sequence[RemoteFile], now: datetime) -> list[str]:
    ahead = [remote for remote in listed if _utc(remote.modified_at) > now + FUTURE_TOLERANCE]
    if not ahead:
        return []
    furthest = max(ahead, key=lambda remote: remote.modified_at)
    hours = (_utc(furthest.modified_at) - now).total_seconds() / 3600
    return [f"vendor {vendor_code}: {len(ahead)} file(s) dated in our future, up to {hours:.1f} h ahead "
            f"({furthest.name!r}): the vendor's server clock is off; files are judged by the server's own "
            "times, so they are still taken"]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
