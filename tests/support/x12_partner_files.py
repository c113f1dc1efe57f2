"""X12 004010 files in the shapes trading partners really send, written by us, each with what it must read as.

Every fixture names where its shape comes from: the HL orders and qualifiers are those published in X12 4010
implementation guides of retailers and drop-ship programmes, in the test files of public EDI parsing libraries,
and in the X12 code lists (BAK02 element 587, ACK01 element 668, LIN element 235, QTY01 element 673, TD504
element 91). The values (purchase orders, SKUs, numbers) are ours: TB... orders at the vendor Acme.

    for fixture in PARTNER_FILES:
        parsed = parse_x12(fixture.text, file=fixture.name)
        assert parsed.ship_notices == fixture.ship_notices
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from orderflow.vendors.records import Acknowledgement, LineAck, Parcel, ShipNotice, ShippedLine, StockLevel

SENDER = "ACMEBLANKS"
FLOOR = date(2026, 3, 14)


def interchange(code: str, body: list[str], *, control: int = 7001, functional_id: str = "SH") -> str:
    """One ISA/GS/ST around ``body`` with ``*`` ``>`` ``~`` and a newline; trailers counted here."""
    set_lines = [f"ST*{code}*0001", *body, f"SE*{len(body) + 2}*0001"]
    lines = [f"ISA*00*          *00*          *ZZ*{SENDER:<15}*ZZ*THREADBARE     *260314*1630*U*00401*"
             f"{control:09d}*0*P*>",
             f"GS*{functional_id}*{SENDER}*THREADBARE*20260314*1630*{control}*X*004010",
             *set_lines, f"GE*1*{control}", f"IEA*1*{control:09d}"]
    return "".join(f"{line}~\n" for line in lines)


def source_ref(control: int) -> str:
    return f"{SENDER}:{control:09d}:{control}:0001"


@dataclass(frozen=True)
class PartnerFile:
    name: str
    source: str
    """Where the shape comes from."""
    text: str
    ship_notices: list[ShipNotice] = field(default_factory=list)
    acks: list[Acknowledgement] = field(default_factory=list)
    stock: list[StockLevel] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def line(number: int | None, vendor_sku: str, qty: int, upc: str = "", sku: str = "") -> ShippedLine:
    return ShippedLine(number, vendor_sku, qty, upc, sku)


def notice(control: int, vendor_order_id: str, parcels: tuple[Parcel, ...], *, carrier: str | None = "UPSN",
           service: str | None = "UPS Ground", shipped_at: datetime | None = None) -> ShipNotice:
    return ShipNotice(vendor_order_id, shipped_at, carrier, service, parcels, source_ref(control))


SHIPMENT_ONLY_ITEMS = PartnerFile(
    name="856-shipment-item.edi",
    source="Drop-ship 856 implementation guides (single purchase order, small parcel): Shipment/Item only, "
           "no order level; PRF and LIN sit on each item level, the tracking number on the shipment",
    text=interchange("856", [
        "BSN*00*ACM-SI-1*20260314*1630", "HL*1**S", "TD5**2*UPSN*U*UPS Ground", "REF*CN*1Z4R8W670312345676",
        "HL*2*1*I", "LIN*1*VN*ACM-G500-BLK-L*UP*086753090017", "SN1*1*2*EA", "PRF*TB2001-ACME",
        "HL*3*1*I", "LIN*2*VN*ACM-18500-NVY-XL", "SN1*2*1*EA", "PRF*TB2001-ACME",
    ], control=7001),
    ship_notices=[notice(7001, "TB2001-ACME", (Parcel("1Z4R8W670312345676", "UPSN", (
        line(1, "ACM-G500-BLK-L", 2, "086753090017"), line(2, "ACM-18500-NVY-XL", 1))),))],
)

BLANK_PARENTS = PartnerFile(
    name="856-blank-parents.edi",
    source="A public EDI library's 856 test file whose translator leaves HL02 empty on every level "
           "(S/O/I, REF*CN on the shipment, seven items)",
    text=interchange("856", [
        "BSN*00*ACM-BP-1*20260314*1630", "HL*1**S", "TD5**2*UPSN*U*UPS Ground", "REF*CN*1Z4R8W670312345694",
        "HL*2**O", "PRF*TB2002-ACME",
        *[segment for number in range(1, 8)
          for segment in (f"HL*{number + 2}**I", f"LIN*{number}*VN*ACM-ITEM-{number}", f"SN1*{number}*1*EA")],
    ], control=7002),
    ship_notices=[notice(7002, "TB2002-ACME", (Parcel("1Z4R8W670312345694", "UPSN", tuple(
        line(number, f"ACM-ITEM-{number}", 1) for number in range(1, 8))),))],
    warnings=["856-blank-parents.edi: segment 8 (HL): HL02 (parent) is blank on 8 levels; each was placed under "
              "the nearest earlier level above it (S > O > T > P > Q > I)"],
)

PACK_LEVEL_NUMBERS = PartnerFile(
    name="856-pack-numbers.edi",
    source="Retail 856 guides (S/O/P/I): each carton's number under HL*P, written as MAN*CP, REF*2I or REF*CN "
           "depending on the partner",
    text=interchange("856", [
        "BSN*00*ACM-PK-1*20260314*1630", "HL*1**S", "TD5**2*FDEG*U********FedEx Ground", "DTM*011*20260314",
        "HL*2*1*O", "PRF*TB2003-ACME",
        "HL*3*2*P", "MAN*CP*612999999901", "HL*4*3*I", "LIN*1*VN*ACM-A", "SN1*1*1*EA",
        "HL*5*2*P", "REF*2I*612999999902", "HL*6*5*I", "LIN*2*VN*ACM-B", "SN1*2*1*EA",
        "HL*7*2*P", "REF*CN*612999999903", "HL*8*7*I", "LIN*3*VN*ACM-C", "SN1*3*2*EA",
    ], control=7003),
    ship_notices=[notice(7003, "TB2003-ACME", (
        Parcel("612999999901", "FDEG", (line(1, "ACM-A", 1),)),
        Parcel("612999999902", "FDEG", (line(2, "ACM-B", 1),)),
        Parcel("612999999903", "FDEG", (line(3, "ACM-C", 2),)),
    ), carrier="FDEG", service="FedEx Ground", shipped_at=datetime(2026, 3, 14, 12, tzinfo=UTC))],
)

TARE_PACK_ITEM = PartnerFile(
    name="856-tare-pack-item.edi",
    source="Retail pick-and-pack 856 guides (S/T/P/I): pallets (HL*T, MAN*GM SSCC-18) of cartons, no order "
           "level; the purchase order in PRF on the shipment",
    text=interchange("856", [
        "BSN*00*ACM-TP-1*20260314*1630", "HL*1**S", "TD5**2*UPSN*U*UPS Ground", "PRF*TB2004-ACME",
        "HL*2*1*T", "MAN*GM*00008675309000000017",
        "HL*3*2*P", "MAN*CP*1Z4R8W670312345701", "HL*4*3*I", "LIN*1*UP*086753090017", "SN1*1*6*EA",
        "HL*5*2*P", "MAN*CP*1Z4R8W670312345710", "HL*6*5*I", "LIN*2*EN*4006381333931", "SN1*2*4*EA",
    ], control=7004),
    ship_notices=[notice(7004, "TB2004-ACME", (
        Parcel("1Z4R8W670312345701", "UPSN", (line(1, "", 6, "086753090017"),)),
        Parcel("1Z4R8W670312345710", "UPSN", (line(2, "", 4, "4006381333931"),)),
    ))],
)

ORDER_TARE_PACK_ITEM = PartnerFile(
    name="856-order-tare-pack-item.edi",
    source="Retail 856 guides (S/O/T/P/I, the full pick-and-pack order): two orders on one shipment, each with "
           "a pallet of cartons; carton numbers at the pack, one order with its number on the tare",
    text=interchange("856", [
        "BSN*00*ACM-OTP-1*20260314*1630", "HL*1**S", "TD5**2*UPSN*U*UPS Ground",
        "HL*2*1*O", "PRF*TB2005-ACME", "HL*3*2*T", "MAN*GM*00008675309000000024",
        "HL*4*3*P", "MAN*CP*1Z4R8W670312345729", "HL*5*4*I", "LIN*1*BP*TB-HCT-BLK-L", "SN1*1*2*EA",
        "HL*6*1*O", "PRF*TB2006-ACME", "HL*7*6*T", "REF*CN*1Z4R8W670312345738",
        "HL*8*7*P", "HL*9*8*I", "LIN*1*IN*TB-HBH-NVY-XL", "SN1*1*1*EA",
    ], control=7005),
    ship_notices=[
        notice(7005, "TB2005-ACME", (Parcel("1Z4R8W670312345729", "UPSN", (line(1, "", 2, sku="TB-HCT-BLK-L"),)),)),
        notice(7005, "TB2006-ACME", (Parcel("1Z4R8W670312345738", "UPSN",
                                            (line(1, "", 1, sku="TB-HBH-NVY-XL"),)),)),
    ],
)

ORDER_AND_ITEM_NUMBERS = PartnerFile(
    name="856-order-item-numbers.edi",
    source="Drop-ship 856 guides (S/O/I): one order's tracking number on its order level, another's on each "
           "item level",
    text=interchange("856", [
        "BSN*00*ACM-OI-1*20260314*1630", "HL*1**S", "TD5**2*USPS*U*Priority Mail",
        "HL*2*1*O", "PRF*TB2007-ACME", "REF*CN*9400111899223334445566",
        "HL*3*2*I", "LIN*1*SK*ACM-A", "SN1*1*1*EA",
        "HL*4*1*O", "PRF*TB2008-ACME",
        "HL*5*4*I", "LIN*1*VP*ACM-B", "SN1*1*1*EA", "REF*CN*9400111899223334445573",
        "HL*6*4*I", "LIN*2*MG*ACM-C", "SN1*2*3*EA", "REF*CN*9400111899223334445580",
    ], control=7006),
    ship_notices=[
        notice(7006, "TB2007-ACME", (Parcel("9400111899223334445566", "USPS", (line(1, "ACM-A", 1),)),),
               carrier="USPS", service="Priority Mail"),
        notice(7006, "TB2008-ACME", (Parcel("9400111899223334445573", "USPS", (line(1, "ACM-B", 1),)),
                                     Parcel("9400111899223334445580", "USPS", (line(2, "ACM-C", 3),))),
               carrier="USPS", service="Priority Mail"),
    ],
)

LTL_FREIGHT = PartnerFile(
    name="856-ltl-freight.edi",
    source="Retail 856 guides for truckload and LTL (TD504 M, motor common carrier, with the carrier's SCAC): "
           "the PRO number in REF*CN and the bill of lading in REF*BM on the shipment, pallets with SSCC-18",
    text=interchange("856", [
        "BSN*00*ACM-LTL-1*20260314*1630", "HL*1**S", "TD1*PLT*2****G*840*LB", "TD5**2*ODFL*M*Old Dominion",
        "REF*BM*ACMBOL0314001", "REF*CN*08812345678", "DTM*011*20260314",
        "HL*2*1*O", "PRF*TB2009-ACME",
        "HL*3*2*T", "MAN*GM*00008675309000000031", "HL*4*3*I", "LIN*1*VN*ACM-G500-BLK-L", "SN1*1*144*EA",
        "HL*5*2*T", "MAN*GM*00008675309000000048", "HL*6*5*I", "LIN*2*VN*ACM-18500-NVY-XL", "SN1*2*48*EA",
    ], control=7007),
    ship_notices=[ShipNotice(
        "TB2009-ACME", datetime(2026, 3, 14, 12, tzinfo=UTC), "ODFL", "Old Dominion", (), source_ref(7007),
        freight=True, pro_number="08812345678", bill_of_lading="ACMBOL0314001",
        freight_lines=(line(1, "ACM-G500-BLK-L", 144), line(2, "ACM-18500-NVY-XL", 48)))],
)

ACK_CODES = PartnerFile(
    name="855-codes.edi",
    source="The X12 4010 code lists: BAK02 (element 587) AP, AH, NA, RF, RN, RO, RV, ZZ and ACK01 (element 668) "
           "IE, IF, IW, R5, SP, as retail 855 guides use them",
    text="".join(interchange("855", body, control=control, functional_id="PR") for control, body in (
        (7010, ["BAK*00*AP*TB2010-ACME*20260312", "PO1*1*2*EA*6.25**VN*ACM-A", "ACK*IE*2*EA"]),
        (7011, ["BAK*00*AH*TB2011-ACME*20260312", "PO1*1*1*EA*6.25**VN*ACM-A", "ACK*IW*1*EA"]),
        (7012, ["BAK*00*NA*TB2012-ACME*20260312"]),
        (7013, ["BAK*00*RF*TB2013-ACME*20260312", "PO1*1*1*EA*6.25**VN*ACM-A", "ACK*R5*1*EA"]),
        (7014, ["BAK*00*RN*TB2014-ACME*20260312"]),
        (7015, ["BAK*00*RO*TB2015-ACME*20260312", "NTE*GEN*Can ship 20 April instead"]),
        (7016, ["BAK*00*RV*TB2016-ACME*20260312"]),
        (7017, ["BAK*00*ZZ*TB2017-ACME*20260312", "PO1*1*1*EA*6.25**VN*ACM-A", "ACK*SP*1*EA",
                "PO1*2*1*EA*6.25**UP*086753090017", "ACK*IF*1*EA"]),
    )),
    acks=[
        Acknowledgement("TB2010-ACME", "accepted", "", (
            LineAck(1, "ACM-A", 2, "changed", "IE", "Item accepted, price pending", None),), "", source_ref(7010)),
        Acknowledgement("TB2011-ACME", "acknowledged", "", (
            LineAck(1, "ACM-A", 1, "changed", "IW", "Item on hold, waiver required", None),), "", source_ref(7011)),
        Acknowledgement("TB2012-ACME", "acknowledged", "", (), "", source_ref(7012)),
        Acknowledgement("TB2013-ACME", "rejected", "", (
            LineAck(1, "ACM-A", 1, "rejected", "R5", "Item rejected, reorder item as a just in time order", None),),
            "Rejected with exception detail only", source_ref(7013)),
        Acknowledgement("TB2014-ACME", "rejected", "", (), "Rejected - not as agreed", source_ref(7014)),
        Acknowledgement("TB2015-ACME", "rejected", "", (), "Can ship 20 April instead", source_ref(7015)),
        Acknowledgement("TB2016-ACME", "rejected", "", (), "Rejected - validation errors", source_ref(7016)),
        Acknowledgement("TB2017-ACME", "acknowledged", "", (
            LineAck(1, "ACM-A", 1, "changed", "SP", "Item accepted, schedule date pending", None),
            LineAck(2, "", 1, "changed", "IF", "Item on hold, incomplete description", None, upc="086753090017")),
            "", source_ref(7017)),
    ],
)

INVENTORY_QUALIFIERS = PartnerFile(
    name="846-qualifiers.edi",
    source="846 guides of drop-ship programmes and distributors: items named by BP, VP, EC, MF, MG, UP, EN, SK "
           "or IN, stock as QTY*33 (available) or QTY*17 (on hand)",
    text=interchange("846", [
        "BIA*00*DD*ACM-INV-Q*20260314*0600",
        "LIN*1*BP*TB-HCT-BLK-L", "QTY*33*10*EA",
        "LIN*2*VP*ACM-VP-2", "QTY*17*20*EA",
        "LIN*3*EC*ACM-EC-3", "QTY*17*30*EA",
        "LIN*4*MF*ACM-MF-4", "QTY*33*40*EA",
        "LIN*5*MG*ACM-MG-5", "QTY*17*50*EA", "QTY*33*45*EA",
        "LIN*6*UP*086753090017", "QTY*33*60*EA",
        "LIN*7*EN*4006381333931", "QTY*17*70*EA",
        "LIN*8*SK*ACM-SK-8", "QTY*33*80*EA", "DTM*018*20260402",
        "LIN*9*IN*TB-HBH-NVY-XL", "QTY*17*90*EA",
        "CTT*9",
    ], control=7020, functional_id="IB"),
    stock=[StockLevel(vendor_sku, upc, qty, datetime(2026, 3, 14, 6, tzinfo=UTC), restock, sku)
           for vendor_sku, upc, qty, restock, sku in (
               ("", "", 10, None, "TB-HCT-BLK-L"), ("ACM-VP-2", "", 20, None, ""), ("ACM-EC-3", "", 30, None, ""),
               ("ACM-MF-4", "", 40, None, ""), ("ACM-MG-5", "", 45, None, ""), ("", "086753090017", 60, None, ""),
               ("", "4006381333931", 70, None, ""), ("ACM-SK-8", "", 80, date(2026, 4, 2), ""),
               ("", "", 90, None, "TB-HBH-NVY-XL"))],
)


def _loose_envelope(text: str) -> str:
    """Pipes and carets declared in the ISA, CRLF line ends, trailing spaces, no terminator on the last IEA."""
    loose = text.replace("*", "|").replace("|>~", "|^~").replace("~\n", "~  \r\n")
    return loose.rstrip().removesuffix("~")


LOOSE_ENVELOPE = PartnerFile(
    name="856-loose-envelope.edi",
    source="Files from public EDI libraries' test suites: separators other than * (taken from the ISA), "
           "CRLF and trailing blanks after terminators, and a last segment without its terminator",
    text=_loose_envelope(SHIPMENT_ONLY_ITEMS.text.replace("7001", "7030").replace("000007030", "000007030")),
    ship_notices=[notice(7030, "TB2001-ACME", (Parcel("1Z4R8W670312345676", "UPSN", (
        line(1, "ACM-G500-BLK-L", 2, "086753090017"), line(2, "ACM-18500-NVY-XL", 1))),))],
)

PARTNER_FILES = (SHIPMENT_ONLY_ITEMS, BLANK_PARENTS, PACK_LEVEL_NUMBERS, TARE_PACK_ITEM, ORDER_TARE_PACK_ITEM,
                 ORDER_AND_ITEM_NUMBERS, LTL_FREIGHT, ACK_CODES, INVENTORY_QUALIFIERS, LOOSE_ENVELOPE)
