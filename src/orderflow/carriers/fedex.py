"""FedEx Track API v1: pure request builders and reply parsers (the FedEx client does the IO).

::

    token = parse_token_response(status, body, now=clock.now())
    for numbers in batch(tracking_numbers):              # at most 30 per request
        request = build_track_request(numbers, token=token.access_token, transaction_id=str(uuid4()))
        results = parse_track_response(status, body, requested=numbers, headers=reply_headers, now=clock.now())

Per-number errors (``TRACKING.TRACKINGNUMBER.NOTFOUND``) sit inside an HTTP 200, so one batch can hold
found and not-found numbers side by side. A reused number comes back with several ``trackResults``; the
one with the newest scan is the parcel we mean. ``derivedCode`` is coarse (it files out-for-delivery under
``IT``), so the precise ``code`` is read first. An event's raw ``code`` is ``eventType``, with
``:exceptionCode`` appended when FedEx gives one; its description likewise joins ``eventDescription`` and
``exceptionDescription``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

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
    latest_of,
    parse_estimate,
    read_token_reply,
    read_track_reply,
    seconds_until_utc_midnight,
)
from orderflow.carriers.status import (
    FetchOutcome,
    PackageStatus,
    TrackingEvent,
    TrackingResult,
    reason_from_text,
)
from orderflow.parsing.json_shapes import ShapeError, as_list, as_object, object_at, objects_at, text_at
from orderflow.parsing.times import parse_time

OAUTH_PATH = "/oauth/token"
TRACK_PATH = "/track/v1/trackingnumbers"
MAX_NUMBERS_PER_REQUEST = 30

_CODES_BY_STATUS = {
    PackageStatus.LABEL_CREATED: ("OC", "OX", "EP"),
    PackageStatus.IN_TRANSIT: ("PU", "PX", "IT", "IX", "AR", "AF", "DP", "AA", "AC", "AX", "EA", "EO", "FD",
                               "LO", "OW", "PF", "PL", "PM", "SF", "TR", "AO", "AE", "CC", "CP"),
    PackageStatus.OUT_FOR_DELIVERY: ("OD", "ED", "AD"),
    PackageStatus.AVAILABLE_FOR_PICKUP: ("HL", "HP"),
    PackageStatus.DELIVERED: ("DL",),
    PackageStatus.DELIVERY_ATTEMPTED: ("DE",),
    PackageStatus.EXCEPTION: ("SE", "CD"),
    PackageStatus.DELAYED: ("DY", "DD", "PD"),
    PackageStatus.RETURNED_TO_SENDER: ("RS",),
    PackageStatus.CANCELLED: ("CA",),
}
STATUS_BY_CODE = {code: status for status, codes in _CODES_BY_STATUS.items() for code in codes}
STATUS_BY_DERIVED_CODE = {
    "IN": PackageStatus.LABEL_CREATED,
    "PU": PackageStatus.IN_TRANSIT,
    "IT": PackageStatus.IN_TRANSIT,
    "DE": PackageStatus.DELIVERY_ATTEMPTED,
    "DY": PackageStatus.DELAYED,
    "RL": PackageStatus.DELAYED,
    "DL": PackageStatus.DELIVERED,
}
RUNNING_LATE = "RL"
# A failed delivery is an exception, not a routine attempt, when the recipient refused or the address is bad.
SERIOUS_ATTEMPT_REASONS = frozenset({"refused", "address"})

NOT_FOUND_ERROR = "TRACKING.TRACKINGNUMBER.NOTFOUND"
NUMBER_ERROR_PREFIX = "TRACKING.TRACKINGNUMBER."
REQUEST_ERROR_PREFIX = "TRACKING."
DAILY_QUOTA_WORD = "daily"


def build_token_request(client_id: str, client_secret: str) -> Request:
    """``POST /oauth/token`` with the client credentials in the form body."""
    return form_token_request(OAUTH_PATH, {"grant_type": "client_credentials", "client_id": client_id,
                                           "client_secret": client_secret})


def parse_token_response(status_code: int, body: bytes, *, now: datetime,
                         headers: Mapping[str, str] | None = None) -> Token:
    return read_token_reply(status_code, body, carrier="FedEx", now=now, headers=headers)


def batch(numbers: Iterable[str]) -> list[list[str]]:
    """Numbers in request-sized groups of at most 30, in order, each number once.

    >>> [len(group) for group in batch(str(n) for n in range(61))]
    [30, 30, 1]
    """
    unique = list(dict.fromkeys(numbers))
    return [unique[start:start + MAX_NUMBERS_PER_REQUEST]
            for start in range(0, len(unique), MAX_NUMBERS_PER_REQUEST)]


def build_track_request(numbers: Sequence[str], *, token: str, transaction_id: str,
                        locale: str = "en_US") -> Request:
    """``POST /track/v1/trackingnumbers`` for 1 to 30 numbers, with detailed scans."""
    if not 1 <= len(numbers) <= MAX_NUMBERS_PER_REQUEST:
        raise ValueError(f"FedEx tracks 1 to {MAX_NUMBERS_PER_REQUEST} numbers per request, got {len(numbers)}")
    return Request(
        "POST", TRACK_PATH,
        headers={"Authorization": f"Bearer {token}", "Content-Type": JSON_CONTENT, "Accept": JSON_CONTENT,
                 "x-locale": locale, "x-customer-transaction-id": transaction_id},
        json={"includeDetailedScans": True,
              "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": number}} for number in numbers]})


def parse_track_response(status_code: int, body: bytes, *, requested: Sequence[str],
                         headers: Mapping[str, str], now: datetime | None = None) -> list[TrackingResult]:
    """One result per requested number, in request order. Never raises.

    When the daily quota is spent FedEx says "retry after 12:00AM GMT" instead of sending
    ``Retry-After``; given ``now``, that becomes the seconds until the next UTC midnight.
    """
    results = read_track_reply(status_code, body, requested=requested, headers=headers, now=now,
                               read_body=_read_body)
    return [_with_quota_reset(result, now) for result in results]


def status_of(code: str, derived_code: str = "", reason_texts: Sequence[str] = ()) -> PackageStatus:
    """Map a FedEx ``code`` (else ``derivedCode``) by the reference's rules.

    Two refinements: an in-transit code whose derived code is ``RL`` (running late) is ``delayed``, and a
    ``DE`` whose texts show a refusal or address problem is an ``exception``.
    """
    code, derived_code = code.upper(), derived_code.upper()
    status = STATUS_BY_CODE.get(code) or STATUS_BY_DERIVED_CODE.get(derived_code, PackageStatus.UNKNOWN)
    if status is PackageStatus.IN_TRANSIT and derived_code == RUNNING_LATE:
        return PackageStatus.DELAYED
    if status is PackageStatus.DELIVERY_ATTEMPTED and reason_from_text(*reason_texts) in SERIOUS_ATTEMPT_REASONS:
        return PackageStatus.EXCEPTION
    return status


def _with_quota_reset(result: TrackingResult, now: datetime | None) -> TrackingResult:
    if (result.outcome is FetchOutcome.RATE_LIMITED and result.retry_after is None and now is not None
            and DAILY_QUOTA_WORD in result.message.lower()):
        return replace(result, retry_after=seconds_until_utc_midnight(now))
    return result


def _read_body(status_code: int, document: Any, numbers: list[str]) -> list[TrackingResult]:
    reply = as_object(document, "reply")
    if "output" not in reply:
        return _request_failure(reply, numbers)
    complete = objects_at(object_at(reply, "output", "reply"), "completeTrackResults", "output")
    return [_read_number(entry) for entry in complete]


def _request_failure(reply: Mapping[str, Any], numbers: list[str]) -> list[TrackingResult]:
    """A request-level ``{transactionId, errors}``; the reference files 400 ``TRACKING.*`` as invalid."""
    code, message = error_detail(reply)
    if not code:
        raise ShapeError("reply", "neither output nor errors")
    invalid = code.startswith(REQUEST_ERROR_PREFIX)
    return failed(numbers, FetchOutcome.INVALID_NUMBER if invalid else FetchOutcome.CARRIER_ERROR,
                  message or code, code=code)


def _read_number(entry: Mapping[str, Any]) -> TrackingResult:
    number = text_at(entry, "trackingNumber", "completeTrackResults")
    try:
        as_list(entry.get("trackResults"), f"{number}.trackResults")  # required, unlike most lists
        candidates = [_read_track_result(number, result) for result in objects_at(entry, "trackResults", number)]
        if not candidates:
            raise ShapeError(f"{number}.trackResults", "an empty list")
    except ValueError as exc:  # one unreadable number must not hide the others in the batch
        return failed([number], FetchOutcome.CARRIER_ERROR, f"unreadable result: {exc}")[0]
    return latest_of(candidates)


def _read_track_result(number: str, result: Mapping[str, Any]) -> TrackingResult:
    error = object_at(result, "error", "trackResult")
    scans = objects_at(result, "scanEvents", "trackResult")
    if error and not scans:
        code = text_at(error, "code", "error")
        if code == NOT_FOUND_ERROR:
            outcome = FetchOutcome.NOT_FOUND
        elif code.startswith(NUMBER_ERROR_PREFIX):
            outcome = FetchOutcome.INVALID_NUMBER
        else:
            outcome = FetchOutcome.CARRIER_ERROR
        return failed([number], outcome, text_at(error, "message", "error") or code, code=code)[0]
    latest = object_at(result, "latestStatusDetail", "trackResult")
    texts = _reason_texts(latest)
    code = text_at(latest, "code", "latestStatusDetail")
    derived = text_at(latest, "derivedCode", "latestStatusDetail")
    times = _dates_and_times(result)
    return found(
        number, events=[_read_scan(scan) for scan in scans],
        current=status_of(code, derived, texts) if code or derived else None,
        raw_status_code=code or derived, message=text_at(latest, "description", "latestStatusDetail"),
        estimated_delivery=_estimated_delivery(result, times),
        delivered_at=parse_time(times["ACTUAL_DELIVERY"]) if times.get("ACTUAL_DELIVERY") else None,
        reason_texts=texts)


def _reason_texts(latest: Mapping[str, Any]) -> list[str]:
    """The texts that explain a problem: ancillary reasons, the delay type (``WEATHER``), the description."""
    texts = []
    for detail in objects_at(latest, "ancillaryDetails", "latestStatusDetail"):
        texts += [text_at(detail, "reasonDescription", "ancillaryDetails"),
                  text_at(detail, "actionDescription", "ancillaryDetails")]
    texts.append(text_at(object_at(latest, "delayDetail", "latestStatusDetail"), "type", "delayDetail"))
    texts.append(text_at(latest, "description", "latestStatusDetail"))
    return [text for text in texts if text]


def _read_scan(scan: Mapping[str, Any]) -> TrackingEvent:
    where = "scanEvent"
    kind = text_at(scan, "eventType", where)
    exception_code = text_at(scan, "exceptionCode", where)
    description = text_at(scan, "eventDescription", where)
    exception = text_at(scan, "exceptionDescription", where)
    place = object_at(scan, "scanLocation", where)
    return TrackingEvent(
        at=parse_time(text_at(scan, "date", where)),
        status=status_of(kind, text_at(scan, "derivedStatusCode", where), [exception]),
        code=f"{kind}:{exception_code}" if exception_code else kind,
        description=f"{description}: {exception}" if exception else description,
        location=join_place(*(text_at(place, key, "scanLocation")
                              for key in ("city", "stateOrProvinceCode", "postalCode", "countryCode"))))


def _dates_and_times(result: Mapping[str, Any]) -> dict[str, str]:
    times: dict[str, str] = {}
    for entry in objects_at(result, "dateAndTimes", "trackResult"):
        times.setdefault(text_at(entry, "type", "dateAndTimes").upper(), text_at(entry, "dateTime", "dateAndTimes"))
    return times


def _estimated_delivery(result: Mapping[str, Any], times: Mapping[str, str]) -> datetime | None:
    """The estimated window's end (often ``{}`` in real replies), else the standard transit window's end,
    else ``dateAndTimes`` ESTIMATED_DELIVERY."""
    estimated = object_at(object_at(result, "estimatedDeliveryTimeWindow", "trackResult"), "window", "window")
    standard = object_at(object_at(result, "standardTransitTimeWindow", "trackResult"), "window", "window")
    for text in (text_at(estimated, "ends", "window"), text_at(estimated, "begins", "window"),
                 text_at(standard, "ends", "window"), times.get("ESTIMATED_DELIVERY", "")):
        if text:
            return parse_estimate(text)
    return None


CONNECTOR = Connector(
    token_request=lambda credentials: build_token_request(credentials.client_id, credentials.client_secret),
    parse_token=parse_token_response,
    track_request=lambda numbers, _credentials, token, transaction: build_track_request(
        numbers, token=token, transaction_id=transaction),
    parse_track=parse_track_response)
"""Up to 30 numbers per call, with a token and a transaction id."""
