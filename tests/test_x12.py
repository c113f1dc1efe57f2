"""X12 004010: the 850 we write, and the 855/856/846 vendors send us (reference samples copied verbatim)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypedDict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderflow.errors import ConfigError, InputError, Refusal
from orderflow.orders.records import Address
from orderflow.vendors.formats.x12 import (
    ISA_LENGTH,
    parse_x12,
    read_interchanges,
    render_850,
    render_997,
)
from orderflow.vendors.records import (
    Acknowledgement,
    LineAck,
    Parcel,
    ParsedVendorFile,
    PurchaseOrder,
    PurchaseOrderLine,
    ShipNotice,
    ShippedLine,
    StockLevel,
)

SAMPLE_855 = """\
ISA*00*          *00*          *ZZ*ACMEBLANKS     *ZZ*THREADBARE     *260312*1622*U*00401*000005501*0*P*>~
GS*PR*ACMEBLANKS*THREADBARE*20260312*1622*5501*X*004010~
ST*855*0001~
BAK*00*AC*TB1042-ACME*20260312****ACM-SO-55821~
REF*CO*1042~
PO1*1*2*EA*6.25**VN*ACM-G500-BLK-L*UP*086753090017~
ACK*IA*2*EA*068*20260314~
PO1*2*1*EA*6.25**VN*ACM-G500-WHT-M*UP*086753090024~
ACK*IR*1*EA~
PO1*3*1*EA*14.90**VN*ACM-18500-NVY-XL*UP*086753090031~
ACK*IA*1*EA*068*20260314~
CTT*3*4~
SE*11*0001~
GE*1*5501~
IEA*1*000005501~
"""

SAMPLE_856 = """\
ISA*00*          *00*          *ZZ*ACMEBLANKS     *ZZ*THREADBARE     *260314*1630*U*00401*000005502*0*P*>~
GS*SH*ACMEBLANKS*THREADBARE*20260314*1630*5502*X*004010~
ST*856*0001~
BSN*00*ACM-ASN-0314-01*20260314*1630*0001~
HL*1**S~
TD1*CTN*2****G*2.1*LB~
TD5**2*UPSN*U*UPS Ground~
DTM*011*20260314~
N1*ST*Jordan Rivera~
N3*42 Harbor Rd*Unit 5~
N4*Portland*ME*04101*US~
N1*SF*Acme Blanks Warehouse~
N4*Reno*NV*89502*US~
HL*2*1*O~
PRF*TB1042-ACME***20260312~
REF*CO*1042~
HL*3*2*P~
TD1*CTN*1****G*1.2*LB~
MAN*CP*1Z4R8W670312345676~
HL*4*3*I~
LIN*1*VN*ACM-G500-BLK-L*UP*086753090017~
SN1*1*2*EA~
HL*5*2*P~
TD1*CTN*1****G*0.9*LB~
MAN*CP*1Z4R8W670312345694~
HL*6*5*I~
LIN*3*VN*ACM-18500-NVY-XL*UP*086753090031~
SN1*3*1*EA~
CTT*6~
SE*28*0001~
GE*1*5502~
IEA*1*000005502~
"""

SAMPLE_846 = """\
ISA*00*          *00*          *ZZ*ACMEBLANKS     *ZZ*THREADBARE     *260314*0600*U*00401*000005503*0*P*>~
GS*IB*ACMEBLANKS*THREADBARE*20260314*0600*5503*X*004010~
ST*846*0001~
BIA*00*DD*ACM-INV-20260314*20260314*0600~
LIN*1*VN*ACM-G500-BLK-L*UP*086753090017~
PID*F****Heavy Cotton Tee Black L~
QTY*33*146*EA~
LIN*2*VN*ACM-G500-WHT-M*UP*086753090024~
PID*F****Heavy Cotton Tee White M~
DTM*018*20260402~
QTY*33*0*EA~
LIN*3*VN*ACM-18500-NVY-XL*UP*086753090031~
PID*F****Heavy Blend Hoodie Navy XL~
QTY*33*37*EA~
LIN*4*VN*ACM-G500-RED-S*UP*086753090048~
PID*F****Heavy Cotton Tee Red S~
QTY*33*0*EA~
CTT*4~
SE*17*0001~
GE*1*5503~
IEA*1*000005503~
"""

SAMPLE_850 = """\
ISA*00*          *00*          *ZZ*THREADBARE     *ZZ*ACMEBLANKS     *260312*1405*U*00401*000000101*0*P*>~
GS*PO*THREADBARE*ACMEBLANKS*20260312*1405*101*X*004010~
ST*850*0001~
BEG*00*NE*TB1042-ACME**20260312~
REF*CO*1042~
PER*BD*Orderflow Ops*EM*ops@threadbare.example~
DTM*010*20260314~
TD5**2*UPSN*U*UPS Ground~
N1*ST*Jordan Rivera~
N3*42 Harbor Rd*Unit 5~
N4*Portland*ME*04101*US~
PER*IC*Jordan Rivera*TE*2075550142~
PO1*1*2*EA*6.25**VN*ACM-G500-BLK-L*UP*086753090017~
PID*F****Heavy Cotton Tee Black L~
PO1*2*1*EA*6.25**VN*ACM-G500-WHT-M*UP*086753090024~
PID*F****Heavy Cotton Tee White M~
PO1*3*1*EA*14.90**VN*ACM-18500-NVY-XL*UP*086753090031~
PID*F****Heavy Blend Hoodie Navy XL~
CTT*3*4~
SE*18*0001~
GE*1*101~
IEA*1*000000101~
"""


class PartnerIds(TypedDict):
    sender_id: str
    sender_qualifier: str
    receiver_id: str
    receiver_qualifier: str


ACME = PartnerIds(sender_id="THREADBARE", sender_qualifier="ZZ", receiver_id="ACMEBLANKS", receiver_qualifier="ZZ")
NOW = datetime(2026, 3, 12, 14, 5, tzinfo=UTC)

SHIP_TO = Address(name="Jordan Rivera", address1="42 Harbor Rd", address2="Unit 5", city="Portland",
                  province="ME", zip="04101", country="US", phone="2075550142")
ORDER_1042 = PurchaseOrder(
    vendor_order_id="TB1042-ACME", order_number="1042", order_date=date(2026, 3, 12), ship_to=SHIP_TO,
    customer_email="jordan@example.com", requested_ship_date=date(2026, 3, 14), carrier_scac="UPSN",
    lines=(
        PurchaseOrderLine(1, "TB-HCT-BLK-L", "ACM-G500-BLK-L", "086753090017", "Heavy Cotton Tee Black L", 2,
                          Decimal("6.25")),
        PurchaseOrderLine(2, "TB-HCT-WHT-M", "ACM-G500-WHT-M", "086753090024", "Heavy Cotton Tee White M", 1,
                          Decimal("6.25")),
        PurchaseOrderLine(3, "TB-HBH-NVY-XL", "ACM-18500-NVY-XL", "086753090031", "Heavy Blend Hoodie Navy XL",
                          1, Decimal("14.90")),
    ))

EXPECTED_850 = """\
ISA*00*          *00*          *ZZ*THREADBARE     *ZZ*ACMEBLANKS     *260312*1405*U*00401*000000101*0*P*>~
GS*PO*THREADBARE*ACMEBLANKS*20260312*1405*101*X*004010~
ST*850*0101~
BEG*00*NE*TB1042-ACME**20260312~
REF*CO*1042~
DTM*010*20260314~
TD5**2*UPSN*U~
N1*ST*Jordan Rivera~
N3*42 Harbor Rd*Unit 5~
N4*Portland*ME*04101*US~
PER*IC*Jordan Rivera*TE*2075550142*EM*jordan@example.com~
PO1*1*2*EA*6.25**VN*ACM-G500-BLK-L*UP*086753090017*BP*TB-HCT-BLK-L~
PID*F****Heavy Cotton Tee Black L~
PO1*2*1*EA*6.25**VN*ACM-G500-WHT-M*UP*086753090024*BP*TB-HCT-WHT-M~
PID*F****Heavy Cotton Tee White M~
PO1*3*1*EA*14.90**VN*ACM-18500-NVY-XL*UP*086753090031*BP*TB-HBH-NVY-XL~
PID*F****Heavy Blend Hoodie Navy XL~
CTT*3*4~
SE*17*0101~
GE*1*101~
IEA*1*000000101~
"""


def write_850(po: PurchaseOrder, interchange_control: int = 101, group_control: int = 101) -> str:
    return render_850(po, **ACME, interchange_control=interchange_control, group_control=group_control, now=NOW)


def composed(*sets: tuple[str, list[str]], functional_id: str = "PR", control: int = 900) -> str:
    """An Acme interchange around transaction sets given as (ST01, body); the trailers are counted here."""
    lines = [f"ISA*00*          *00*          *ZZ*ACMEBLANKS     *ZZ*THREADBARE     *260314*1630*U*00401*"
             f"{control:09d}*0*P*>",
             f"GS*{functional_id}*ACMEBLANKS*THREADBARE*20260314*1630*{control}*X*004010"]
    for index, (code, body) in enumerate(sets, start=1):
        lines += [f"ST*{code}*{index:04d}", *body, f"SE*{len(body) + 2}*{index:04d}"]
    lines += [f"GE*{len(sets)}*{control}", f"IEA*1*{control:09d}"]
    return "".join(f"{line}~\n" for line in lines)


def segments_of(text: str) -> list[str]:
    return [segment.strip() for segment in text.split("~") if segment.strip()]


def as_sent(text: str) -> str:
    """The documented writer rule for free text: separators and control characters become spaces."""
    return re.sub(r"[*>~\x00-\x1f\x7f-\x9f]", " ", text).strip()


class TestRender850:
    def test_order_1042_renders_segment_for_segment(self) -> None:
        """The 850 for TB1042-ACME is exactly the documented layout, with *, >, ~ and a newline per segment."""
        assert write_850(ORDER_1042) == EXPECTED_850

    def test_isa_is_fixed_width(self) -> None:
        """The ISA is 106 characters including its terminator, whatever the ids' lengths."""
        po = ORDER_1042
        text = render_850(po, sender_id="TB", sender_qualifier="01", receiver_id="ACMEBLANKSWHOLE",
                          receiver_qualifier="12", interchange_control=7, group_control=8, now=NOW, usage="T")
        isa = text.split("\n")[0]
        assert len(isa) == ISA_LENGTH
        assert isa == ("ISA*00*          *00*          *01*TB             *12*ACMEBLANKSWHOLE*260312*1405*U*00401*"
                       "000000007*0*T*>~")

    def test_trailer_counts_and_control_numbers(self) -> None:
        """SE01 counts ST to SE, SE02 is ST02 (from the group control), GE01/IEA01 count one set and group."""
        segments = segments_of(write_850(ORDER_1042, interchange_control=42, group_control=123456))
        st_index = segments.index("ST*850*123456")
        assert segments[-3] == f"SE*{len(segments) - 2 - st_index}*123456"
        assert segments[-3] == "SE*17*123456"
        assert segments[-2:] == ["GE*1*123456", "IEA*1*000000042"]
        assert segments[1].split("*")[6] == "123456"

    def test_round_trip_of_order_1042(self) -> None:
        """Our own reader reads our 850 back to the same purchase order, with no refusals or warnings."""
        parsed = parse_x12(write_850(ORDER_1042).encode(), file="po_TB1042-ACME.edi")
        assert parsed == ParsedVendorFile(purchase_orders=[ORDER_1042], interchange="THREADBARE:000000101")

    def test_optional_parts_are_left_out(self) -> None:
        """No requested date, carrier, phone, e-mail, cost, UPC, SKU or description: those segments and
        elements are omitted rather than sent empty."""
        po = replace(ORDER_1042, requested_ship_date=None, carrier_scac=None, customer_email="",
                     ship_to=replace(SHIP_TO, phone="", address2=""),
                     lines=(PurchaseOrderLine(1, "", "ACM-G500-BLK-L", "", "", 2, None),))
        body = segments_of(write_850(po))[3:-3]
        assert body == ["BEG*00*NE*TB1042-ACME**20260312", "REF*CO*1042", "N1*ST*Jordan Rivera",
                        "N3*42 Harbor Rd", "N4*Portland*ME*04101*US", "PO1*1*2*EA***VN*ACM-G500-BLK-L",
                        "CTT*1*2"]
        assert parse_x12(write_850(po), file="po.edi").purchase_orders == [po]

    def test_separators_in_free_text_become_spaces(self) -> None:
        """A name, street or description holding * > ~ or a line break is sent with spaces instead."""
        po = replace(ORDER_1042, ship_to=replace(SHIP_TO, name="Ana*Lopez~", address1="1 A>B St\r\nRear"),
                     lines=(replace(ORDER_1042.lines[0], description="Tee ~ *Black*"),))
        segments = segments_of(write_850(po))
        assert "N1*ST*Ana Lopez" in segments
        assert "N3*1 A B St  Rear*Unit 5" in segments
        assert "PID*F****Tee    Black" in segments

    @pytest.mark.parametrize(("change", "field"), [
        ({"vendor_order_id": "TB1042*ACME"}, "vendor_order_id"),
        ({"order_number": "10~42"}, "order_number"),
        ({"customer_email": "a~b@example.com"}, "customer_email"),
        ({"lines": (replace(ORDER_1042.lines[0], vendor_sku="ACM>G500"),)}, "lines[0].vendor_sku"),
        ({"lines": (replace(ORDER_1042.lines[0], upc="0867\n53"),)}, "lines[0].upc"),
    ])
    def test_identifiers_with_separators_are_refused(self, change: dict[str, object], field: str) -> None:
        """Ids are join keys: one holding a separator is refused, never silently altered."""
        with pytest.raises(InputError) as caught:
            write_850(replace(ORDER_1042, **change))  # type: ignore[arg-type]
        assert caught.value.refusal.field == field

    @pytest.mark.parametrize(("change", "field"), [
        ({"lines": ()}, "lines"),
        ({"vendor_order_id": ""}, "vendor_order_id"),
        ({"ship_to": replace(SHIP_TO, name=" ~ ")}, "ship_to.name"),
        ({"lines": (replace(ORDER_1042.lines[0], qty=0),)}, "lines[0].qty"),
        ({"lines": (replace(ORDER_1042.lines[0], unit_cost=Decimal("-1")),)}, "lines[0].unit_cost"),
        ({"lines": (replace(ORDER_1042.lines[0], vendor_sku="", upc=""),)}, "lines[0].vendor_sku"),
        ({"lines": (ORDER_1042.lines[0], ORDER_1042.lines[0])}, "lines[1].line"),
    ])
    def test_orders_that_cannot_be_sent_are_refused(self, change: dict[str, object], field: str) -> None:
        """An order without lines, id, ship-to name, a positive quantity or an item id is refused."""
        with pytest.raises(InputError) as caught:
            write_850(replace(ORDER_1042, **change))  # type: ignore[arg-type]
        assert caught.value.refusal.field == field

    @pytest.mark.parametrize("settings_change", [
        {"sender_id": "THREADBARE-APPAREL"}, {"sender_id": ""}, {"receiver_id": "ACME*"},
        {"sender_qualifier": "Z"}, {"interchange_control": 0}, {"group_control": 1_000_000_000},
        {"usage": "X"},
    ])
    def test_envelope_settings_out_of_range_are_config_errors(self, settings_change: dict[str, object]) -> None:
        """Ids longer than 15, bad qualifiers, control numbers outside 1..999999999 are configuration errors."""
        arguments: dict[str, object] = {**ACME, "interchange_control": 1, "group_control": 1, "now": NOW,
                                        **settings_change}
        with pytest.raises(ConfigError):
            render_850(ORDER_1042, **arguments)  # type: ignore[arg-type]


