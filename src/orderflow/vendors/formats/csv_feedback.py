"""Vendors' CSV answers: acknowledgements, tracking and inventory files, read into a ParsedVendorFile.

::

    parsed = parse_vendor_csv(path.read_bytes(), file=path.name)                 # kind told by its columns
    parsed = parse_vendor_csv(data, file="shp_0314.csv", kind="tracking",
                              columns={"po_number": "Cust Ref", "tracking_number": "Pkg ID"})
    parsed.ship_notices, parsed.acks, parsed.stock, parsed.refusals, parsed.warnings

How a file is read:

- UTF-8 with or without a byte-order mark, a header row, comma-separated (RFC 4180). Binary content, bytes
  that are not UTF-8 and broken quoting refuse the whole file with an :class:`~orderflow.errors.InputError`.
- Headers are matched ignoring case, spaces, ``_``, ``.`` and ``-``, with ``#`` read as "number"
  (``PO #`` = ``PO Number`` = ``po_number``), against the aliases in :data:`COLUMN_ALIASES`. ``columns`` maps
  a canonical name to the header one vendor uses; it replaces the aliases for that column.
- ``kind="auto"`` tells the kind from the columns: a tracking number column makes a tracking file; a PO
  number with a status column, acknowledgements; a quantity available column without a PO number, inventory.
  A file whose kind cannot be told, or that lacks a column its kind needs, is refused whole, naming the
  missing canonical columns and the headers accepted for them.
- A row with a bad value (a quantity that is not a whole number or is negative, a date that is not ISO 8601,
  an empty PO number or SKU) is refused alone, as a :class:`~orderflow.errors.Refusal` naming the physical
  line where the row starts (the header is line 1) and the vendor's own column header; the other rows are kept.
- Dates: a date alone (``2026-03-14``) becomes 12:00 UTC of that day, as in the X12 reader; an ISO 8601
  time keeps its UTC offset; a time without an offset is taken as UTC.

Tracking: one :class:`ShipNotice` per PO number, one :class:`Parcel` per tracking number, the row's line
(line number, vendor SKU, quantity shipped) in its parcel. Several numbers joined with ``|`` in one cell
(OrderLogix) make one parcel each; the row's lines go to the first of them, because the file does not say
which carton holds what, and a warning says so. A ship notice holds one service and one ship date, so when
its rows differ the first service and the earliest date are kept, with a warning. Files with a vendor SKU or
line number column need a quantity shipped column; files without either give parcels with no lines.

Acknowledgements: one :class:`Acknowledgement` per PO number. Line statuses are read from words or any X12 ACK01
code, read as in an 855 (``accepted``/``IA``, ``rejected``/``IR``/``R2``, ``backordered``/``backorder``/``IB``,
``changed``/``IQ``/``IP``/``IC``); an unknown status is read as ``changed`` so a person reviews it, with a
warning. A row without a line number and SKU is a verdict on the whole order and gives no line. The order's
status: all accepted gives ``accepted``, all rejected ``rejected``, anything else ``accepted_with_changes``.
A quantity the vendor left out is 0, which means the whole line.

Inventory: one :class:`StockLevel` per row; UPCs stay text (leading zeros kept, scientific notation refused).
A status column (``backorder``, ``discontinued``) changes nothing in the records; statuses other than
in-stock words are summarised in one warning each.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeVar

from orderflow.errors import ConfigError, InputError, Refusal
from orderflow.parsing.csv_rows import CsvHeader, CsvRow, read_csv_rows
from orderflow.parsing.text import named, shown
from orderflow.parsing.times import NOON, parse_date, parse_time
from orderflow.parsing.values import strip_spreadsheet_quote
from orderflow.vendors.formats.ack_codes import LINE_ACK_CODES
from orderflow.vendors.records import (
    Acknowledgement,
    AckStatus,
    LineAck,
    LineAckStatus,
    Parcel,
    ParsedVendorFile,
    ShipNotice,
    ShippedLine,
    StockLevel,
)

T = TypeVar("T")
FeedbackKind = Literal["acks", "tracking", "inventory"]

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "po_number": ("PO", "PO Number", "PartnerPO", "Purchase Order", "Purchase Order Number", "order_id"),
    "line_number": ("Line", "LineNumber", "ShipmentLine.LineNumber", "po_line"),
    "vendor_sku": ("SKU", "Item Code", "code", "SupplierSKU", "ShipmentLine.ItemIdentifier.SupplierSKU",
                   "Item Number", "vendor_item"),
    "quantity_shipped": ("Qty", "Quantity", "ShipmentInfo.Qty", "qty_shipped", "shipped_qty"),
    "carrier": ("Carrier", "CarrierCode", "carrier_code", "courier", "carrier_name"),
    "carrier_scac": ("SCAC", "CarrierSCAC"),
    "service": ("Service", "ClassCode", "ServiceLevelCode", "shipment_method", "Class of Service",
                "ship_method", "shipping_method"),
    "tracking_number": ("Tracking", "Tracking Number", "TrackingNumber", "tracking_no", "tracking_numbers"),
    "ship_date": ("Ship Date", "DateShipped", "date_shipped", "shipped_date", "shipped_at"),
    "quantity_available": ("qty", "quantity", "QuantityAvailable", "quantityOnHand", "stock", "available",
                           "qty_available", "on_hand"),
    "status": ("Status", "ack_status", "line_status", "status_code", "ack_code"),
    "quantity": ("Qty", "Quantity", "qty_acknowledged", "ack_qty"),
    "reason": ("Reason", "reason_text", "reject_reason", "rejection_reason", "message", "note", "notes",
               "comment"),
    "expected_date": ("Expected Date", "expected_ship_date", "ExpectedShipDate", "backorder_date", "eta"),
    "vendor_reference": ("vendor_order_number", "VendorOrderNumber", "vendor_order_id", "confirmation_number"),
    "next_available_date": ("next_available", "NextAvailableDate", "restock_date", "available_date", "eta"),
    "as_of": ("updated_at", "last_updated", "as_of_date", "timestamp", "snapshot_time"),
    "upc": ("UPC", "UPC Code", "GTIN", "barcode"),
}
"""Canonical column -> the headers vendors use for it (the canonical name itself is accepted too)."""

_REQUIRED: dict[FeedbackKind, tuple[str, ...]] = {
    "tracking": ("po_number", "tracking_number"),
    "acks": ("po_number", "status"),
    "inventory": ("vendor_sku", "quantity_available"),
}
_OPTIONAL: dict[FeedbackKind, tuple[str, ...]] = {
    "tracking": ("line_number", "vendor_sku", "quantity_shipped", "carrier", "carrier_scac", "service",
                 "ship_date"),
    "acks": ("line_number", "vendor_sku", "quantity", "reason", "expected_date", "vendor_reference"),
    "inventory": ("upc", "next_available_date", "as_of", "status"),
}

_LINE_STATUSES: dict[str, LineAckStatus] = {
    **dict.fromkeys(("accepted", "accept", "confirmed"), "accepted"),
    **dict.fromkeys(("rejected", "reject", "declined", "cancelled", "canceled"), "rejected"),
    **dict.fromkeys(("backordered", "backorder", "bo"), "backordered"),
    **dict.fromkeys(("changed", "acceptedwithchanges"), "changed"),
    **{code.casefold(): status for code, (status, _meaning) in LINE_ACK_CODES.items()},
}
"""A status word, or an X12 ACK01 code as the 855 reader takes it, -> the line's status."""
_IN_STOCK_STATUSES = frozenset({"", "active", "instock", "available", "ok"})

