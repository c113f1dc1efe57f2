"""Fake UPS, FedEx, USPS and DHL tracking APIs on 127.0.0.1: real HTTP, each carrier's documented JSON.

::

    with FakeCarrier("ups", now=clock.now) as fake:           # client_id "id", client_secret "secret"
        fake.add_parcel("1Z023E2X0214323462", [
            Scan(monday, PackageStatus.LABEL_CREATED, "Shipper created a label"),
            Scan(tuesday, PackageStatus.IN_TRANSIT, "Arrived at Facility", "Atlanta, GA, US"),
            Scan(friday, PackageStatus.EXCEPTION, "Delivery exception", "Wayne, NJ, US", reason="refused"),
        ], estimated_delivery=friday_evening)
        # orderflow's UPS client, pointed at fake.url, now gets a token and tracks the parcel

A track call shows only the scans whose time has come by ``now()`` (the demo passes its simulated clock),
newest first, each with a real code of that carrier that orderflow's parser maps back to the scripted family,
or, where the carrier has no such code, to the coarser family in :data:`REPORTED_AS`. A ``reason`` is written
in carrier words the parsers recognise. Locations go whole into the city field, so they read back unchanged.
Tokens expire ``token_lifetime`` seconds after issue by ``now()``; DHL checks its ``DHL-API-Key`` instead.
Knobs, safe from any thread: :meth:`fail_next`, :meth:`rate_limit_next`, :meth:`malformed_next` (track calls
only, in the order queued), :meth:`outage` (every call, tokens too), :meth:`expire_tokens`, ``latency``
(seconds each track answer is held; other requests are served meanwhile) and ``cut_next`` (any request,
tokens too: the connection reset, or the JSON cut off).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from orderflow.carriers.http import basic_authorization
from orderflow.carriers.status import PackageStatus as S
from orderflow.carriers.status import reason_from_text
from orderflow.testing.http_server import LocalHttpServer

CarrierName = Literal["ups", "fedex", "usps", "dhl"]
Reply = tuple[int, bytes, dict[str, str]]  # status, body, headers

TOKEN_PATHS = {"ups": "/security/v1/oauth/token", "fedex": "/oauth/token", "usps": "/oauth2/v3/token"}
USPS_SCOPE = "addresses prices tracking labels locations"
MAX_FEDEX_NUMBERS = 30

# The families a carrier cannot say, and what its parser reads instead.
REPORTED_AS: dict[str, dict[S, S]] = {
    "ups": {S.DELIVERY_ATTEMPTED: S.EXCEPTION},
    "fedex": {},
    "usps": {S.CANCELLED: S.UNKNOWN},
    "dhl": {S.OUT_FOR_DELIVERY: S.IN_TRANSIT, S.AVAILABLE_FOR_PICKUP: S.IN_TRANSIT, S.DELAYED: S.IN_TRANSIT,
            S.DELIVERY_ATTEMPTED: S.EXCEPTION, S.RETURNED_TO_SENDER: S.EXCEPTION, S.CANCELLED: S.UNKNOWN},
}

# Codes from carriers.md and the captured payloads; an empty code is one the parser does not map (unknown).
UPS_CODES = {  # type, code, statusCode, simplifiedTextDescription
    S.LABEL_CREATED: ("M", "MP", "003", "Label Created"), S.IN_TRANSIT: ("I", "AR", "005", "On the Way"),
    S.OUT_FOR_DELIVERY: ("I", "OT", "005", "Out for Delivery"),
    S.AVAILABLE_FOR_PICKUP: ("D", "2Q", "040", "Ready for Pickup"),
    S.DELIVERY_ATTEMPTED: ("X", "", "013", "Delivery Attempted"), S.DELAYED: ("X", "WD", "048", "Delay"),
    S.EXCEPTION: ("X", "UA", "013", "Delivery Exception"), S.RETURNED_TO_SENDER: ("X", "RS", "013", "Returning"),
    S.DELIVERED: ("D", "KB", "011", "Delivered"), S.CANCELLED: ("M", "MV", "003", "Label Voided"),
    S.UNKNOWN: ("", "", "", ""),
}
FEDEX_CODES = {  # eventType, derivedStatusCode
    S.LABEL_CREATED: ("OC", "IN"), S.IN_TRANSIT: ("IT", "IT"), S.OUT_FOR_DELIVERY: ("OD", "IT"),
    S.AVAILABLE_FOR_PICKUP: ("HP", "IT"), S.DELIVERY_ATTEMPTED: ("DE", "DE"), S.DELAYED: ("DY", "DY"),
    S.EXCEPTION: ("SE", "DE"), S.RETURNED_TO_SENDER: ("RS", "IT"), S.DELIVERED: ("DL", "DL"),
    S.CANCELLED: ("CA", "IN"), S.UNKNOWN: ("", ""),
}
USPS_CODES = {  # eventCode, statusCategory
    S.LABEL_CREATED: ("GX", "Pre-Shipment"), S.IN_TRANSIT: ("10", "In Transit"),
    S.OUT_FOR_DELIVERY: ("OF", "Out for Delivery"), S.AVAILABLE_FOR_PICKUP: ("16", "Available for Pickup"),
    S.DELIVERY_ATTEMPTED: ("02", "Delivery Attempt"), S.DELAYED: ("71", "In Transit"),
    S.EXCEPTION: ("11", "Alert"), S.RETURNED_TO_SENDER: ("09", "Return to Sender"),
    S.DELIVERED: ("01", "Delivered"), S.CANCELLED: ("", ""), S.UNKNOWN: ("", ""),
}
USPS_REASON_CODES = {"refused": "04", "address": "05"}
DHL_CODES = {S.LABEL_CREATED: "pre-transit", S.IN_TRANSIT: "transit", S.OUT_FOR_DELIVERY: "transit",
             S.AVAILABLE_FOR_PICKUP: "transit", S.DELAYED: "transit", S.DELIVERY_ATTEMPTED: "failure",
             S.EXCEPTION: "failure", S.RETURNED_TO_SENDER: "failure", S.DELIVERED: "delivered",
             S.CANCELLED: "unknown", S.UNKNOWN: "unknown"}

# Phrases that orderflow.carriers.status.reason_from_text reads back as the same reason.
REASON_PHRASES = {"refused": "Refused by recipient", "damaged": "Package damaged", "lost": "Package lost",
                  "address": "Incorrect address", "customs": "Held in customs", "weather": "Severe weather",
                  "recipient_unavailable": "Recipient not available"}
FEDEX_ERRORS = {400: "BAD.REQUEST.ERROR", 401: "NOT.AUTHORIZED.ERROR", 403: "FORBIDDEN.ERROR",
                404: "NOT.FOUND.ERROR", 500: "INTERNAL.SERVER.ERROR", 503: "SERVICE.UNAVAILABLE.ERROR"}
UPS_ERRORS = {401: "250002", 429: "10429"}


@dataclass(frozen=True)
class Scan:
    """One scripted carrier scan: when (aware), what it means, the carrier's words, where, and why."""

    at: datetime
    family: S
    description: str
    location: str = ""
    reason: str | None = None

    @property
    def wording(self) -> str:
        """The description, with the reason in words the parsers recognise when it does not say it already."""
        if self.reason is None or reason_from_text(self.description) == self.reason:
            return self.description
        return f"{self.description}: {reason_phrase(self.reason)}"


