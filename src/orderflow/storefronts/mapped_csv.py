"""Orders from any storefront CSV read through a :class:`ColumnMapping`; and the order-by-order field checks
and row grouping both storefront CSV parsers (this one and the Shopify export) share.

A mapping says which column holds what. Only ``order_number``, ``placed_at``, ``sku``, ``qty`` and ``price``
are required; every other column is optional (an empty string means "this file has no such column")::

    mapping = ColumnMapping(
        order_number="Order", placed_at="Date", sku="SKU", qty="Qty", price="Unit Price",
        customer_email="Email", ship_zip="Zip", date_format="%d/%m/%Y %H:%M", timezone="Europe/Berlin",
    )
    for item in iter_mapped_csv(Path("orders.csv"), source="wholesale", file="orders.csv", mapping=mapping):
        ...  # an IncomingOrder, or a Refusal naming file, line, column and reason

How a file is read:

- UTF-8, with or without a byte-order mark; any line ends (LF, CRLF) and quoted cells spanning lines; the
  separator sniffed from the header row (comma, semicolon as spreadsheets write it in much of Europe, tab or
  ``|``), unless the mapping names one; a header row; headers are matched ignoring case, spaces, ``_``
  and ``.`` (``Ship Zip`` = ``ship_zip``); unknown columns are ignored. A column the mapping names but the
  file lacks raises :class:`~orderflow.errors.InputError`, as do binary content, bytes that are not UTF-8
  and broken CSV (a stray quote, or a file cut off inside a quoted cell).
- One row per line item. With ``group_by_order`` (the default) rows with the same order number form one
  order and must be consecutive, so a file of any size is read as a stream; order-level columns are read
  from the order's first row. An order number that comes back after other orders is refused (sort the file
  by order number). Without ``group_by_order`` every row is a whole one-line order, and a repeated order
  number is refused.
- ``placed_at`` and ``cancelled_at`` are read with ``date_format`` (a ``strptime`` pattern, or ``"iso"`` for
  ISO 8601); a time without a UTC offset is taken in ``timezone``; every time comes out in UTC.
- Quantities are positive whole numbers; money is a plain decimal (``12.50``) read as ``Decimal``.
- Any bad field refuses its whole order, with one refusal per bad field; every other order still comes
  through. Line numbers are physical lines of the file (the header is line 1; a quoted cell spanning lines
  counts each line), and a refusal names the line where its row starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orderflow.errors import ConfigError, InputError, Refusal
from orderflow.orders.records import Address, IncomingLine, IncomingOrder, item_name, normalize_order_number
from orderflow.parsing.csv_rows import SNIFF, CsvHeader, CsvRow, CsvSource, header_key_loose, read_csv_rows
from orderflow.parsing.text import named
from orderflow.parsing.times import parse_local_time
from orderflow.parsing.values import parse_currency, parse_money, parse_quantity

T = TypeVar("T")

PLACEHOLDER_TIME = datetime(1970, 1, 1, tzinfo=UTC)
"""Stands in for a time that failed to parse; the order carrying it is always refused, never yielded."""


# --- field values, checked order by order -------------------------------------------------------------------


@dataclass
class FieldCheck:
    """Collects the refusals of one order while its fields are read, so every bad field is reported at once.

    ::

        check = FieldCheck(file="orders.csv", order="1042")
        qty = check.required(parse_quantity, "abc", line=7, field="Qty", default=0)
        check.refusals[0].reason  # "order 1042 refused: not a positive whole number: 'abc'"
    """

    file: str
    order: str = ""
    refusals: list[Refusal] = field(default_factory=list)

    def refuse(self, *, line: int | None, field: str, reason: str) -> None:
        prefix = f"order {named(self.order)} refused: " if self.order else "order refused: "
        self.refusals.append(Refusal(file=self.file, line=line, field=field, reason=prefix + reason))

    # Called for every cell of a big export: a good value costs one strip and the parse, nothing more.
    def required(self, parse: Callable[[str], T], text: str, *, line: int | None, field: str,
                 default: T) -> T:
        """The parsed value; an empty or bad value is refused and ``default`` stands in for it."""
        if not text.strip():
            reason = "empty"
        else:
            try:
                return parse(text)
            except ValueError as exc:
                reason = str(exc)
        self.refuse(line=line, field=field, reason=reason)
        return default

    def optional(self, parse: Callable[[str], T], text: str, *, line: int | None, field: str) -> T | None:
        """The parsed value, ``None`` for an empty cell; a bad value is refused."""
        if not text.strip():
            return None
        try:
            return parse(text)
        except ValueError as exc:
            self.refuse(line=line, field=field, reason=str(exc))
            return None


# --- grouping rows into orders ------------------------------------------------------------------------------


@dataclass
class OrderRows:
    """The rows of one order, in file order; ``earlier_line`` is where earlier rows with its number began."""

    number: str
    rows: list[CsvRow]
    earlier_line: int | None = None
    unnumbered: list[int] = field(default_factory=list)
    """Where its rows without an order number begin (read once, while grouping)."""


def group_order_rows(rows: Iterator[CsvRow], *, number_of: Callable[[CsvRow], str],
                     together: bool = True) -> Iterator[OrderRows]:
    """Consecutive rows with the same order number become one :class:`OrderRows`, as a stream.

    A row without an order number joins the order it follows: it may be one of that order's lines, so the
    order must be refused rather than fulfilled without it. With ``together=False`` each row is an order.
    """
    first_line_of: dict[str, int] = {}
    current: OrderRows | None = None
    for row in rows:
        number = number_of(row)
        if current is not None and together and number in (current.number, ""):
            current.rows.append(row)
            if not number:
                current.unnumbered.append(row.line)
            continue
        if current is not None:
            yield current
            first_line_of.setdefault(current.number, current.rows[0].line)
        earlier_line = first_line_of.get(number) if number else None
        current = OrderRows(number=number, rows=[row], earlier_line=earlier_line,
                            unnumbered=[] if number else [row.line])
    if current is not None:
        yield current


def check_order_numbers(group: OrderRows, check: FieldCheck, *, column: str, together: bool = True) -> None:
    """Refuse an order whose rows are not all together, or that has a row without an order number (``column``
    is where the order numbers were read from, by the ``number_of`` given to :func:`group_order_rows`)."""
    if group.earlier_line is not None:
        where = "are not together" if together else "repeat"
        remedy = "sort the file by order number" if together else "one row per order was expected"
        check.refuse(line=group.rows[0].line, field=column,
                     reason=f"rows of this order {where}: it also appears at line {group.earlier_line}; "
                            f"{remedy}")
    for line in group.unnumbered:
        check.refuse(line=line, field=column,
                     reason="no order number: the row cannot be placed in an order, and may be a line of the "
                            "order it follows")


# --- the mapping --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of a storefront CSV holds what. ``""`` means the file has no such column."""

    order_number: str
    placed_at: str
    sku: str = ""
    qty: str = ""
    price: str = ""
    line_name: str = ""
    """The product title, or the whole line name; with ``line_variant``, joined as "Product - Variant"."""
    line_variant: str = ""
    line_vendor: str = ""
    customer_name: str = ""
    customer_email: str = ""
    ship_name: str = ""
    ship_company: str = ""
    ship_address1: str = ""
    ship_address2: str = ""
    ship_city: str = ""
    ship_province: str = ""
    ship_zip: str = ""
    ship_country: str = ""
    ship_phone: str = ""
    currency: str = ""
    total: str = ""
    cancelled_at: str = ""
    financial_status: str = ""
    fulfillment_status: str = ""
    external_id: str = ""
    date_format: str = "iso"
    timezone: str = "UTC"
    group_by_order: bool = True
    default_currency: str = "USD"
    delimiter: str = SNIFF

    def __post_init__(self) -> None:
        for name in ("order_number", "placed_at", "qty", "price"):
            if not getattr(self, name).strip():
                raise ConfigError(f"column mapping: {name} must name a column")
        if not self.sku.strip() and not self.line_name.strip():
            raise ConfigError("column mapping: sku or line_name must name a column (a store without SKUs "
                              "routes by product and variant)")
        if self.delimiter != SNIFF and (len(self.delimiter) != 1 or self.delimiter in "\"\r\n"):
            raise ConfigError(f"column mapping: delimiter must be one character or {SNIFF!r}, "
                              f"got {self.delimiter!r}")
        self.zone()
        self._check_date_format()

    def zone(self) -> ZoneInfo:
        """The time zone for times written without a UTC offset."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"column mapping: unknown time zone {self.timezone!r}") from exc

    def columns(self) -> list[str]:
        """Every column the mapping names; the file must have them all."""
        names = [column.name for column in fields(self) if column.name not in _MAPPING_SETTINGS]
        return [getattr(self, name) for name in names if getattr(self, name).strip()]

    def _check_date_format(self) -> None:
        # A pattern that cannot read back what it writes would refuse every row: say so once, up front.
        if self.date_format == "iso":
            return
        sample = datetime(2026, 3, 12, 9, 41, 2, tzinfo=UTC)
        try:
            datetime.strptime(sample.strftime(self.date_format), self.date_format)  # noqa: DTZ007 - a probe
        except ValueError as exc:
            raise ConfigError(f"column mapping: date_format {self.date_format!r} is not usable: {exc}") \
                from exc


_MAPPING_SETTINGS = frozenset({"date_format", "timezone", "group_by_order", "default_currency", "delimiter"})


def iter_mapped_csv(stream: CsvSource, *, source: str, file: str,
                    mapping: ColumnMapping) -> Iterator[IncomingOrder | Refusal]:
    """Stream the orders of a storefront CSV read through ``mapping`` (see the module docstring)."""

    def check_header(header: CsvHeader) -> None:
        missing = header.missing(mapping.columns())
        if missing:
            raise InputError(f"the file lacks the mapped columns: {', '.join(missing)}", file=file)

    rows = read_csv_rows(stream, file=file, check_header=check_header, key=header_key_loose,
                         delimiter=mapping.delimiter)
    zone = mapping.zone()
    def number_of(row: CsvRow) -> str:
        return normalize_order_number(row.get(mapping.order_number))

    groups = group_order_rows(rows, number_of=number_of, together=mapping.group_by_order)
    for group in groups:
        order = _mapped_order(group, source=source, file=file, mapping=mapping, zone=zone)
        if isinstance(order, IncomingOrder):
            yield order
        else:
            yield from order


def _mapped_order(group: OrderRows, *, source: str, file: str, mapping: ColumnMapping,
                  zone: ZoneInfo) -> IncomingOrder | list[Refusal]:
    check = FieldCheck(file=file, order=group.number)
    first = group.rows[0]
    check_order_numbers(group, check, column=mapping.order_number, together=mapping.group_by_order)

    def when(text: str) -> datetime:
        return parse_local_time(text, date_format=mapping.date_format, zone=zone)

    placed_at = check.required(when, first.get(mapping.placed_at), line=first.line, field=mapping.placed_at,
                               default=PLACEHOLDER_TIME)
    cancelled_at = (check.optional(when, first.get(mapping.cancelled_at), line=first.line,
                                   field=mapping.cancelled_at) if mapping.cancelled_at else None)
    total = (check.optional(parse_money, first.get(mapping.total), line=first.line, field=mapping.total)
             if mapping.total else None)
    currency = mapping.default_currency
    if mapping.currency and first.get(mapping.currency).strip():
        currency = check.required(parse_currency, first.get(mapping.currency), line=first.line,
                                  field=mapping.currency, default=currency)
    lines = tuple(_mapped_line(row, position, check, mapping) for position, row in enumerate(group.rows, 1))
    if check.refusals:
        return check.refusals
    return IncomingOrder(
        source=source,
        order_number=group.number,
        placed_at=placed_at,
        customer_name=_cell(first, mapping.customer_name),
        customer_email=_cell(first, mapping.customer_email),
        shipping=_mapped_address(first, mapping),
        lines=lines,
        currency=currency,
        total=total,
        financial_status=_cell(first, mapping.financial_status).lower(),
        fulfillment_status=_cell(first, mapping.fulfillment_status).lower(),
        cancelled_at=cancelled_at,
        external_id=_cell(first, mapping.external_id),
        raw=_raw(group),
    )


def _mapped_line(row: CsvRow, position: int, check: FieldCheck, mapping: ColumnMapping) -> IncomingLine:
    sku = _cell(row, mapping.sku)
    name = item_name(_cell(row, mapping.line_name), _cell(row, mapping.line_variant))
    if not sku and not name:
        check.refuse(line=row.line, field=mapping.sku or mapping.line_name,
                     reason="empty: a line needs a SKU, or a product name the catalog maps, to reach a vendor")
    return IncomingLine(
        line=position,
        sku=sku,
        qty=check.required(parse_quantity, row.get(mapping.qty), line=row.line, field=mapping.qty, default=0),
        price=check.required(parse_money, row.get(mapping.price), line=row.line, field=mapping.price,
                             default=Decimal(0)),
        name=name,
        storefront_vendor=_cell(row, mapping.line_vendor),
    )


def _mapped_address(row: CsvRow, mapping: ColumnMapping) -> Address:
    return Address(
        name=_cell(row, mapping.ship_name),
        company=_cell(row, mapping.ship_company),
        address1=_cell(row, mapping.ship_address1),
        address2=_cell(row, mapping.ship_address2),
        city=_cell(row, mapping.ship_city),
        province=_cell(row, mapping.ship_province),
        zip=_cell(row, mapping.ship_zip),
        country=_cell(row, mapping.ship_country),
        phone=_cell(row, mapping.ship_phone),
    )


def _cell(row: CsvRow, column: str) -> str:
    return row.get(column).strip() if column else ""


def _raw(group: OrderRows) -> dict[str, Any]:
    return {"rows": [row.filled() for row in group.rows]}