identifiers = st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,19}", fullmatch=True)
free_text = st.text(max_size=30)
lines_strategy = st.lists(
    st.builds(PurchaseOrderLine, line=st.just(0), sku=st.just("") | identifiers, vendor_sku=identifiers,
              upc=st.just("") | st.from_regex(r"[0-9]{12}", fullmatch=True), description=free_text,
              qty=st.integers(1, 10_000),
              unit_cost=st.none() | st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False,
                                                allow_infinity=False)),
    min_size=1, max_size=80,
).map(lambda lines: tuple(replace(line, line=number) for number, line in enumerate(lines, start=1)))
orders_strategy = st.builds(
    PurchaseOrder, vendor_order_id=identifiers, order_number=identifiers,
    order_date=st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    ship_to=st.builds(Address, name=free_text.map(lambda text: "N" + text), company=free_text,
                      address1=free_text, address2=free_text, city=free_text, province=free_text, zip=free_text,
                      country=free_text, phone=free_text),
    customer_email=st.just("") | st.from_regex(r"[a-z0-9.+_-]{1,12}@[a-z]{1,10}\.example", fullmatch=True),
    lines=lines_strategy,
    requested_ship_date=st.none() | st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    carrier_scac=st.none() | st.sampled_from(["UPSN", "FDEG", "USPS", "DHL"]),
)


