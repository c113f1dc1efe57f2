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
  before any order is yielded. So it is for binary content and bytes that are not UTF-8 (a byte-order mark
  is fine).
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

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

from orderflow.errors import InputError, Refusal
from orderflow.orders.mapped_csv import (
    PLACEHOLDER_TIME,
    CsvHeader,
    CsvRow,
    CsvSource,
    FieldCheck,
    OrderRows,
    check_order_numbers,
    group_order_rows,
    header_key_exact,
    parse_currency,
    parse_money,
    parse_quantity,
    read_csv_rows,
    shown,
    strip_spreadsheet_quote,
)
from orderflow.orders.records import Address, IncomingLine, IncomingOrder, normalize_order_number

REQUIRED_COLUMNS = ("Name", "Created at", "Lineitem quantity", "Lineitem price", "Lineitem sku")


def parse_shopify_time(text: str) -> datetime:
    """``'2026-03-12 09:41:02 -0400'`` -> ``datetime(2026, 3, 12, 13, 41, 2, tzinfo=UTC)``.

    Python reads Shopify's export format as ISO 8601, so ISO times with an offset are accepted too.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"not a time like 2026-03-12 09:41:02 -0400: {shown(text)}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"a time out of range: {shown(text)}") from None


def iter_shopify_csv(stream: CsvSource, *, source: str, file: str) -> Iterator[IncomingOrder | Refusal]:
    """Stream the orders of a Shopify export: each :class:`IncomingOrder`, or a ``Refusal`` per bad field."""

    def check_header(header: CsvHeader) -> None:
        missing = header.missing(REQUIRED_COLUMNS)
        if missing:
            raise InputError(f"not a Shopify order export: no column {', '.join(missing)}", file=file)

    rows = read_csv_rows(stream, file=file, check_header=check_header, key=header_key_exact)
    for group in group_order_rows(rows, number_of=lambda row: normalize_order_number(row.get("Name"))):
        order = _shopify_order(group, source=source, file=file)
        if isinstance(order, IncomingOrder):
            yield order
        else:
            yield from order


def _shopify_order(group: OrderRows, *, source: str, file: str) -> IncomingOrder | list[Refusal]:
    check = FieldCheck(file=file, order=group.number)
    first = group.rows[0]
    check_order_numbers(group, check, column="Name")
    placed_at = check.required(parse_shopify_time, first.get("Created at"), line=first.line,
                               field="Created at", default=PLACEHOLDER_TIME)
    cancelled_at = check.optional(parse_shopify_time, first.get("Cancelled at"), line=first.line,
                                  field="Cancelled at")
    total = check.optional(parse_money, first.get("Total"), line=first.line, field="Total")
    currency = check.optional(parse_currency, first.get("Currency"), line=first.line, field="Currency")
    lines = tuple(_shopify_line(row, position, check) for position, row in enumerate(group.rows, 1))
    if check.refusals:
        return check.refusals
    return IncomingOrder(
        source=source,
        order_number=group.number,
        placed_at=placed_at,
        customer_name=first.get("Billing Name").strip() or first.get("Shipping Name").strip(),
        customer_email=first.get("Email").strip(),
        shipping=_shipping_address(first),
        lines=lines,
        currency=currency or "USD",
        total=total,
        financial_status=first.get("Financial Status").strip().lower(),
        fulfillment_status=first.get("Fulfillment Status").strip().lower(),
        cancelled_at=cancelled_at,
        external_id=first.get("Id").strip(),
        raw={"rows": [row.filled() for row in group.rows]},
    )


def _shopify_line(row: CsvRow, position: int, check: FieldCheck) -> IncomingLine:
    sku = row.get("Lineitem sku").strip()
    ships = row.get("Lineitem requires shipping").strip().lower() != "false"
    if not sku and ships:
        check.refuse(line=row.line, field="Lineitem sku",
                     reason="empty: a line to ship needs a SKU to reach a vendor")
    return IncomingLine(
        line=position,
        sku=sku,
        qty=check.required(parse_quantity, row.get("Lineitem quantity"), line=row.line,
                           field="Lineitem quantity", default=0),
        price=check.required(parse_money, row.get("Lineitem price"), line=row.line, field="Lineitem price",
                             default=Decimal(0)),
        name=row.get("Lineitem name").strip(),
        storefront_vendor=row.get("Vendor").strip(),
        fulfilled_at_storefront=row.get("Lineitem fulfillment status").strip().lower() == "fulfilled",
    )


def _shipping_address(row: CsvRow) -> Address:
    # Exports before Address1/Address2 existed carry only the joined Street.
    address1 = row.get("Shipping Address1").strip() or row.get("Shipping Street").strip()
    return Address(
        name=row.get("Shipping Name").strip(),
        company=row.get("Shipping Company").strip(),
        address1=address1,
        address2=row.get("Shipping Address2").strip(),
        city=row.get("Shipping City").strip(),
        province=row.get("Shipping Province").strip(),
        zip=strip_spreadsheet_quote(row.get("Shipping Zip")),
        country=row.get("Shipping Country").strip(),
        phone=strip_spreadsheet_quote(row.get("Shipping Phone")),
    )
