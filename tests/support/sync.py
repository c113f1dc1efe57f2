"""The instant of the sync tests, and a port nothing listens on."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

NOW = datetime(2026, 11, 3, 19, 30, tzinfo=UTC)


def closed_port() -> int:
    """A local port nothing listens on: a vendor whose SFTP server is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
