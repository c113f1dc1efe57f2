"""Orders from any storefront CSV read through a :class:`ColumnMapping`; and the CSV reading shared by both
CSV parsers (this one and the Shopify export).

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

import csv
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from itertools import chain, compress
from pathlib import Path
from typing import IO, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orderflow.errors import ConfigError, InputError, Refusal
from orderflow.orders.records import Address, IncomingLine, IncomingOrder, item_name, normalize_order_number

T = TypeVar("T")

CsvSource = IO[bytes] | str | os.PathLike[str]
"""A CSV to read: an open binary stream (left open) or a path (opened and closed here)."""

_BOM = b"\xef\xbb\xbf"
# A physical line longer than this is not a storefront export (and must not be read into memory whole).
_MAX_LINE_BYTES = 1 << 20
_QUANTITY = re.compile(r"[0-9]{1,7}")
_MONEY = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,10})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
SNIFF = "auto"
"""The delimiter setting that has the separator read from the file's header row."""
_DELIMITERS = ",;\t|"
_MAX_QUANTITY = 1_000_000
_SHOWN_CHARS = 40
PLACEHOLDER_TIME = datetime(1970, 1, 1, tzinfo=UTC)
"""Stands in for a time that failed to parse; the order carrying it is always refused, never yielded."""


# --- field values: text in, value out, ValueError with a reason a person can act on -----------------------


def shown(text: str) -> str:
    """The text as a refusal quotes it: in quotes, cut short so one bad cell cannot flood a log line."""
    return repr(text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "...")


def named(text: str) -> str:
    """An id (order or PO number) as a message names it: as it is when short and printable, else :func:`shown`.

    A line break in a cell must not split a refusal over two log lines.
    """
    return text if text.isprintable() and len(text) <= _SHOWN_CHARS else shown(text)


def parse_quantity(text: str) -> int:
    """``'2'`` -> ``2``; anything but a positive whole number is refused."""
    value = text.strip()
    if not _QUANTITY.fullmatch(value) or not 0 < int(value) <= _MAX_QUANTITY:
        raise ValueError(f"not a positive whole number: {shown(text)}")
    return int(value)


def parse_money(text: str) -> Decimal:
    """``'24.00'`` -> ``Decimal('24.00')``: plain non-negative decimals only (no ``$``, exponent or NaN)."""
    value = text.strip()
    if not _MONEY.fullmatch(value):
        raise ValueError(f"not an amount like 24.00: {shown(text)}")
    return Decimal(value)


def parse_currency(text: str) -> str:
    """``'usd'`` -> ``'USD'``: a three-letter ISO 4217 code."""
    value = text.strip().upper()
    if not _CURRENCY.fullmatch(value):
        raise ValueError(f"not a three-letter currency code: {shown(text)}")
    return value


def parse_local_time(text: str, *, date_format: str, zone: tzinfo) -> datetime:
    """A time in ``date_format`` (or ``"iso"``); without a UTC offset it is taken in ``zone``. Returns UTC."""
    value = text.strip()
    try:
        moment = _read_time(value, date_format)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        expected = "an ISO 8601 time" if date_format == "iso" else f"a time in the format {date_format}"
        raise ValueError(f"not {expected}: {shown(text)}") from None


def _read_time(value: str, date_format: str) -> datetime:
    if date_format == "iso":
        return datetime.fromisoformat(value)
    return datetime.strptime(value, date_format)  # noqa: DTZ007 - the caller gives a naive result its zone


def strip_spreadsheet_quote(text: str) -> str:
    """``"'04101"`` -> ``'04101'``: spreadsheets prefix one ``'`` to keep leading zeros."""
    return text.strip().removeprefix("'")


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

    def required(self, parse: Callable[[str], T], text: str, *, line: int | None, field: str,
                 default: T) -> T:
        """The parsed value; an empty or bad value is refused and ``default`` stands in for it."""
        if not text.strip():
            self.refuse(line=line, field=field, reason="empty")
            return default
        value = self._parsed(parse, text, line=line, field=field)
        return default if value is None else value

    def optional(self, parse: Callable[[str], T], text: str, *, line: int | None, field: str) -> T | None:
        """The parsed value, ``None`` for an empty cell; a bad value is refused."""
        if not text.strip():
            return None
        return self._parsed(parse, text, line=line, field=field)

    def _parsed(self, parse: Callable[[str], T], text: str, *, line: int | None, field: str) -> T | None:
        try:
            return parse(text)
        except ValueError as exc:
            self.refuse(line=line, field=field, reason=str(exc))
            return None