def reason_phrase(reason: str) -> str:
    return REASON_PHRASES.get(reason, reason.replace("_", " "))


@dataclass(frozen=True)
class _Parcel:
    scans: tuple[Scan, ...]  # oldest first
    estimated_delivery: datetime | None
    invalid: bool


class FakeCarrier(LocalHttpServer):
    """One carrier's token and track endpoints, exactly those orderflow's request builders call."""

    def __init__(self, carrier: CarrierName, *, client_id: str = "id",
                 client_secret: str = "secret",  # noqa: S107 - a fake's throw-away credential
                 api_key: str = "key", now: Callable[[], datetime] | None = None, latency: float = 0.0,
                 token_lifetime: int = 3600) -> None:
        super().__init__()
        self.thread_name = f"fake-{carrier}"
        self.carrier = carrier
        self.client_id, self.client_secret, self.api_key = client_id, client_secret, api_key
        self.latency = latency
        self.token_lifetime = token_lifetime
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._parcels: dict[str, _Parcel] = {}
        self._tokens: dict[str, datetime] = {}
        self._faults: list[tuple[str, int, int]] = []  # kind, HTTP status, Retry-After
        self._outage = False
        self._track_requests = self._token_requests = 0
        self._numbers: list[str] = []

    # --- the scripted world and the knobs ------------------------------------------------------------------

    def add_parcel(self, number: str, events: Sequence[Scan], *, estimated_delivery: datetime | None = None,
                   invalid: bool = False) -> None:
        """Script a parcel (replacing any earlier script for the number)."""
        if any(scan.at.tzinfo is None for scan in events):
            raise ValueError("scan times must be timezone-aware")
        with self._lock:
            self._parcels[_key(number)] = _Parcel(tuple(sorted(events, key=lambda scan: scan.at)),
                                                  estimated_delivery, invalid)

    def fail_next(self, n: int, status: int = 500) -> None:
        with self._lock:
            self._faults += [("fail", status, 0)] * n

    def rate_limit_next(self, n: int, retry_after: int = 1) -> None:
        with self._lock:
            self._faults += [("rate", 429, retry_after)] * n

    def malformed_next(self, n: int) -> None:
        """The next ``n`` track answers are a 200 whose body is cut off halfway (not JSON)."""
        with self._lock:
            self._faults += [("malformed", 200, 0)] * n

    def outage(self, on: bool) -> None:
        with self._lock:
            self._outage = on

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    @property
    def track_requests(self) -> int:
        with self._lock:
            return self._track_requests

    @property
    def token_requests(self) -> int:
        with self._lock:
            return self._token_requests

    @property
    def numbers_requested(self) -> list[str]:
        with self._lock:
            return list(self._numbers)

    # --- the server ----------------------------------------------------------------------------------------

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one request as the carrier would (called by the HTTP handler thread; header names lower-case)."""
        parts = urlsplit(target)
        if method == "POST" and parts.path == TOKEN_PATHS.get(self.carrier):
            with self._lock:
                self._token_requests += 1
                outage = self._outage
            return self._error(503) if outage else self._issue_token(headers, body)
        numbers = self._requested(method, parts.path, parts.query, body)
        if numbers is None:
            return self._error(404)
        with self._lock:
            self._track_requests += 1
            self._numbers += numbers
            outage = self._outage
            fault = self._faults.pop(0) if self._faults and not outage else None
        reply = self._track(numbers, headers, outage, fault)
        if self.latency > 0:
            self.release.wait(self.latency)
        return reply

    # --- tokens ---------------------------------------------------------------------------------------------

    def _issue_token(self, headers: Mapping[str, str], body: bytes) -> Reply:
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        if self.carrier == "ups":
            good = headers.get("authorization") == basic_authorization(self.client_id, self.client_secret)
        else:
            good = (form.get("client_id"), form.get("client_secret")) == (self.client_id, self.client_secret)
        if not good or form.get("grant_type") != "client_credentials":
            if self.carrier == "usps":
                return _json(401, {"error": "invalid_client", "error_description": "Client authentication failed."})
            return self._error(401, "10401" if self.carrier == "ups" else "", "The client credentials are invalid.")
        token, now = uuid.uuid4().hex, self._now()
        with self._lock:
            self._tokens[token] = now + timedelta(seconds=self.token_lifetime)
        issued = str(int(now.timestamp() * 1000))
        documents: dict[str, dict[str, Any]] = {
            "ups": {"token_type": "Bearer", "issued_at": issued, "client_id": self.client_id, "access_token": token,
                    "expires_in": str(self.token_lifetime), "status": "approved"},
            "fedex": {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime,
                      "scope": "CXS-TP"},
            "usps": {"access_token": token, "token_type": "Bearer", "issued_at": int(issued),
                     "expires_in": self.token_lifetime, "status": "approved", "scope": USPS_SCOPE,
                     "issuer": "api.usps.com", "client_id": self.client_id},
        }
        return _json(200, documents[self.carrier])

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        if self.carrier == "dhl":
            return headers.get("dhl-api-key") == self.api_key
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            expires_at = self._tokens.get(token)
        return scheme.lower() == "bearer" and expires_at is not None and self._now() < expires_at

    # --- tracking ------------------------------------------------------------------------------------------

    def _requested(self, method: str, path: str, query: str, body: bytes) -> list[str] | None:
        """The numbers a track call asks for; ``None`` when the request is not a track call at all."""
        pattern = {"ups": r"/api/track/v1/details/([^/]+)", "usps": r"/tracking/v3/tracking/([^/]+)"}
        if method == "GET" and self.carrier in pattern:
            match = re.fullmatch(pattern[self.carrier], path)
            return [unquote(match.group(1))] if match else None
        if method == "GET" and self.carrier == "dhl" and path == "/track/shipments":
            return parse_qs(query).get("trackingNumber", [])[:1]
        if method == "POST" and self.carrier == "fedex" and path == "/track/v1/trackingnumbers":
            try:
                wanted = json.loads(body)["trackingInfo"]
                return [str(entry["trackingNumberInfo"]["trackingNumber"]) for entry in wanted]
            except (ValueError, LookupError, TypeError):
                return []
        return None

    def _track(self, numbers: list[str], headers: Mapping[str, str], outage: bool,
               fault: tuple[str, int, int] | None) -> Reply:
        refusal = self._refusal(numbers, headers, outage, fault)
        if refusal is not None:
            return refusal
        reply = self._fedex_answer(numbers, headers) if self.carrier == "fedex" else self._single_answer(numbers[0])
        if fault is not None and fault[0] == "malformed":
            return 200, reply[1][: len(reply[1]) // 2], reply[2]
        return reply

    def _refusal(self, numbers: list[str], headers: Mapping[str, str], outage: bool,
                 fault: tuple[str, int, int] | None) -> Reply | None:
        """The answer when the call is not served: outage, queued fault, bad token or bad request."""
        kind, status, retry_after = fault or ("", 0, 0)
        if outage or kind == "fail":
            return self._error(status or 503)
        if kind == "rate":
            return self._error(429, extra_headers={"Retry-After": str(retry_after)})
        if not self._authorized(headers):
            return self._error(401)
        if self.carrier == "ups" and not (headers.get("transid") and headers.get("transactionsrc")):
            return self._error(400, "", "transId and transactionSrc headers are required.")
        if not numbers or (self.carrier == "fedex" and len(numbers) > MAX_FEDEX_NUMBERS):
            code = "TRACKING.TRACKINGNUMBER.EMPTY" if not numbers and self.carrier == "fedex" else ""
            return self._error(400, code, f"Provide 1 to {MAX_FEDEX_NUMBERS} tracking numbers.")
        return None

    def _visible(self, number: str) -> tuple[_Parcel | None, list[Scan]]:
        """The parcel and the scans that have happened by now, newest first."""
        now = self._now()
        with self._lock:
            parcel = self._parcels.get(_key(number))
        return parcel, [scan for scan in reversed(parcel.scans) if scan.at <= now] if parcel else []

    def _single_answer(self, number: str) -> Reply:
        parcel, scans = self._visible(number)
        if parcel is not None and parcel.invalid:
            if self.carrier == "ups":
                return self._error(400, "TV1002", "Invalid inquiry number")
            return self._error(400, "", "Invalid tracking number.")  # USPS and DHL document no such answer
        if parcel is None or not scans:
            if self.carrier == "ups":  # UPS says "not found" in a 200 (carriers.md)
                return _json(200, {"trackResponse": {"shipment": [{"inquiryNumber": number, "warnings": [
                    {"code": "TW0001", "message": "Tracking Information Not Found"}]}]}})
            return self._error(404, "", "No shipment with given tracking number found." if self.carrier == "dhl"
                               else "Tracking is not available for this item at this time.")
        build = {"ups": ups_reply, "usps": usps_reply, "dhl": dhl_reply}[self.carrier]
        return _json(200, build(number, scans, parcel.estimated_delivery))

    def _fedex_answer(self, numbers: list[str], headers: Mapping[str, str]) -> Reply:
        complete = []
        for number in numbers:
            parcel, scans = self._visible(number)
            if parcel is not None and parcel.invalid:
                result: dict[str, Any] = {"error": {"code": "TRACKING.TRACKINGNUMBER.INVALID",
                                                    "message": "Invalid tracking number."}}
            elif parcel is None or not scans:
                result = {"error": {"code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
                                    "message": "Tracking number cannot be found."}}
            else:
                result = fedex_result(scans, parcel.estimated_delivery)
            complete.append({"trackingNumber": number, "trackResults": [
                {"trackingNumberInfo": {"trackingNumber": number}, **result}]})
        return _json(200, {"transactionId": str(uuid.uuid4()),
                           "customerTransactionId": headers.get("x-customer-transaction-id", ""),
                           "output": {"completeTrackResults": complete}})

    def _error(self, status: int, code: str = "", message: str = "",
               extra_headers: dict[str, str] | None = None) -> Reply:
        """An error in this carrier's documented shape (carriers.md, Errors)."""
        message = message or HTTPStatus(status).phrase
        if self.carrier == "ups":
            document: dict[str, Any] = {"response": {"errors": [
                {"code": code or UPS_ERRORS.get(status, str(status)), "message": message}]}}
        elif self.carrier == "fedex":
            document = {"transactionId": str(uuid.uuid4()),
                        "errors": [{"code": code or FEDEX_ERRORS.get(status, ""), "message": message}]}
        elif self.carrier == "usps":
            document = {"apiVersion": "/tracking/v3", "error": {"code": str(status), "message": message, "errors": []}}
        else:
            document = {"status": status, "title": HTTPStatus(status).phrase, "detail": message}
        content = "application/problem+json" if self.carrier == "dhl" else "application/json"
        return _json(status, document, {**(extra_headers or {}), "Content-Type": content})


