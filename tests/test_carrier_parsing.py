"""Carrier replies, shaped as UPS, FedEx, USPS and DHL document them, read into orderflow's tracking model."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow.carriers import dhl, fedex, ups, usps
from orderflow.carriers.http import (
    Request,
    Token,
    parse_compact,
    parse_estimate,
    retry_after_seconds,
)
from orderflow.carriers.status import (
    FetchOutcome,
    PackageStatus,
    TrackingEvent,
    TrackingResult,
    is_terminal,
    reason_from_text,
    return_completed,
    summarize,
)
from orderflow.errors import RemoteRejected, RemoteUnavailable
from orderflow.parsing.times import parse_offset, parse_time

PAYLOADS = Path(__file__).parent / "carrier_payloads"
NOW = datetime(2024, 4, 26, 20, 0, tzinfo=UTC)

UPS_NUMBER = "1Z023E2X0214323462"
FEDEX_NUMBER = "776094337676"
FEDEX_MISSING = "39936862321"
FEDEX_OTHER = "738488882438"
USPS_NUMBER = "9400109104250532908587"
DHL_NUMBER = "00340434292135100179"
NUMBER_OF = {ups: UPS_NUMBER, fedex: FEDEX_NUMBER, usps: USPS_NUMBER, dhl: DHL_NUMBER}
Status = PackageStatus


def payload(carrier: str, name: str) -> bytes:
    return (PAYLOADS / carrier / name).read_bytes()


def utc(year: int, month: int, day: int, *clock: int) -> datetime:
    """``utc(2024, 4, 26, 18, 22)``: an aware UTC instant, short enough to read in a table."""
    hour, minute, second = (*clock, 0, 0, 0)[:3]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def track(carrier: ModuleType, name: str, status_code: int = 200, *,
          headers: dict[str, str] | None = None, body: bytes | None = None) -> TrackingResult:
    """Parse one carrier payload for the carrier's usual test number and return the single result."""
    folder = carrier.__name__.rsplit(".", 1)[-1]
    results: list[TrackingResult] = carrier.parse_track_response(
        status_code, payload(folder, name) if body is None else body,
        requested=[NUMBER_OF[carrier]], headers=headers or {}, now=NOW)
    assert len(results) == 1
    return results[0]


def tracking_info(request: Request) -> list[Any]:
    """The ``trackingInfo`` entries of a FedEx track request body."""
    assert isinstance(request.json, dict)
    return list(request.json["trackingInfo"])


def event(at: datetime, status: PackageStatus, description: str = "") -> TrackingEvent:
    return TrackingEvent(at=at, status=status, code="X", description=description, location="")


# --- The normalized model ------------------------------------------------------------------------------

class TestSummarize:
    def test_newest_event_decides_a_moving_parcel(self) -> None:
        """The newest known event is the status while nothing terminal has happened."""
        events = [event(utc(2024, 4, 24), Status.IN_TRANSIT), event(utc(2024, 4, 25), Status.OUT_FOR_DELIVERY)]
        assert summarize(events) is Status.OUT_FOR_DELIVERY

    def test_delivered_beats_later_noise(self) -> None:
        """A scan after delivery (a late hub scan) never moves a delivered parcel back to in transit."""
        events = [event(utc(2024, 4, 26, 9), Status.DELIVERED), event(utc(2024, 4, 26, 11), Status.IN_TRANSIT)]
        assert summarize(events) is Status.DELIVERED

    def test_delivered_beats_a_stale_current_status(self) -> None:
        """The carrier's own current status cannot undo a delivered scan either."""
        assert summarize([event(utc(2024, 4, 26), Status.DELIVERED)], Status.IN_TRANSIT) is Status.DELIVERED

    def test_return_beats_delivered(self) -> None:
        """Once a return started, "delivered" is the return reaching the sender."""
        events = [event(utc(2024, 4, 26), Status.RETURNED_TO_SENDER), event(utc(2024, 4, 30), Status.DELIVERED)]
        assert summarize(events) is Status.RETURNED_TO_SENDER

    def test_stale_label_record_does_not_pull_a_moving_parcel_back(self) -> None:
        """A label record that arrives after the pickup scan is not newer news than the scan."""
        events = [event(utc(2024, 4, 24, 10), Status.IN_TRANSIT), event(utc(2024, 4, 24, 12), Status.LABEL_CREATED)]
        assert summarize(events) is Status.IN_TRANSIT

    def test_unmapped_newest_event_keeps_the_last_known_status(self) -> None:
        """An event nobody has mapped yet is skipped rather than erasing what is known."""
        events = [event(utc(2024, 4, 24), Status.IN_TRANSIT), event(utc(2024, 4, 25), Status.UNKNOWN)]
        assert summarize(events) is Status.IN_TRANSIT

    def test_only_unmapped_events_are_unknown(self) -> None:
        """With nothing mapped, the status is unknown."""
        assert summarize([event(utc(2024, 4, 25), Status.UNKNOWN)]) is Status.UNKNOWN

    def test_no_events_and_no_current_status_is_unknown(self) -> None:
        """An empty history says nothing."""
        assert summarize([]) is Status.UNKNOWN

    def test_current_status_outranks_older_events(self) -> None:
        """The carrier's current status is its newest word on a parcel that is not done."""
        assert summarize([event(utc(2024, 4, 25), Status.IN_TRANSIT)], Status.DELAYED) is Status.DELAYED

    def test_newest_cancellation_cancels(self) -> None:
        """A voided label is cancelled."""
        events = [event(utc(2024, 4, 24, 10), Status.LABEL_CREATED), event(utc(2024, 4, 24, 11), Status.CANCELLED)]
        assert summarize(events) is Status.CANCELLED