def expected_after_sending(po: PurchaseOrder) -> PurchaseOrder:
    ship_to = po.ship_to
    return replace(
        po, ship_to=Address(**{name: as_sent(getattr(ship_to, name)) for name in ship_to.__dataclass_fields__}),
        lines=tuple(replace(line, description=as_sent(line.description)) for line in po.lines))


class TestRoundTripProperty:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(po=orders_strategy, interchange_control=st.integers(1, 999_999_999),
           group_control=st.integers(1, 999_999_999))
    def test_any_order_reads_back_as_sent(self, po: PurchaseOrder, interchange_control: int,
                                          group_control: int) -> None:
        """Any order (odd characters in names, up to 80 lines) reads back equal to what the writer sent."""
        text = write_850(po, interchange_control, group_control)
        assert len(text.split("\n")[0]) == ISA_LENGTH
        parsed = parse_x12(text.encode("utf-8"), file="po.edi")
        assert parsed.refusals == []
        assert parsed.warnings == []
        assert parsed.purchase_orders == [expected_after_sending(po)]


ACK_1042 = Acknowledgement(
    vendor_order_id="TB1042-ACME", status="accepted_with_changes", vendor_reference="ACM-SO-55821",
    reason="", source_ref="ACMEBLANKS:000005501:5501:0001",
    lines=(
        LineAck(1, "ACM-G500-BLK-L", 2, "accepted", "IA", "", date(2026, 3, 14), upc="086753090017"),
        LineAck(2, "ACM-G500-WHT-M", 1, "rejected", "IR", "Item rejected", None, upc="086753090024"),
        LineAck(3, "ACM-18500-NVY-XL", 1, "accepted", "IA", "", date(2026, 3, 14), upc="086753090031"),
    ))

