"""What a carrier's connector module provides: how to get a token, how to ask about numbers, how to read answers.

Each connector (``ups.py``, ``fedex.py``, ...) ends with one ``CONNECTOR``; its carrier's record in
:mod:`orderflow.carriers.catalogue` names the module. Everything here is pure: requests are descriptions
(:class:`~orderflow.carriers.http.Request`) and answers are bytes; the poller does the IO.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from orderflow.carriers.http import Request, Token
from orderflow.carriers.status import TrackingResult


@dataclass(frozen=True)
class Credentials:
    client_id: str = ""
    client_secret: str = ""
    api_key: str = ""


TrackRequest = Callable[[Sequence[str], Credentials, str, str], Request]
"""(numbers, credentials, token, transaction id) -> the request asking about those numbers."""


@dataclass(frozen=True, kw_only=True)
class Connector:
    """A carrier's API in four pure functions. ``token_request`` and ``parse_token`` are None for a carrier that
    takes a key with every call instead of a token."""

    track_request: TrackRequest
    parse_track: Callable[..., list[TrackingResult]]
    token_request: Callable[[Credentials], Request] | None = None
    parse_token: Callable[..., Token] | None = None

    def read_track(self, status_code: int, body: bytes, *, requested: Sequence[str], headers: Mapping[str, str],
                   now: datetime) -> list[TrackingResult]:
        return self.parse_track(status_code, body, requested=list(requested), headers=headers, now=now)
