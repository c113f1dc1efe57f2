"""Storefront order parsers: the Shopify export, mapped CSV, WooCommerce and generic JSON, format detection.

The Shopify sample below is the composed export from the vendor-formats reference, byte for byte: three orders,
a multi-line ``Note Attributes`` cell, a zip written ``'04101`` and quoted commas.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderflow.errors import ConfigError, InputError, Refusal
from orderflow.orders.records import Address, IncomingLine, IncomingOrder
from orderflow.storefronts.formats import detect_format, iter_orders
from orderflow.storefronts.json_orders import iter_json_orders
from orderflow.storefronts.mapped_csv import ColumnMapping, iter_mapped_csv
from orderflow.storefronts.shopify import iter_shopify_csv

SAMPLE_EXPORT = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Cu"
    "rrency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Creat"
    "ed at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem "
    "sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name"
    ",Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Z"
    "ip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping"
    " Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Provinc"
    "e,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Paym"
    "ent Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,"
    "Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,T"
    "ax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value\n"
    "#1041,sam.okafor@example.com,paid,2026-03-10 18:02:44 -0400,fulfilled,2026-03-13 11:20:0"
    "5 -0400,no,USD,26.00,4.95,0.00,30.95,,0.00,Standard Shipping,2026-03-10 18:02:41 -0400,1"
    ",Sunrise Wave Tee - Black / M,26.00,,TB-SUNWAVE-BLK-M,true,true,fulfilled,Sam Okafor,181"
    "0 Alder St,1810 Alder St,,,Eugene,97401,OR,US,,Sam Okafor,1810 Alder St,1810 Alder St,,,"
    "Eugene,97401,OR,US,,,,,Shopify Payments,c30811112222.1,0.00,Printful,0.00,,,,64011223344"
    "01,,Low,web,0.00,,,,,,,,,,\n"
    "#1042,jordan.rivera@example.com,paid,2026-03-12 09:41:07 -0400,unfulfilled,,yes,USD,180."
    "00,6.95,9.90,196.85,,0.00,Standard Shipping,2026-03-12 09:41:02 -0400,2,Heavy Cotton Tee"
    ' - Black / L,24.00,,TB-HCT-BLK-L,true,true,pending,Jordan Rivera,"42 Harbor Rd, Unit 5",'
    '42 Harbor Rd,Unit 5,,Portland,\'04101,ME,US,+12075550142,Jordan Rivera,"42 Harbor Rd, Uni'
    't 5",42 Harbor Rd,Unit 5,,Portland,\'04101,ME,US,+12075550142,Please ship together if pos'
    'sible,"custom_name: RIVERA\n'
    'gift_wrap: no",,Shopify Payments,c30855667788.1,0.00,Acme Blanks,0.00,,,,6401133445502,,'
    "Low,web,0.00,ME State Tax 5.5%,9.90,,,,,,,,\n"
    "#1042,jordan.rivera@example.com,,,,,,,,,,,,,,,1,Heavy Cotton Tee - White / M,24.00,,TB-H"
    "CT-WHT-M,true,true,pending,,,,,,,,,,,,,,,,,,,,,,,,,,,Acme Blanks,,,,,,,,,0.00,,,,,,,,,,\n"
    "#1042,jordan.rivera@example.com,,,,,,,,,,,,,,,1,Heavy Blend Hoodie - Navy / XL,48.00,,TB"
    "-HOOD-NVY-XL,true,true,pending,,,,,,,,,,,,,,,,,,,,,,,,,,,Acme Blanks,,,,,,,,,0.00,,,,,,,"
    ",,,\n"
    "#1042,jordan.rivera@example.com,,,,,,,,,,,,,,,1,Mountain Line Tee - Heather / S,28.00,,T"
    "B-MTNLINE-HTR-S,true,true,pending,,,,,,,,,,,,,,,,,,,,,,,,,,,Printful,,,,,,,,,0.00,,,,,,,"
    ",,,\n"
    "#1042,jordan.rivera@example.com,,,,,,,,,,,,,,,1,Custom Name Tee - White / L,32.00,,TB-CU"
    "STNAME-WHT-L,true,true,pending,,,,,,,,,,,,,,,,,,,,,,,,,,,Printful,,,,,,,,,0.00,,,,,,,,,,"
    "\n"
    "#1043,mei.lindqvist@example.com,paid,2026-03-12 21:15:30 -0700,partial,,no,USD,54.00,0.0"
    "0,0.00,54.00,WELCOME10,6.00,Free Shipping,2026-03-12 21:15:22 -0700,1,Embroidered Logo T"
    'ee - Forest / L,34.00,,TB-EMBLOGO-FRS-L,true,true,fulfilled,Mei Lindqvist,"77 NW Couch S'
    't, Apt 410",77 NW Couch St,Apt 410,"Lindqvist Design, LLC",Portland,97209,OR,US,,Mei Lin'
    'dqvist,"77 NW Couch St, Apt 410",77 NW Couch St,Apt 410,"Lindqvist Design, LLC",Portland'
    ",97209,OR,US,,,,,Shopify Payments,c30899001122.1,0.00,Stitch & Co,0.00,,,,6401144556603,"
    '"repeat, vip",Low,web,3.40,,,,,,,,,,\n'
    "#1043,mei.lindqvist@example.com,,,,,,,,,,,,,,,1,Sunrise Wave Tee - White / XL,26.00,,TB-"
    "SUNWAVE-WHT-XL,true,true,pending,,,,,,,,,,,,,,,,,,,,,,,,,,,Printful,,,,,,,,,2.60,,,,,,,,"
    ",,\n"
)

HEADER = SAMPLE_EXPORT.split("\n", 1)[0].split(",")
FILE = "orders_export.csv"


def shopify(data: bytes | str, *, file: str = FILE) -> list[IncomingOrder | Refusal]:
    raw = data.encode() if isinstance(data, str) else data
    return list(iter_shopify_csv(io.BytesIO(raw), source="shopify", file=file))


def orders_only(items: list[IncomingOrder | Refusal]) -> list[IncomingOrder]:
    return [item for item in items if isinstance(item, IncomingOrder)]


def refusals_only(items: list[IncomingOrder | Refusal]) -> list[Refusal]:
    return [item for item in items if isinstance(item, Refusal)]


def export_row(columns: dict[str, str], *, header: list[str] = HEADER) -> str:
    """One CSV row of an export with ``header``, the named cells filled and the rest empty."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([columns.get(name, "") for name in header])
    return buffer.getvalue()


