"""Pings to an outside monitor (healthchecks.io and the like) around ``orderflow sync``.

A monitor that hears nothing in time raises the alarm itself, so even a sync that never starts (cron
stopped, the machine gone) is noticed. The ping URL carries the monitor's secret: it comes from the
environment and is never part of a message. A ping that does not get through is a warning line, never the
run's failure: the monitor notices the missing ping on its own.

>>> ping("https://hc-ping.com/0b1c...", "start")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit, urlunsplit

Signal = Literal["start", "success", "fail"]
SUFFIXES: dict[Signal, str] = {"start": "/start", "success": "", "fail": "/fail"}
"""The healthchecks.io convention: ``<url>/start``, ``<url>`` for success, ``<url>/fail``."""
BODY_LIMIT = 10_000
"""Characters of the body sent (monitors keep the first few kilobytes of a ping's body)."""


def ping_url(url: str, signal: Signal) -> str:
    """``url`` with the signal's suffix on its path, keeping any query string."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + SUFFIXES[signal]))


def ping(url: str, signal: Signal, *, body: str = "", timeout: float = 5.0) -> str | None:
    """POST one ping; returns the warning to show when it did not get through, else ``None``."""
    import httpx

    target = ping_url(url, signal)
    try:
        with httpx.Client(timeout=timeout) as client:
            response = client.post(target, content=body[:BODY_LIMIT].encode())
    except Exception as exc:  # any failure at all: a ping must never fail the run it reports on
        reason = (str(exc) or type(exc).__name__).replace(target, "<health url>").replace(url, "<health url>")
        return f"health ping ({signal}) failed: {reason}"
    if response.is_error:
        return f"health ping ({signal}) failed: HTTP {response.status_code}"
    return None