_WHOLE = re.compile(r"[+-]?[0-9]{1,9}")
_SCIENTIFIC = re.compile(r"[0-9.,]+[eE][+-]?[0-9]+")
_HEADERS_SHOWN = 12


def parse_vendor_csv(data: bytes, *, file: str, kind: Literal["auto", "acks", "tracking", "inventory"] = "auto",
                     columns: Mapping[str, str] | None = None) -> ParsedVendorFile:
    """Read one vendor CSV file: acknowledgements, tracking or inventory (see the module docstring).

    Raises :class:`InputError` for a file that cannot be read as a whole, and :class:`ConfigError` for a
    ``kind`` or a ``columns`` key orderflow does not know. Bad rows come back as ``refusals``.
    """
    overrides = _checked_overrides(columns or {})
    if kind != "auto" and kind not in _REQUIRED:
        raise ConfigError(f"unknown vendor file kind {kind!r}: expected auto, acks, tracking or inventory")
    told = None if kind == "auto" else kind
    layouts: list[_Layout] = []

    def check_header(header: CsvHeader) -> None:
        layouts[:] = [_layout(header, kind=told or _detected_kind(header, overrides, file=file),
                              overrides=overrides, file=file)]

    rows = list(read_csv_rows(io.BytesIO(data), file=file, check_header=check_header, key=header_key))
    layout = layouts[0]
    parsed = ParsedVendorFile(warnings=list(layout.warnings))
    _READERS[layout.kind](rows, layout, parsed)
    return parsed