class TestTerminal:
    def test_delivered_and_cancelled_are_terminal(self) -> None:
        """Polling stops for delivered and cancelled parcels."""
        assert [is_terminal(status) for status in (Status.DELIVERED, Status.CANCELLED, Status.IN_TRANSIT)] == [
            True, True, False]

    def test_return_in_progress_is_not_terminal(self) -> None:
        """A parcel on its way back still needs watching."""
        assert is_terminal(Status.RETURNED_TO_SENDER, [event(utc(2024, 4, 26), Status.RETURNED_TO_SENDER)]) is False

    def test_return_delivered_to_sender_is_terminal(self) -> None:
        """A delivered scan after the return scan ends the story."""
        events = [event(utc(2024, 4, 30), Status.DELIVERED), event(utc(2024, 4, 26), Status.RETURNED_TO_SENDER)]
        assert (return_completed(events), is_terminal(Status.RETURNED_TO_SENDER, events)) == (True, True)

    def test_delivery_before_the_return_does_not_complete_it(self) -> None:
        """Only a delivery after the return started counts as the return arriving."""
        events = [event(utc(2024, 4, 26), Status.RETURNED_TO_SENDER), event(utc(2024, 4, 25), Status.DELIVERED)]
        assert return_completed(events) is False


class TestExceptionReason:
    @pytest.mark.parametrize(("text", "reason"), [
        ("Refused by recipient", "refused"),
        ("Package damaged, contents being inspected", "damaged"),
        ("The receiver's address is incorrect.", "address"),
        ("Return to Sender: No Such Number", "address"),
        ("Customer not available or business closed", "recipient_unavailable"),
        ("Severe weather conditions have delayed delivery.", "weather"),
        ("Package available for clearance", "customs"),
        ("Arrived at Facility", None),
    ])
    def test_reason_words(self, text: str, reason: str | None) -> None:
        """Carrier text is reduced to the short reason word the rules rank by."""
        assert reason_from_text(text) == reason

    def test_refusal_wins_over_address(self) -> None:
        """A refusal at a correct address is still a refusal."""
        assert reason_from_text("Refused by recipient at delivery address") == "refused"


# --- Shared parsing helpers ------------------------------------------------------------------------------

class TestTimestamps:
    @pytest.mark.parametrize(("text", "expected"), [
        ("2024-04-24T15:30:57-05:00", utc(2024, 4, 24, 20, 30, 57)),
        ("2024-11-22T18:58:40Z", utc(2024, 11, 22, 18, 58, 40)),
        ("2024-11-15 11:09:19.000000", utc(2024, 11, 15, 11, 9, 19)),
        ("2024-11-19T06:16:00.123456789", datetime(2024, 11, 19, 6, 16, 0, 123456, tzinfo=UTC)),
        ("2024-04-23T10:37:00", utc(2024, 4, 23, 10, 37)),
    ])
    def test_iso_times_become_aware_utc(self, text: str, expected: datetime) -> None:
        """Offsets, Z, spaces and nanoseconds are read; a time without an offset is read as UTC."""
        assert parse_time(text) == expected

    def test_separate_offset_applies_to_a_local_time(self) -> None:
        """USPS's local eventTimestamp plus GMTOffset gives the true instant."""
        assert parse_time("2024-11-20T01:11:00", naive=parse_offset("-05:00")) == utc(2024, 11, 20, 6, 11)

    def test_compact_ups_date_and_unpadded_time(self) -> None:
        """UPS YYYYMMDD with an unpadded gmtTime such as 74700 is 07:47:00."""
        assert parse_compact("20210210", "74700") == utc(2021, 2, 10, 7, 47)

    def test_compact_local_time_with_offset(self) -> None:
        """UPS local date and time with gmtOffset convert to UTC."""
        assert parse_compact("20240425", "031500", offset="-04:00") == utc(2024, 4, 25, 7, 15)

    def test_bare_date_estimate_means_end_of_day(self) -> None:
        """A parcel promised for a day is not late before that day ends."""
        assert parse_estimate("2024-11-20") == utc(2024, 11, 20, 23, 59, 59)

    def test_garbage_is_refused(self) -> None:
        """Unreadable times are reported, not guessed."""
        with pytest.raises(ValueError, match="sometime Tuesday"):
            parse_time("sometime Tuesday")


class TestRetryAfter:
    def test_delay_seconds(self) -> None:
        """The delay form is taken as seconds."""
        assert retry_after_seconds({"Retry-After": "120"}) == 120.0

    def test_header_name_is_case_insensitive(self) -> None:
        """Plain dicts from test servers may spell the header in lower case."""
        assert retry_after_seconds({"retry-after": "30"}) == 30.0

    def test_http_date_counts_from_now(self) -> None:
        """The HTTP-date form becomes the seconds between now and then."""
        assert retry_after_seconds({"Retry-After": "Fri, 26 Apr 2024 20:10:00 GMT"}, now=NOW) == 600.0

    def test_http_date_without_now_is_unknown(self) -> None:
        """Without a clock the date form cannot become a delay."""
        assert retry_after_seconds({"Retry-After": "Fri, 26 Apr 2024 20:10:00 GMT"}) is None

    def test_missing_header_is_unknown(self) -> None:
        """No header, no delay."""
        assert retry_after_seconds({}) is None


# --- OAuth ------------------------------------------------------------------------------------------------

