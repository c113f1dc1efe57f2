"""Orders from a Shopify order export CSV (Admin → Orders → Export), read as a stream.

::

    for item in iter_shopify_csv(Path("orders_export.csv"), source="shopify", file="orders_export.csv"):
        if isinstance(item, IncomingOrder):
            ...  # store it
        else:
            ...  # a Refusal: file, physical line, column, reason

What the export looks like, and how it is read:

- Columns are mapped by their exact names; older exports stop earlier, newer ones add columns (ignored).
  The file must have ``Name``, ``Created at``, ``Lineitem quantity``, ``Lineitem price`` and
  ``Lineitem sku``, else it is not a Shopify export and :class:`~orderflow.errors.InputError` is raised
  before any order is yielded. So it is for binary content, bytes that are not UTF-8 (a byte-order mark
  is fine) and broken quoting (a stray quote, or a file cut off inside a quoted cell).
- One row per line item; the rows of an order are consecutive and share ``Name`` (``#1042`` becomes
  ``1042``). Order-level columns are read from the order's first row only. An order whose rows are split
  apart in the file is refused where it reappears (the part already read came through as its own order:
  Shopify never writes such files, a hand-edited one may).
- Zip and phone lose one leading ``'`` (a spreadsheet's keep-the-zeros mark). Money is ``Decimal``. Times are
  ``YYYY-MM-DD HH:MM:SS ±HHMM`` (ISO 8601 with an offset is accepted too) and come out in UTC.
- Any bad field refuses the WHOLE order, with one refusal per bad field: an order missing a line would be
  fulfilled wrongly. Every other order still comes through. A line item needs a positive whole quantity, a
  price and a SKU (a line that does not require shipping, such as a gift card, may lack the SKU).
- A refusal names the physical line where its row starts (header = line 1; a quoted cell spanning several
  lines, such as ``Note Attributes``, counts every line).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from operator import itemgetter

from orderflow.errors import InputError, Refusal
from orderflow.orders.records import Address, IncomingLine, IncomingOrder, normalize_order_number
from orderflow.parsing.csv_rows import CsvHeader, CsvRow, CsvSource, header_key_exact, read_csv_rows
from orderflow.parsing.times import parse_time
from orderflow.parsing.values import parse_currency, parse_money, parse_quantity, strip_spreadsheet_quote
from orderflow.storefronts.mapped_csv import (
    PLACEHOLDER_TIME,
    FieldCheck,
    OrderRows,
    check_order_numbers,
    group_order_rows,
)

REQUIRED_COLUMNS = ("Name", "Created at", "Lineitem quantity", "Lineitem price", "Lineitem sku")


def parse_shopify_time(text: str) -> datetime:
    """``'2026-03-12 09:41:02 -0400'`` -> ``datetime(2026, 3, 12, 13, 41, 2, tzinfo=UTC)``.

    Shopify's export format is ISO 8601 with a space before the offset, so ISO times with an offset are
    accepted too; a time without one is refused.
    """
    return parse_time(text, naive=None, expected="a time like 2026-03-12 09:41:02 -0400")


def iter_shopify_csv(stream: CsvSource, *, source: str, file: str) -> Iterator[IncomingOrder | Refusal]:
    """Stream the orders of a Shopify export: each :class:`IncomingOrder`, or a ``Refusal`` per bad field."""

    def check_header(header: CsvHeader) -> None:
        missing = header.missing(REQUIRED_COLUMNS)
        if missing:
            raise InputError(f"not a Shopify order export: no column {', '.join(missing)}", file=file)

    rows = read_csv_rows(stream, file=file, check_header=check_header, key=header_key_exact)
    columns = _Columns()
    for group in group_order_rows(rows, number_of=columns.order_number):
        order = _shopify_order(group, columns, source=source, file=file)
        if isinstance(order, IncomingOrder):
            yield order
        else:
            yield from order


# Read as tuples in this order (the order-level cells are unpacked by position, the address last).
_ORDER_COLUMNS = (
    "Created at", "Cancelled at", "Total", "Currency", "Billing Name", "Shipping Name", "Email",
    "Financial Status", "Fulfillment Status", "Id", "Shipping Address1", "Shipping Street", "Shipping Company",
    "Shipping Address2", "Shipping City", "Shipping Province", "Shipping Zip", "Shipping Country",
    "Shipping Phone",
)
_LINE_COLUMNS = (
    "Lineitem sku", "Lineitem requires shipping", "Lineitem quantity", "Lineitem price", "Lineitem name",
    "Vendor", "Lineitem fulfillment status",
)
# Prices and quantities repeat from row to row; remembering recent ones spares re-reading them.
_money = functools.lru_cache(maxsize=1024)(parse_money)
_quantity = functools.lru_cache(maxsize=256)(parse_quantity)
_Reader = tuple[Callable[[Sequence[str]], tuple[str, ...]] | None, int]
"""A getter of several cells at once (``None`` when the file lacks one of them) and the row width it needs."""


class _Columns:
    """The cells a row has under the columns this parser reads, taken in one step per row.

    ``CsvRow.get`` per cell costs a call and a lookup each; an export has millions of cells. The positions
    are resolved once per header (every row of a file shares one), and a row too short for them, or a file
    lacking some of them, is read cell by cell with ``CsvRow.get``'s rules.
    """

    def __init__(self) -> None:
        self._header: CsvHeader | None = None
        self._name: int | None = None
        self._readers: dict[tuple[str, ...], _Reader] = {}

    def order_number(self, row: CsvRow) -> str:
        """``'#1042'`` under ``Name`` gives ``'1042'``, as ``normalize_order_number(row.get("Name"))`` does."""
        self._follow(row.header)
        name, cells = self._name, row.cells
        return normalize_order_number(cells[name] if name is not None and name < len(cells) else "")

    def of(self, row: CsvRow, columns: tuple[str, ...]) -> tuple[str, ...]:
        """The cells under ``columns``, in their order; ``""`` where the file or the row has none."""
        self._follow(row.header)
        fetch, width = self._readers[columns]
        cells = row.cells
        if fetch is not None and len(cells) >= width:
            return fetch(cells)
        return tuple(row.get(column) for column in columns)

    def _follow(self, header: CsvHeader) -> None:
        if header is self._header:
            return
        self._header = header
        self._name = header.position("Name")
        self._readers = {columns: _reader(header, columns) for columns in (_ORDER_COLUMNS, _LINE_COLUMNS)}


def _reader(header: CsvHeader, columns: tuple[str, ...]) -> _Reader:
    positions = [header.position(column) for column in columns]
    if any(position is None for position in positions):
        return None, 0
    present = [position for position in positions if position is not None]
    return itemgetter(*present), max(present) + 1


def _shopify_order(group: OrderRows, columns: _Columns, *, source: str, file: str) -> IncomingOrder | list[Refusal]:
    check = FieldCheck(file=file, order=group.number)
    first_row = group.rows[0]
    first = columns.of(first_row, _ORDER_COLUMNS)
    (created, cancelled, total_text, currency_text, billing_name, shipping_name, email, financial, fulfillment,
     external_id) = first[:10]
    line = first_row.line
    check_order_numbers(group, check, column="Name")
    placed_at = check.required(parse_shopify_time, created, line=line, field="Created at", default=PLACEHOLDER_TIME)
    cancelled_at = check.optional(parse_shopify_time, cancelled, line=line, field="Cancelled at")
    total = check.optional(_money, total_text, line=line, field="Total")
    currency = check.optional(parse_currency, currency_text, line=line, field="Currency")
    lines = tuple([_shopify_line(row, columns.of(row, _LINE_COLUMNS), position, check)
                   for position, row in enumerate(group.rows, 1)])
    if check.refusals:
        return check.refusals
    return IncomingOrder(
        source=source,
        order_number=group.number,
        placed_at=placed_at,
        customer_name=billing_name.strip() or shipping_name.strip(),
        customer_email=email.strip(),
        shipping=_shipping_address(shipping_name, first[10:]),
        lines=lines,
        currency=currency or "USD",
        total=total,
        financial_status=financial.strip().lower(),
        fulfillment_status=fulfillment.strip().lower(),
        cancelled_at=cancelled_at,
        external_id=external_id.strip(),
        raw={"rows": [row.filled() for row in group.rows]},
    )


def _shopify_line(row: CsvRow, cells: tuple[str, ...], position: int, check: FieldCheck) -> IncomingLine:
    sku_text, requires_shipping, qty_text, price_text, name_text, vendor, fulfillment = cells
    sku, name = sku_text.strip(), name_text.strip()
    # A store that sells without SKUs routes by product and variant: the catalog maps "Lineitem name".
    if not sku and not name and requires_shipping.strip().lower() != "false":
        check.refuse(line=row.line, field="Lineitem sku",
                     reason="empty, and no Lineitem name either: a line to ship needs a SKU or a product name "
                            "to reach a vendor")
    qty = check.required(_quantity, qty_text, line=row.line, field="Lineitem quantity", default=0)
    price = check.required(_money, price_text, line=row.line, field="Lineitem price", default=Decimal(0))
    return IncomingLine(line=position, sku=sku, qty=qty, price=price, name=name, storefront_vendor=vendor.strip(),
                        fulfilled_at_storefront=fulfillment.strip().lower() == "fulfilled")


def _shipping_address(name: str, cells: tuple[str, ...]) -> Address:
    """The address from the cells under ``_ORDER_COLUMNS`` after ``Id``, and the ``Shipping Name``."""
    address1, street, company, address2, city, province, zip_code, country, phone = cells
    # Exports before Address1/Address2 existed carry only the joined Street.
    return Address(
        name=name.strip(),
        company=company.strip(),
        address1=address1.strip() or street.strip(),
        address2=address2.strip(),
        city=city.strip(),
        province=province.strip(),
        zip=strip_spreadsheet_quote(zip_code),
        country=country.strip(),
        phone=strip_spreadsheet_quote(phone),
    )
