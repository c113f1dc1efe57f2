"""DHL Shipment Tracking (Unified): pure request builder and reply parser (the DHL client does the IO).

::

    request = build_track_request("00340434292135100179", api_key=key, service="parcel-de")
    [result] = parse_track_response(status, body, requested=["00340434292135100179"], headers=reply_headers)

DHL authenticates with a ``DHL-API-Key`` header (no token, the secret is not used) and tracks one number per
call. Pass ``service`` when it is known: without it DHL can answer with a different shipment that has the
same id; when several shipments come back, the one with the newest event is taken. ``statusCode`` is
coarse (pre-transit, transit, delivered, failure, unknown); refining it from DHL's free text (out for
delivery, pickup) is left out until it can be checked against real replies. An event's raw ``code`` is its
``statusCode``; its description is DHL's ``description``, else ``status``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from orderflow.carriers.connector import Connector
from orderflow.carriers.http import (
    JSON_CONTENT,
    Request,
    error_detail,
    failed,
    found,
    join_place,
    latest_of,
    parse_estimate,
    read_track_reply,
)
from orderflow.carriers.status import FetchOutcome, PackageStatus, TrackingEvent, TrackingResult
from orderflow.parsing.json_shapes import as_object, object_at, objects_at, text_at
from orderflow.parsing.times import parse_time

TRACK_PATH = "/track/shipments"
API_KEY_HEADER = "DHL-API-Key"

STATUS_BY_CODE = {
    "pre-transit": PackageStatus.LABEL_CREATED,
    "transit": PackageStatus.IN_TRANSIT,
    "delivered": PackageStatus.DELIVERED,
    "failure": PackageStatus.EXCEPTION,
    "unknown": PackageStatus.UNKNOWN,
}


def build_track_request(number: str, *, api_key: str, service: str = "", recipient_postal_code: str = "",
                        origin_country_code: str = "", language: str = "") -> Request:
    """``GET /track/shipments?trackingNumber=...`` with the optional qualifiers DHL documents."""
    params = {"trackingNumber": number}
    optional = {"service": service, "recipientPostalCode": recipient_postal_code,
                "originCountryCode": origin_country_code, "language": language}
    params.update({key: value for key, value in optional.items() if value})
    return Request("GET", TRACK_PATH, params=params, headers={API_KEY_HEADER: api_key, "Accept": JSON_CONTENT})


def parse_track_response(status_code: int, body: bytes, *, requested: Sequence[str],
                         headers: Mapping[str, str], now: datetime | None = None) -> list[TrackingResult]:
    """One result per requested number (DHL: one). Never raises; see :func:`read_track_reply`."""
    return read_track_reply(status_code, body, requested=requested, headers=headers, now=now,
                            read_body=_read_body)


def status_of(status_code: str) -> PackageStatus:
    return STATUS_BY_CODE.get(status_code.lower(), PackageStatus.UNKNOWN)


def _read_body(status_code: int, document: Any, numbers: list[str]) -> list[TrackingResult]:
    reply = as_object(document, "reply")
    if status_code != 200:
        code, message = error_detail(reply)
        outcome = FetchOutcome.NOT_FOUND if status_code == 404 else FetchOutcome.CARRIER_ERROR
        return failed(numbers, outcome, message or f"HTTP {status_code}", code=code or str(status_code))
    shipments = objects_at(reply, "shipments", "reply")
    if not shipments:
        return failed(numbers, FetchOutcome.NOT_FOUND, "the reply lists no shipments", code=str(status_code))
    return [latest_of([_read_shipment(numbers[0], shipment) for shipment in shipments])]


def _read_shipment(number: str, shipment: Mapping[str, Any]) -> TrackingResult:
    where = "shipment"
    status = object_at(shipment, "status", where)
    code = text_at(status, "statusCode", "status")
    texts = [text_at(status, key, "status") for key in ("description", "status", "remark")]
    proof = object_at(object_at(shipment, "details", where), "proofOfDelivery", "details")
    delivered = text_at(proof, "timestamp", "proofOfDelivery")
    return found(
        number,
        events=[_read_event(event) for event in objects_at(shipment, "events", where)],
        current=status_of(code) if code else None, raw_status_code=code,
        message=next((text for text in texts if text), ""),
        estimated_delivery=_estimated_delivery(shipment),
        delivered_at=parse_time(delivered) if delivered else None, reason_texts=texts)


def _read_event(event: Mapping[str, Any]) -> TrackingEvent:
    where = "event"
    code = text_at(event, "statusCode", where)
    address = object_at(object_at(event, "location", where), "address", "location")
    return TrackingEvent(
        at=parse_time(text_at(event, "timestamp", where)), status=status_of(code), code=code,
        description=text_at(event, "description", where) or text_at(event, "status", where),
        location=join_place(*(text_at(address, key, "address")
                              for key in ("addressLocality", "postalCode", "countryCode"))))


def _estimated_delivery(shipment: Mapping[str, Any]) -> datetime | None:
    frame = object_at(shipment, "estimatedDeliveryTimeFrame", "shipment")
    # The time frame's end is the promise ("by end of day", 22:00); estimatedTimeOfDelivery is often a bare
    # midnight UTC that would make an on-time parcel look late.
    for text in (text_at(frame, "estimatedThrough", "estimatedDeliveryTimeFrame"),
                 text_at(shipment, "estimatedTimeOfDelivery", "shipment")):
        if text:
            return parse_estimate(text)
    return None


CONNECTOR = Connector(
    track_request=lambda numbers, credentials, _token, _transaction: build_track_request(
        numbers[0], api_key=credentials.api_key),
    parse_track=parse_track_response)
"""One number per call, with the API key (no token)."""
