"""Claims on vendor orders, so several dispatch processes on several hosts share the work and never send one
vendor order twice.

A claim moves a due vendor order to ``sending`` under a lease (holder + expiry) in one short transaction:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL (other processes skip rows being claimed), ``BEGIN IMMEDIATE`` on
SQLite (claims queue). A ``sending`` order whose lease expired, or whose holder on this host is dead, is
claimed again and marked for reconciliation: its first send may or may not have reached the vendor.

Leases run on the machine's real clock (they are about live processes); retry times (``next_attempt_at``)
on business time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, or_, select, update

from orderflow.db.engine import session_factory
from orderflow.db.locks import holder_identity
from orderflow.db.models import VendorOrder, VendorOrderState

LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    vendor_order_id: str
    reconcile: bool
    """The order was ``sending`` under an earlier claim: the vendor may already have it."""


def new_holder() -> str:
    host, pid = holder_identity()
    return f"{host}:{pid}:{os.urandom(3).hex()}"


def _dead_local_holder(claimed_by: str | None) -> bool:
    if not claimed_by:
        return True
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != holder_identity()[0] or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_due(engine: Engine, *, vendor_code: str, holder: str, now: datetime, limit: int = 50) -> list[Claim]:
    """Claim up to ``limit`` vendor orders of one vendor that are due to be sent."""
    real_now = datetime.now(UTC)
    due = and_(VendorOrder.state == VendorOrderState.PENDING,
               or_(VendorOrder.next_attempt_at.is_(None), VendorOrder.next_attempt_at <= now))
    stale = and_(VendorOrder.state == VendorOrderState.SENDING, VendorOrder.claimed_until < real_now)
    unknown = and_(VendorOrder.state == VendorOrderState.NEEDS_RECONCILE,
                   or_(VendorOrder.next_attempt_at.is_(None), VendorOrder.next_attempt_at <= now))
    with session_factory(engine)() as session, session.begin():
        rows = session.execute(
            select(VendorOrder.id, VendorOrder.state)
            .where(VendorOrder.vendor_code == vendor_code, or_(due, stale, unknown))
            .order_by(VendorOrder.created_at, VendorOrder.id).limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        orphans = [] if len(rows) >= limit else session.execute(
            select(VendorOrder.id, VendorOrder.claimed_by)
            .where(VendorOrder.vendor_code == vendor_code, VendorOrder.state == VendorOrderState.SENDING,
                   VendorOrder.claimed_until >= real_now)
            .with_for_update(skip_locked=True)
        ).all()
        claims = [Claim(row.id, reconcile=row.state != VendorOrderState.PENDING) for row in rows]
        claims += [Claim(row.id, reconcile=True) for row in orphans if _dead_local_holder(row.claimed_by)]
        claims = claims[:limit]
        if claims:
            session.execute(
                update(VendorOrder)
                .where(VendorOrder.id.in_([claim.vendor_order_id for claim in claims]))
                .values(state=VendorOrderState.SENDING, claimed_by=holder, claimed_until=real_now + LEASE,
                        attempts=VendorOrder.attempts + 1, last_attempt_at=now, updated_at=now)
            )
    return claims


def retry_delay(attempts: int) -> timedelta:
    """5 minutes after the first failed attempt, doubling, at most 2 hours."""
    return min(timedelta(minutes=5) * (1 << min(max(attempts - 1, 0), 10)), timedelta(hours=2))