NOTICE_1042 = ShipNotice(
    vendor_order_id="TB1042-ACME", shipped_at=datetime(2026, 3, 14, 12, 0, tzinfo=UTC), carrier="UPSN",
    service="UPS Ground", source_ref="ACMEBLANKS:000005502:5502:0001",
    parcels=(
        Parcel("1Z4R8W670312345676", "UPSN", (ShippedLine(1, "ACM-G500-BLK-L", 2, "086753090017"),)),
        Parcel("1Z4R8W670312345694", "UPSN", (ShippedLine(3, "ACM-18500-NVY-XL", 1, "086753090031"),)),
    ))

STOCK_0314 = [
    StockLevel("ACM-G500-BLK-L", "086753090017", 146, datetime(2026, 3, 14, 6, 0, tzinfo=UTC), None),
    StockLevel("ACM-G500-WHT-M", "086753090024", 0, datetime(2026, 3, 14, 6, 0, tzinfo=UTC), date(2026, 4, 2)),
    StockLevel("ACM-18500-NVY-XL", "086753090031", 37, datetime(2026, 3, 14, 6, 0, tzinfo=UTC), None),
    StockLevel("ACM-G500-RED-S", "086753090048", 0, datetime(2026, 3, 14, 6, 0, tzinfo=UTC), None),
]