# --- one builder per carrier for the track reply (scans newest first, at least one) ----------------------------

def ups_reply(number: str, scans: Sequence[Scan], estimated_delivery: datetime | None) -> dict[str, Any]:
    activity = []
    for scan in scans:
        kind, code, status_code, simplified = UPS_CODES[scan.family]
        wording = scan.wording
        if scan.family is S.CANCELLED and "void" not in wording.lower():
            wording += " (label voided)"  # the UPS rules tell a voided label from a new one by this word
        at = _utc(scan.at)
        activity.append({
            "location": {"address": {"city": scan.location}},
            "status": {"type": kind, "code": code, "description": wording, "simplifiedTextDescription": simplified,
                       "statusCode": status_code},
            "date": f"{at:%Y%m%d}", "time": f"{at:%H%M%S}", "gmtDate": f"{at:%Y%m%d}", "gmtTime": f"{at:%H%M%S}",
            "gmtOffset": "+00:00"})
    package: dict[str, Any] = {"trackingNumber": number, "currentStatus": activity[0]["status"],
                               "activity": activity, "deliveryDate": [], "packageCount": 1}
    if estimated_delivery is not None:
        estimate = _utc(estimated_delivery)
        package["deliveryDate"].append({"type": "SDD", "date": f"{estimate:%Y%m%d}"})
        package["deliveryTime"] = {"type": "CMT", "endTime": f"{estimate:%H%M%S}"}
    delivered = [_utc(scan.at) for scan in scans if scan.family is S.DELIVERED]
    if delivered:  # the oldest delivered scan is the delivery
        package["deliveryDate"].append({"type": "DEL", "date": f"{delivered[-1]:%Y%m%d}"})
    return {"trackResponse": {"shipment": [{"inquiryNumber": number, "package": [package]}]}}