class TestTokenRequests:
    def test_ups_uses_basic_auth_and_grant_type_form(self) -> None:
        """UPS: POST /security/v1/oauth/token, HTTP Basic id:secret, form grant_type=client_credentials."""
        request = ups.build_token_request("my-id", "my-secret", merchant_id="A1B2C3")
        scheme, encoded = request.headers["Authorization"].split(" ")
        assert (request.method, request.path, request.form) == (
            "POST", "/security/v1/oauth/token", {"grant_type": "client_credentials"})
        assert (scheme, base64.b64decode(encoded)) == ("Basic", b"my-id:my-secret")
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert request.headers["x-merchant-id"] == "A1B2C3"

    def test_fedex_sends_credentials_in_the_form(self) -> None:
        """FedEx: POST /oauth/token with grant_type, client_id and client_secret as a form."""
        request = fedex.build_token_request("my-id", "my-secret")
        assert (request.method, request.path, request.json) == ("POST", "/oauth/token", None)
        assert request.form == {"grant_type": "client_credentials", "client_id": "my-id",
                                "client_secret": "my-secret"}
        assert "Authorization" not in request.headers

    def test_usps_asks_for_the_tracking_scope(self) -> None:
        """USPS: POST /oauth2/v3/token with client credentials and scope=tracking."""
        request = usps.build_token_request("my-id", "my-secret")
        assert (request.method, request.path) == ("POST", "/oauth2/v3/token")
        assert request.form == {"grant_type": "client_credentials", "client_id": "my-id",
                                "client_secret": "my-secret", "scope": "tracking"}

    def test_secrets_stay_out_of_repr(self) -> None:
        """A logged request or token never shows a credential."""
        shown = repr(fedex.build_token_request("my-id", "my-secret")) + repr(ups.build_token_request("i", "s3cr3t"))
        shown += repr(Token(access_token="tok-123", expires_at=NOW))
        assert ("my-secret" in shown, "s3cr3t" in shown, "tok-123" in shown) == (False, False, False)


class TestTokenReplies:
    def test_ups_string_lifetime(self) -> None:
        """UPS sends expires_in as a string of seconds; expiry counts from our clock."""
        token = ups.parse_token_response(200, payload("ups", "token.json"), now=NOW)
        assert (token.access_token, token.expires_at) == (
            "eyJraWQiOiJ1cHMtdGVzdCJ9.ups-access-token", NOW + timedelta(seconds=14399))

    def test_fedex_integer_lifetime(self) -> None:
        """FedEx sends expires_in as a number."""
        token = fedex.parse_token_response(200, payload("fedex", "token.json"), now=NOW)
        assert (token.expires_at, token.scope) == (NOW + timedelta(seconds=3599), "CXS-TP")

    def test_usps_token_with_tracking_scope(self) -> None:
        """A USPS token whose scope lists tracking is accepted."""
        token = usps.parse_token_response(200, payload("usps", "token.json"), now=NOW)
        assert token.expires_at == NOW + timedelta(seconds=28799)

    def test_usps_token_without_tracking_scope_is_refused(self) -> None:
        """Without the tracking scope every call would get 401, so the token is refused up front."""
        with pytest.raises(RemoteRejected, match="tracking"):
            usps.parse_token_response(200, payload("usps", "token_without_tracking_scope.json"), now=NOW)

    def test_bad_credentials_are_rejected_with_the_carrier_text(self) -> None:
        """An OAuth refusal is final and quotes the carrier's error text."""
        with pytest.raises(RemoteRejected, match="Client authentication failed"):
            usps.parse_token_response(401, payload("usps", "token_invalid_client.json"), now=NOW)
        with pytest.raises(RemoteRejected, match="ClientId is Invalid"):
            ups.parse_token_response(401, payload("ups", "token_invalid_client.json"), now=NOW)
        with pytest.raises(RemoteRejected, match=r"client credentials were not valid"):
            fedex.parse_token_response(401, payload("fedex", "token_unauthorized.json"), now=NOW)

    def test_throttled_token_request_is_transient_with_retry_after(self) -> None:
        """A 429 on the token endpoint is worth retrying, after the carrier's delay."""
        with pytest.raises(RemoteUnavailable) as raised:
            fedex.parse_token_response(429, b"{}", now=NOW, headers={"Retry-After": "90"})
        assert raised.value.retry_after == 90.0

    def test_server_error_is_transient(self) -> None:
        """A 5xx on the token endpoint is transient."""
        with pytest.raises(RemoteUnavailable, match="HTTP 503"):
            ups.parse_token_response(503, b"<html>down</html>", now=NOW)

    def test_malformed_token_reply_is_transient(self) -> None:
        """A 200 without a usable token is reported, not trusted."""
        with pytest.raises(RemoteUnavailable, match="token reply"):
            fedex.parse_token_response(200, b'{"access_token": "x", "expires_in": "soon"}', now=NOW)

    def test_token_is_refreshed_shortly_before_expiry(self) -> None:
        """A cached token is used until five minutes before it expires."""
        token = Token(access_token="t", expires_at=NOW + timedelta(minutes=10))
        assert (token.usable_at(NOW), token.usable_at(NOW + timedelta(minutes=6))) == (True, False)


# --- UPS ------------------------------------------------------------------------------------------------

class TestUpsTrackRequest:
    def test_get_details_with_required_headers(self) -> None:
        """One GET per number, with Bearer, transId and transactionSrc headers."""
        request = ups.build_track_request(UPS_NUMBER, token="tok", transaction_id="b7f0c6c2")
        assert request == Request(
            "GET", f"/api/track/v1/details/{UPS_NUMBER}",
            params={"locale": "en_US", "returnSignature": "false", "returnMilestones": "false",
                    "returnPOD": "false"},
            headers={"Authorization": "Bearer tok", "Accept": "application/json", "transId": "b7f0c6c2",
                     "transactionSrc": "orderflow"})


