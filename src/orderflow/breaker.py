"""Circuit breakers kept in the database, so a failing vendor or carrier is paused across cron runs.

After ``failures_to_open`` failed runs in a row the remote is paused until ``retry_at``; the next run after
that tries it once ("half open"): success closes the breaker, failure pauses it again for twice as long,
up to ``longest_pause``. Times are business time (the injected clock), so tests and the demo step through
pauses without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from orderflow.db.models import CircuitState
from orderflow.db.rows import locked_row


@dataclass(frozen=True)
class BreakerPolicy:
    failures_to_open: int = 3
    first_pause: timedelta = timedelta(minutes=15)
    longest_pause: timedelta = timedelta(hours=2)


def _row(session: Session, key: str, now: datetime) -> CircuitState:
    return locked_row(session, CircuitState, CircuitState.key, key, state="closed", failures=0, updated_at=now)


def paused_until(session: Session, key: str, now: datetime) -> CircuitState | None:
    """The breaker's row when it is open and its pause has not ended; ``None`` when calls may go ahead."""
    state = session.scalar(select(CircuitState).where(CircuitState.key == key))
    if state is not None and state.state == "open" and state.retry_at is not None and state.retry_at > now:
        return state
    return None


def pause_notice(session: Session, key: str, now: datetime, who: str) -> str | None:
    """One line saying ``who`` is paused, until when and why; ``None`` when calls may go ahead."""
    state = paused_until(session, key, now)
    if state is None or state.retry_at is None:
        return None
    return (f"{who} paused until {state.retry_at:%Y-%m-%d %H:%M} UTC after {state.failures} failed runs: "
            f"{state.last_error}")


def record_success(session: Session, key: str, now: datetime) -> None:
    state = _row(session, key, now)
    if state.state != "closed" or state.failures:
        state.state, state.failures, state.retry_at, state.opened_at = "closed", 0, None, None
        state.updated_at = now


def record_failure(session: Session, key: str, now: datetime, error: str,
                   policy: BreakerPolicy = BreakerPolicy()) -> CircuitState:
    """Count one failed run; open (or re-open, longer) the breaker once failures reach the threshold."""
    state = _row(session, key, now)
    state.failures += 1
    state.last_error = error
    state.updated_at = now
    if state.failures >= policy.failures_to_open:
        doublings = state.failures - policy.failures_to_open
        pause = min(policy.first_pause * (2 ** min(doublings, 16)), policy.longest_pause)
        state.state, state.opened_at, state.retry_at = "open", state.opened_at or now, now + pause
    return state