class TestRead855:
    def test_sample_acknowledgement(self) -> None:
        """The sample 855 is one acknowledgement for TB1042-ACME: accepted with changes, line 2 rejected (IR)."""
        parsed = parse_x12(SAMPLE_855.encode(), file="ack.edi")
        assert parsed == ParsedVendorFile(acks=[ACK_1042], interchange="ACMEBLANKS:000005501")

    def test_rejected_order_takes_its_reason_from_nte(self) -> None:
        """BAK02 RD is a rejection; NTE text is the reason, and lines without ACK share the verdict."""
        text = composed(("855", ["BAK*00*RD*TB1043-ACME*20260312", "NTE*GEN*Account on credit hold",
                                 "PO1*1*1*EA*6.25**VN*ACM-G500-BLK-L"]))
        (ack,) = parse_x12(text, file="ack.edi").acks
        assert (ack.status, ack.reason) == ("rejected", "Account on credit hold")
        assert ack.lines == (LineAck(1, "ACM-G500-BLK-L", 1, "rejected", "", "", None),)

    def test_rejection_without_text_gets_the_standard_meaning(self) -> None:
        """A rejection with no partner text still says why in words (BAK02 RJ)."""
        (ack,) = parse_x12(composed(("855", ["BAK*00*RJ*TB1043-ACME*20260312"])), file="ack.edi").acks
        assert (ack.status, ack.reason, ack.lines) == ("rejected", "Purchase order rejected, no detail", ())

    def test_line_codes_backorder_partial_change_and_unknown(self) -> None:
        """IB carries its expected date, BP splits into two answers, IQ is a change, a hold (IH) is a change for
        review, and line NTE/REF text becomes the reason."""
        text = composed(("855", [
            "BAK*00*AC*TB1044-ACME*20260312****ACM-SO-9",
            "PO1*1*3*EA*6.25**VN*ACM-G500-BLK-L", "ACK*IB*3*EA*068*20260402",
            "PO1*2*4*EA*6.25**SK*ACM-G500-WHT-M", "ACK*IA*1*EA", "ACK*BP*3*EA*068*20260410",
            "PO1*3*2*EA*6.25**VN*ACM-G500-RED-S", "ACK*IQ*1*EA", "REF*ZZ*DISC*Discontinued colour",
            "PO1*4*1*EA*6.25**VN*ACM-G500-GRN-S", "ACK*IH*1*EA",
            "PO1*5*1*EA*6.25**VN*ACM-G500-YEL-S", "NTE*LIN*Bad item number", "ACK*R2*1*EA",
        ]))
        (ack,) = parse_x12(text, file="ack.edi").acks
        assert ack.status == "accepted_with_changes"
        assert ack.vendor_reference == "ACM-SO-9"
        assert ack.lines == (
            LineAck(1, "ACM-G500-BLK-L", 3, "backordered", "IB", "Item backordered", date(2026, 4, 2)),
            LineAck(2, "ACM-G500-WHT-M", 1, "accepted", "IA", "", None),
            LineAck(2, "ACM-G500-WHT-M", 3, "backordered", "BP",
                    "Item accepted, partial shipment, balance backordered", date(2026, 4, 10)),
            LineAck(3, "ACM-G500-RED-S", 1, "changed", "IQ", "Discontinued colour", None),
            LineAck(4, "ACM-G500-GRN-S", 1, "changed", "IH", "Item on hold", None),
            LineAck(5, "ACM-G500-YEL-S", 1, "rejected", "R2", "Bad item number", None),
        )

    @pytest.mark.parametrize(("body", "line", "field", "reason"), [
        (["BAK*00*QQ*TB1043-ACME*20260312"], 4, "BAK02", "segment 4 (BAK): unknown acknowledgement type 'QQ' "
         "(BAK02); the file is kept, and the order waits for an answer orderflow can read"),
        (["BAK*00*AC*TB1043-ACME*20260312", "PO1*1*1*EA", "ACK*ZX*1*EA"], 6, "ACK01", "segment 6 (ACK): unknown "
         "line status 'ZX' (ACK01); the file is kept, and the order waits for an answer orderflow can read"),
        (["BAK*00*AD**20260312"], 4, "BAK03", "segment 4 (BAK): the purchase order number is missing"),
        (["REF*CO*1043"], 3, None, "segment 3 (ST): the acknowledgement has no BAK segment"),
        (["BAK*00*AD*TB1043-ACME*20260312", "PO1*1*1*EA", "ACK*IA*one*EA"], 6, "ACK02",
         "segment 6 (ACK): 'one' is not a whole number"),
        (["BAK*00*AD*TB1043-ACME*20260312", "PO1*1*1*EA", "ACK*IB*1*EA*068*20260231"], 6, "ACK05",
         "segment 6 (ACK): '20260231' is not a CCYYMMDD date"),
    ])
    def test_unreadable_acknowledgement_is_refused_with_its_segment(self, body: list[str], line: int,
                                                                    field: str | None, reason: str) -> None:
        """An 855 we cannot read is one refusal naming the file, segment number and element."""
        parsed = parse_x12(composed(("855", body)), file="ack.edi")
        assert parsed.acks == []
        assert parsed.refusals == [Refusal("ack.edi", line, field, reason)]


ASN_HEADER = ["BSN*00*ACM-ASN-1*20260314*1630*0004", "HL*1**S", "TD5**2*FDEG*U********FedEx Ground"]


