"""The one source of "now": real time, or the instant given with ``--now`` / ``ORDERFLOW_NOW``.

Every timestamp orderflow writes and every deadline it checks goes through a :class:`Clock`, so tests and
the demo step through days without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from orderflow.errors import ConfigError


def parse_instant(text: str, *, what: str = "--now") -> datetime:
    """Parse an ISO-8601 instant; a naive value is taken as UTC. ``Z`` is accepted."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{what}: not an ISO-8601 time: {text!r}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Clock:
    """``Clock()`` tells real time; ``Clock(fixed=...)`` always tells that instant (UTC, aware)."""

    fixed: datetime | None = None

    def now(self) -> datetime:
        if self.fixed is not None:
            return self.fixed
        return datetime.now(UTC)