def fedex_result(scans: Sequence[Scan], estimated_delivery: datetime | None) -> dict[str, Any]:
    """One ``trackResults[]`` entry; the reason goes where FedEx puts it, not in the event description."""
    events = [{"date": _utc(scan.at).isoformat(), "eventType": FEDEX_CODES[scan.family][0],
               "eventDescription": scan.description, "exceptionCode": "",
               "exceptionDescription": reason_phrase(scan.reason) if scan.reason else "",
               "scanLocation": {"city": scan.location}, "derivedStatusCode": FEDEX_CODES[scan.family][1]}
              for scan in scans]
    newest = scans[0]
    latest: dict[str, Any] = {"code": events[0]["eventType"], "derivedCode": events[0]["derivedStatusCode"],
                              "statusByLocale": newest.description, "description": newest.description,
                              "scanLocation": {"city": newest.location}}
    if newest.reason:
        phrase = reason_phrase(newest.reason)
        latest["ancillaryDetails"] = [{"reason": "", "reasonDescription": phrase, "actionDescription": phrase}]
    window = {"ends": _utc(estimated_delivery).isoformat()} if estimated_delivery else {}
    return {"latestStatusDetail": latest, "scanEvents": events, "dateAndTimes": [],
            "estimatedDeliveryTimeWindow": {"window": window}, "standardTransitTimeWindow": {"window": {}}}