@functools.lru_cache(maxsize=1024)
def header_key(name: str) -> str:
    """How headers are compared: ``'PO #'``, ``'po-number'`` and ``'PO.Number'`` all give ``'ponumber'``.

    Remembered: every file from a vendor has the same header."""
    return _word_key(name.replace("#", "number"))


def _word_key(text: str) -> str:
    return re.sub(r"[\s_.\-]+", "", text).casefold()


# --- which column holds what -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """The file's kind and, per canonical column, the vendor's header as written in the file."""

    kind: FeedbackKind
    file: str
    headers: dict[str, str]
    warnings: tuple[str, ...] = ()

    def has(self, canonical: str) -> bool:
        return canonical in self.headers


def _checked_overrides(columns: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(set(columns) - set(COLUMN_ALIASES))
    if unknown:
        raise ConfigError(f"vendor CSV columns: unknown column name(s) {', '.join(unknown)}; "
                          f"known: {', '.join(COLUMN_ALIASES)}")
    return {canonical: header for canonical, header in columns.items() if header.strip()}


def _detected_kind(header: CsvHeader, overrides: dict[str, str], *, file: str) -> FeedbackKind:
    def has(canonical: str) -> bool:
        return _find(header, canonical, overrides) is not None

    if has("tracking_number"):
        return "tracking"
    if has("po_number") and has("status"):
        return "acks"
    if has("quantity_available") and not has("po_number"):
        return "inventory"
    raise InputError(_undetected(header, overrides), file=file, line=1)


def _layout(header: CsvHeader, *, kind: FeedbackKind, overrides: dict[str, str], file: str) -> _Layout:
    headers = {canonical: name for canonical in (*_REQUIRED[kind], *_OPTIONAL[kind])
               if (name := _find(header, canonical, overrides))}
    required = list(_REQUIRED[kind])
    if kind == "tracking" and ("line_number" in headers or "vendor_sku" in headers):
        required.append("quantity_shipped")  # without it a line's quantity would be a guess
    missing = [canonical for canonical in required if canonical not in headers]
    if missing:
        raise InputError(f"{_KIND_NAMES[kind]} file without the column(s) it needs: "
                         f"{'; '.join(_accepted(canonical, overrides) for canonical in missing)}. "
                         f"{_columns_found(header)}", file=file, line=1)
    warnings = tuple(f"{file}: line 1: column {overrides[canonical]!r} configured for {canonical} is not in the file"
                     for canonical in _OPTIONAL[kind] if canonical in overrides and canonical not in headers)
    return _Layout(kind=kind, file=file, headers=headers, warnings=warnings)


_KIND_NAMES: dict[FeedbackKind, str] = {"tracking": "tracking", "acks": "acknowledgement", "inventory": "inventory"}


def _find(header: CsvHeader, canonical: str, overrides: dict[str, str]) -> str | None:
    """The file's header for ``canonical``: the vendor's configured one, else the first alias present."""
    candidates = (overrides[canonical],) if canonical in overrides else (canonical, *COLUMN_ALIASES[canonical])
    for candidate in candidates:
        position = header.position(candidate)
        if position is not None:
            return header.names[position].strip()
    return None


def _accepted(canonical: str, overrides: dict[str, str]) -> str:
    if canonical in overrides:
        return f"{canonical} (configured as {overrides[canonical]!r})"
    return f"{canonical} (accepted headers: {', '.join((canonical, *COLUMN_ALIASES[canonical]))})"


def _undetected(header: CsvHeader, overrides: dict[str, str]) -> str:
    return ("cannot tell whether this is a tracking, acknowledgement or inventory file: expected "
            f"{_accepted('tracking_number', overrides)}; or {_accepted('po_number', overrides)} with "
            f"{_accepted('status', overrides)}; or {_accepted('quantity_available', overrides)} without a PO "
            f"number. {_columns_found(header)}")


def _columns_found(header: CsvHeader) -> str:
    names = [shown(name) for name in header.names[:_HEADERS_SHOWN]]
    more = f" and {len(header.names) - _HEADERS_SHOWN} more" if len(header.names) > _HEADERS_SHOWN else ""
    return f"The file's columns: {', '.join(names)}{more}."


# --- one row's values --------------------------------------------------------------------------------------------


@dataclass
class _RowCheck:
    """Reads one row's cells, collecting every bad value so the row is refused once, naming the first."""

    row: CsvRow
    layout: _Layout
    problems: list[tuple[str, str]] = field(default_factory=list)

    def text(self, canonical: str) -> str:
        header = self.layout.headers.get(canonical)
        return self.row.get(header).strip() if header else ""

    def required(self, canonical: str) -> str:
        value = self.text(canonical)
        if not value:
            self.refuse(canonical, f"{canonical.replace('_', ' ')} is empty")
        return value

    def value(self, canonical: str, parse: Callable[[str], T]) -> T | None:
        """The parsed cell; ``None`` for an empty cell or a bad one (which is noted)."""
        text = self.text(canonical)
        if not text:
            return None
        try:
            return parse(text)
        except ValueError as exc:
            self.refuse(canonical, str(exc))
            return None

    def needed(self, canonical: str, parse: Callable[[str], T], *, default: T) -> T:
        """The parsed cell; an empty or bad one is noted and ``default`` stands in (the row is refused)."""
        if not self.text(canonical):
            self.refuse(canonical, f"{canonical.replace('_', ' ')} is empty")
            return default
        value = self.value(canonical, parse)
        return default if value is None else value

    def refuse(self, canonical: str, reason: str) -> None:
        self.problems.append((self.layout.headers[canonical], reason))

    def refusal(self, po_number: str = "") -> Refusal | None:
        if not self.problems:
            return None
        (first_header, first_reason), *others = self.problems
        subject = f"row for {named(po_number)} refused" if po_number else "row refused"
        also = "".join(f"; also {header}: {reason}" for header, reason in others)
        return Refusal(file=self.layout.file, line=self.row.line, field=named(first_header),
                       reason=f"{subject}: {first_reason}{also}")


def _quantity(text: str) -> int:
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"not a whole number: {shown(text)}")
    if int(text) < 0:
        raise ValueError(f"negative quantity: {shown(text)}")
    return int(text)