def first_row(number: int) -> dict[str, str]:
    return {
        "Name": f"#{number}", "Email": f"c{number}@example.com", "Financial Status": "paid",
        "Fulfillment Status": "unfulfilled", "Currency": "USD", "Total": "26.00",
        "Created at": "2026-03-12 09:41:02 -0400", "Lineitem quantity": "1", "Lineitem name": "Tee",
        "Lineitem price": "26.00", "Lineitem sku": "TB-SUNWAVE-BLK-M", "Lineitem requires shipping": "true",
        "Shipping Name": "Sam Okafor", "Shipping Zip": "97401", "Shipping Country": "US",
    }


class ChunkStream(io.RawIOBase):
    """A non-seekable byte stream fed from an iterator of chunks, counting the chunks it has handed out."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = b""
        self.chunks_read = 0
        self.exhausted = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                self.exhausted = True
                return 0
            self.chunks_read += 1
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def generated_export(orders: int) -> Iterator[bytes]:
    """A Shopify export of ``orders`` two-line orders, one chunk per order, made only as it is read."""
    yield ",".join(HEADER).encode() + b"\n"
    for number in range(10_000, 10_000 + orders):
        second = {"Name": f"#{number}", "Email": f"c{number}@example.com", "Lineitem quantity": "2",
                  "Lineitem price": "24.00", "Lineitem sku": "TB-HCT-BLK-L"}
        yield (export_row(first_row(number)) + export_row(second)).encode()


class TestShopifySample:
    """The reference sample export."""

    def test_sample_is_exactly_three_orders(self) -> None:
        """The sample yields orders 1041, 1042 and 1043 and nothing else."""
        items = shopify(SAMPLE_EXPORT)
        assert [item.order_number for item in orders_only(items)] == ["1041", "1042", "1043"]
        assert refusals_only(items) == []

    def test_order_1041_is_one_fulfilled_line(self) -> None:
        """#1041 has its one line, its states, its total and its time placed in UTC."""
        order = orders_only(shopify(SAMPLE_EXPORT))[0]
        assert order == IncomingOrder(
            source="shopify",
            order_number="1041",
            placed_at=datetime(2026, 3, 10, 22, 2, 41, tzinfo=UTC),
            customer_name="Sam Okafor",
            customer_email="sam.okafor@example.com",
            shipping=Address(name="Sam Okafor", address1="1810 Alder St", city="Eugene", province="OR",
                             zip="97401", country="US"),
            lines=(IncomingLine(line=1, sku="TB-SUNWAVE-BLK-M", qty=1, price=Decimal("26.00"),
                                name="Sunrise Wave Tee - Black / M", storefront_vendor="Printful",
                                fulfilled_at_storefront=True),),
            currency="USD",
            total=Decimal("30.95"),
            financial_status="paid",
            fulfillment_status="fulfilled",
            cancelled_at=None,
            external_id="6401122334401",
        )

    def test_order_1042_has_five_lines_and_keeps_the_zip_leading_zero(self) -> None:
        """#1042's five lines come in file order; the zip and phone lose the spreadsheet quote only."""
        order = orders_only(shopify(SAMPLE_EXPORT))[1]
        assert [(line.line, line.sku, line.qty, line.price, line.storefront_vendor) for line in order.lines] == [
            (1, "TB-HCT-BLK-L", 2, Decimal("24.00"), "Acme Blanks"),
            (2, "TB-HCT-WHT-M", 1, Decimal("24.00"), "Acme Blanks"),
            (3, "TB-HOOD-NVY-XL", 1, Decimal("48.00"), "Acme Blanks"),
            (4, "TB-MTNLINE-HTR-S", 1, Decimal("28.00"), "Printful"),
            (5, "TB-CUSTNAME-WHT-L", 1, Decimal("32.00"), "Printful"),
        ]
        assert order.shipping == Address(name="Jordan Rivera", address1="42 Harbor Rd", address2="Unit 5",
                                         city="Portland", province="ME", zip="04101", country="US",
                                         phone="+12075550142")
        assert order.placed_at == datetime(2026, 3, 12, 13, 41, 2, tzinfo=UTC)
        assert (order.total, order.financial_status, order.fulfillment_status) == (
            Decimal("196.85"), "paid", "unfulfilled")

    def test_multi_line_note_attributes_stay_in_one_cell(self) -> None:
        """The quoted two-line Note Attributes cell is one value, kept in the order's raw rows."""
        order = orders_only(shopify(SAMPLE_EXPORT))[1]
        assert order.raw["rows"][0]["Note Attributes"] == "custom_name: RIVERA\ngift_wrap: no"
        assert len(order.raw["rows"]) == 5

    def test_order_1043_reads_quoted_commas_and_keeps_the_discount(self) -> None:
        """#1043's company keeps its comma, its two lines come through and the discount stays in raw."""
        order = orders_only(shopify(SAMPLE_EXPORT))[2]
        assert order.shipping.company == "Lindqvist Design, LLC"
        assert (order.shipping.address1, order.shipping.address2) == ("77 NW Couch St", "Apt 410")
        assert [(line.sku, line.qty, line.price) for line in order.lines] == [
            ("TB-EMBLOGO-FRS-L", 1, Decimal("34.00")), ("TB-SUNWAVE-WHT-XL", 1, Decimal("26.00"))]
        assert order.placed_at == datetime(2026, 3, 13, 4, 15, 22, tzinfo=UTC)
        assert (order.total, order.fulfillment_status) == (Decimal("54.00"), "partial")
        assert order.raw["rows"][0]["Discount Code"] == "WELCOME10"
        assert order.raw["rows"][0]["Discount Amount"] == "6.00"
        assert order.raw["rows"][0]["Tags"] == "repeat, vip"

    def test_bom_and_crlf_read_the_same(self) -> None:
        """A byte-order mark and Windows line ends change nothing."""
        windows = b"\xef\xbb\xbf" + SAMPLE_EXPORT.replace("\n", "\r\n").encode()
        assert shopify(windows) == shopify(SAMPLE_EXPORT)

    def test_a_path_reads_the_same_as_a_stream(self, tmp_path: Path) -> None:
        """Given a path, the parser opens the file itself."""
        path = tmp_path / FILE
        path.write_text(SAMPLE_EXPORT, encoding="utf-8")
        assert list(iter_shopify_csv(path, source="shopify", file=FILE)) == shopify(SAMPLE_EXPORT)

    def test_older_and_newer_exports_are_mapped_by_name(self) -> None:
        """An export that stops after Lineitem sku, or adds a column, still reads by column name."""
        older = HEADER[: HEADER.index("Lineitem sku") + 1]
        newer = [*HEADER, "Shipping Province Name"]
        short = ",".join(older) + "\n" + export_row(first_row(1100), header=older)
        long = ",".join(newer) + "\n" + export_row({**first_row(1100), "Shipping Province Name": "Oregon"},
                                                    header=newer)
        old_order, new_order = orders_only(shopify(short))[0], orders_only(shopify(long))[0]
        assert old_order.lines == new_order.lines == (
            IncomingLine(line=1, sku="TB-SUNWAVE-BLK-M", qty=1, price=Decimal("26.00"), name="Tee"),)
        assert old_order.shipping == Address()
        assert new_order.shipping.zip == "97401"

    def test_cancelled_at_is_read_in_utc(self) -> None:
        """A cancelled order carries its cancel time in UTC."""
        text = ",".join(HEADER) + "\n" + export_row({**first_row(1200),
                                                     "Cancelled at": "2026-03-13 08:00:00 -0700"})
        assert orders_only(shopify(text))[0].cancelled_at == datetime(2026, 3, 13, 15, 0, tzinfo=UTC)


