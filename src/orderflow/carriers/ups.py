"""UPS Track API v1: pure request builders and reply parsers (the UPS client does the IO).

::

    token_request = build_token_request("client-id", "secret")
    token = parse_token_response(200, reply_body, now=clock.now())
    request = build_track_request("1Z023E2X0214323462", token=token.access_token, transaction_id=str(uuid4()))
    [result] = parse_track_response(status, body, requested=["1Z023E2X0214323462"], headers=reply_headers)

UPS tracks one number per call. Its quirks, from its issue tracker: "not found" arrives as HTTP 200 with
warning ``TW0001`` and no package; ``TV1002`` (invalid number) is sometimes intermittent, so the poller
should retry before believing it. UPS publishes no list of status types; the mapping follows the rules in
the carrier reference. An event's raw ``code`` is ``type:code:statusCode`` (``I:OT:005``) so nothing UPS
said is lost. Times come from ``gmtDate``/``gmtTime`` when present, else local ``date``/``time`` with
``gmtOffset``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from orderflow.carriers.connector import Connector
from orderflow.carriers.http import (
    JSON_CONTENT,
    Request,
    Token,
    basic_authorization,
    error_detail,
    failed,
    form_token_request,
    found,
    join_place,
    parse_compact,
    read_token_reply,
    read_track_reply,
)
from orderflow.carriers.status import FetchOutcome, PackageStatus, TrackingEvent, TrackingResult
from orderflow.parsing.json_shapes import ShapeError, as_object, list_at, object_at, objects_at, text_at

OAUTH_PATH = "/security/v1/oauth/token"
TRACK_PATH = "/api/track/v1/details/{number}"
TRACK_PARAMS = {"locale": "en_US", "returnSignature": "false", "returnMilestones": "false", "returnPOD": "false"}

OUT_FOR_DELIVERY_CODES = frozenset({"OT", "OD", "OF"})
PICKUP_STATUS_CODES = frozenset({"017", "040"})  # held for customer pickup; delivered to an Access Point
PICKUP_CODES = frozenset({"ZP"})
DELAY_STATUS_CODES = frozenset({"048"})
RETURN_CODES = frozenset({"RS", "RT"})
STATUS_BY_TYPE = {
    "D": PackageStatus.DELIVERED,
    "X": PackageStatus.EXCEPTION,
    "I": PackageStatus.IN_TRANSIT,
    "P": PackageStatus.IN_TRANSIT,
    "U": PackageStatus.IN_TRANSIT,
    "M": PackageStatus.LABEL_CREATED,
}

NOT_FOUND_WARNINGS = frozenset({"TW0001"})
INVALID_NUMBER_ERRORS = frozenset({"TV1002"})
AUTH_ERRORS = frozenset({"250002", "250003"})  # invalid authentication information / access license

# Delivery date kinds, best first: a rescheduled date replaces the scheduled one.
ESTIMATE_KINDS = ("RDD", "SDD")
WINDOW_END_TYPES = frozenset({"EDW", "CDW", "IDW", "CMT"})
END_OF_DAY = "235959"


def build_token_request(client_id: str, client_secret: str, *, merchant_id: str = "") -> Request:
    """``POST /security/v1/oauth/token``: HTTP Basic client credentials, form ``grant_type``."""
    headers = {"Authorization": basic_authorization(client_id, client_secret)}
    if merchant_id:
        headers["x-merchant-id"] = merchant_id
    return form_token_request(OAUTH_PATH, {"grant_type": "client_credentials"}, headers=headers)


def parse_token_response(status_code: int, body: bytes, *, now: datetime,
                         headers: Mapping[str, str] | None = None) -> Token:
    """The token, expiring ``expires_in`` seconds after ``now`` (our clock, not UPS's ``issued_at``)."""
    return read_token_reply(status_code, body, carrier="UPS", now=now, headers=headers)


def build_track_request(number: str, *, token: str, transaction_id: str,
                        transaction_src: str = "orderflow") -> Request:
    """``GET /api/track/v1/details/{number}`` with the ``transId``/``transactionSrc`` headers UPS requires."""
    return Request(
        "GET", TRACK_PATH.format(number=quote(number, safe="")), params=dict(TRACK_PARAMS),
        headers={"Authorization": f"Bearer {token}", "Accept": JSON_CONTENT, "transId": transaction_id,
                 "transactionSrc": transaction_src})


def parse_track_response(status_code: int, body: bytes, *, requested: Sequence[str],
                         headers: Mapping[str, str], now: datetime | None = None) -> list[TrackingResult]:
    """One result per requested number (UPS: one). Never raises; see :func:`read_track_reply`."""
    return read_track_reply(status_code, body, requested=requested, headers=headers, now=now,
                            read_body=_read_body)


def status_of(status: Mapping[str, Any]) -> PackageStatus:
    """Map a UPS ``status`` object, by the reference's priority rules (code before type)."""
    where = "status"
    code = text_at(status, "code", where).upper()
    status_code = text_at(status, "statusCode", where)
    description = text_at(status, "description", where).lower()
    simplified = text_at(status, "simplifiedTextDescription", where).lower()
    kind = text_at(status, "type", where).upper()
    if code in OUT_FOR_DELIVERY_CODES or simplified == "out for delivery":
        return PackageStatus.OUT_FOR_DELIVERY
    if status_code in PICKUP_STATUS_CODES or code in PICKUP_CODES:
        return PackageStatus.AVAILABLE_FOR_PICKUP
    if status_code in DELAY_STATUS_CODES:
        return PackageStatus.DELAYED
    if code in RETURN_CODES or "returned to shipper" in description:
        return PackageStatus.RETURNED_TO_SENDER
    if kind == "M" and "void" in description:
        return PackageStatus.CANCELLED
    return STATUS_BY_TYPE.get(kind, PackageStatus.UNKNOWN)


def _raw_code(status: Mapping[str, Any]) -> str:
    return ":".join(text_at(status, key, "status") for key in ("type", "code", "statusCode"))


def _read_body(status_code: int, document: Any, numbers: list[str]) -> list[TrackingResult]:
    reply = as_object(document, "reply")
    if "trackResponse" not in reply:
        return _failure(status_code, reply, numbers)
    shipments = list_at(object_at(reply, "trackResponse", "reply"), "shipment", "trackResponse")
    if not shipments:
        raise ShapeError("trackResponse.shipment", "an empty list")
    # One number per call: the result is keyed by the number asked for, whatever spelling UPS echoes.
    return [_read_shipment(as_object(shipments[0], "shipment[0]"), numbers[0])]


def _failure(status_code: int, reply: Mapping[str, Any], numbers: list[str]) -> list[TrackingResult]:
    code, message = error_detail(reply)
    if not code and not message:
        raise ShapeError("reply", "neither trackResponse nor response.errors")
    if code in INVALID_NUMBER_ERRORS:
        outcome = FetchOutcome.INVALID_NUMBER
    elif code in NOT_FOUND_WARNINGS or status_code == 404:
        outcome = FetchOutcome.NOT_FOUND
    elif code in AUTH_ERRORS:
        outcome = FetchOutcome.AUTH_ERROR
    else:
        outcome = FetchOutcome.CARRIER_ERROR
    return failed(numbers, outcome, message or code, code=code)


def _read_shipment(shipment: Mapping[str, Any], number: str) -> TrackingResult:
    where = "shipment"
    packages = list_at(shipment, "package", where)
    if packages:
        return _read_package(number, as_object(packages[0], f"{where}.package[0]"))
    warnings = list_at(shipment, "warnings", where)
    if not warnings:
        raise ShapeError(where, "neither package nor warnings")
    warning = as_object(warnings[0], f"{where}.warnings[0]")
    code = text_at(warning, "code", "warning")
    outcome = FetchOutcome.NOT_FOUND if code in NOT_FOUND_WARNINGS else FetchOutcome.CARRIER_ERROR
    return failed([number], outcome, text_at(warning, "message", "warning") or code, code=code)[0]


def _read_package(number: str, package: Mapping[str, Any]) -> TrackingResult:
    where = "package"
    activities = objects_at(package, "activity", where)
    events = [_read_activity(activity) for activity in activities]
    # activity[] is newest first, so its head stands in for a missing currentStatus.
    current = object_at(package, "currentStatus", where) or (
        object_at(activities[0], "status", "activity[0]") if activities else {})
    description = text_at(current, "description", "currentStatus")
    return found(
        number, events=events, current=status_of(current) if current else None,
        raw_status_code=_raw_code(current) if current else "", message=description,
        estimated_delivery=_estimated_delivery(package), delivered_at=_delivered_at(package),
        reason_texts=[description])


def _read_activity(activity: Mapping[str, Any]) -> TrackingEvent:
    where = "activity"
    status = object_at(activity, "status", where)
    address = object_at(object_at(activity, "location", where), "address", "location")
    return TrackingEvent(
        at=_activity_time(activity), status=status_of(status), code=_raw_code(status),
        description=text_at(status, "description", "status"),
        location=join_place(*(text_at(address, key, "address")
                              for key in ("city", "stateProvince", "postalCode", "countryCode"))))


def _activity_time(activity: Mapping[str, Any]) -> datetime:
    where = "activity"
    gmt_date, gmt_time = text_at(activity, "gmtDate", where), text_at(activity, "gmtTime", where)
    if gmt_date and gmt_time:
        return parse_compact(gmt_date, gmt_time)
    return parse_compact(text_at(activity, "date", where), text_at(activity, "time", where),
                         offset=text_at(activity, "gmtOffset", where))


def _delivery_dates(package: Mapping[str, Any]) -> dict[str, str]:
    dates: dict[str, str] = {}
    for entry in objects_at(package, "deliveryDate", "package"):
        dates.setdefault(text_at(entry, "type", "deliveryDate").upper(), text_at(entry, "date", "deliveryDate"))
    return dates


def _estimated_delivery(package: Mapping[str, Any]) -> datetime | None:
    """The rescheduled, else scheduled, date; at the window's end time, else the end of that day."""
    dates = _delivery_dates(package)
    date = next((dates[kind] for kind in ESTIMATE_KINDS if dates.get(kind)), "")
    if not date:
        return None
    window = object_at(package, "deliveryTime", "package")
    kind = text_at(window, "type", "deliveryTime").upper()
    end = text_at(window, "endTime", "deliveryTime") if kind in WINDOW_END_TYPES else ""
    return parse_compact(date, end or END_OF_DAY)


def _delivered_at(package: Mapping[str, Any]) -> datetime | None:
    """The ``DEL`` date and delivered time; local without an offset, so read as UTC (see the module doc)."""
    date = _delivery_dates(package).get("DEL", "")
    if not date:
        return None
    window = object_at(package, "deliveryTime", "package")
    time = text_at(window, "endTime", "deliveryTime") if text_at(window, "type", "deliveryTime") == "DEL" else ""
    return parse_compact(date, time)


CONNECTOR = Connector(
    token_request=lambda credentials: build_token_request(credentials.client_id, credentials.client_secret),
    parse_token=parse_token_response,
    track_request=lambda numbers, _credentials, token, transaction: build_track_request(
        numbers[0], token=token, transaction_id=transaction),
    parse_track=parse_track_response)
"""One number per call, with a token and a transaction id."""