def _line_number(text: str) -> int:
    if not _WHOLE.fullmatch(text) or int(text) < 1:
        raise ValueError(f"not a line number (1 or more): {shown(text)}")
    return int(text)


@functools.lru_cache(maxsize=1024)
def _instant(text: str) -> datetime:
    """An ISO 8601 time in UTC; a date alone is noon UTC of that day, a time without an offset is UTC.

    Remembered: a file's rows, and a day's files, mostly say the same day; a bad one is read again each time."""
    return parse_time(text, date_at=NOON,
                      expected="an ISO 8601 date or time like 2026-03-14 or 2026-03-14T16:30:00Z")


def _upc(text: str) -> str:
    upc = strip_spreadsheet_quote(text)
    if _SCIENTIFIC.fullmatch(upc):
        raise ValueError(f"UPC in scientific notation (a spreadsheet dropped its digits): {shown(text)}")
    return upc


def _first_of(values: Iterable[str]) -> str | None:
    return next((value for value in values if value), None)


# --- tracking ----------------------------------------------------------------------------------------------------


@dataclass
class _ParcelDraft:
    carrier: str | None
    lines: list[ShippedLine] = field(default_factory=list)


@dataclass
class _NoticeDraft:
    vendor_order_id: str
    first_line: int
    carriers: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    ship_dates: list[datetime] = field(default_factory=list)
    parcels: dict[str, _ParcelDraft] = field(default_factory=dict)

    def parcel(self, number: str, carrier: str | None) -> _ParcelDraft:
        draft = self.parcels.setdefault(number, _ParcelDraft(carrier=carrier))
        draft.carrier = draft.carrier or carrier
        return draft