class TestRead856:
    def test_sample_ship_notice(self) -> None:
        """The sample 856 (S/O/P/I) is two UPS parcels: line 1 x2 in ...676 and line 3 x1 in ...694."""
        parsed = parse_x12(SAMPLE_856.encode(), file="asn.edi")
        assert parsed == ParsedVendorFile(ship_notices=[NOTICE_1042], interchange="ACMEBLANKS:000005502")

    def test_pick_and_pack_items_above_packs(self) -> None:
        """Structure 0002 (S/O/I/P): each item goes to the carton listed under it."""
        text = composed(("856", [
            "BSN*00*ACM-ASN-2*20260314*1630*0002", "HL*1**S", "TD5**2*UPSN*U*UPS Ground",
            "DTM*011*20260314*1630*CT", "HL*2*1*O", "PRF*TB1045-ACME",
            "HL*3*2*I", "LIN*1*VN*ACM-G500-BLK-L", "SN1*1*2*EA", "HL*4*3*P", "MAN*CP*1ZA",
            "HL*5*2*I", "LIN*2*VN*ACM-G500-WHT-M", "SN1*2*1*EA", "HL*6*5*P", "MAN*CP*1ZB",
        ]), functional_id="SH")
        (notice,) = parse_x12(text, file="asn.edi").ship_notices
        assert notice.shipped_at == datetime(2026, 3, 14, 21, 30, tzinfo=UTC)
        assert notice.parcels == (Parcel("1ZA", "UPSN", (ShippedLine(1, "ACM-G500-BLK-L", 2),)),
                                  Parcel("1ZB", "UPSN", (ShippedLine(2, "ACM-G500-WHT-M", 1),)))

    def test_no_packs_uses_shipment_reference(self) -> None:
        """Structure 0004 (S/O/I): without MAN*CP the shipment's REF*CN is the tracking number for all items,
        the service comes from TD512, and no DTM*011 means no ship time."""
        text = composed(("856", [
            *ASN_HEADER, "REF*CN*612999999999", "HL*2*1*O", "PRF*TB1046-ACME",
            "HL*3*2*I", "LIN**SK*ACM-G500-BLK-L", "SN1*1*2*EA", "HL*4*2*I", "LIN*2*VN*ACM-G500-WHT-M",
            "SN1*2*1*EA",
        ]))
        (notice,) = parse_x12(text, file="asn.edi").ship_notices
        assert (notice.carrier, notice.service, notice.shipped_at) == ("FDEG", "FedEx Ground", None)
        assert notice.parcels == (Parcel("612999999999", "FDEG", (ShippedLine(1, "ACM-G500-BLK-L", 2),
                                                                  ShippedLine(2, "ACM-G500-WHT-M", 1))),)

    def test_two_orders_in_one_notice(self) -> None:
        """Each order level is its own ship notice, each with its own cartons."""
        text = composed(("856", [
            *ASN_HEADER, "HL*2*1*O", "PRF*TB1047-ACME", "HL*3*2*P", "MAN*CP*111", "HL*4*3*I", "SN1*1*1*EA",
            "HL*5*1*O", "PRF*TB1048-ACME", "HL*6*5*P", "MAN*CP*222", "HL*7*6*I", "SN1*4*3*EA",
        ]))
        notices = parse_x12(text, file="asn.edi").ship_notices
        assert [(notice.vendor_order_id, notice.parcels) for notice in notices] == [
            ("TB1047-ACME", (Parcel("111", "FDEG", (ShippedLine(1, "", 1),)),)),
            ("TB1048-ACME", (Parcel("222", "FDEG", (ShippedLine(4, "", 3),)),)),
        ]

    def test_no_tracking_at_all_keeps_the_lines(self) -> None:
        """A notice without any tracking number still says what shipped, in a parcel with an empty number."""
        text = composed(("856", [*ASN_HEADER, "HL*2*1*O", "PRF*TB1049-ACME", "HL*3*2*I", "SN1*1*1*EA"]))
        (notice,) = parse_x12(text, file="asn.edi").ship_notices
        assert notice.parcels == (Parcel("", "FDEG", (ShippedLine(1, "", 1),)),)

    @pytest.mark.parametrize(("body", "line", "field", "reason"), [
        ([*ASN_HEADER, "HL*2*1*O", "REF*CO*1050"], 7, None,
         "segment 7 (HL): the order level has no PRF01 purchase order number"),
        ([*ASN_HEADER, "HL*2*9*O", "PRF*TB1050-ACME"], 7, "HL02",
         "segment 7 (HL): parent '9' is not an earlier HL"),
        ([*ASN_HEADER, "HL*2*1*O", "PRF*TB1050-ACME", "HL*3*2*I", "LIN*1*VN*X"], 9, None,
         "segment 9 (HL): the item level has no SN1 quantity shipped"),
        (ASN_HEADER, 3, None,
         "segment 3 (ST): the ship notice names no purchase order (no HL*O, and no PRF at any level)"),
    ])
    def test_unreadable_ship_notice_is_refused_with_its_segment(self, body: list[str], line: int,
                                                                field: str | None, reason: str) -> None:
        """A broken HL tree is one refusal naming the segment."""
        parsed = parse_x12(composed(("856", body)), file="asn.edi")
        assert parsed.ship_notices == []
        assert parsed.refusals == [Refusal("asn.edi", line, field, reason)]


class TestRead846:
    def test_sample_inventory(self) -> None:
        """The sample 846 is four stock levels as of 06:00 on 14 March: one restocking 2 April, two at 0."""
        parsed = parse_x12(SAMPLE_846.encode(), file="inv.edi")
        assert parsed == ParsedVendorFile(stock=STOCK_0314, interchange="ACMEBLANKS:000005503")

    def test_item_without_available_quantity_is_refused_alone(self) -> None:
        """An item with no QTY*33 is refused; the other items of the same advice are kept."""
        text = composed(("846", ["BIA*00*DD*X*20260314", "LIN**VN*A-1", "QTY*20*5*EA",
                                 "LIN**SK*B-2*UP*000000000002", "QTY*33*5*EA"]), functional_id="IB")
        parsed = parse_x12(text, file="inv.edi")
        assert parsed.stock == [StockLevel("B-2", "000000000002", 5, datetime(2026, 3, 14, 12, tzinfo=UTC), None)]
        assert parsed.refusals == [Refusal("inv.edi", 5, None,
                                           "segment 5 (LIN): item A-1 has no QTY*33 (quantity available) or "
                                           "QTY*17 (quantity on hand)")]


class TestControlTotals:
    def test_ctt_mismatch_is_a_warning_not_a_refusal(self) -> None:
        """A CTT01 that does not match the items is noted in warnings; all stock levels are kept."""
        parsed = parse_x12(SAMPLE_846.replace("CTT*4~", "CTT*5~"), file="inv.edi")
        assert parsed.stock == STOCK_0314
        assert parsed.refusals == []
        assert parsed.warnings == ["inv.edi: segment 18 (CTT): CTT01 is '5' but the transaction set has 4 LIN items"]

    def test_ctt_hash_total_mismatch_is_a_warning(self) -> None:
        """CTT02 (sum of ordered quantities) that does not add up is a warning too."""
        parsed = parse_x12(SAMPLE_855.replace("CTT*3*4~", "CTT*3*5~"), file="ack.edi")
        assert parsed.acks == [ACK_1042]
        assert parsed.warnings == ["ack.edi: segment 12 (CTT): CTT02 is '5' but the quantities add up to 4"]

    def test_ship_notice_may_count_lin_instead_of_hl(self) -> None:
        """Some partners count LIN segments in the 856 CTT: that is not even a warning."""
        assert parse_x12(SAMPLE_856.replace("CTT*6~", "CTT*2~"), file="asn.edi").warnings == []


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def one_line(text: str) -> str:
    return text.replace("\n", "")