class TestShopifyRefusals:
    """A bad field refuses its whole order; the other orders still come through."""

    def test_bad_quantity_refuses_the_order_at_its_physical_line(self) -> None:
        """'abc' on #1043's second row (line 10, after a two-line cell) refuses #1043 only."""
        text = SAMPLE_EXPORT.replace("#1043,mei.lindqvist@example.com,,,,,,,,,,,,,,,1,",
                                     "#1043,mei.lindqvist@example.com,,,,,,,,,,,,,,,abc,")
        items = shopify(text)
        assert [item.order_number for item in orders_only(items)] == ["1041", "1042"]
        assert refusals_only(items) == [Refusal(
            file=FILE, line=10, field="Lineitem quantity",
            reason="order 1043 refused: not a positive whole number: 'abc'")]

    def test_row_after_a_multi_line_cell_is_counted_on_its_own_line(self) -> None:
        """#1042's second row starts on line 5, because its first row spans lines 3 and 4."""
        text = SAMPLE_EXPORT.replace("1,Heavy Cotton Tee - White / M,24.00,", "0,Heavy Cotton Tee - White / M,24.00,")
        assert refusals_only(shopify(text)) == [Refusal(
            file=FILE, line=5, field="Lineitem quantity",
            reason="order 1042 refused: not a positive whole number: '0'")]

    def test_every_bad_field_gets_its_own_refusal(self) -> None:
        """A bad time on the first row and a bad price on the last row are both reported, in file order."""
        text = (SAMPLE_EXPORT.replace("2026-03-12 09:41:02 -0400", "12/03/2026")
                .replace("Custom Name Tee - White / L,32.00,", "Custom Name Tee - White / L,$32,"))
        items = shopify(text)
        assert [item.order_number for item in orders_only(items)] == ["1041", "1043"]
        assert [(refusal.line, refusal.field) for refusal in refusals_only(items)] == [
            (3, "Created at"), (8, "Lineitem price")]
        assert refusals_only(items)[1].reason == "order 1042 refused: not an amount like 24.00: '$32'"

    def test_row_without_a_name_refuses_the_order_it_follows(self) -> None:
        """A nameless row may be a line of the order above it, so that order is refused, not shipped short."""
        nameless = {"Lineitem quantity": "1", "Lineitem price": "5.00", "Lineitem sku": "TB-X"}
        text = (",".join(HEADER) + "\n" + export_row(first_row(1300)) + export_row(nameless)
                + export_row(first_row(1301)))
        items = shopify(text)
        assert [item.order_number for item in orders_only(items)] == ["1301"]
        assert [(refusal.line, refusal.field) for refusal in refusals_only(items)] == [(3, "Name")]

    def test_rows_of_an_order_split_apart_are_refused_where_they_reappear(self) -> None:
        """An order number that comes back after another order is refused at its second appearance."""
        text = (",".join(HEADER) + "\n" + export_row(first_row(1400)) + export_row(first_row(1401))
                + export_row(first_row(1400)))
        items = shopify(text)
        assert [item.order_number for item in orders_only(items)] == ["1400", "1401"]
        assert refusals_only(items) == [Refusal(
            file=FILE, line=4, field="Name",
            reason="order 1400 refused: rows of this order are not together: it also appears at line 2; "
                   "sort the file by order number")]

    def test_a_shipped_line_needs_a_sku_or_a_name_but_a_gift_card_does_not(self) -> None:
        """A line that ships with neither SKU nor name is refused; one with a name is kept for the catalog
        to map by product and variant; a line that does not ship keeps its empty SKU."""
        gift_card = {**first_row(1500), "Lineitem sku": "", "Lineitem requires shipping": "false"}
        nothing = {**first_row(1501), "Lineitem sku": "", "Lineitem name": ""}
        named_only = {**first_row(1502), "Lineitem sku": "", "Lineitem name": "Logo Tee - Black / L"}
        items = shopify(",".join(HEADER) + "\n" + export_row(gift_card) + export_row(nothing)
                        + export_row(named_only))
        assert [(order.lines[0].sku, order.lines[0].name) for order in orders_only(items)] == [
            ("", "Tee"), ("", "Logo Tee - Black / L")]
        assert [(refusal.line, refusal.field) for refusal in refusals_only(items)] == [(3, "Lineitem sku")]

    def test_an_order_without_a_time_placed_is_refused(self) -> None:
        """Created at is read from the order's first row and may not be empty."""
        items = shopify(",".join(HEADER) + "\n" + export_row({**first_row(1600), "Created at": ""}))
        assert items == [Refusal(file=FILE, line=2, field="Created at", reason="order 1600 refused: empty")]