# --- CSV rows as a stream, with physical line numbers -------------------------------------------------------


def header_key_exact(name: str) -> str:
    """Column names compared as written (surrounding spaces aside): Shopify's headers are fixed."""
    return name.strip()


def header_key_loose(name: str) -> str:
    """Column names compared ignoring case, spaces, ``_`` and ``.``: ``Ship Zip`` = ``ship_zip``."""
    return re.sub(r"[\s_.]+", "", name).casefold()


@dataclass(frozen=True)
class CsvHeader:
    """The header row: which cell holds which column (the first, if a name repeats)."""

    names: tuple[str, ...]
    key: Callable[[str], str]
    index: dict[str, int]
    # Columns asked for by name, resolved once: a big import asks millions of times.
    _resolved: dict[str, int | None] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_cells(cls, cells: Sequence[str], key: Callable[[str], str]) -> CsvHeader:
        index: dict[str, int] = {}
        for position, name in enumerate(cells):
            index.setdefault(key(name), position)
        return cls(names=tuple(cells), key=key, index=index)

    def position(self, column: str) -> int | None:
        """Which cell holds ``column``; ``None`` when the file has no such column."""
        try:
            return self._resolved[column]
        except KeyError:
            found = self._resolved[column] = self.index.get(self.key(column))
            return found

    def missing(self, columns: Sequence[str]) -> list[str]:
        return [column for column in columns if self.position(column) is None]


@dataclass(frozen=True)
class CsvRow:
    """One data row. ``line`` is the physical line (1-based, header = 1) where the row starts."""

    line: int
    cells: Sequence[str]
    header: CsvHeader

    def get(self, column: str) -> str:
        """The cell under ``column``; ``""`` when the file has no such column or the row stops short."""
        position = self.header.position(column)
        if position is None or position >= len(self.cells):
            return ""
        return self.cells[position]

    def filled(self) -> dict[str, str]:
        """The non-empty cells by column name: what an order keeps as its raw payload."""
        return dict(compress(zip(self.header.names, self.cells, strict=False), self.cells))


def read_csv_rows(source: CsvSource, *, file: str, check_header: Callable[[CsvHeader], None],
                  key: Callable[[str], str] = header_key_loose, delimiter: str = ",") -> Iterator[CsvRow]:
    """Stream the data rows of a CSV, after ``check_header`` accepted its header (it raises ``InputError``).

    Whole-file problems (binary content, bytes that are not UTF-8, broken CSV) raise ``InputError``. A stream
    that can seek (every file on disk) is checked for them end to end first, so such a file yields nothing at
    all; a stream that cannot seek raises where the problem is met. Blank rows are skipped.
    """
    if isinstance(source, str | os.PathLike):
        try:
            with Path(source).open("rb") as stream:
                yield from _checked_rows(stream, file=file, check_header=check_header, key=key,
                                         delimiter=delimiter)
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror or exc}", file=file) from exc
    else:
        yield from _checked_rows(source, file=file, check_header=check_header, key=key, delimiter=delimiter)


def _checked_rows(stream: IO[bytes], *, file: str, check_header: Callable[[CsvHeader], None],
                  key: Callable[[str], str], delimiter: str) -> Iterator[CsvRow]:
    if _seekable(stream):
        start = stream.tell()
        for _cells in _cells_after_header(stream, file=file, check_header=check_header, key=key,
                                          delimiter=delimiter):
            pass
        stream.seek(start)
    yield from _rows(stream, file=file, check_header=check_header, key=key, delimiter=delimiter)


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return stream.seekable()
    except (OSError, ValueError):
        return False


