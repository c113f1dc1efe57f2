"""USPS Tracking API v3: pure request builders and reply parsers (the USPS client does the IO).

::

    token = parse_token_response(status, body, now=clock.now())      # refuses a token without "tracking"
    request = build_track_request("9400109104250532908587", token=token.access_token)
    [result] = parse_track_response(status, body, requested=["9400109104250532908587"], headers=reply_headers)

The token request is a form (the OAuth 2 standard, and what working open-source clients send) with
``scope=tracking``: a token without that scope gets 401 "client application identifier is invalid" on
every call, so it is refused up front. Not found is HTTP 404 (or 400 about the number), and is normal for
a while after a third-party label is made. Event codes follow Pub 199; ``statusCategory`` is the fallback
when the newest event code is not mapped. Event times use ``GMTTimestamp`` first, else the local ``eventTimestamp`` with
``GMTOffset``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from orderflow.carriers.connector import Connector
from orderflow.carriers.http import (
    JSON_CONTENT,
    Request,
    Token,
    error_detail,
    failed,
    form_token_request,
    found,
    join_place,
    parse_estimate,
    read_token_reply,
    read_track_reply,
)
from orderflow.carriers.status import (
    FetchOutcome,
    PackageStatus,
    TrackingEvent,
    TrackingResult,
    newest_first,
)
from orderflow.errors import RemoteRejected
from orderflow.parsing.json_shapes import as_object, objects_at, text_at
from orderflow.parsing.times import parse_offset, parse_time

OAUTH_PATH = "/oauth2/v3/token"
TRACK_PATH = "/tracking/v3/tracking/{number}"
TRACKING_SCOPE = "tracking"

_CODES_BY_STATUS = {
    PackageStatus.LABEL_CREATED: ("GX", "MA"),
    PackageStatus.IN_TRANSIT: ("03", "10", "A1", "T1", "TL", "SF", "EF", "PC", "07", "06", "19", "41", "42",
                               "80", "81", "82", "TM", "PA"),
    PackageStatus.OUT_FOR_DELIVERY: ("OF",),
    PackageStatus.AVAILABLE_FOR_PICKUP: ("14", "16"),
    PackageStatus.DELIVERED: ("01", "17", "43"),
    PackageStatus.DELIVERY_ATTEMPTED: ("02", "30", "51", "52", "53", "54", "55", "56"),
    PackageStatus.DELAYED: ("71", "08", "15"),
    PackageStatus.EXCEPTION: ("04", "05", "11", "44"),
    PackageStatus.RETURNED_TO_SENDER: ("09", "21", "22", "23", "24", "25", "26", "27", "28", "29", "31"),
}
STATUS_BY_CODE = {code: status for status, codes in _CODES_BY_STATUS.items() for code in codes}
# Only Delivered and Accepted are confirmed in captured replies; the other categories are unverified.
STATUS_BY_CATEGORY = {
    "delivered": PackageStatus.DELIVERED,
    "accepted": PackageStatus.IN_TRANSIT,
    "in transit": PackageStatus.IN_TRANSIT,
    "out for delivery": PackageStatus.OUT_FOR_DELIVERY,
    "available for pickup": PackageStatus.AVAILABLE_FOR_PICKUP,
    "delivery attempt": PackageStatus.DELIVERY_ATTEMPTED,
    "alert": PackageStatus.EXCEPTION,
    "pre-shipment": PackageStatus.LABEL_CREATED,
    "return to sender": PackageStatus.RETURNED_TO_SENDER,
}
REASON_BY_CODE = {"04": "refused", "05": "address"}  # refused; undeliverable as addressed


def build_token_request(client_id: str, client_secret: str, *, scope: str = TRACKING_SCOPE) -> Request:
    """``POST /oauth2/v3/token``: client credentials and the ``tracking`` scope in a form body."""
    return form_token_request(OAUTH_PATH, {"grant_type": "client_credentials", "client_id": client_id,
                                           "client_secret": client_secret, "scope": scope})


def parse_token_response(status_code: int, body: bytes, *, now: datetime,
                         headers: Mapping[str, str] | None = None) -> Token:
    """The token, or :class:`RemoteRejected` when its ``scope`` lacks ``tracking``."""
    token = read_token_reply(status_code, body, carrier="USPS", now=now, headers=headers)
    if TRACKING_SCOPE not in re.split(r"[\s,]+", token.scope):
        raise RemoteRejected(f"USPS token has no {TRACKING_SCOPE!r} scope (scope: {token.scope or 'none'}); "
                             "enable the Tracking API for this app")
    return token


def build_track_request(number: str, *, token: str, destination_zip: str = "",
                        mailing_date: date | None = None) -> Request:
    """``GET /tracking/v3/tracking/{number}?expand=DETAIL``, optionally narrowed by ZIP and mailing date."""
    params = {"expand": "DETAIL"}
    if destination_zip:
        params["destinationZIPCode"] = destination_zip
    if mailing_date is not None:
        params["mailingDate"] = mailing_date.isoformat()
    return Request("GET", TRACK_PATH.format(number=quote(number, safe="")), params=params,
                   headers={"Authorization": f"Bearer {token}", "Accept": JSON_CONTENT})


def parse_track_response(status_code: int, body: bytes, *, requested: Sequence[str],
                         headers: Mapping[str, str], now: datetime | None = None) -> list[TrackingResult]:
    """One result per requested number (USPS: one). Never raises; see :func:`read_track_reply`."""
    return read_track_reply(status_code, body, requested=requested, headers=headers, now=now,
                            read_body=_read_body)


def status_of(event_code: str) -> PackageStatus:
    return STATUS_BY_CODE.get(event_code.upper(), PackageStatus.UNKNOWN)


def _read_body(status_code: int, document: Any, numbers: list[str]) -> list[TrackingResult]:
    reply = as_object(document, "reply")
    if status_code != 200 or reply.get("error"):
        code, message = error_detail(reply)
        outcome = FetchOutcome.NOT_FOUND if _not_found(status_code, message) else FetchOutcome.CARRIER_ERROR
        return failed(numbers, outcome, message or f"HTTP {status_code}", code=code or str(status_code))
    return [_read_tracking(numbers[0], reply)]


def _not_found(status_code: int, message: str) -> bool:
    """404, or a 400 whose message is about the number itself: USPS answers an unknown or malformed number
    with 400 "invalid tracking number"; any other 400 is our request's fault and stays a carrier error."""
    return status_code == 404 or (status_code == 400 and "tracking number" in message.lower())


