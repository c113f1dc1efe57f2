"""Carrier promises and numbers as the carriers mean them.

Shapes from the carriers' documentation examples: FedEx writes a promised day as midnight with the
destination's offset, DHL's ``estimatedTimeOfDelivery`` as midnight UTC beside a time frame that ends at
22:00 ("by end of day"), USPS offsets with a single-digit hour (``-7:00``); DHL Paket and eCommerce label
parcels with a GS1 SSCC (AI 00 and 18 digits).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from orderflow.carriers import usps
from orderflow.carriers.dhl import _estimated_delivery
from orderflow.carriers.http import parse_estimate
from orderflow.carriers.numbers import validate
from orderflow.carriers.status import FetchOutcome
from orderflow.parsing.times import parse_offset, parse_time

NOW = datetime(2024, 11, 22, 21, 0, tzinfo=UTC)


class TestPromisedDays:
    @pytest.mark.parametrize(("text", "end"), [
        ("2024-04-26T00:00:00-06:00", datetime(2024, 4, 27, 5, 59, 59, tzinfo=UTC)),
        ("2024-04-26T00:00:00", datetime(2024, 4, 26, 23, 59, 59, tzinfo=UTC)),
        ("2024-04-26", datetime(2024, 4, 26, 23, 59, 59, tzinfo=UTC)),
        ("2024-04-26T00:00:00Z", datetime(2024, 4, 26, 23, 59, 59, tzinfo=UTC)),
        ("2024-04-26T14:00:00-06:00", datetime(2024, 4, 26, 20, 0, tzinfo=UTC)),
    ])
    def test_a_date_or_midnight_promise_is_the_end_of_that_day(self, text: str, end: datetime) -> None:
        """A promised day, written as a date or a midnight, ends at 23:59:59 where its offset says; a real
        time is kept as given."""
        assert parse_estimate(text) == end

    def test_dhl_time_frame_end_wins_over_a_bare_midnight(self) -> None:
        """DHL's frame end (22:00 local, by end of day) is the promise, not estimatedTimeOfDelivery's midnight."""
        shipment = {"estimatedTimeOfDelivery": "2024-04-26T00:00:00Z",
                    "estimatedDeliveryTimeFrame": {"estimatedFrom": "2024-04-26T08:00:00+02:00",
                                                   "estimatedThrough": "2024-04-26T22:00:00+02:00"}}
        assert _estimated_delivery(shipment) == datetime(2024, 4, 26, 20, 0, tzinfo=UTC)

    @pytest.mark.parametrize(("text", "offset"), [
        ("2024-11-22T13:58:00-7:00", ""), ("2024-11-22T13:58:00", "-7:00"), ("2024-11-22T13:58:00-07:00", "")])
    def test_usps_offsets_in_every_written_form(self, text: str, offset: str) -> None:
        """-7:00, as in USPS's own examples, reads like -07:00, in the time or as a separate offset."""
        assert parse_time(text, naive=parse_offset(offset) if offset else UTC) == datetime(2024, 11, 22, 20, 58,
                                                                                            tzinfo=UTC)


class TestNamedCarrierWins:
    def test_dhl_sscc_form_number_stays_dhl_when_the_vendor_says_dhl(self) -> None:
        """00340434292135100124 also passes a USPS check digit; the vendor named DHL, so DHL it is."""
        verdict = validate("00340434292135100124", "DHL")
        assert (verdict.carrier, verdict.valid, verdict.reason) == ("dhl", True, "valid DHL number (GS1 SSCC form)")

    def test_without_a_name_the_detected_carrier_is_kept(self) -> None:
        """No carrier named: the format that fits decides."""
        assert validate("00340434292135100124", None).carrier == "usps"

    def test_an_sscc_with_a_wrong_check_digit_is_not_dhl(self) -> None:
        """The GS1 check digit is checked: one digit off is not a DHL number."""
        assert not validate("00340434292135100125", "DHL").valid


class TestUspsBadRequest:
    NUMBER = "9400109104250532908587"

    def reply(self, message: str) -> bytes:
        return json.dumps({"apiVersion": "/tracking/v3", "error": {"code": "400", "message": message}}).encode()

    def test_a_400_about_the_number_is_not_found(self) -> None:
        """USPS answers a number it does not know with 400 "invalid tracking number": not found, not an outage."""
        [result] = usps.parse_track_response(400, self.reply("Invalid Tracking Number."), requested=[self.NUMBER],
                                             headers={}, now=NOW)
        assert result.outcome == FetchOutcome.NOT_FOUND

    def test_another_400_stays_a_carrier_error(self) -> None:
        """A 400 about our request (a bad parameter) is still a carrier error."""
        [result] = usps.parse_track_response(400, self.reply("expand must be DETAIL or SUMMARY"),
                                             requested=[self.NUMBER], headers={}, now=NOW)
        assert result.outcome == FetchOutcome.CARRIER_ERROR