def _read_tracking(rows: list[CsvRow], layout: _Layout, parsed: ParsedVendorFile) -> None:
    notices: dict[str, _NoticeDraft] = {}
    for row in rows:
        check = _RowCheck(row, layout)
        po_number = check.required("po_number")
        shipped = _shipped_line(check)
        shipped_at = check.value("ship_date", _instant)
        if refusal := check.refusal(po_number):
            parsed.refusals.append(refusal)
            continue
        notice = notices.setdefault(po_number, _NoticeDraft(vendor_order_id=po_number, first_line=row.line))
        carrier = check.text("carrier") or check.text("carrier_scac") or None
        numbers = _tracking_numbers(check.text("tracking_number"))
        if len(numbers) > 1:
            parsed.warnings.append(
                f"{layout.file}: line {row.line}: {named(po_number)}: {len(numbers)} tracking numbers in one cell; "
                f"the row's line is put in the first parcel ({numbers[0]}), the others have no lines")
        for number in numbers:
            notice.parcel(number, carrier)
        if shipped is not None:
            notice.parcel(numbers[0], carrier).lines.append(shipped)
        notice.carriers.append(carrier or "")
        notice.services.append(check.text("service"))
        if shipped_at is not None:
            notice.ship_dates.append(shipped_at)
    for notice in notices.values():
        parsed.ship_notices.append(_ship_notice(notice, layout, parsed.warnings))


def _shipped_line(check: _RowCheck) -> ShippedLine | None:
    """The row's line, ``None`` for a row that names only a parcel; a bad value is noted on ``check``."""
    if not (check.layout.has("line_number") or check.layout.has("vendor_sku")):
        return None  # the file tells parcels only, not what is in them
    line = check.value("line_number", _line_number)
    vendor_sku = check.text("vendor_sku")
    if not (check.text("line_number") or vendor_sku):
        if check.text("quantity_shipped"):
            check.refuse("quantity_shipped", "a quantity shipped without a line number or SKU to say what shipped")
        return None
    return ShippedLine(line=line, vendor_sku=vendor_sku, qty=check.needed("quantity_shipped", _quantity, default=0))


def _tracking_numbers(cell: str) -> list[str]:
    """``'A|B'`` -> ``['A', 'B']``; an empty cell is one parcel without a number (the vendor sent none)."""
    numbers = [number.strip() for number in cell.split("|")]
    return list(dict.fromkeys(number for number in numbers if number)) or [""]


def _ship_notice(notice: _NoticeDraft, layout: _Layout, warnings: list[str]) -> ShipNotice:
    where = f"{layout.file}: line {notice.first_line}: {notice.vendor_order_id}"
    services = list(dict.fromkeys(service for service in notice.services if service))
    if len(services) > 1:
        warnings.append(f"{where}: parcels name different services ({', '.join(services)}); "
                        f"the ship notice keeps the first")
    days = sorted({moment.date() for moment in notice.ship_dates})
    if len(days) > 1:
        warnings.append(f"{where}: parcels shipped on different dates ({', '.join(map(str, days))}); "
                        f"the ship notice keeps the earliest")
    return ShipNotice(
        vendor_order_id=notice.vendor_order_id, shipped_at=min(notice.ship_dates, default=None),
        carrier=_first_of(notice.carriers), service=_first_of(services),
        parcels=tuple(Parcel(tracking_number=number, carrier=draft.carrier, lines=tuple(draft.lines))
                      for number, draft in notice.parcels.items()),
        source_ref=f"{layout.file}:{notice.first_line}")