def _read_tracking(number: str, reply: Mapping[str, Any]) -> TrackingResult:
    where = "reply"
    events = newest_first(_read_event(event) for event in objects_at(reply, "trackingEvents", where))
    category = text_at(reply, "statusCategory", where)
    newest = events[0] if events else None
    if newest is not None and newest.status is not PackageStatus.UNKNOWN:
        current: PackageStatus | None = newest.status
    else:
        current = STATUS_BY_CATEGORY.get(category.lower())
    return found(
        number, events=events, current=current,
        raw_status_code=newest.code if newest is not None else category,
        message=text_at(reply, "statusSummary", where) or text_at(reply, "status", where),
        estimated_delivery=_estimated_delivery(reply),
        reason=_reason(events, current),
        reason_texts=[text_at(reply, "status", where)])


def _reason(events: Sequence[TrackingEvent], current: PackageStatus | None) -> str | None:
    """The reason code of the newest event; for a return, of the refusal or bad address that caused it.

    An older problem does not explain a newer one: an address fixed last week is not why today's delivery
    attempt failed.
    """
    if events and events[0].code in REASON_BY_CODE:
        return REASON_BY_CODE[events[0].code]
    if current is PackageStatus.RETURNED_TO_SENDER:
        return next((REASON_BY_CODE[event.code] for event in events if event.code in REASON_BY_CODE), None)
    return None


def _read_event(event: Mapping[str, Any]) -> TrackingEvent:
    where = "trackingEvent"
    code = text_at(event, "eventCode", where)
    utc = text_at(event, "GMTTimestamp", where)
    offset = text_at(event, "GMTOffset", where)
    at = parse_time(utc) if utc else parse_time(text_at(event, "eventTimestamp", where),
                                                 naive=parse_offset(offset) if offset else UTC)
    return TrackingEvent(
        at=at, status=status_of(code), code=code, description=text_at(event, "eventType", where),
        location=join_place(*(text_at(event, key, where)
                              for key in ("eventCity", "eventState", "eventZIP", "eventCountry"))))


def _estimated_delivery(reply: Mapping[str, Any]) -> datetime | None:
    for key in ("expectedDeliveryTimeStamp", "predictedDeliveryDate"):
        text = text_at(reply, key, "reply")
        if text:
            return parse_estimate(text)
    return None


CONNECTOR = Connector(
    token_request=lambda credentials: build_token_request(credentials.client_id, credentials.client_secret),
    parse_token=parse_token_response,
    track_request=lambda numbers, _credentials, token, _transaction: build_track_request(numbers[0], token=token),
    parse_track=parse_track_response)
"""One number per call, with a token."""
