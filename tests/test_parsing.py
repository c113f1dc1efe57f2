"""Reading outside text: one time reader, one JSON shape kit, one ACK01 table, whoever the sender is."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from orderflow.errors import InputError
from orderflow.parsing.json_shapes import ShapeError, objects_at, text_at
from orderflow.parsing.times import (
    NOON,
    parse_compact_clock,
    parse_compact_date,
    parse_date,
    parse_offset,
    parse_time,
)
from orderflow.parsing.values import parse_flag
from orderflow.vendors.formats.ack_codes import LINE_ACK_CODES
from orderflow.vendors.formats.csv_feedback import parse_vendor_csv
from orderflow.vendors.formats.x12 import parse_x12
from orderflow.vendors.printful import parse_webhook

AT = datetime(2026, 3, 12, 13, 41, 2, tzinfo=UTC)


def interchange(code: str, body: list[str]) -> str:
    """One ISA/GS/ST around ``body``, trailers counted."""
    lines = ["ISA*00*          *00*          *ZZ*ACMEBLANKS     *ZZ*THREADBARE     *260314*1630*U*00401*"
             "000007001*0*P*>", "GS*SH*ACMEBLANKS*THREADBARE*20260314*1630*7001*X*004010",
             f"ST*{code}*0001", *body, f"SE*{len(body) + 2}*0001", "GE*1*7001", "IEA*1*000007001"]
    return "".join(f"{line}~\n" for line in lines)


class TestOneTimeReader:
    @pytest.mark.parametrize("text", [
        "2026-03-12T09:41:02-04:00", "2026-03-12T09:41:02-0400", "2026-03-12T09:41:02-04",
        "2026-03-12 09:41:02 -0400", "2026-03-12T13:41:02Z", "2026-03-12T13:41:02z", "2026-03-12T13:41:02+00:00",
        "2026-03-12T10:41:02-3:00", "2026-03-12T13:41:02.000000000Z",
    ])
    def test_every_offset_form_is_the_same_instant(self, text: str) -> None:
        """Storefronts, vendors and carriers write offsets every way the standard allows, and some it does not
        (a single-digit hour): each form reads as the same instant."""
        assert parse_time(text, naive=None) == AT

    def test_what_a_missing_offset_means_is_the_callers_to_say(self) -> None:
        """UTC by default, a zone or an offset given apart, or refused when the format always writes one."""
        assert parse_time("2026-03-12T13:41:02") == AT
        assert parse_time("2026-03-12T09:41:02", naive=parse_offset("-04:00")) == AT
        with pytest.raises(ValueError, match="not an ISO 8601 time with a UTC offset: '2026-03-12T13:41:02'"):
            parse_time("2026-03-12T13:41:02", naive=None, expected="an ISO 8601 time with a UTC offset")

    def test_a_date_alone_is_its_midnight_or_where_the_caller_places_it(self) -> None:
        assert parse_time("2026-03-14") == datetime(2026, 3, 14, tzinfo=UTC)
        assert parse_time("2026-03-14", date_at=NOON) == datetime(2026, 3, 14, 12, tzinfo=UTC)

    def test_a_day_is_the_day_as_written(self) -> None:
        """A date with a time gives its own calendar day, not the UTC one."""
        assert parse_date("2026-03-14T23:30:00-05:00").isoformat() == "2026-03-14"
        with pytest.raises(ValueError, match="not an ISO 8601 date like 2026-03-14: 'next week'"):
            parse_date("next week")

    def test_a_time_past_the_calendar_is_out_of_range_not_an_overflow(self) -> None:
        with pytest.raises(ValueError, match="out of range"):
            parse_time("9999-12-31T23:00:00-05:00")

    def test_compact_digits(self) -> None:
        """X12 and UPS: CCYYMMDD, and HHMM or HHMMSS with decimal seconds after."""
        assert parse_compact_date("20260314").isoformat() == "2026-03-14"
        assert [parse_compact_clock(text).isoformat() for text in ("0713", "071356", "07135612")] == [
            "07:13:00", "07:13:56", "07:13:56"]
        with pytest.raises(ValueError, match="'2026-03-14' is not a CCYYMMDD date"):
            parse_compact_date("2026-03-14")
        with pytest.raises(ValueError, match="'7:13' is not an HHMM time"):
            parse_compact_clock("7:13")

    def test_offsets_given_apart(self) -> None:
        assert parse_offset("-7:00") == timezone(timedelta(hours=-7))
        with pytest.raises(ValueError, match="not a UTC offset: 'EST'"):
            parse_offset("EST")


class TestJsonShapes:
    def test_a_wrong_shape_names_its_path_and_what_it_is(self) -> None:
        reply = {"shipments": [{"id": 7}, "oops"]}
        with pytest.raises(ShapeError) as raised:
            objects_at(reply, "shipments", "reply")
        assert (raised.value.path, raised.value.problem) == ("reply.shipments[1]", "expected an object, got text")

    def test_text_reads_numbers_as_their_digits_and_refuses_the_rest(self) -> None:
        assert text_at({"id": 7, "missing": None}, "id", "") == "7"
        assert text_at({"id": 7, "missing": None}, "missing", "") == ""
        with pytest.raises(ShapeError, match=r"^orders\[0\]\.sku: expected text, got true/false$"):
            text_at({"sku": True}, "sku", "orders[0]")

    def test_a_printful_value_of_the_wrong_shape_is_refused_by_path(self) -> None:
        """Printful's readers use the same kit: a tracking number that is an object is refused, not read as no
        number at all."""
        hook = {"type": "package_shipped", "created": 1773673512, "data": {
            "shipment": {"id": 1, "tracking_number": {"number": "1Z"}, "items": []},
            "order": {"id": 2, "external_id": "TB1042-PF", "items": []}}}
        with pytest.raises(InputError) as raised:
            parse_webhook(json.dumps(hook).encode(), file="hook.json")
        assert (raised.value.refusal.field, raised.value.refusal.reason) == (
            "data.shipment.tracking_number", "expected text, got an object")


class TestOneAckCodeTable:
    @pytest.mark.parametrize("code", sorted(LINE_ACK_CODES))
    def test_a_csv_ack01_code_means_what_it_means_in_an_855(self, code: str) -> None:
        """Every 4010 ACK01 code, echoed in a vendor's CSV, gets the 855 reader's status and no warning."""
        parsed = parse_vendor_csv(f"po_number,line_number,status\nTB1,1,{code}\n".encode(), file="acks.csv")
        assert ([line.status for line in parsed.acks[0].lines], parsed.warnings) == ([LINE_ACK_CODES[code][0]], [])


class TestStricterWhereTheReadersDiffered:
    def test_an_x12_time_past_the_calendar_refuses_its_set(self) -> None:
        """A ship date of 9999-12-31 23:59 Eastern is past the last UTC instant: the set is refused, not a crash."""
        data = interchange("856", ["BSN*00*SHP1*99991231*2359*0001", "DTM*011*99991231*2359*ET",
                                   "HL*1**S", "TD5*B*2*UPSN", "HL*2*1*O", "PRF*TB1042-ACME", "HL*3*2*I",
                                   "LIN*1*VN*ACM-1", "SN1**1*EA", "CTT*1"])
        parsed = parse_x12(data, file="asn.edi")
        assert parsed.ship_notices == []
        assert "out of range" in parsed.refusals[0].reason

    def test_yes_no_flags(self) -> None:
        assert [parse_flag(text) for text in ("Yes", "t", "1", "", "no", "F")] == [True, True, True, False, False,
                                                                                    False]
        with pytest.raises(ValueError, match="expected true or false, got 'maybe'"):
            parse_flag("maybe")
