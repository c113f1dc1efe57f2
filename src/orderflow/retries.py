"""Retrying remote calls inside one run: backoff with jitter, ``Retry-After`` honoured, bounded in time.

A wait longer than :data:`LONGEST_WAIT_IN_RUN` is not slept through: the call fails and a later cron run
tries again, so one slow vendor never holds up a run.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from orderflow.errors import RemoteUnavailable

LONGEST_WAIT_IN_RUN = 30.0


def should_retry(exc: Exception) -> bool | float:
    """stamina's backoff hook: retry transient remote failures, after ``Retry-After`` when the remote gave one."""
    if not isinstance(exc, RemoteUnavailable) or getattr(exc, "final", False):
        return False
    if exc.retry_after is None:
        return True
    return exc.retry_after if exc.retry_after <= LONGEST_WAIT_IN_RUN else False


def attempts(*, tries: int = 3, timeout: float = 60.0) -> Iterator[Any]:
    """``for attempt in attempts(): with attempt: call()`` — the retry loop every remote call uses."""
    import stamina

    return iter(stamina.retry_context(on=should_retry, attempts=tries, timeout=timeout, wait_initial=0.5,
                                      wait_max=10.0))


def header_value(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name ("" when absent), for plain dicts as well as httpx headers."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def retry_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: the delay form always, the HTTP-date form only when ``now`` is known."""
    value = header_value(headers, "Retry-After").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    if now is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
