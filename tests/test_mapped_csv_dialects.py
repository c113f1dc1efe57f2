"""Mapped CSV as storefronts and spreadsheets really write it: the separator sniffed from the header, byte-order
marks, Windows line ends, quoted cells over several lines, and lines named by product and variant, no SKU."""

from __future__ import annotations

import io

import pytest

from orderflow.errors import ConfigError
from orderflow.orders.records import IncomingOrder
from orderflow.parsing.csv_rows import sniffed_delimiter
from orderflow.storefronts.mapped_csv import ColumnMapping, iter_mapped_csv

MAPPING = ColumnMapping(order_number="Order", placed_at="Date", sku="SKU", qty="Qty", price="Price",
                        ship_address1="Street")
COMMA = ('Order,Date,SKU,Qty,Price,Street\n'
         '1001,2026-03-12T09:41:02+01:00,TB-1,2,"12,50",Hauptstr. 1\n'
         '1002,2026-03-12T10:00:00+01:00,TB-2,1,5.00,"Hof 2\nHinterhaus"\n')


def read(text: str | bytes, mapping: ColumnMapping = MAPPING) -> list[IncomingOrder]:
    data = text.encode() if isinstance(text, str) else text
    items = list(iter_mapped_csv(io.BytesIO(data), source="csv", file="orders.csv", mapping=mapping))
    return [item for item in items if isinstance(item, IncomingOrder)]


class TestDialects:
    @pytest.mark.parametrize(("header", "separator"), [
        ("Order,Date,SKU", ","), ("Order;Date;SKU", ";"), ("Order\tDate\tSKU", "\t"), ("Order|Date|SKU", "|"),
        ('"Order; Ref";Date;SKU', ";"), ('"a,b,c";d;e', ";"), ("Order", ","), ("a,b;c", ","),
    ])
    def test_the_separator_is_the_header_rows_most_frequent(self, header: str, separator: str) -> None:
        """The most frequent candidate outside quotes wins; a comma with none, or on a tie."""
        assert sniffed_delimiter(header) == separator

    def test_semicolons_bom_crlf_and_quoted_newlines_read_like_the_plain_file(self) -> None:
        """A European spreadsheet's export (semicolons, decimal comma quoted, BOM, CRLF) reads the same orders."""
        european = "\ufeff" + COMMA.replace(",", ";").replace('"12;50"', "12.50").replace("\n", "\r\n").replace(
            "Hof 2\r\nHinterhaus", "Hof 2\nHinterhaus")
        plain = COMMA.replace('"12,50"', "12.50")
        ours = [(order.order_number, order.lines[0].sku, order.lines[0].price, order.shipping.address1)
                for order in read(european.encode("utf-8"))]
        assert ours == [(order.order_number, order.lines[0].sku, order.lines[0].price, order.shipping.address1)
                        for order in read(plain)]
        assert ours[1][3] == "Hof 2\nHinterhaus"

    def test_a_named_delimiter_is_used_as_given(self) -> None:
        """A mapping that names its separator is not second-guessed."""
        mapping = ColumnMapping(order_number="Order", placed_at="Date", sku="SKU", qty="Qty", price="Price",
                                delimiter=";")
        assert [order.order_number for order in read("Order;Date;SKU;Qty;Price\n1;2026-03-12;A;1;2\n",
                                                     mapping)] == ["1"]


class TestProductAndVariant:
    def test_title_and_variant_columns_name_the_line_without_a_sku(self) -> None:
        """With line_name and line_variant mapped and no SKU column, the line is named "Product - Variant"."""
        mapping = ColumnMapping(order_number="Order", placed_at="Date", qty="Qty", price="Price",
                                line_name="Title", line_variant="Variant")
        text = "Order,Date,Title,Variant,Qty,Price\n7,2026-03-12,Logo Tee,Black / L,1,25\n8,2026-03-12,Sticker,,2,3\n"
        assert [(order.lines[0].sku, order.lines[0].name) for order in read(text, mapping)] == [
            ("", "Logo Tee - Black / L"), ("", "Sticker")]

    def test_a_mapping_needs_a_sku_or_a_name_column(self) -> None:
        """Without either, no line could ever reach a vendor: a configuration error up front."""
        with pytest.raises(ConfigError, match="sku or line_name must name a column"):
            ColumnMapping(order_number="Order", placed_at="Date", qty="Qty", price="Price")
