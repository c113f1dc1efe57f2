"""What the four carrier connectors share: request and token descriptions, and the careful reading of replies.

Everything here is pure. A connector module builds a :class:`Request` description, the carrier client (the
only code that does IO) sends it, and the connector parses the status code, body and headers it got back::

    >>> request = Request("GET", "/track/shipments", params={"trackingNumber": "00340434292135100179"})
    >>> request.method, request.path
    ('GET', '/track/shipments')

Reading a reply never raises: a body that is not what the carrier documents becomes a ``carrier_error``
result with a message saying what was wrong, so one odd answer never aborts a cron run. Bodies are read with
:mod:`orderflow.parsing.json_shapes` and times with :func:`orderflow.parsing.times.parse_time`. A carrier time
without an offset takes the offset the carrier gives apart (USPS ``GMTOffset``), else it is read as UTC: a
documented choice, since the error is at most a carrier's local offset (hours), which the day-scale lateness
rules tolerate, and it keeps the value deterministic.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from orderflow.carriers.status import (
    PROBLEM_STATUSES,
    FetchOutcome,
    PackageStatus,
    TrackingEvent,
    TrackingResult,
    newest_first,
    reason_from_text,
    summarize,
)
from orderflow.errors import RemoteRejected, RemoteUnavailable
from orderflow.parsing.json_shapes import as_object, loads, text_at
from orderflow.parsing.times import combine_utc, parse_compact_clock, parse_compact_date, parse_offset, parse_time
from orderflow.retries import retry_after_seconds

FORM_CONTENT = "application/x-www-form-urlencoded"
JSON_CONTENT = "application/json"

# Refresh a cached token this long before the carrier's expiry, so a request never leaves with a token
# that dies in flight (and never fetch one per request: that burns the carrier's quota).
TOKEN_REFRESH_MARGIN = timedelta(minutes=5)
LONGEST_TOKEN_LIFETIME = timedelta(days=366)


@dataclass(frozen=True)
class Request:
    """One HTTP request, described: the carrier client joins ``path`` to its configured base URL.

    ``json`` is a JSON body, ``form`` a form-encoded body; at most one is set. Headers and form are left
    out of ``repr`` because they carry credentials.
    """

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    json: Any | None = None
    form: dict[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Token:
    """An OAuth access token and the instant (aware UTC, by our clock) the carrier said it expires."""

    access_token: str = field(repr=False)
    expires_at: datetime
    scope: str = ""

    def usable_at(self, now: datetime, *, margin: timedelta = TOKEN_REFRESH_MARGIN) -> bool:
        """True while the token has more than ``margin`` left: cache it until then."""
        return now < self.expires_at - margin


def join_place(*parts: str) -> str:
    """``"HERNANDO, FL, 34442"`` from its non-empty parts."""
    return ", ".join(part for part in parts if part)


def _json_of(body: bytes) -> tuple[object, str]:
    """The reply's JSON document, or ``None`` and why the body is not JSON."""
    try:
        return loads(body), ""
    except ValueError as exc:  # bytes that are not UTF-8 and nesting too deep included
        return None, f"the reply is not JSON ({exc})"


# --- Times -------------------------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?([zZ]|[+-]\d{1,2}:?\d{2})?")


def parse_compact(date: str, time: str = "", *, offset: str = "") -> datetime:
    """UPS-style ``YYYYMMDD`` and ``HHMMSS`` (or ``H:MM:SS``, or unpadded ``74700``) as aware UTC.

    >>> parse_compact("20210210", "071356", offset="-05:00").isoformat()
    '2021-02-10T12:13:56+00:00'
    """
    clock = parse_compact_clock(time.replace(":", "").strip().zfill(6))
    return combine_utc(parse_compact_date(date), clock, parse_offset(offset) if offset else UTC)


def parse_estimate(text: str) -> datetime:
    """An estimated delivery as aware UTC.

    A bare date, or a midnight (FedEx writes a promised day as midnight, with or without its offset; DHL as
    midnight UTC), means the end of that day where the offset says: a parcel is not late before its
    promised day is over.

    >>> parse_estimate("2024-04-26T00:00:00").isoformat()
    '2024-04-26T23:59:59+00:00'
    >>> parse_estimate("2024-04-26T00:00:00-06:00").isoformat()
    '2024-04-27T05:59:59+00:00'
    """
    stripped = text.strip()
    day = _DATE_ONLY.fullmatch(stripped)
    return parse_time(f"{day.group(1)}T23:59:59{day.group(2) or ''}" if day else stripped)