class TestShopifyNotAnExport:
    """A file that is not a readable Shopify export raises InputError naming it, and yields nothing."""

    def test_binary_file_raises_naming_the_file(self) -> None:
        """A PNG is not UTF-8 text."""
        with pytest.raises(InputError, match=r"^logo\.png:1: not UTF-8 text") as raised:
            shopify(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", file="logo.png")
        assert raised.value.refusal.file == "logo.png"

    def test_utf16_export_is_called_binary(self) -> None:
        """An export saved as UTF-16 is full of NUL bytes."""
        with pytest.raises(InputError, match=r"^u16\.csv:1: binary content \(NUL bytes\)"):
            shopify(SAMPLE_EXPORT.encode("utf-16"), file="u16.csv")

    def test_wrong_headers_raise_naming_the_missing_columns(self) -> None:
        """A vendor tracking CSV is not an order export."""
        with pytest.raises(InputError) as raised:
            shopify("po_number,line_number,tracking_number\nTB1042-ACME,1,1Z4R8W670312345676\n", file="t.csv")
        assert str(raised.value) == ("t.csv: not a Shopify order export: no column Name, Created at, "
                                     "Lineitem quantity, Lineitem price, Lineitem sku")

    def test_empty_file_raises(self) -> None:
        """An empty file has no header to recognise."""
        with pytest.raises(InputError, match="empty"):
            shopify(b"")

    def test_undecodable_bytes_deep_in_a_file_yield_nothing(self, tmp_path: Path) -> None:
        """A file on disk is checked end to end first, so a Latin-1 byte on line 10 stops it before any order."""
        path = tmp_path / FILE
        path.write_bytes(SAMPLE_EXPORT.replace("Sunrise Wave Tee - White", "Sunrise Wave Tee - Blanc\xe9")
                         .encode("latin-1"))
        yielded: list[IncomingOrder | Refusal] = []
        with pytest.raises(InputError) as raised:
            yielded.extend(iter_shopify_csv(path, source="shopify", file=FILE))
        assert yielded == []
        assert str(raised.value) == f"{FILE}:10: not UTF-8 text (byte 73 of the line)"

    def test_undecodable_bytes_in_a_one_way_stream_stop_it_at_their_line(self) -> None:
        """A stream that cannot rewind yields the orders before the bad line, then raises naming the line."""
        data = SAMPLE_EXPORT.replace("Sunrise Wave Tee - White", "Sunrise Wave Tee - Blanc\xe9").encode("latin-1")
        stream = io.BufferedReader(ChunkStream(iter([data])))
        yielded: list[IncomingOrder | Refusal] = []
        with pytest.raises(InputError, match=rf"^{FILE}:10: not UTF-8"):
            yielded.extend(iter_shopify_csv(stream, source="shopify", file=FILE))
        assert [item.order_number for item in orders_only(yielded)] == ["1041", "1042"]

    def test_missing_file_raises_input_error(self, tmp_path: Path) -> None:
        """A path that does not exist is an input problem, named."""
        with pytest.raises(InputError, match="cannot read the file"):
            list(iter_shopify_csv(tmp_path / "gone.csv", source="shopify", file="gone.csv"))


class TestShopifyStreaming:
    """A big export is read as a stream, one order at a time."""

    def test_first_order_arrives_before_the_file_is_read(self) -> None:
        """Of 20,000 orders, the first comes out after a handful of chunks; all of them come out in the end."""
        stream = ChunkStream(generated_export(20_000))
        orders = iter_shopify_csv(io.BufferedReader(stream), source="shopify", file="big.csv")
        first = next(orders)
        assert isinstance(first, IncomingOrder)
        assert (first.order_number, len(first.lines)) == ("10000", 2)
        assert stream.chunks_read < 10
        assert not stream.exhausted
        rest = sum(1 for item in orders if isinstance(item, IncomingOrder))
        assert (rest, stream.exhausted) == (19_999, True)


WOO_ORDER: dict[str, Any] = {
    "id": 727,
    "number": "727",
    "status": "processing",
    "currency": "USD",
    "date_created": "2026-03-12T09:41:02",
    "date_created_gmt": "2026-03-12T13:41:02",
    "date_modified_gmt": "2026-03-12T14:00:00",
    "total": "54.99",
    "billing": {"first_name": "John", "last_name": "Doe", "company": "", "address_1": "969 Market",
                "address_2": "", "city": "San Francisco", "state": "CA", "postcode": "94103", "country": "US",
                "email": "john.doe@example.com", "phone": "(555) 555-5555"},
    "shipping": {"first_name": "Jane", "last_name": "Doe", "company": "Doe & Co", "address_1": "1 Pier",
                 "address_2": "Suite 2", "city": "Oakland", "state": "CA", "postcode": "94607", "country": "US"},
    "line_items": [
        {"id": 315, "name": "Heavy Cotton Tee", "product_id": 93, "variation_id": 0, "quantity": 2,
         "sku": "TB-HCT-BLK-L", "price": 16.5, "total": "33.00", "meta_data": []},
        {"id": 316, "name": "Hoodie", "product_id": 22, "variation_id": 23, "quantity": 1,
         "sku": "TB-HOOD-NVY-XL", "price": "21.99", "total": "21.99", "meta_data": [{"key": "a", "value": 1.5}]},
    ],
}


def woo(document: Any, *, file: str = "woo.json") -> list[IncomingOrder | Refusal]:
    return list(iter_json_orders(json.dumps(document).encode(), source="woo", file=file))


class TestWooCommerce:
    """WooCommerce REST v3 order JSON."""

    def test_single_order_object(self) -> None:
        """One order object becomes one order with every field mapped."""
        assert woo(WOO_ORDER) == [IncomingOrder(
            source="woo",
            order_number="727",
            placed_at=datetime(2026, 3, 12, 13, 41, 2, tzinfo=UTC),
            customer_name="John Doe",
            customer_email="john.doe@example.com",
            shipping=Address(name="Jane Doe", company="Doe & Co", address1="1 Pier", address2="Suite 2",
                             city="Oakland", province="CA", zip="94607", country="US", phone="(555) 555-5555"),
            lines=(IncomingLine(line=1, sku="TB-HCT-BLK-L", qty=2, price=Decimal("16.5"), name="Heavy Cotton Tee"),
                   IncomingLine(line=2, sku="TB-HOOD-NVY-XL", qty=1, price=Decimal("21.99"), name="Hoodie")),
            currency="USD",
            total=Decimal("54.99"),
            financial_status="paid",
            fulfillment_status="unfulfilled",
            cancelled_at=None,
            external_id="727",
        )]

    def test_list_of_orders(self) -> None:
        """A page of orders from GET /orders gives each order in turn."""
        second = {**WOO_ORDER, "id": 728, "number": "728", "status": "completed"}
        orders = orders_only(woo([WOO_ORDER, second]))
        assert [(o.order_number, o.fulfillment_status) for o in orders] == [("727", "unfulfilled"),
                                                                           ("728", "fulfilled")]

    def test_cancelled_and_refunded_statuses(self) -> None:
        """Cancelled sets the cancel time from the last change; refunded is a financial state only."""
        cancelled = {**WOO_ORDER, "status": "cancelled"}
        refunded = {**WOO_ORDER, "number": "729", "status": "refunded"}
        first, second = orders_only(woo([cancelled, refunded]))
        assert (first.cancelled_at, first.financial_status) == (datetime(2026, 3, 12, 14, 0, tzinfo=UTC), "voided")
        assert (second.cancelled_at, second.financial_status) == (None, "refunded")

    def test_raw_keeps_the_order_json_safe(self) -> None:
        """Fractional numbers in raw are kept as their exact digits, so raw can be stored as JSON."""
        order = orders_only(woo(WOO_ORDER))[0]
        assert order.raw["line_items"][0]["price"] == "16.5"
        assert json.loads(json.dumps(order.raw))["line_items"][1]["meta_data"] == [{"key": "a", "value": "1.5"}]

    def test_bad_quantity_in_a_list_is_refused_by_path(self) -> None:
        """A zero quantity in the second order refuses that order, named by its JSON path."""
        bad = {**WOO_ORDER, "number": "730", "line_items": [{**WOO_ORDER["line_items"][0], "quantity": 0}]}
        items = woo([WOO_ORDER, bad])
        assert [item.order_number for item in orders_only(items)] == ["727"]
        assert refusals_only(items) == [Refusal(file="woo.json", line=None, field="[1].line_items[0].quantity",
                                                reason="order 730 refused: not a positive whole number: '0'")]


GENERIC_ORDER: dict[str, Any] = {
    "order_number": "#2001",
    "placed_at": "2026-03-12T09:41:02-04:00",
    "customer": {"name": "Jordan Rivera", "email": "jordan.rivera@example.com"},
    "shipping": {"name": "Jordan Rivera", "address1": "42 Harbor Rd", "address2": "Unit 5", "city": "Portland",
                 "province": "ME", "zip": "04101", "country": "US", "phone": "+12075550142"},
    "currency": "usd",
    "total": "72.00",
    "cancelled_at": None,
    "lines": [{"sku": "TB-HCT-BLK-L", "qty": 2, "price": "24.00", "name": "Heavy Cotton Tee"},
              {"sku": "TB-CUSTNAME-WHT-L", "qty": 1, "price": 24.00, "vendor": "Printful"}],
}


def generic(document: Any) -> list[IncomingOrder | Refusal]:
    return list(iter_json_orders(json.dumps(document).encode(), source="api", file="orders.json"))


class TestGenericJson:
    """orderflow's generic {"orders": [...]} JSON."""

    def test_generic_order(self) -> None:
        """Every documented field is read; the leading # is dropped and the currency upper-cased."""
        assert generic({"orders": [GENERIC_ORDER]}) == [IncomingOrder(
            source="api",
            order_number="2001",
            placed_at=datetime(2026, 3, 12, 13, 41, 2, tzinfo=UTC),
            customer_name="Jordan Rivera",
            customer_email="jordan.rivera@example.com",
            shipping=Address(name="Jordan Rivera", address1="42 Harbor Rd", address2="Unit 5", city="Portland",
                             province="ME", zip="04101", country="US", phone="+12075550142"),
            lines=(IncomingLine(line=1, sku="TB-HCT-BLK-L", qty=2, price=Decimal("24.00"), name="Heavy Cotton Tee"),
                   IncomingLine(line=2, sku="TB-CUSTNAME-WHT-L", qty=1, price=Decimal("24.0"),
                                storefront_vendor="Printful")),
            currency="USD",
            total=Decimal("72.00"),
        )]

    def test_bad_qty_is_refused_by_path_and_the_rest_come_through(self) -> None:
        """orders[3].lines[0].qty = 'two' refuses order 3 only."""
        orders = [{**GENERIC_ORDER, "order_number": str(n)} for n in range(5)]
        orders[3] = {**orders[3], "lines": [{"sku": "TB-X", "qty": "two", "price": "1.00"}]}
        items = generic({"orders": orders})
        assert [item.order_number for item in orders_only(items)] == ["0", "1", "2", "4"]
        assert refusals_only(items) == [Refusal(file="orders.json", line=None, field="orders[3].lines[0].qty",
                                                reason="order 3 refused: not a positive whole number: 'two'")]

    def test_time_without_offset_and_missing_lines_are_refused(self) -> None:
        """placed_at must carry its UTC offset, and an order needs at least one line."""
        bad = {**GENERIC_ORDER, "placed_at": "2026-03-12T09:41:02", "lines": []}
        assert [(r.field, r.reason) for r in refusals_only(generic({"orders": [bad]}))] == [
            ("orders[0].lines", "order 2001 refused: expected a non-empty list of line items"),
            ("orders[0].placed_at",
             "order 2001 refused: not an ISO 8601 time with a UTC offset: '2026-03-12T09:41:02'"),
        ]

    def test_an_element_that_is_not_an_object_is_refused(self) -> None:
        """A stray string in the orders list is refused on its own."""
        assert generic({"orders": ["oops", GENERIC_ORDER]})[0] == Refusal(
            file="orders.json", line=None, field="orders[0]", reason="order refused: not an order object")

    def test_broken_json_raises_with_its_line(self) -> None:
        """A truncated document is an InputError for the whole file, at the decoder's line."""
        with pytest.raises(InputError) as raised:
            list(iter_json_orders(b'{"orders": [\n  {"order_number": "1",\n', source="api", file="o.json"))
        assert (raised.value.refusal.file, raised.value.refusal.line) == ("o.json", 3)

    def test_neither_shape_raises(self) -> None:
        """A JSON object that is not an order document is refused whole."""
        with pytest.raises(InputError, match="neither WooCommerce"):
            generic({"shipments": []})

    def test_nan_raises(self) -> None:
        """NaN is not money."""
        with pytest.raises(InputError, match="NaN"):
            list(iter_json_orders(b'{"orders": [{"total": NaN}]}', source="api", file="o.json"))


MAPPED_CSV = (
    "Order,Date,Customer,E-mail,SKU,Qty,Unit Price,Ship Zip,Country\n"
    "W-7,12/03/2026 09:30,Ana Ruiz,ana@example.com,TB-HCT-BLK-L,2,24.00,01067,DE\n"
    "W-7,,,,TB-HOOD-NVY-XL,1,48.00,,\n"
    "W-8,13/03/2026 18:05,Bo Chen,bo@example.com,TB-SUNWAVE-BLK-M,3,26.00,10115,DE\n"
)
MAPPING = ColumnMapping(order_number="Order", placed_at="date", sku="SKU", qty="qty", price="unit_price",
                        customer_name="Customer", customer_email="E-mail", ship_zip="ship_zip",
                        ship_country="Country", date_format="%d/%m/%Y %H:%M", timezone="Europe/Berlin")


def mapped(text: str, mapping: ColumnMapping = MAPPING) -> list[IncomingOrder | Refusal]:
    return list(iter_mapped_csv(io.BytesIO(text.encode()), source="wholesale", file="w.csv", mapping=mapping))


class TestMappedCsv:
    """Any CSV, read through a column mapping."""

    def test_orders_with_custom_date_format_and_timezone(self) -> None:
        """Local Berlin times (UTC+1 in March) come out in UTC; headers match loosely; rows group by order."""
        first, second = mapped(MAPPED_CSV)
        assert first == IncomingOrder(
            source="wholesale",
            order_number="W-7",
            placed_at=datetime(2026, 3, 12, 8, 30, tzinfo=UTC),
            customer_name="Ana Ruiz",
            customer_email="ana@example.com",
            shipping=Address(zip="01067", country="DE"),
            lines=(IncomingLine(line=1, sku="TB-HCT-BLK-L", qty=2, price=Decimal("24.00")),
                   IncomingLine(line=2, sku="TB-HOOD-NVY-XL", qty=1, price=Decimal("48.00"))),
        )
        assert isinstance(second, IncomingOrder)
        assert (second.order_number, second.placed_at) == ("W-8", datetime(2026, 3, 13, 17, 5, tzinfo=UTC))

    def test_rows_without_an_order_number_are_refused_with_their_order(self) -> None:
        """Grouped, a numberless row refuses the order it follows (or is refused alone, first in the file);
        one row per order, each numberless row is refused on its own line."""
        text = MAPPED_CSV.replace("W-7,12/03", " ,12/03").replace("W-7,,,", "W-6,12/03/2026 09:30,,") + (
            "W-8,,,,TB-HCT-BLK-L,1,24.00,,\n" ",,,,TB-HCT-BLK-L,1,24.00,,\n" "  ,,,,TB-HCT-BLK-L,1,24.00,,\n")
        grouped = mapped(text)
        assert [item.order_number for item in grouped if isinstance(item, IncomingOrder)] == ["W-6"]
        assert [(item.line, item.reason.partition(":")[0]) for item in grouped if isinstance(item, Refusal)] == [
            (2, "order refused"), (6, "order W-8 refused"), (7, "order W-8 refused")]
        assert {item.field for item in grouped if isinstance(item, Refusal)} == {"Order"}
        one_per_row = mapped(text, dataclasses.replace(MAPPING, group_by_order=False))
        assert [item.line for item in one_per_row if isinstance(item, Refusal) and "no order number" in item.reason] \
            == [2, 6, 7]

    def test_bad_date_refuses_the_order(self) -> None:
        """A date in another format is refused with its line and mapped column."""
        items = mapped(MAPPED_CSV.replace("13/03/2026 18:05", "2026-03-13"))
        assert items[1] == Refusal(file="w.csv", line=4, field="date",
                                   reason="order W-8 refused: not a time in the format %d/%m/%Y %H:%M: '2026-03-13'")

    def test_one_row_per_order_refuses_a_repeated_number(self) -> None:
        """Without grouping every row is an order, so a second W-7 row is refused."""
        mapping = ColumnMapping(order_number="Order", placed_at="Date", sku="SKU", qty="Qty", price="Unit Price",
                                date_format="%d/%m/%Y %H:%M", group_by_order=False)
        items = mapped(MAPPED_CSV, mapping)
        assert [item.order_number for item in orders_only(items)] == ["W-7", "W-8"]
        assert [(r.line, r.field) for r in refusals_only(items)] == [(3, "Order"), (3, "Date")]

    def test_a_mapped_column_the_file_lacks_raises(self) -> None:
        """A mapping that names a missing column does not fit the file."""
        mapping = ColumnMapping(order_number="Order", placed_at="Date", sku="SKU", qty="Qty", price="Price")
        with pytest.raises(InputError, match="lacks the mapped columns: Price"):
            mapped(MAPPED_CSV, mapping)

    def test_bad_mapping_settings_are_config_errors(self) -> None:
        """An unknown time zone or an empty required column is caught when the mapping is made."""
        with pytest.raises(ConfigError, match="time zone"):
            ColumnMapping(order_number="O", placed_at="D", sku="S", qty="Q", price="P", timezone="Mars/Olympus")
        with pytest.raises(ConfigError, match="sku"):
            ColumnMapping(order_number="O", placed_at="D", sku="", qty="Q", price="P")


class TestFormats:
    """Telling formats apart, and reading any of them through one call."""

    def test_detects_json_and_shopify(self) -> None:
        """JSON by its first character or name; Shopify by its header."""
        assert detect_format(b'\xef\xbb\xbf  [{"id": 1}]', "page.txt") == "json"
        assert detect_format(b"", "orders.JSON") == "json"
        assert detect_format(SAMPLE_EXPORT.encode()[:300], "export.csv") == "shopify_csv"

    def test_unknown_content_raises_naming_the_file(self) -> None:
        """A CSV that is not a Shopify export needs its format named."""
        with pytest.raises(InputError, match=r"^w\.csv: cannot tell the order format"):
            detect_format(MAPPED_CSV.encode(), "w.csv")

    def test_iter_orders_dispatches_on_the_detected_format(self, tmp_path: Path) -> None:
        """A Shopify export, a Woo page and a mapped CSV are each read by their parser."""
        (tmp_path / "export.csv").write_text(SAMPLE_EXPORT, encoding="utf-8")
        (tmp_path / "page.json").write_text(json.dumps([WOO_ORDER]), encoding="utf-8")
        (tmp_path / "w.csv").write_text(MAPPED_CSV, encoding="utf-8")
        assert len(list(iter_orders(tmp_path / "export.csv", source="shopify"))) == 3
        assert [o.order_number for o in orders_only(list(iter_orders(tmp_path / "page.json", source="woo")))] == [
            "727"]
        assert len(list(iter_orders(tmp_path / "w.csv", source="w", mapping=MAPPING))) == 2
        assert len(list(iter_orders(tmp_path / "w.csv", source="w", fmt="mapped_csv", mapping=MAPPING))) == 2

    def test_iter_orders_refuses_unknown_or_incomplete_formats(self, tmp_path: Path) -> None:
        """An unknown format name is an input error; mapped_csv without a mapping is a configuration error."""
        path = tmp_path / "w.csv"
        path.write_text(MAPPED_CSV, encoding="utf-8")
        with pytest.raises(InputError, match=r"w\.csv: unknown order format 'xlsx'"):
            list(iter_orders(path, source="w", fmt="xlsx"))
        with pytest.raises(ConfigError, match="needs a column mapping"):
            list(iter_orders(path, source="w", fmt="mapped_csv"))
        with pytest.raises(InputError, match="cannot tell the order format"):
            list(iter_orders(path, source="w"))


_JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_JSON = st.recursive(_JSON_LEAVES, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=10)
_GENERIC_KEYS = ["order_number", "placed_at", "customer", "shipping", "currency", "total", "cancelled_at",
                 "financial_status", "external_id", "lines"]
_WOO_KEYS = ["id", "number", "status", "currency", "date_created_gmt", "date_modified_gmt", "total", "billing",
             "shipping", "line_items"]
_LINE_KEYS = ["sku", "qty", "quantity", "price", "name", "vendor"]
_LINES = st.lists(st.dictionaries(st.sampled_from(_LINE_KEYS), _JSON, max_size=6), max_size=3)


def _only_orders_refusals_or_input_error(produce: Any) -> None:
    try:
        items = list(produce())
    except InputError:
        return
    assert all(isinstance(item, IncomingOrder | Refusal) for item in items)


class TestParsersNeverCrash:
    """Whatever they are fed, the parsers yield orders and refusals or raise InputError, nothing else."""

    @settings(deadline=None)
    @given(st.binary(max_size=400))
    def test_shopify_on_arbitrary_bytes(self, data: bytes) -> None:
        """Random bytes."""
        _only_orders_refusals_or_input_error(lambda: iter_shopify_csv(io.BytesIO(data), source="s", file="f"))

    @settings(deadline=None)
    @given(st.text(max_size=400))
    def test_shopify_on_arbitrary_rows_under_a_real_header(self, text: str) -> None:
        """Random text under a genuine header reaches the row parsing."""
        data = (",".join(HEADER) + "\n" + text).encode("utf-8", errors="surrogatepass")
        _only_orders_refusals_or_input_error(lambda: iter_shopify_csv(io.BytesIO(data), source="s", file="f"))

    @settings(deadline=None)
    @given(st.lists(st.lists(st.text(max_size=8), max_size=24), max_size=4))
    def test_shopify_on_arbitrary_cells(self, rows: list[list[str]]) -> None:
        """Random cells in the first columns of well-formed rows."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADER)
        writer.writerows(rows)
        data = buffer.getvalue().encode("utf-8", errors="surrogatepass")
        _only_orders_refusals_or_input_error(lambda: iter_shopify_csv(io.BytesIO(data), source="s", file="f"))

    @settings(deadline=None)
    @given(st.binary(max_size=400))
    def test_mapped_csv_on_arbitrary_bytes(self, data: bytes) -> None:
        """Random bytes, and random bytes under the mapped header."""
        for candidate in (data, MAPPED_CSV.split("\n", 1)[0].encode() + b"\n" + data):
            _only_orders_refusals_or_input_error(
                lambda candidate=candidate: iter_mapped_csv(io.BytesIO(candidate), source="s", file="f",
                                                            mapping=MAPPING))

    @settings(deadline=None)
    @given(st.binary(max_size=400))
    def test_json_on_arbitrary_bytes(self, data: bytes) -> None:
        """Random bytes."""
        _only_orders_refusals_or_input_error(lambda: iter_json_orders(data, source="s", file="f"))

    @settings(deadline=None)
    @given(st.lists(st.dictionaries(st.sampled_from(_GENERIC_KEYS), _JSON | _LINES, max_size=10), max_size=3))
    def test_json_on_arbitrary_generic_orders(self, orders: list[dict[str, Any]]) -> None:
        """Generic orders with any values under the known keys."""
        data = json.dumps({"orders": orders}).encode("utf-8", errors="surrogatepass")
        _only_orders_refusals_or_input_error(lambda: iter_json_orders(data, source="s", file="f"))

    @settings(deadline=None)
    @given(st.lists(st.dictionaries(st.sampled_from(_WOO_KEYS), _JSON | _LINES, max_size=10), max_size=3))
    def test_json_on_arbitrary_woo_orders(self, orders: list[dict[str, Any]]) -> None:
        """WooCommerce orders with any values under the known keys."""
        data = json.dumps(orders).encode("utf-8", errors="surrogatepass")
        _only_orders_refusals_or_input_error(lambda: iter_json_orders(data, source="s", file="f"))

    @settings(deadline=None)
    @given(st.binary(max_size=200), st.sampled_from(["a.csv", "a.json", "a"]))
    def test_detect_format_on_arbitrary_bytes(self, head: bytes, filename: str) -> None:
        """Format detection answers a known format or raises InputError."""
        try:
            found = detect_format(head, filename)
        except InputError:
            return
        assert found in ("json", "shopify_csv")