class TestUpsParsing:
    @pytest.mark.parametrize(("name", "status", "raw"), [
        ("label_created.json", Status.LABEL_CREATED, "M:MP:003"),
        ("label_voided.json", Status.CANCELLED, "M:MV:003"),
        ("in_transit.json", Status.IN_TRANSIT, "I:AR:005"),
        ("out_for_delivery.json", Status.OUT_FOR_DELIVERY, "I:OT:005"),
        ("access_point_pickup.json", Status.AVAILABLE_FOR_PICKUP, "D:2Q:040"),
        ("delayed.json", Status.DELAYED, "X:WD:048"),
        ("exception_address.json", Status.EXCEPTION, "X:UA:013"),
        ("returned.json", Status.RETURNED_TO_SENDER, "X:RS:013"),
        ("delivered.json", Status.DELIVERED, "D:KB:011"),
    ])
    def test_status_families(self, name: str, status: PackageStatus, raw: str) -> None:
        """Each UPS status family maps to its normalized status, with the raw type:code:statusCode kept."""
        result = track(ups, name)
        assert (result.outcome, result.status, result.raw_status_code) == (FetchOutcome.OK, status, raw)

    def test_out_for_delivery_code_beats_in_progress_type(self) -> None:
        """Type I with code OT is out for delivery, not merely in transit."""
        assert ups.status_of({"type": "I", "code": "OT", "statusCode": "005"}) is Status.OUT_FOR_DELIVERY

    def test_delivered_result(self) -> None:
        """Delivered: delivered_at from the delivered scan's GMT time, events newest first with raw text."""
        result = track(ups, "delivered.json")
        first = result.events[0]
        assert result.delivered_at == utc(2024, 4, 26, 18, 22)
        assert (first.code, first.description, first.location) == ("D:KB:011", "DELIVERED", "Wayne, NJ, 07470, US")
        assert [e.at for e in result.events] == sorted((e.at for e in result.events), reverse=True)
        assert result.is_terminal is True

    def test_event_times_from_gmt_fields_local_offset_or_neither(self) -> None:
        """gmtDate/gmtTime first (unpadded too), else local time with gmtOffset, else local read as UTC."""
        times = [e.at for e in track(ups, "in_transit.json").events[:3]]
        assert times == [utc(2024, 4, 26, 1, 30), utc(2024, 4, 25, 7, 15), utc(2024, 4, 25, 0, 30)]

    def test_estimated_delivery_end_of_scheduled_day(self) -> None:
        """An end-of-day schedule means the end of the scheduled date."""
        assert track(ups, "in_transit.json").estimated_delivery == utc(2024, 4, 29, 23, 59, 59)

    def test_estimated_delivery_window_end(self) -> None:
        """An estimated delivery window ends at its endTime."""
        assert track(ups, "out_for_delivery.json").estimated_delivery == utc(2024, 4, 26, 16)

    def test_rescheduled_date_replaces_scheduled(self) -> None:
        """RDD wins over SDD; weather is the delay's reason."""
        result = track(ups, "delayed.json")
        assert (result.estimated_delivery, result.exception_reason) == (utc(2024, 4, 29, 23, 59, 59), "weather")

    def test_exception_reason_address(self) -> None:
        """A bad-address exception carries the reason word "address"."""
        assert track(ups, "exception_address.json").exception_reason == "address"

    def test_return_delivered_to_shipper_is_terminal_return(self) -> None:
        """A return that reached the shipper stays returned_to_sender and stops polling."""
        result = track(ups, "return_delivered.json")
        assert (result.status, result.delivered_at, result.is_terminal, result.exception_reason) == (
            Status.RETURNED_TO_SENDER, None, True, "refused")

    def test_not_found_is_a_200_with_warning(self) -> None:
        """TW0001 inside an HTTP 200 is not_found, with UPS's words."""
        result = track(ups, "not_found.json")
        assert (result.outcome, result.status, result.raw_status_code, result.message) == (
            FetchOutcome.NOT_FOUND, None, "TW0001", "Tracking Information Not Found")

    def test_spec_404_is_not_found(self) -> None:
        """The documented 404 also means not found."""
        body = b'{"response":{"errors":[{"code":"TW0001","message":"Tracking Information Not Found"}]}}'
        assert track(ups, "", 404, body=body).outcome is FetchOutcome.NOT_FOUND

    def test_invalid_number(self) -> None:
        """TV1002 is invalid_number."""
        result = track(ups, "invalid_number.json", 400)
        assert (result.outcome, result.raw_status_code, result.message) == (
            FetchOutcome.INVALID_NUMBER, "TV1002", "Invalid inquiry number")

    def test_unauthorized(self) -> None:
        """401 is auth_error, with UPS's message."""
        result = track(ups, "auth_error.json", 401)
        assert (result.outcome, result.message) == (FetchOutcome.AUTH_ERROR, "Invalid Access License number")

    def test_rate_limited_with_retry_after(self) -> None:
        """429 is rate_limited and carries Retry-After in seconds."""
        result = track(ups, "rate_limited.json", 429, headers={"Retry-After": "60"})
        assert (result.outcome, result.retry_after, result.raw_status_code) == (
            FetchOutcome.RATE_LIMITED, 60.0, "10429")

    def test_server_error(self) -> None:
        """5xx is carrier_error."""
        assert track(ups, "server_error.json", 500).outcome is FetchOutcome.CARRIER_ERROR

    def test_malformed_body(self) -> None:
        """A body with wrong types is carrier_error naming the problem."""
        result = track(ups, "malformed.json")
        assert result.outcome is FetchOutcome.CARRIER_ERROR
        assert "trackResponse.shipment: expected a list, got an object" in result.message

    def test_proxy_html_page(self) -> None:
        """An HTML page instead of JSON is carrier_error."""
        result = track(ups, "", body=payload("any", "gateway_page.html"))
        assert (result.outcome, result.message.startswith("HTTP 200: the reply is not JSON")) == (
            FetchOutcome.CARRIER_ERROR, True)