def usps_reply(number: str, scans: Sequence[Scan], estimated_delivery: datetime | None) -> dict[str, Any]:
    def code(scan: Scan) -> str:
        plain = USPS_CODES[scan.family][0]
        return USPS_REASON_CODES.get(scan.reason or "", plain) if scan.family is S.EXCEPTION else plain

    events = [{"eventType": scan.wording, "eventTimestamp": f"{_utc(scan.at):%Y-%m-%dT%H:%M:%S}",
               "GMTTimestamp": f"{_utc(scan.at):%Y-%m-%dT%H:%M:%SZ}", "GMTOffset": "+00:00", "eventCountry": None,
               "eventCity": scan.location or None, "eventState": None, "eventZIP": None,
               "authorizedAgent": "false", "eventCode": code(scan)} for scan in scans]
    reply: dict[str, Any] = {
        "trackingNumber": number, "mailClass": "USPS Ground Advantage", "status": scans[0].wording,
        "statusCategory": USPS_CODES[scans[0].family][1], "statusSummary": scans[0].wording,
        "trackingEvents": events}
    if estimated_delivery is not None:
        reply["expectedDeliveryTimeStamp"] = _utc(estimated_delivery).isoformat()
    return reply


def dhl_reply(number: str, scans: Sequence[Scan], estimated_delivery: datetime | None) -> dict[str, Any]:
    events = [{"timestamp": _utc(scan.at).isoformat(), "statusCode": DHL_CODES[scan.family],
               "status": scan.description, "description": scan.wording,
               "location": {"address": {"addressLocality": scan.location}}} for scan in scans]
    shipment: dict[str, Any] = {"id": number, "service": "parcel-de", "status": events[0], "events": events,
                                "details": {}}
    if estimated_delivery is not None:
        shipment["estimatedTimeOfDelivery"] = _utc(estimated_delivery).isoformat()
    return {"shipments": [shipment], "possibleAdditionalShipmentsUrl": []}


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _key(number: str) -> str:
    return number.replace(" ", "").upper()


def _json(status: int, document: object, headers: dict[str, str] | None = None) -> Reply:
    return status, json.dumps(document).encode(), {"Content-Type": "application/json", **(headers or {})}