# --- acknowledgements --------------------------------------------------------------------------------------------


@dataclass
class _AckDraft:
    vendor_order_id: str
    first_line: int
    vendor_reference: str = ""
    statuses: list[LineAckStatus] = field(default_factory=list)
    order_reasons: list[str] = field(default_factory=list)
    lines: list[LineAck] = field(default_factory=list)


def _read_acks(rows: list[CsvRow], layout: _Layout, parsed: ParsedVendorFile) -> None:
    drafts: dict[str, _AckDraft] = {}
    for row in rows:
        check = _RowCheck(row, layout)
        po_number = check.required("po_number")
        code = check.required("status")
        line = check.value("line_number", _line_number)
        qty = check.value("quantity", _quantity)
        expected = check.value("expected_date", parse_date)
        if refusal := check.refusal(po_number):
            parsed.refusals.append(refusal)
            continue
        status = _LINE_STATUSES.get(_word_key(code))
        if status is None:
            parsed.warnings.append(f"{layout.file}: line {row.line}: {named(po_number)}: unrecognised status "
                                   f"{shown(code)} read as 'changed'; review it")
            status = "changed"
        draft = drafts.setdefault(po_number, _AckDraft(vendor_order_id=po_number, first_line=row.line))
        draft.vendor_reference = draft.vendor_reference or check.text("vendor_reference")
        draft.statuses.append(status)
        reason, vendor_sku = check.text("reason"), check.text("vendor_sku")
        if line is None and not vendor_sku:
            draft.order_reasons.append(reason)
        else:
            draft.lines.append(LineAck(line=line, vendor_sku=vendor_sku, qty=qty or 0, status=status, code=code,
                                       reason=reason, expected_date=expected))
    parsed.acks.extend(_acknowledgement(draft, layout) for draft in drafts.values())


def _acknowledgement(draft: _AckDraft, layout: _Layout) -> Acknowledgement:
    status: AckStatus
    if all(each == "accepted" for each in draft.statuses):
        status = "accepted"
    elif all(each == "rejected" for each in draft.statuses):
        status = "rejected"
    else:
        status = "accepted_with_changes"
    reasons = draft.order_reasons
    if status == "rejected" and not any(reasons):
        reasons = [line.reason for line in draft.lines]
    return Acknowledgement(vendor_order_id=draft.vendor_order_id, status=status,
                           vendor_reference=draft.vendor_reference, lines=tuple(draft.lines),
                           reason="; ".join(dict.fromkeys(reason for reason in reasons if reason)),
                           source_ref=f"{layout.file}:{draft.first_line}")


# --- inventory ---------------------------------------------------------------------------------------------------


def _read_inventory(rows: list[CsvRow], layout: _Layout, parsed: ParsedVendorFile) -> None:
    statuses: dict[str, list[int]] = {}
    for row in rows:
        check = _RowCheck(row, layout)
        vendor_sku = check.required("vendor_sku")
        qty = check.needed("quantity_available", _quantity, default=0)
        upc = check.value("upc", _upc) or ""
        next_available = check.value("next_available_date", parse_date)
        as_of = check.value("as_of", _instant)
        if refusal := check.refusal():
            parsed.refusals.append(refusal)
            continue
        parsed.stock.append(StockLevel(vendor_sku=vendor_sku, upc=upc, qty=qty, as_of=as_of,
                                       next_available=next_available))
        status = check.text("status")
        if _word_key(status) not in _IN_STOCK_STATUSES:
            statuses.setdefault(status, []).append(row.line)
    for status, lines in statuses.items():
        parsed.warnings.append(f"{layout.file}: {len(lines)} row(s) with status {shown(status)} (first at line "
                               f"{lines[0]}); their quantities are kept as given")


_READERS: dict[FeedbackKind, Callable[[list[CsvRow], _Layout, ParsedVendorFile], None]] = {
    "tracking": _read_tracking,
    "acks": _read_acks,
    "inventory": _read_inventory,
}