# --- FedEx ----------------------------------------------------------------------------------------------

class TestFedexTrackRequest:
    def test_61_numbers_make_3_requests(self) -> None:
        """At most 30 numbers per request: 61 numbers are 30 + 30 + 1."""
        numbers = [f"7760943376{n:02d}" for n in range(61)]
        groups = fedex.batch(numbers)
        requests = [fedex.build_track_request(group, token="t", transaction_id="x") for group in groups]
        assert [len(tracking_info(r)) for r in requests] == [30, 30, 1]
        asked = [info["trackingNumberInfo"]["trackingNumber"] for r in requests for info in tracking_info(r)]
        assert asked == numbers

    def test_repeated_numbers_are_asked_once(self) -> None:
        """Asking twice for one number wastes quota."""
        assert fedex.batch(["1", "2", "1", "3", "2"]) == [["1", "2", "3"]]

    def test_request_body_and_headers(self) -> None:
        """POST /track/v1/trackingnumbers with detailed scans and the transaction id header."""
        request = fedex.build_track_request([FEDEX_NUMBER], token="tok", transaction_id="txn-1")
        assert (request.method, request.path) == ("POST", "/track/v1/trackingnumbers")
        assert request.json == {"includeDetailedScans": True,
                                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": FEDEX_NUMBER}}]}
        assert request.headers == {"Authorization": "Bearer tok", "Content-Type": "application/json",
                                   "Accept": "application/json", "x-locale": "en_US",
                                   "x-customer-transaction-id": "txn-1"}

    def test_more_than_30_numbers_is_a_programming_error(self) -> None:
        """The builder refuses what FedEx would refuse."""
        with pytest.raises(ValueError, match="1 to 30"):
            fedex.build_track_request([str(n) for n in range(31)], token="t", transaction_id="x")


class TestFedexParsing:
    @pytest.mark.parametrize(("name", "status", "raw"), [
        ("label_created.json", Status.LABEL_CREATED, "OC"),
        ("in_transit.json", Status.IN_TRANSIT, "AR"),
        ("out_for_delivery.json", Status.OUT_FOR_DELIVERY, "OD"),
        ("ready_for_pickup.json", Status.AVAILABLE_FOR_PICKUP, "HP"),
        ("delivery_attempted.json", Status.DELIVERY_ATTEMPTED, "DE"),
        ("delivery_refused.json", Status.EXCEPTION, "DE"),
        ("shipment_exception_damaged.json", Status.EXCEPTION, "SE"),
        ("delayed_weather.json", Status.DELAYED, "DY"),
        ("running_late.json", Status.DELAYED, "FD"),
        ("returned.json", Status.RETURNED_TO_SENDER, "RS"),
        ("cancelled.json", Status.CANCELLED, "CA"),
        ("delivered.json", Status.DELIVERED, "DL"),
    ])
    def test_status_families(self, name: str, status: PackageStatus, raw: str) -> None:
        """Each FedEx status family maps to its normalized status, with latestStatusDetail.code kept."""
        result = track(fedex, name)
        assert (result.outcome, result.status, result.raw_status_code) == (FetchOutcome.OK, status, raw)

    @pytest.mark.parametrize(("name", "reason"), [
        ("delivery_attempted.json", "recipient_unavailable"),
        ("delivery_refused.json", "refused"),
        ("shipment_exception_damaged.json", "damaged"),
        ("delayed_weather.json", "weather"),
        ("returned.json", "refused"),
    ])
    def test_exception_reasons(self, name: str, reason: str) -> None:
        """Ancillary details, delay type and exception descriptions give the reason word."""
        assert track(fedex, name).exception_reason == reason

    def test_derived_code_is_the_fallback(self) -> None:
        """Without a precise code the coarse derivedCode decides; an unknown pair is unknown."""
        assert (fedex.status_of("", "IN"), fedex.status_of("ZZ", "DL"), fedex.status_of("ZZ", "QQ")) == (
            Status.LABEL_CREATED, Status.DELIVERED, Status.UNKNOWN)

    def test_delivered_result(self) -> None:
        """Delivered: ACTUAL_DELIVERY time, scans newest first with eventType and description kept."""
        result = track(fedex, "delivered.json")
        assert result.delivered_at == utc(2024, 4, 25, 16, 26)
        assert [(e.code, e.description) for e in result.events[:2]] == [
            ("DL", "Delivered"), ("OD", "On FedEx vehicle for delivery")]
        assert result.events[-1].at == utc(2024, 4, 24, 20, 30, 57)
        assert result.events[0].location == "CLOVIS, CA, 93612, US"

    def test_exception_code_and_text_kept_on_the_event(self) -> None:
        """A scan's exceptionCode and exceptionDescription stay with its raw code and text."""
        first = track(fedex, "delivery_refused.json").events[0]
        assert (first.code, first.description) == ("DE:07", "Delivery exception: Refused by recipient")

    def test_estimate_falls_back_to_standard_transit_window(self) -> None:
        """An empty estimated window falls back to standardTransitTimeWindow.window.ends."""
        assert track(fedex, "in_transit.json").estimated_delivery == utc(2024, 4, 25, 17, 30)

    def test_estimate_uses_the_estimated_window_when_present(self) -> None:
        """A filled estimated window's end is the estimate."""
        assert track(fedex, "out_for_delivery.json").estimated_delivery == utc(2024, 4, 25, 20)

    def test_estimate_from_dates_and_times(self) -> None:
        """ESTIMATED_DELIVERY written as a naive midnight means the end of that day."""
        assert track(fedex, "label_created.json").estimated_delivery == utc(2024, 4, 26, 23, 59, 59)

    def test_reused_number_takes_the_result_with_the_newest_scan(self) -> None:
        """Of two trackResults for a recycled number, this week's parcel wins over 2023's delivery."""
        result = track(fedex, "reused_number.json")
        assert (result.status, result.latest_event_at) == (Status.IN_TRANSIT, utc(2024, 4, 25, 15, 12))

    def test_not_found_inside_a_200(self) -> None:
        """TRACKING.TRACKINGNUMBER.NOTFOUND in a 200 is not_found for that number."""
        [result] = fedex.parse_track_response(200, payload("fedex", "not_found.json"), requested=[FEDEX_MISSING],
                                              headers={})
        assert (result.outcome, result.raw_status_code) == (FetchOutcome.NOT_FOUND,
                                                            "TRACKING.TRACKINGNUMBER.NOTFOUND")
        assert result.message.startswith("Tracking number cannot be found.")

    def test_batch_answers_every_number_in_request_order(self) -> None:
        """Found and not-found numbers share one reply; a number the reply skipped is a carrier_error."""
        requested = [FEDEX_OTHER, FEDEX_MISSING, "111111111111", FEDEX_NUMBER]
        results = fedex.parse_track_response(200, payload("fedex", "batch_mixed.json"), requested=requested,
                                             headers={})
        assert [(r.tracking_number, r.outcome, r.status) for r in results] == [
            (FEDEX_OTHER, FetchOutcome.OK, Status.DELIVERED),
            (FEDEX_MISSING, FetchOutcome.NOT_FOUND, None),
            ("111111111111", FetchOutcome.CARRIER_ERROR, None),
            (FEDEX_NUMBER, FetchOutcome.OK, Status.IN_TRANSIT),
        ]

    def test_one_unreadable_number_does_not_hide_the_others(self) -> None:
        """A malformed scan fails its own number only."""
        results = fedex.parse_track_response(200, payload("fedex", "malformed_one_number.json"),
                                             requested=[FEDEX_NUMBER, FEDEX_OTHER], headers={})
        assert [r.outcome for r in results] == [FetchOutcome.OK, FetchOutcome.CARRIER_ERROR]
        assert "sometime Tuesday" in results[1].message

    def test_malformed_body(self) -> None:
        """A completeTrackResults that is not a list fails every number with a message."""
        result = track(fedex, "malformed.json")
        assert result.outcome is FetchOutcome.CARRIER_ERROR
        assert "completeTrackResults: expected a list" in result.message

    def test_request_level_tracking_error_is_invalid_number(self) -> None:
        """A 400 TRACKING.* error is invalid_number."""
        result = track(fedex, "bad_request.json", 400)
        assert (result.outcome, result.raw_status_code) == (FetchOutcome.INVALID_NUMBER,
                                                            "TRACKING.TRACKINGNUMBER.EMPTY")

    @pytest.mark.parametrize(("name", "status_code"), [("unauthorized.json", 401), ("forbidden.json", 403)])
    def test_unauthorized_and_forbidden(self, name: str, status_code: int) -> None:
        """401 and 403 are auth_error."""
        assert track(fedex, name, status_code).outcome is FetchOutcome.AUTH_ERROR

    def test_daily_quota_waits_until_utc_midnight(self) -> None:
        """"Retry after 12:00AM GMT" without a header becomes the seconds until the next UTC midnight."""
        result = track(fedex, "daily_quota.json", 429)
        assert (result.outcome, result.retry_after) == (FetchOutcome.RATE_LIMITED, 4 * 3600.0)

    def test_retry_after_header_wins_over_quota_text(self) -> None:
        """When FedEx does send Retry-After, it is used as is."""
        assert track(fedex, "daily_quota.json", 429, headers={"Retry-After": "5"}).retry_after == 5.0

    def test_server_error(self) -> None:
        """5xx is carrier_error with FedEx's code."""
        result = track(fedex, "server_error.json", 500)
        assert (result.outcome, result.raw_status_code) == (FetchOutcome.CARRIER_ERROR, "INTERNAL.SERVER.ERROR")


# --- USPS ----------------------------------------------------------------------------------------------

class TestUspsTrackRequest:
    def test_get_with_detail_expansion(self) -> None:
        """GET /tracking/v3/tracking/{number}?expand=DETAIL with a Bearer token."""
        request = usps.build_track_request(USPS_NUMBER, token="tok", destination_zip="34442")
        assert request == Request("GET", f"/tracking/v3/tracking/{USPS_NUMBER}",
                                  params={"expand": "DETAIL", "destinationZIPCode": "34442"},
                                  headers={"Authorization": "Bearer tok", "Accept": "application/json"})


class TestUspsParsing:
    @pytest.mark.parametrize(("name", "status", "raw"), [
        ("label_created.json", Status.LABEL_CREATED, "GX"),
        ("in_transit.json", Status.IN_TRANSIT, "A1"),
        ("out_for_delivery.json", Status.OUT_FOR_DELIVERY, "OF"),
        ("available_for_pickup.json", Status.AVAILABLE_FOR_PICKUP, "16"),
        ("delivery_attempted.json", Status.DELIVERY_ATTEMPTED, "02"),
        ("refused.json", Status.EXCEPTION, "04"),
        ("returned.json", Status.RETURNED_TO_SENDER, "09"),
        ("delivered.json", Status.DELIVERED, "01"),
    ])
    def test_status_families(self, name: str, status: PackageStatus, raw: str) -> None:
        """Each USPS event-code family maps to its normalized status, with the newest eventCode kept."""
        result = track(usps, name)
        assert (result.outcome, result.status, result.raw_status_code) == (FetchOutcome.OK, status, raw)

    def test_every_listed_code_range_is_mapped(self) -> None:
        """The Pub 199 ranges in the reference are all mapped: 21-29 return, 51-56 attempt, 80-82 transit."""
        statuses = {usps.status_of(code) for code in ("21", "25", "29")}
        statuses |= {usps.status_of(code) for code in ("51", "56")} | {usps.status_of("81")}
        assert statuses == {Status.RETURNED_TO_SENDER, Status.DELIVERY_ATTEMPTED, Status.IN_TRANSIT}

    def test_unmapped_code_falls_back_to_status_category(self) -> None:
        """A newest code nobody mapped yields to statusCategory ("Alert"), and the raw code is kept."""
        result = track(usps, "unmapped_code.json")
        assert (result.status, result.raw_status_code, result.events[0].status) == (
            Status.EXCEPTION, "K1", Status.UNKNOWN)

    def test_refusal_and_return_carry_the_refused_reason(self) -> None:
        """Code 04 means refused, also for the return that follows it."""
        assert (track(usps, "refused.json").exception_reason, track(usps, "returned.json").exception_reason) == (
            "refused", "refused")

    def test_delivered_result(self) -> None:
        """Delivered at the GMTTimestamp of the delivered scan; raw code, text and place kept."""
        result = track(usps, "delivered.json")
        first = result.events[0]
        assert result.delivered_at == utc(2024, 11, 22, 18, 58, 40)
        assert (first.code, first.description, first.location) == (
            "01", "Delivered, Parcel Locker", "HERNANDO, FL, 34442")

    def test_event_times_gmt_first_then_local_with_offset_then_utc(self) -> None:
        """GMTTimestamp first; else eventTimestamp with GMTOffset; else eventTimestamp read as UTC."""
        times = [e.at for e in track(usps, "in_transit.json").events[:3]]
        assert times == [utc(2024, 11, 20, 6, 13, 31), utc(2024, 11, 20, 6, 11), utc(2024, 11, 19, 6, 16)]

    def test_events_are_sorted_newest_first(self) -> None:
        """Events listed oldest first by the carrier still come out newest first."""
        document = json.loads(payload("usps", "delivered.json"))
        document["trackingEvents"].reverse()
        result = track(usps, "", body=json.dumps(document).encode())
        assert ([e.code for e in result.events[:2]], result.status) == (["01", "OF"], Status.DELIVERED)

    def test_estimated_delivery(self) -> None:
        """expectedDeliveryTimeStamp is kept; a bare predictedDeliveryDate means the end of that day."""
        assert (track(usps, "in_transit.json").estimated_delivery,
                track(usps, "label_created.json").estimated_delivery) == (
            utc(2024, 11, 22, 21), utc(2024, 11, 20, 23, 59, 59))

    def test_not_found_is_404(self) -> None:
        """404 is not_found, with USPS's message."""
        result = track(usps, "not_found.json", 404)
        assert (result.outcome, result.message) == (
            FetchOutcome.NOT_FOUND, "Tracking is not available for this item at this time.")

    def test_unauthorized(self) -> None:
        """401 is auth_error."""
        assert track(usps, "unauthorized.json", 401).outcome is FetchOutcome.AUTH_ERROR

    def test_rate_limited_with_retry_after(self) -> None:
        """429 is rate_limited with the hour USPS asks for."""
        result = track(usps, "rate_limited.json", 429, headers={"Retry-After": "3600"})
        assert (result.outcome, result.retry_after, result.message) == (
            FetchOutcome.RATE_LIMITED, 3600.0, "Exceeded quota limit of API calls per hour.")

    def test_server_error(self) -> None:
        """503 is carrier_error."""
        assert track(usps, "server_error.json", 503).outcome is FetchOutcome.CARRIER_ERROR

    def test_malformed_body(self) -> None:
        """A timestamp that is a list is carrier_error naming the field."""
        result = track(usps, "malformed.json")
        assert result.outcome is FetchOutcome.CARRIER_ERROR
        assert "eventTimestamp: expected text, got a list" in result.message


# --- DHL ----------------------------------------------------------------------------------------------

class TestDhlTrackRequest:
    def test_api_key_header_and_service_hint(self) -> None:
        """GET /track/shipments with the DHL-API-Key header; service only when known."""
        request = dhl.build_track_request(DHL_NUMBER, api_key="key-1", service="parcel-de")
        assert request == Request("GET", "/track/shipments",
                                  params={"trackingNumber": DHL_NUMBER, "service": "parcel-de"},
                                  headers={"DHL-API-Key": "key-1", "Accept": "application/json"})


class TestDhlParsing:
    @pytest.mark.parametrize(("name", "status", "raw"), [
        ("pre_transit.json", Status.LABEL_CREATED, "pre-transit"),
        ("in_transit.json", Status.IN_TRANSIT, "transit"),
        ("failure.json", Status.EXCEPTION, "failure"),
        ("delivered.json", Status.DELIVERED, "delivered"),
    ])
    def test_status_families(self, name: str, status: PackageStatus, raw: str) -> None:
        """Each DHL statusCode maps to its normalized status, with the raw statusCode kept."""
        result = track(dhl, name)
        assert (result.outcome, result.status, result.raw_status_code) == (FetchOutcome.OK, status, raw)

    def test_unknown_status_code_keeps_the_last_known_status(self) -> None:
        """statusCode "unknown" is unmapped: the raw code is kept, the last known status stands."""
        result = track(dhl, "unknown.json")
        assert (result.status, result.raw_status_code, result.events[0].status) == (
            Status.IN_TRANSIT, "unknown", Status.UNKNOWN)

    def test_failure_reason(self) -> None:
        """A refusal in DHL's text is the reason."""
        assert track(dhl, "failure.json").exception_reason == "refused"

    def test_delivered_result(self) -> None:
        """Delivered at the delivered event; place and description kept."""
        result = track(dhl, "delivered.json")
        first = result.events[0]
        assert result.delivered_at == utc(2024, 4, 23, 11, 48)
        assert (first.code, first.description, first.location) == (
            "delivered", "The shipment has been successfully delivered to the recipient.", "Berlin, 10115, DE")

    def test_express_times_without_offset_are_read_as_utc(self) -> None:
        """Express writes local times with no offset; they are read as UTC (a documented choice)."""
        [result] = dhl.parse_track_response(200, payload("dhl", "express_delivered.json"),
                                            requested=["7777777770"], headers={})
        assert (result.delivered_at, result.events[0].description) == (
            utc(2024, 4, 23, 10, 37), "Delivered - Signed for by: JESSICA")

    def test_estimated_delivery(self) -> None:
        """estimatedTimeOfDelivery first, else the time frame's estimatedThrough."""
        assert (track(dhl, "in_transit.json").estimated_delivery,
                track(dhl, "pre_transit.json").estimated_delivery) == (utc(2024, 4, 23, 16), utc(2024, 4, 24, 20))

    def test_several_shipments_take_the_newest(self) -> None:
        """Two services knowing the same id: the shipment with the newest event is ours."""
        result = track(dhl, "several_shipments.json")
        assert (result.status, result.latest_event_at) == (Status.IN_TRANSIT, utc(2024, 4, 23, 5, 3))

    def test_not_found_is_404(self) -> None:
        """404 problem+json is not_found with DHL's detail."""
        result = track(dhl, "not_found.json", 404)
        assert (result.outcome, result.message) == (FetchOutcome.NOT_FOUND,
                                                    "No shipment with given tracking number found.")

    def test_empty_shipment_list_is_not_found(self) -> None:
        """A 200 listing no shipments has no record of the number."""
        assert track(dhl, "no_shipments.json").outcome is FetchOutcome.NOT_FOUND

    def test_unauthorized(self) -> None:
        """401 (a bad key) is auth_error."""
        assert track(dhl, "unauthorized.json", 401).outcome is FetchOutcome.AUTH_ERROR

    def test_rate_limited(self) -> None:
        """429 is rate_limited; DHL's text is kept and Retry-After honoured when sent."""
        result = track(dhl, "rate_limited.json", 429, headers={"Retry-After": "1"})
        assert (result.outcome, result.retry_after, result.message) == (
            FetchOutcome.RATE_LIMITED, 1.0, "Too many requests within defined time period, please try again later.")

    def test_server_error(self) -> None:
        """5xx is carrier_error."""
        assert track(dhl, "server_error.json", 500).outcome is FetchOutcome.CARRIER_ERROR

    def test_malformed_body(self) -> None:
        """A status that is text instead of an object is carrier_error naming the field."""
        result = track(dhl, "malformed.json")
        assert (result.outcome, "shipment.status: expected an object, got text" in result.message) == (
            FetchOutcome.CARRIER_ERROR, True)

    def test_truncated_body(self) -> None:
        """A reply cut off mid-JSON is carrier_error."""
        assert track(dhl, "", body=payload("any", "truncated.txt")).outcome is FetchOutcome.CARRIER_ERROR


# --- No reply escapes as an exception ----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25)


def _shaped(carrier: ModuleType, inner: Any) -> Any:
    """Random values planted where each carrier's parser looks, so the deep paths get exercised."""
    return {
        ups: {"trackResponse": {"shipment": [{"package": [inner], "warnings": inner}]}},
        fedex: {"output": {"completeTrackResults": [{"trackingNumber": FEDEX_NUMBER, "trackResults": [inner]}]}},
        usps: {"trackingEvents": [inner], "statusCategory": inner},
        dhl: {"shipments": [inner]},
    }[carrier]


class TestNeverRaises:
    @pytest.mark.parametrize("carrier", [ups, fedex, usps, dhl])
    @settings(max_examples=150, database=None, deadline=None)
    @given(body=st.binary(max_size=64), status_code=st.sampled_from([200, 400, 401, 404, 429, 500]))
    def test_arbitrary_bytes(self, carrier: ModuleType, body: bytes, status_code: int) -> None:
        """Any bytes with any status give one result per number, never an exception."""
        results = carrier.parse_track_response(status_code, body, requested=[NUMBER_OF[carrier]], headers={})
        assert [r.tracking_number for r in results] == [NUMBER_OF[carrier]]

    @pytest.mark.parametrize("carrier", [ups, fedex, usps, dhl])
    @settings(max_examples=150, database=None, deadline=None)
    @given(inner=json_values)
    def test_arbitrary_json_in_the_right_places(self, carrier: ModuleType, inner: Any) -> None:
        """Wrong types deep inside a well-formed envelope give a result, never an exception."""
        body = json.dumps(_shaped(carrier, inner)).encode()
        results = carrier.parse_track_response(200, body, requested=[NUMBER_OF[carrier]], headers={})
        assert len(results) == 1