def trailing_spaces(text: str) -> str:
    return text.replace("~\n", "~   \n").replace("SE*", "SE*  ")


def pipes_and_carets(text: str) -> str:
    return text.replace("*", "|").replace(">", "^")


def newline_terminator(text: str) -> str:
    return text.replace("~\n", "\n")


def bom_and_blank_lines(text: str) -> str:
    return "\ufeff\n\n" + text.replace("~\n", "~\n\n") + "\n\n"


class TestLeniency:
    @pytest.mark.parametrize("sample", [SAMPLE_855, SAMPLE_856, SAMPLE_846, SAMPLE_850],
                             ids=["855", "856", "846", "850"])
    @pytest.mark.parametrize("variant", [crlf, one_line, trailing_spaces, pipes_and_carets, newline_terminator,
                                         bom_and_blank_lines])
    def test_layout_variants_read_the_same(self, sample: str, variant: object) -> None:
        """CRLF, no line breaks, trailing spaces, other separators declared in the ISA: the same records."""
        assert callable(variant)
        changed = variant(sample)
        assert changed != sample
        assert parse_x12(changed.encode("utf-8"), file="x.edi") == parse_x12(sample, file="x.edi")

    def test_separator_variant_really_declares_them_in_the_isa(self) -> None:
        """The rewritten ISA carries | at char 3, ^ at char 104 and ~ at char 105."""
        isa = pipes_and_carets(SAMPLE_855)[:ISA_LENGTH]
        assert (isa[3], isa[104], isa[105]) == ("|", "^", "~")

    def test_latin1_names_are_read(self) -> None:
        """A file in Latin-1 (not UTF-8) is still read; the name keeps its accent."""
        text = SAMPLE_850.replace("N1*ST*Jordan Rivera", "N1*ST*José Rivera")
        (po,) = parse_x12(text.encode("latin-1"), file="po.edi").purchase_orders
        assert po.ship_to.name == "José Rivera"

    def test_two_interchanges_in_one_file(self) -> None:
        """Interchanges one after the other, even with different separators, are all read."""
        parsed = parse_x12(SAMPLE_855 + pipes_and_carets(SAMPLE_846), file="x.edi")
        assert (parsed.acks, parsed.stock) == ([ACK_1042], STOCK_0314)
        assert parsed.interchange == "ACMEBLANKS:000005501,ACMEBLANKS:000005503"


