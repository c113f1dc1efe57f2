"""Rate budgets and OAuth tokens kept in the database, so they hold across cron runs and hosts.

A budget is a token bucket per carrier. With ``quota`` calls per ``window`` it holds at most
``burst * quota`` and refills ``(1 - burst) * quota`` per window, so no window of that length ever sees
more than ``quota`` calls, and a run every few minutes still gets its share. Budgets run on business time
(the injected clock), so a simulation that steps through days refills them as days pass.

Tokens are cached until shortly before they expire, on the machine's real clock (the carrier checks them
against real time), so every run and host shares one token instead of burning quota on new ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from orderflow.carriers.http import Token
from orderflow.db.models import CarrierToken, RateBudget
from orderflow.db.rows import locked_row

BURST = 0.2


@dataclass(frozen=True)
class Quota:
    calls: float
    window: timedelta

    @property
    def capacity(self) -> float:
        return max(1.0, self.calls * BURST)

    @property
    def refill_per_second(self) -> float:
        return self.calls * (1 - BURST) / self.window.total_seconds()


def take(session: Session, key: str, quota: Quota | None, wanted: int, now: datetime) -> int:
    """Take up to ``wanted`` calls from the budget; returns how many may be made now (all, without a quota)."""
    if quota is None or wanted <= 0:
        return max(wanted, 0)
    bucket = locked_row(session, RateBudget, RateBudget.key, key, tokens=quota.capacity, capacity=quota.capacity,
                        refill_per_second=quota.refill_per_second, updated_at=now)
    elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
    available = min(quota.capacity, bucket.tokens + elapsed * quota.refill_per_second)
    granted = min(wanted, math.floor(available))
    bucket.tokens, bucket.capacity, bucket.refill_per_second = available - granted, quota.capacity, \
        quota.refill_per_second
    bucket.updated_at = now
    return granted


def give_back(session: Session, key: str, unused: int) -> None:
    """Calls taken but not made (a run that stopped early) go back into the bucket."""
    if unused <= 0:
        return
    bucket = session.scalar(select(RateBudget).where(RateBudget.key == key).with_for_update())
    if bucket is not None:
        bucket.tokens = min(bucket.capacity, bucket.tokens + unused)


def cached_token(session: Session, carrier: str) -> Token | None:
    row = session.get(CarrierToken, carrier)
    if row is None:
        return None
    token = Token(access_token=row.access_token, expires_at=row.expires_at)
    return token if token.usable_at(datetime.now(UTC)) else None


def keep_token(session: Session, carrier: str, token: Token) -> None:
    row = locked_row(session, CarrierToken, CarrierToken.carrier, carrier, access_token=token.access_token,
                     expires_at=token.expires_at, updated_at=datetime.now(UTC))
    row.access_token, row.expires_at, row.updated_at = token.access_token, token.expires_at, datetime.now(UTC)