# --- Headers ------------------------------------------------------------------------------------------------

def seconds_until_utc_midnight(now: datetime) -> float:
    """Daily quotas (FedEx, DHL) reset at 00:00 GMT."""
    tomorrow = (now.astimezone(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (tomorrow - now).total_seconds()


# --- Error bodies -------------------------------------------------------------------------------------------

def error_detail(document: object) -> tuple[str, str]:
    """``(code, message)`` from any of the carriers' documented error shapes; ``("", "")`` if none fits.

    UPS ``{"response":{"errors":[...]}}``, FedEx ``{"errors":[...]}``, USPS ``{"error":{"code","message"}}``,
    OAuth ``{"error":"invalid_client","error_description":...}`` and DHL problem+json ``{status,title,detail}``.
    Best effort and never raises: it only decorates an outcome the HTTP status already decided.
    """
    if not isinstance(document, dict):
        return "", ""
    response = document.get("response")
    errors = response.get("errors") if isinstance(response, dict) else document.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return _plain(errors[0].get("code")), _plain(errors[0].get("message"))
    error = document.get("error")
    if isinstance(error, dict):
        return _plain(error.get("code")), _plain(error.get("message"))
    if isinstance(error, str):
        return error, _plain(document.get("error_description"))
    if "detail" in document or "title" in document:
        return _plain(document.get("status")), _plain(document.get("detail")) or _plain(document.get("title"))
    return "", ""


def _plain(value: object) -> str:
    return str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""


# --- OAuth --------------------------------------------------------------------------------------------------

def basic_authorization(client_id: str, client_secret: str) -> str:
    """The ``Authorization`` header value for HTTP Basic client credentials."""
    pair = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def form_token_request(path: str, form: dict[str, str], *, headers: Mapping[str, str] | None = None) -> Request:
    """A client-credentials token request with a form body."""
    return Request("POST", path, headers={"Content-Type": FORM_CONTENT, "Accept": JSON_CONTENT, **(headers or {})},
                   form=form)


def read_token_reply(status_code: int, body: bytes, *, carrier: str, now: datetime,
                     headers: Mapping[str, str] | None = None) -> Token:
    """A :class:`Token` from an OAuth reply, or :class:`RemoteRejected` / :class:`RemoteUnavailable`.

    A refused token request fails the whole poll for that carrier, so it raises instead of returning
    per-number results. Messages quote the carrier's error text only, never the body (it holds the token).
    """
    document, _problem = _json_of(body)
    if not 200 <= status_code < 300:
        code, text = error_detail(document)
        message = f"{carrier} token request failed (HTTP {status_code}): {text or code or 'no message'}"
        if status_code == 429 or status_code >= 500:
            raise RemoteUnavailable(message, retry_after=retry_after_seconds(headers or {}, now=now))
        raise RemoteRejected(message)
    try:
        reply = as_object(document, "token reply")
        access_token = text_at(reply, "access_token", "token reply")
        lifetime = float(text_at(reply, "expires_in", "token reply"))
        scope = text_at(reply, "scope", "token reply")
    except ValueError as exc:  # a ShapeError included: float() of "" or junk lands here too
        raise RemoteUnavailable(f"{carrier} token reply unreadable: {exc}") from exc
    # NaN, infinity and 1e300 parse as floats but are no lifetime (and would overflow the expiry time).
    if not access_token or not 0 < lifetime <= LONGEST_TOKEN_LIFETIME.total_seconds():
        raise RemoteUnavailable(f"{carrier} token reply has no usable access_token / expires_in")
    return Token(access_token=access_token, expires_at=now + timedelta(seconds=lifetime), scope=scope)


# --- Results ------------------------------------------------------------------------------------------------

ReadBody = Callable[[int, Any, list[str]], list[TrackingResult]]


def failed(numbers: Iterable[str], outcome: FetchOutcome, message: str, *, code: str = "",
           retry_after: float | None = None) -> list[TrackingResult]:
    """The same failed outcome for every number of one request."""
    return [TrackingResult(tracking_number=number, outcome=outcome, message=message, raw_status_code=code,
                           retry_after=retry_after) for number in numbers]


def found(number: str, *, events: Iterable[TrackingEvent], current: PackageStatus | None,
          raw_status_code: str, message: str, estimated_delivery: datetime | None = None,
          delivered_at: datetime | None = None, reason: str | None = None,
          reason_texts: Sequence[str] = ()) -> TrackingResult:
    """An ``ok`` result: status by :func:`summarize`, and the reason for a problem status.

    ``reason`` is a carrier-code based reason that wins over text; otherwise the reason is read from
    ``reason_texts`` and from the newest event that carries the summarized status. ``delivered_at`` is
    the first delivered scan, else the given value, and only for a delivered parcel.
    """
    ordered = newest_first(events)
    status = summarize(ordered, current)
    exception_reason = None
    if status in PROBLEM_STATUSES:
        matching = [event.description for event in ordered if event.status is status][:1]
        exception_reason = reason or reason_from_text(*reason_texts, *matching)
    if status is PackageStatus.DELIVERED:
        # The first delivered scan is the delivery (later ones repeat it); the carrier's own delivery
        # field is the fallback for replies without scans.
        first_scan = min((e.at for e in ordered if e.status is PackageStatus.DELIVERED), default=None)
        delivered_at = first_scan or delivered_at
    return TrackingResult(
        tracking_number=number, outcome=FetchOutcome.OK, status=status, events=ordered,
        estimated_delivery=estimated_delivery,
        delivered_at=delivered_at if status is PackageStatus.DELIVERED else None,
        exception_reason=exception_reason, message=message, raw_status_code=raw_status_code)


def latest_of(candidates: Sequence[TrackingResult]) -> TrackingResult:
    """Of several results for one (reused) number, the ``ok`` one with the newest event."""
    usable = [result for result in candidates if result.outcome is FetchOutcome.OK] or list(candidates)
    floor = datetime.min.replace(tzinfo=UTC)
    return max(usable, key=lambda result: result.latest_event_at or floor)


def _same_number(number: str) -> str:
    return number.replace(" ", "").upper()


def aligned(results: Iterable[TrackingResult], requested: Sequence[str]) -> list[TrackingResult]:
    """One result per requested number, in request order, spelled as requested; gaps become errors."""
    by_number: dict[str, TrackingResult] = {}
    for result in results:
        by_number.setdefault(_same_number(result.tracking_number), result)
    answer = []
    for number in requested:
        match = by_number.get(_same_number(number))
        if match is None:
            answer += failed([number], FetchOutcome.CARRIER_ERROR, "the reply has no result for this number")
        else:
            answer.append(replace(match, tracking_number=number))
    return answer


def read_track_reply(status_code: int, body: bytes, *, requested: Sequence[str], headers: Mapping[str, str],
                     now: datetime | None, read_body: ReadBody) -> list[TrackingResult]:
    """The frame every carrier's ``parse_track_response`` shares.

    HTTP 401/403, 429 and 5xx decide the outcome for every number; any other status goes to the carrier's
    ``read_body(status_code, document, numbers)``. Whatever ``read_body`` trips over becomes a
    ``carrier_error`` naming the problem: the parser's promise is that no exception escapes.
    """
    numbers = list(requested)
    document, problem = _json_of(body)
    code, text = error_detail(document)
    code = code or str(status_code)
    if status_code == 429:
        return failed(numbers, FetchOutcome.RATE_LIMITED, text or "rate limited (HTTP 429)", code=code,
                      retry_after=retry_after_seconds(headers, now=now))
    if status_code in (401, 403):
        return failed(numbers, FetchOutcome.AUTH_ERROR, text or f"HTTP {status_code}", code=code)
    if status_code >= 500:
        return failed(numbers, FetchOutcome.CARRIER_ERROR, text or f"HTTP {status_code}", code=code)
    if problem:
        return failed(numbers, FetchOutcome.CARRIER_ERROR, f"HTTP {status_code}: {problem}", code=code)
    try:
        results = read_body(status_code, document, numbers)
    except (LookupError, TypeError, ValueError, AttributeError) as exc:
        # A ShapeError or a bad time is a ValueError; the others are a net for shapes nobody documented.
        return failed(numbers, FetchOutcome.CARRIER_ERROR, f"HTTP {status_code}: unreadable reply: {exc}",
                      code=str(status_code))
    return aligned(results, numbers)