class TestStrictness:
    def test_file_cut_inside_a_segment(self) -> None:
        """A file cut in the middle of segment 9 is refused naming segment 9."""
        cut = SAMPLE_855[:SAMPLE_855.index("ACK*IR") + 5]
        with pytest.raises(InputError) as caught:
            parse_x12(cut.encode(), file="ack.edi")
        assert caught.value.refusal == Refusal(
            "ack.edi", 9, None, "segment 9 is cut off: the file ends without its segment terminator '~' (truncated?)")

    def test_file_cut_between_segments(self) -> None:
        """A file that stops after segment 9, inside the transaction set, is refused naming segment 9."""
        cut = SAMPLE_855[:SAMPLE_855.index("PO1*3")]
        with pytest.raises(InputError) as caught:
            parse_x12(cut, file="ack.edi")
        assert caught.value.refusal.line == 9
        assert str(caught.value) == ("ack.edi:9: the file ends after segment 9 inside transaction set 0001 "
                                     "(ST at segment 3): no SE (truncated?)")

    def test_file_cut_in_the_isa(self) -> None:
        """A file shorter than an ISA is refused naming segment 1."""
        with pytest.raises(InputError) as caught:
            parse_x12(SAMPLE_855[:60], file="ack.edi")
        assert caught.value.refusal.line == 1
        assert "segment 1 (ISA) is cut off" in str(caught.value)

    def test_missing_iea(self) -> None:
        """A file that ends after GE has no IEA and is refused."""
        with pytest.raises(InputError, match=r"ends after segment 14 inside interchange 000005501 .*no IEA"):
            parse_x12(SAMPLE_855.replace("IEA*1*000005501~\n", ""), file="ack.edi")

    def test_wrong_se_count_refuses_the_set_naming_the_segment(self) -> None:
        """SE01 of 12 for an 11-segment set refuses that set at segment 13, field SE01."""
        parsed = parse_x12(SAMPLE_855.replace("SE*11*0001", "SE*12*0001"), file="ack.edi")
        assert parsed.acks == []
        assert parsed.refusals == [Refusal("ack.edi", 13, "SE01",
                                           "segment 13 (SE): SE01 is '12' but the transaction set has 11 segments")]

    def test_se02_must_match_st02(self) -> None:
        """SE02 different from ST02 refuses the set."""
        parsed = parse_x12(SAMPLE_855.replace("SE*11*0001", "SE*11*0002"), file="ack.edi")
        assert parsed.refusals == [Refusal("ack.edi", 13, "SE02",
                                           "segment 13 (SE): SE02 '0002' does not match ST02 '0001'")]

    @pytest.mark.parametrize(("old", "new", "field", "line"), [
        ("GE*1*5501", "GE*2*5501", "GE01", 14),
        ("GE*1*5501", "GE*1*5599", "GE02", 14),
        ("IEA*1*000005501", "IEA*2*000005501", "IEA01", 15),
        ("IEA*1*000005501", "IEA*1*000005599", "IEA02", 15),
    ])
    def test_wrong_group_or_interchange_trailer_refuses_the_file(self, old: str, new: str, field: str,
                                                                 line: int) -> None:
        """GE and IEA counts and control numbers must match; otherwise the whole file is refused."""
        with pytest.raises(InputError) as caught:
            parse_x12(SAMPLE_855.replace(old, new), file="ack.edi")
        assert (caught.value.refusal.field, caught.value.refusal.line) == (field, line)

    @pytest.mark.parametrize(("data", "message"), [
        (b"", "the file is empty"),
        (b" \r\n\t", "the file is empty"),
        (b"po_number,order_number,line_number\nTB1043-STCH,1043,1\n",
         "ack.edi:1: not an X12 interchange: it starts with 'po_number,order_numb', not with an ISA segment"),
        (bytes(range(256)), "not an X12 interchange: the file holds binary data (NUL bytes)"),
        (b"\x89PNG\r\n\x1a\n\xff\xd8", "not an X12 interchange: it starts with"),
        (SAMPLE_855.replace("ISA*00*          *", "ISA*00*         *").encode(), "segment 1 (ISA)"),
    ], ids=["empty", "blank", "csv", "binary", "png", "isa-not-fixed-width"])
    def test_not_x12_is_a_clear_input_error(self, data: bytes, message: str) -> None:
        """Empty, CSV, binary data or a malformed ISA give one InputError that says so."""
        with pytest.raises(InputError) as caught:
            parse_x12(data, file="ack.edi")
        assert message in str(caught.value)
        assert caught.value.refusal.file == "ack.edi"

    def test_one_broken_set_among_two_keeps_the_good_one(self) -> None:
        """A wrong SE count in the second set refuses only that set; the first acknowledgement is kept."""
        good = ["BAK*00*AD*TB1051-ACME*20260312", "PO1*1*1*EA**VN*A", "ACK*IA*1*EA"]
        text = composed(("855", good), ("855", ["BAK*00*RJ*TB1052-ACME*20260312"]))
        text = text.replace("SE*3*0002", "SE*4*0002")
        parsed = parse_x12(text, file="ack.edi")
        assert [ack.vendor_order_id for ack in parsed.acks] == ["TB1051-ACME"]
        assert parsed.refusals == [Refusal("ack.edi", 10, "SE01",
                                           "segment 10 (SE): SE01 is '4' but the transaction set has 3 segments")]

    def test_set_without_se_is_refused_and_the_next_set_is_kept(self) -> None:
        """A set that runs into the next ST without SE is refused; the following set is read."""
        text = composed(("855", ["BAK*00*RJ*TB1053-ACME*20260312"]), ("855", ["BAK*00*AD*TB1054-ACME*20260312"]))
        text = text.replace("SE*3*0001~\n", "")
        parsed = parse_x12(text.replace("GE*2*", "GE*2*"), file="ack.edi")
        assert [ack.vendor_order_id for ack in parsed.acks] == ["TB1054-ACME"]
        assert parsed.refusals == [Refusal("ack.edi", 5, None,
                                           "segment 5 (ST): transaction set 0001 (ST at segment 3) has no SE")]

    def test_unsupported_transaction_set_is_refused_and_997_is_noted(self) -> None:
        """An 810 is refused (we do not read invoices); a 997 is noted as a warning, not refused."""
        text = composed(("810", ["BIG*20260314*INV1**TB1042-ACME"]), ("997", ["AK1*PO*101", "AK9*A*1*1*1"]))
        parsed = parse_x12(text, file="x.edi")
        assert parsed.refusals == [Refusal("x.edi", 3, "ST01", "segment 3 (ST): transaction set 810 is not one "
                                                              "orderflow reads (850, 855, 856, 846)")]
        assert parsed.warnings == ["x.edi: segment 6 (ST): functional acknowledgement (997) not read"]


class TestRender997:
    def test_accepts_a_good_group(self) -> None:
        """The 997 for the sample 855 group accepts its one transaction set."""
        (interchange,) = read_interchanges(SAMPLE_855, file="ack.edi")
        text = render_997(interchange.groups[0], **ACME, interchange_control=102, group_control=102, now=NOW)
        assert segments_of(text)[1:] == [
            "GS*FA*THREADBARE*ACMEBLANKS*20260312*1405*102*X*004010", "ST*997*0102", "AK1*PR*5501",
            "AK2*855*0001", "AK5*A", "AK9*A*1*1*1", "SE*6*0102", "GE*1*102", "IEA*1*000000102"]

    def test_rejects_only_the_broken_set(self) -> None:
        """A set with a wrong SE count is rejected with AK5 code 4; the group is partially accepted."""
        text = composed(("855", ["BAK*00*AD*TB1051-ACME*20260312"]), ("855", ["BAK*00*AD*TB1052-ACME*20260312"]))
        (interchange,) = read_interchanges(text.replace("SE*3*0002", "SE*9*0002"), file="ack.edi")
        reply = render_997(interchange.groups[0], **ACME, interchange_control=103, group_control=103, now=NOW)
        assert segments_of(reply)[3:-3] == ["AK1*PR*900", "AK2*855*0001", "AK5*A", "AK2*855*0002", "AK5*R*4",
                                            "AK9*P*2*2*1"]
        assert parse_x12(reply, file="997.edi").warnings == [
            "997.edi: segment 3 (ST): functional acknowledgement (997) not read"]