def _rows(stream: IO[bytes], *, file: str, check_header: Callable[[CsvHeader], None],
          key: Callable[[str], str], delimiter: str) -> Iterator[CsvRow]:
    header: CsvHeader | None = None
    last_line = 1
    for line, cells in _cells_after_header(stream, file=file, check_header=check_header, key=key,
                                           delimiter=delimiter):
        if header is None:
            header = CsvHeader.from_cells(cells, key)
        # A row starts on the line after the previous row ended; blank rows only move the count on.
        elif any(map(str.strip, cells)):
            yield CsvRow(line=last_line + 1, cells=cells, header=header)
        last_line = line


def _cells_after_header(stream: IO[bytes], *, file: str, check_header: Callable[[CsvHeader], None],
                        key: Callable[[str], str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The header's cells once ``check_header`` accepted them, then every row's, each with its last line."""
    # Strict: a stray quote would otherwise swallow the rows up to the next quote into one cell, and the
    # orders on those rows would vanish without a refusal; an unclosed quote means a file cut off mid-cell.
    lines = _text_lines(stream, file=file)
    first = next(lines, None)
    if delimiter == SNIFF:
        delimiter = sniffed_delimiter(first or "")
    reader = csv.reader(chain(() if first is None else (first,), lines), delimiter=delimiter, strict=True)
    try:
        header_cells = next(reader, None)
        if header_cells is None:
            raise InputError("the file is empty: no header row", file=file)
        check_header(CsvHeader.from_cells(header_cells, key))
        yield reader.line_num, header_cells
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise InputError(f"not readable as CSV: {exc}", file=file, line=reader.line_num) from exc


def sniffed_delimiter(header_line: str) -> str:
    """The separator of a header row: the most frequent of comma, semicolon, tab and ``|`` outside quotes;
    a comma when none appears, or on a tie."""
    outside = re.sub(r'"[^"]*"', "", header_line)
    best = max(_DELIMITERS, key=outside.count)
    return best if outside.count(best) else ","


def _text_lines(stream: IO[bytes], *, file: str) -> Iterator[str]:
    """Decode line by line, so an undecodable byte is reported on its own physical line."""
    number = 0
    while True:
        try:
            raw = stream.readline(_MAX_LINE_BYTES + 1)
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc}", file=file, line=number + 1) from exc
        if not raw:
            return
        number += 1
        if number == 1:
            raw = raw.removeprefix(_BOM)
        if len(raw) > _MAX_LINE_BYTES:
            raise InputError(f"a line longer than {_MAX_LINE_BYTES} bytes: not an order export", file=file,
                             line=number)
        if b"\x00" in raw:
            raise InputError("binary content (NUL bytes): not a UTF-8 CSV file", file=file, line=number)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text (byte {exc.start + 1} of the line)", file=file,
                             line=number) from exc


# --- grouping rows into orders ------------------------------------------------------------------------------


@dataclass
class OrderRows:
    """The rows of one order, in file order; ``earlier_line`` is where earlier rows with its number began."""

    number: str
    rows: list[CsvRow]
    earlier_line: int | None = None


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
            continue
        if current is not None:
            yield current
            first_line_of.setdefault(current.number, current.rows[0].line)
        earlier_line = first_line_of.get(number) if number else None
        current = OrderRows(number=number, rows=[row], earlier_line=earlier_line)
    if current is not None:
        yield current


def check_order_numbers(group: OrderRows, check: FieldCheck, *, column: str, together: bool = True) -> None:
    """Refuse an order whose rows are not all together, or that has a row without an order number."""
    if group.earlier_line is not None:
        where = "are not together" if together else "repeat"
        remedy = "sort the file by order number" if together else "one row per order was expected"
        check.refuse(line=group.rows[0].line, field=column,
                     reason=f"rows of this order {where}: it also appears at line {group.earlier_line}; "
                            f"{remedy}")
    for row in group.rows:
        if not normalize_order_number(row.get(column)):
            check.refuse(line=row.line, field=column,
                         reason="no order number: the row cannot be placed in an order, and may be a line "
                                "of the order it follows")


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
