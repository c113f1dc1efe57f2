"""X12 EDI 004010: read what vendors send (855, 856, 846, and our own 850) and write 850s and 997s.

Reading is lenient about layout (CR/LF or nothing after segment terminators, trailing spaces, any separators
the ISA declares, a last IEA without its terminator) and strict about structure: a file that is cut off, not
X12, or whose interchange or group envelope does not add up is refused whole with an
:class:`~orderflow.errors.InputError`; a transaction set that is broken on its own is refused alone (a
:class:`~orderflow.errors.Refusal`) and the other sets are kept. Places are given as 1-based segment
numbers (the ISA is segment 1)::

    parsed = parse_x12(path.read_bytes(), file=path.name)
    parsed.acks, parsed.ship_notices, parsed.stock, parsed.refusals

Ship notices are read in every HL order partners send (S/O/P/I, S/O/I, S/I, S/T/P/I, S/O/T/P/I), with carrier
numbers at any level; nothing in a notice is dropped unseen: an item that cannot be placed refuses its set, and
a carrier number that is no order's parcel is named in ``warnings``.

    text = render_850(po, sender_id="THREADBARE", sender_qualifier="ZZ", receiver_id="ACMEBLANKS",
                      receiver_qualifier="ZZ", interchange_control=101, group_control=101, now=clock.now())

    for interchange in read_interchanges(data, file=name):      # acknowledge what we received
        for group in interchange.groups:
            reply = render_997(group, sender_id="THREADBARE", ...)

Writing uses ``*`` ``>`` ``~`` and a newline after each segment. Free text (names, addresses, descriptions)
has separator and control characters replaced by a space; identifiers (order ids, SKUs, UPCs, e-mail) that
contain them are refused, because altering a join key would silently break the matching of answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo

from orderflow.errors import ConfigError, InputError, Refusal
from orderflow.orders.records import Address
from orderflow.parsing.text import named
from orderflow.parsing.times import NOON, combine_utc, parse_compact_clock, parse_compact_date
from orderflow.parsing.values import ascii_digits
from orderflow.vendors.formats.ack_codes import LINE_ACK_CODES
from orderflow.vendors.records import (
    Acknowledgement,
    AckStatus,
    LineAck,
    LineAckStatus,
    Parcel,
    ParsedVendorFile,
    PurchaseOrder,
    PurchaseOrderLine,
    ShipNotice,
    ShippedLine,
    StockLevel,
)

ISA_LENGTH = 106
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_ENVELOPE_TAGS = frozenset({"ISA", "IEA", "GS", "GE", "ST"})
_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_BLANKS = " \t\r\n"

_TIME_ZONES: dict[str, tzinfo] = {
    "UT": UTC, "GM": UTC,
    "ET": ZoneInfo("America/New_York"), "CT": ZoneInfo("America/Chicago"),
    "MT": ZoneInfo("America/Denver"), "PT": ZoneInfo("America/Los_Angeles"),
    "ES": timezone(timedelta(hours=-5)), "ED": timezone(timedelta(hours=-4)),
    "CS": timezone(timedelta(hours=-6)), "CD": timezone(timedelta(hours=-5)),
    "MS": timezone(timedelta(hours=-7)), "MD": timezone(timedelta(hours=-6)),
    "PS": timezone(timedelta(hours=-8)), "PD": timezone(timedelta(hours=-7)),
}

# BAK02 (X12 element 587): the vendor's verdict on the whole purchase order, every code of the 4010 list. A
# hold, or an answer that only says the order arrived, is "acknowledged": the lines' ACK01 codes carry the detail.
_ORDER_ACKS: dict[str, tuple[AckStatus, str]] = {
    "AC": ("accepted_with_changes", "Acknowledge - with detail and change"),
    "AD": ("accepted", "Acknowledge - with detail, no change"),
    "AE": ("accepted_with_changes", "Acknowledge - with exception detail only"),
    "AH": ("acknowledged", "Acknowledge - hold status"),
    "AK": ("acknowledged", "Acknowledge - no detail or change"),
    "AP": ("accepted", "Acknowledge - product replenishment"),
    "AT": ("accepted", "Accepted"),
    "NA": ("acknowledged", "No acknowledgement needed"),
    "RD": ("rejected", "Purchase order rejected"),
    "RF": ("rejected", "Rejected with exception detail only"),
    "RJ": ("rejected", "Purchase order rejected, no detail"),
    "RN": ("rejected", "Rejected - not as agreed"),
    "RO": ("rejected", "Rejected with counter offer"),
    "RV": ("rejected", "Rejected - validation errors"),
    "ZZ": ("acknowledged", "Mutually defined"),
}

# Item ids by whose number they are (X12 element 235); the first qualifier of each kind present wins, in the
# order listed. EC and MF come last because some partners put their own item number there.
_VENDOR_IDS = ("VN", "VP", "SK", "MG", "MF", "EC")
_BUYER_IDS = ("BP", "IN", "PI", "CB")
_BARCODE_IDS = ("UP", "EN", "UK")

# QTY01 in an 846: quantity available wins over quantity on hand.
_STOCK_QUANTITIES = (("33", "quantity available"), ("17", "quantity on hand"))

# TD504 (X12 element 91) for freight that moves under a PRO number and a bill of lading, not a parcel
# tracking number: motor, LTL and truckload, rail, intermodal, ocean.
_FREIGHT_METHODS = frozenset({"M", "LT", "J", "E", "L", "R", "X", "O", "S"})

# AK502 codes for a transaction set we cannot accept (X12 element 718).
_TRAILER_MISSING = "2"
_CONTROL_MISMATCH = "3"
_COUNT_MISMATCH = "4"
_SEGMENT_ERRORS = "5"
_BAD_SET_ID = "6"
_BAD_CONTROL = "7"

_SUPPORTED = "850, 855, 856, 846"

# Quantities, line numbers and counts fit the database's integer columns with room to spare.
_COUNT_DIGITS = 9
_QUANTITY_LIMIT = 10**_COUNT_DIGITS


# ---------------------------------------------------------------------------------------------------------
# Tokenizer


@dataclass(frozen=True)
class Segment:
    """One segment: ``tag`` plus its elements; ``number`` counts segments from 1 across the whole file."""

    number: int
    tag: str
    elements: tuple[str, ...]

    def get(self, position: int) -> str:
        """Element ``position`` as X12 numbers it (``BAK03`` is ``get(3)``), stripped; ``""`` when absent."""
        if 1 <= position <= len(self.elements):
            return self.elements[position - 1].strip()
        return ""

    @property
    def where(self) -> str:
        # A damaged tag is quoted, so a line break or control character in it cannot split the message.
        return f"segment {self.number} ({self.tag if _TAG.fullmatch(self.tag) else repr(self.tag)})"


def read_segments(data: bytes | str, *, file: str) -> Iterator[Segment]:
    """Yield every segment of every interchange in ``data``, separators taken from each ISA.

    Raises :class:`InputError` for data that is not X12, an ISA that is not fixed width, or a last
    segment without its terminator (a file cut off in transfer).
    """
    text = _decode(data, file=file)
    position = _skip_blanks(text, 0)
    if position == len(text):
        raise InputError("the file is empty", file=file)
    if not text.startswith("ISA", position):
        raise InputError(f"not an X12 interchange: it starts with {text[position:position + 20]!r}, "
                         "not with an ISA segment", file=file, line=1)
    number = 0
    while position < len(text):
        if not text.startswith("ISA", position):
            raise InputError(f"segment {number + 1}: unexpected data after IEA: "
                             f"{text[position:position + 20]!r}", file=file, line=number + 1)
        number += 1
        isa, element_separator, terminator = _read_isa(text, position, number=number, file=file)
        yield isa
        position += ISA_LENGTH
        while True:
            position = _skip_blanks(text, position)
            if position >= len(text):
                return
            end = text.find(terminator, position)
            if end < 0:
                # Some translators leave the terminator off the very last IEA; its count and control number
                # still prove the interchange whole. Anything else left over is a file cut off in transfer.
                if not text.startswith(f"IEA{element_separator}", position):
                    raise InputError(f"segment {number + 1} is cut off: the file ends without its segment "
                                     f"terminator {terminator!r} (truncated?)", file=file, line=number + 1)
                end = len(text)
            raw = text[position:end].strip()
            position = end + 1
            if not raw:
                continue
            number += 1
            tag, *elements = raw.split(element_separator)
            yield Segment(number, tag.strip(), tuple(elements))
            if tag.strip() == "IEA":
                break
        position = _skip_blanks(text, position)


def _decode(data: bytes | str, *, file: str) -> str:
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Older translators write Latin-1; every byte decodes, so names survive instead of the file failing.
            text = data.decode("latin-1")
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise InputError("not an X12 interchange: the file holds binary data (NUL bytes)", file=file)
    return text


def _skip_blanks(text: str, position: int) -> int:
    while position < len(text) and text[position] in _BLANKS:
        position += 1
    return position


def _read_isa(text: str, position: int, *, number: int, file: str) -> tuple[Segment, str, str]:
    header = text[position:position + ISA_LENGTH]
    if len(header) < ISA_LENGTH:
        raise InputError(f"segment {number} (ISA) is cut off: an ISA is {ISA_LENGTH} characters, "
                         f"{len(header)} remain", file=file, line=number)
    element_separator, component_separator, terminator = header[3], header[104], header[105]
    delimiters = (element_separator, component_separator, terminator)
    if any(ch.isalnum() or ch == " " for ch in delimiters) or len(set(delimiters)) < 3:
        raise InputError(f"segment {number} (ISA): unusable separators {''.join(delimiters)!r}; the ISA "
                         "must be fixed width", file=file, line=number)
    elements = header[4:105].split(element_separator)
    widths = tuple(len(element) for element in elements)
    if widths != _ISA_WIDTHS:
        raise InputError(f"segment {number} (ISA) is not fixed width: element widths {widths}, "
                         f"expected {_ISA_WIDTHS}", file=file, line=number)
    return Segment(number, "ISA", tuple(elements)), element_separator, terminator


# ---------------------------------------------------------------------------------------------------------
# Envelope


@dataclass(frozen=True)
class TransactionSet:
    """ST ... SE. ``problem`` is set when the set is structurally broken; ``syntax_error`` is its AK5 code."""

    code: str
    control: str
    segments: tuple[Segment, ...]
    problem: Refusal | None = None
    syntax_error: str | None = None


@dataclass(frozen=True)
class FunctionalGroup:
    """GS ... GE: the unit a 997 acknowledges."""

    functional_id: str
    sender_id: str
    receiver_id: str
    control: str
    version: str
    transaction_sets: tuple[TransactionSet, ...]


@dataclass(frozen=True)
class Interchange:
    """ISA ... IEA. ``key`` (sender id and ISA13) identifies it for dedupe."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control: str
    usage: str
    groups: tuple[FunctionalGroup, ...]

    @property
    def key(self) -> str:
        return f"{self.sender_id}:{self.control}"


def read_interchanges(data: bytes | str, *, file: str) -> list[Interchange]:
    """Read and check the envelopes: ISA/IEA, GS/GE, ST/SE control numbers and counts.

    Interchange and group problems raise :class:`InputError` (the whole file is refused); transaction-set
    problems are recorded on the set (``problem``), so the caller can keep the good sets.
    """
    cursor = _Cursor(read_segments(data, file=file), file=file)
    interchanges = []
    while (isa := cursor.next_or_none()) is not None:
        if isa.tag != "ISA":
            raise InputError(f"{isa.where}: expected ISA", file=file, line=isa.number)
        interchanges.append(_read_interchange(isa, cursor))
    return interchanges


class _Cursor:
    """Segments with one step of look-back, and a clear error when the file ends inside an envelope."""

    def __init__(self, segments: Iterator[Segment], *, file: str) -> None:
        self._segments = segments
        self._pushed: Segment | None = None
        self.file = file
        self.last_number = 0

    def next_or_none(self) -> Segment | None:
        if self._pushed is not None:
            pushed, self._pushed = self._pushed, None
            return pushed
        segment = next(self._segments, None)
        if segment is not None:
            self.last_number = segment.number
        return segment

    def take(self, *, inside: str, missing: str) -> Segment:
        segment = self.next_or_none()
        if segment is None:
            raise InputError(f"the file ends after segment {self.last_number} inside {inside}: no {missing} "
                             "(truncated?)", file=self.file, line=self.last_number)
        return segment

    def push_back(self, segment: Segment) -> None:
        self._pushed = segment

    def refuse(self, segment: Segment, field: str | None, problem: str) -> InputError:
        return InputError(f"{segment.where}: {problem}", file=self.file, line=segment.number, field=field)


def _read_interchange(isa: Segment, cursor: _Cursor) -> Interchange:
    control = isa.get(13)
    groups: list[FunctionalGroup] = []
    while True:
        segment = cursor.take(inside=f"interchange {named(control)} (ISA at segment {isa.number})", missing="IEA")
        if segment.tag == "GS":
            groups.append(_read_group(segment, cursor))
        elif segment.tag == "IEA":
            _check_count(cursor, segment, 1, len(groups), "functional groups")
            _check_control(cursor, segment, 2, control, "ISA13")
            return Interchange(sender_qualifier=isa.get(5), sender_id=isa.get(6), receiver_qualifier=isa.get(7),
                               receiver_id=isa.get(8), control=control, usage=isa.get(15), groups=tuple(groups))
        else:
            raise cursor.refuse(segment, None, "expected GS or IEA inside the interchange")


def _read_group(gs: Segment, cursor: _Cursor) -> FunctionalGroup:
    control = gs.get(6)
    sets: list[TransactionSet] = []
    while True:
        segment = cursor.take(inside=f"functional group {named(control)} (GS at segment {gs.number})", missing="GE")
        if segment.tag == "ST":
            sets.append(_read_transaction_set(segment, cursor))
        elif segment.tag == "GE":
            _check_count(cursor, segment, 1, len(sets), "transaction sets")
            _check_control(cursor, segment, 2, control, "GS06")
            return FunctionalGroup(functional_id=gs.get(1), sender_id=gs.get(2), receiver_id=gs.get(3),
                                   control=control, version=gs.get(8), transaction_sets=tuple(sets))
        else:
            raise cursor.refuse(segment, None, "expected ST or GE inside the functional group")


def _read_transaction_set(st: Segment, cursor: _Cursor) -> TransactionSet:
    segments = [st]
    while True:
        segment = cursor.take(inside=f"transaction set {named(st.get(2))} (ST at segment {st.number})", missing="SE")
        if segment.tag in _ENVELOPE_TAGS:
            cursor.push_back(segment)
            return _broken_set(st, segments, cursor.file, at=segment, field=None, syntax_error=_TRAILER_MISSING,
                               problem=f"transaction set {named(st.get(2))} (ST at segment {st.number}) has no SE")
        segments.append(segment)
        if segment.tag == "SE":
            return _checked_set(st, segments, cursor.file)


def _checked_set(st: Segment, segments: list[Segment], file: str) -> TransactionSet:
    problem = _set_problem(st, segments)
    if problem is None:
        return TransactionSet(code=st.get(1), control=st.get(2), segments=tuple(segments))
    at, field, text, syntax_error = problem
    return _broken_set(st, segments, file, at=at, field=field, problem=text, syntax_error=syntax_error)


def _set_problem(st: Segment, segments: list[Segment]) -> tuple[Segment, str | None, str, str] | None:
    """What is structurally wrong with ST ... SE, as (segment, field, problem, AK5 code), or None."""
    se = segments[-1]
    if not re.fullmatch(r"\d{3}", st.get(1)):
        return st, "ST01", f"invalid transaction set id {st.get(1)!r}", _BAD_SET_ID
    if not st.get(2):
        return st, "ST02", "missing transaction set control number", _BAD_CONTROL
    for segment in segments:
        if not _TAG.fullmatch(segment.tag):
            return segment, None, f"invalid segment id {segment.tag!r}", _SEGMENT_ERRORS
    if _as_int(se.get(1)) != len(segments):
        return se, "SE01", f"SE01 is {se.get(1)!r} but the transaction set has {len(segments)} segments", \
            _COUNT_MISMATCH
    if not _same_control(se.get(2), st.get(2)):
        return se, "SE02", f"SE02 {se.get(2)!r} does not match ST02 {st.get(2)!r}", _CONTROL_MISMATCH
    return None


def _broken_set(st: Segment, segments: list[Segment], file: str, *, at: Segment, field: str | None,
                problem: str, syntax_error: str) -> TransactionSet:
    refusal = Refusal(file=file, line=at.number, field=field, reason=f"{at.where}: {problem}")
    return TransactionSet(code=st.get(1), control=st.get(2), segments=tuple(segments), problem=refusal,
                          syntax_error=syntax_error)


def _check_count(cursor: _Cursor, trailer: Segment, position: int, actual: int, what: str) -> None:
    if _as_int(trailer.get(position)) != actual:
        field = f"{trailer.tag}{position:02d}"
        raise cursor.refuse(trailer, field, f"{field} is {trailer.get(position)!r} but there are {actual} {what}")


def _check_control(cursor: _Cursor, trailer: Segment, position: int, expected: str, header_field: str) -> None:
    if not _same_control(trailer.get(position), expected):
        field = f"{trailer.tag}{position:02d}"
        raise cursor.refuse(trailer, field,
                            f"{field} {trailer.get(position)!r} does not match {header_field} {expected!r}")


def _same_control(left: str, right: str) -> bool:
    if left == right:
        return True
    # Compared as digits, not int(): an element of thousands of digits is past int()'s limit on text.
    return ascii_digits(left) and ascii_digits(right) and left.lstrip("0") == right.lstrip("0")


def _as_int(text: str) -> int | None:
    """A count or line number; ``None`` for anything but up to nine ASCII digits (leading zeros aside)."""
    return int(text) if ascii_digits(text) and len(text.lstrip("0")) <= _COUNT_DIGITS else None


# ---------------------------------------------------------------------------------------------------------
# Reading documents


def parse_x12(data: bytes | str, *, file: str) -> ParsedVendorFile:
    """Read a vendor's X12 file: 855 acknowledgements, 856 ship notices, 846 stock, 850 purchase orders.

    Raises :class:`InputError` when the file as a whole cannot be trusted; a broken or unreadable
    transaction set becomes one refusal and the other sets are kept. Control totals (CTT) that do not add
    up, and 997s (not read here), are reported in ``warnings`` and do not refuse anything.
    """
    interchanges = read_interchanges(data, file=file)
    parsed = _SetReading(file=file, source_ref="")
    for interchange in interchanges:
        for group in interchange.groups:
            for transaction_set in group.transaction_sets:
                source_ref = f"{interchange.key}:{group.control}:{transaction_set.control}"
                parsed.absorb(_read_transaction(transaction_set, file=file, source_ref=source_ref))
    return ParsedVendorFile(acks=parsed.acks, ship_notices=parsed.ship_notices, stock=parsed.stock,
                            refusals=parsed.refusals, purchase_orders=parsed.purchase_orders,
                            warnings=parsed.warnings,
                            interchange=",".join(interchange.key for interchange in interchanges) or None)


@dataclass
class _SetReading:
    """What one transaction set gave; merged into the file's result only when the whole set was read."""

    file: str
    source_ref: str
    acks: list[Acknowledgement] = field(default_factory=list)
    ship_notices: list[ShipNotice] = field(default_factory=list)
    stock: list[StockLevel] = field(default_factory=list)
    purchase_orders: list[PurchaseOrder] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def absorb(self, other: _SetReading) -> None:
        self.acks += other.acks
        self.ship_notices += other.ship_notices
        self.stock += other.stock
        self.purchase_orders += other.purchase_orders
        self.refusals += other.refusals
        self.warnings += other.warnings

    def warn(self, segment: Segment, text: str) -> None:
        self.warnings.append(f"{self.file}: {segment.where}: {text}")

    def refusal(self, error: _SegmentError) -> Refusal:
        return Refusal(file=self.file, line=error.segment.number, field=error.field,
                       reason=f"{error.segment.where}: {error.problem}")


class _SegmentError(Exception):
    """A value we cannot read; becomes a Refusal naming the file and segment."""

    def __init__(self, segment: Segment, position: int | None, problem: str) -> None:
        super().__init__(problem)
        self.segment = segment
        self.field = f"{segment.tag}{position:02d}" if position else None
        self.problem = problem


def _read_transaction(transaction_set: TransactionSet, *, file: str, source_ref: str) -> _SetReading:
    reading = _SetReading(file=file, source_ref=source_ref)
    if transaction_set.problem is not None:
        reading.refusals.append(transaction_set.problem)
        return reading
    st = transaction_set.segments[0]
    if transaction_set.code == "997":
        reading.warn(st, "functional acknowledgement (997) not read")
        return reading
    reader = _READERS.get(transaction_set.code)
    if reader is None:
        reading.refusals.append(Refusal(file=file, line=st.number, field="ST01", reason=(
            f"{st.where}: transaction set {transaction_set.code} is not one orderflow reads ({_SUPPORTED})")))
        return reading
    try:
        reader(transaction_set, reading)
    except _SegmentError as error:
        failed = _SetReading(file=file, source_ref=source_ref)
        failed.refusals.append(reading.refusal(error))
        return failed
    return reading


def _body(transaction_set: TransactionSet) -> Sequence[Segment]:
    return transaction_set.segments[1:-1]


def _split_loops(segments: Sequence[Segment], start: str) -> tuple[list[Segment], list[list[Segment]],
                                                                     list[Segment]]:
    """Header (before the first ``start``), one list per loop, and the summary (``CTT`` onwards)."""
    header: list[Segment] = []
    loops: list[list[Segment]] = []
    summary: list[Segment] = []
    for segment in segments:
        if segment.tag == "CTT" or summary:
            summary.append(segment)
        elif segment.tag == start:
            loops.append([segment])
        elif loops:
            loops[-1].append(segment)
        else:
            header.append(segment)
    return header, loops, summary


def _first(segments: Sequence[Segment], tag: str, qualifier: str | None = None) -> Segment | None:
    for segment in segments:
        if segment.tag == tag and (qualifier is None or segment.get(1) == qualifier):
            return segment
    return None


def _product_ids(segment: Segment, first: int) -> dict[str, str]:
    """Qualifier/id pairs (``VN*ACM-G500*UP*0867...``) from element ``first`` on; the first of each wins."""
    ids: dict[str, str] = {}
    for position in range(first, len(segment.elements) + 1, 2):
        qualifier, value = segment.get(position), segment.get(position + 1)
        if qualifier and value:
            ids.setdefault(qualifier, value)
    return ids


@dataclass(frozen=True)
class _ItemIds:
    vendor_sku: str = ""
    sku: str = ""
    upc: str = ""


def _item_ids(segment: Segment, first: int) -> _ItemIds:
    """The vendor's item number, ours and the barcode, from qualifier/id pairs (LIN, PO1)."""
    ids = _product_ids(segment, first)

    def pick(qualifiers: tuple[str, ...]) -> str:
        return next((ids[qualifier] for qualifier in qualifiers if ids.get(qualifier)), "")

    return _ItemIds(vendor_sku=pick(_VENDOR_IDS), sku=pick(_BUYER_IDS), upc=pick(_BARCODE_IDS))


def _notes(segments: Sequence[Segment]) -> str:
    """Partner free text: NTE02 and REF03 descriptions; 4010 has no standard reject reason."""
    texts = [segment.get(2) for segment in segments if segment.tag == "NTE"]
    texts += [segment.get(3) for segment in segments if segment.tag == "REF"]
    return "; ".join(text for text in texts if text)


def _required(segment: Segment, position: int, what: str) -> str:
    value = segment.get(position)
    if not value:
        raise _SegmentError(segment, position, f"{what} is missing")
    return value


def _whole_or_none(segment: Segment, position: int) -> int | None:
    number = _decimal_or_none(segment, position, kind="whole number")
    if number is None:
        return None
    # Bounded before int(): '1E+9999999' is a finite Decimal whose int() takes minutes to build.
    if not 0 <= number < _QUANTITY_LIMIT or number != number.to_integral_value():
        raise _SegmentError(segment, position, f"{segment.get(position)!r} is not a whole number from 0 to "
                                               f"{_QUANTITY_LIMIT - 1}")
    return int(number)


def _whole(segment: Segment, position: int, what: str) -> int:
    number = _whole_or_none(segment, position)
    if number is None:
        raise _SegmentError(segment, position, f"{what} is missing")
    return number


def _decimal_or_none(segment: Segment, position: int, *, kind: str = "number") -> Decimal | None:
    text = segment.get(position)
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise _SegmentError(segment, position, f"{text!r} is not a {kind}")
    return number


def _date_or_none(segment: Segment, position: int) -> date | None:
    text = segment.get(position)
    if not text:
        return None
    try:
        return parse_compact_date(text)
    except ValueError as exc:
        raise _SegmentError(segment, position, str(exc)) from None


def _instant_or_none(segment: Segment, date_position: int, time_position: int,
                     zone_position: int | None = None) -> datetime | None:
    """Date, optional HHMM[SS] time and optional X12 time-zone code, as an aware UTC datetime; a date alone is
    placed at noon UTC (:data:`~orderflow.parsing.times.NOON`)."""
    day = _date_or_none(segment, date_position)
    if day is None:
        return None
    text = segment.get(time_position)
    if not text:
        return combine_utc(day, NOON, UTC)
    try:
        clock_time = parse_compact_clock(text)
    except ValueError as exc:
        raise _SegmentError(segment, time_position, str(exc)) from None
    zone = _TIME_ZONES.get(segment.get(zone_position), UTC) if zone_position else UTC
    try:
        return combine_utc(day, clock_time, zone)
    except ValueError as exc:
        raise _SegmentError(segment, time_position, str(exc)) from None


def _check_totals(reading: _SetReading, summary: Sequence[Segment], *, counts: Sequence[int],
                  what: str, quantity: int | None = None) -> None:
    """CTT is advisory (partners count different things): a mismatch is a warning, never a refusal."""
    ctt = _first(summary, "CTT")
    if ctt is None:
        return
    stated = _as_int(ctt.get(1))
    if stated not in counts:
        reading.warn(ctt, f"CTT01 is {ctt.get(1)!r} but the transaction set has {counts[0]} {what}")
    if quantity is not None and ctt.get(2):
        stated_quantity = _decimal_or_none(ctt, 2)
        if stated_quantity != quantity:
            reading.warn(ctt, f"CTT02 is {ctt.get(2)!r} but the quantities add up to {quantity}")


# 855 ------------------------------------------------------------------------------------------------------


def _read_855(transaction_set: TransactionSet, reading: _SetReading) -> None:
    header, loops, summary = _split_loops(_body(transaction_set), "PO1")
    bak = _first(header, "BAK")
    if bak is None:
        raise _SegmentError(transaction_set.segments[0], None, "the acknowledgement has no BAK segment")
    vendor_order_id = _required(bak, 3, "the purchase order number")
    code = bak.get(2)
    if code not in _ORDER_ACKS:
        raise _SegmentError(bak, 2, f"unknown acknowledgement type {code!r} (BAK02); the file is kept, and the "
                                    "order waits for an answer orderflow can read")
    status, meaning = _ORDER_ACKS[code]
    lines = tuple(line_ack for loop in loops for line_ack in _line_acks(loop, order_status=status))
    reason = _notes(header) or (meaning if status == "rejected" else "")
    reading.acks.append(Acknowledgement(vendor_order_id=vendor_order_id, status=status,
                                        vendor_reference=bak.get(8), lines=lines, reason=reason,
                                        source_ref=reading.source_ref))
    ordered = sum(_whole_or_none(loop[0], 2) or 0 for loop in loops)
    _check_totals(reading, summary, counts=(len(loops),), what="PO1 lines", quantity=ordered)


def _line_acks(loop: list[Segment], *, order_status: AckStatus) -> list[LineAck]:
    po1 = loop[0]
    line = _whole_or_none(po1, 1)
    ids = _item_ids(po1, 6)
    ordered = _whole_or_none(po1, 2) or 0
    notes = _notes(loop[1:])
    acks = [segment for segment in loop if segment.tag == "ACK"]
    if not acks:
        # No line detail: the line shares the verdict on the whole order.
        status: LineAckStatus = "rejected" if order_status == "rejected" else "accepted"
        return [LineAck(line=line, vendor_sku=ids.vendor_sku, qty=ordered, status=status, code="", reason=notes,
                        expected_date=None, upc=ids.upc, sku=ids.sku)]
    line_acks = []
    for ack in acks:
        code = ack.get(1)
        if code not in LINE_ACK_CODES:
            raise _SegmentError(ack, 1, f"unknown line status {code!r} (ACK01); the file is kept, and the order "
                                        "waits for an answer orderflow can read")
        status, meaning = LINE_ACK_CODES[code]
        quantity = _whole_or_none(ack, 2)
        line_acks.append(LineAck(
            line=line, vendor_sku=ids.vendor_sku, qty=ordered if quantity is None else quantity, status=status,
            code=code, reason=notes or ("" if status == "accepted" else meaning),
            expected_date=_date_or_none(ack, 5), upc=ids.upc, sku=ids.sku))
    return line_acks


# 856 ------------------------------------------------------------------------------------------------------

# HL03 levels from the top of a ship notice down; a blank HL02 parent is read as the nearest earlier level of
# a rank above (some translators leave HL02 empty in the S/O/P/I and S/O/I orders, where that is unambiguous).
_LEVEL_RANKS = {"S": 0, "O": 1, "T": 2, "P": 3, "Q": 4, "I": 5}


@dataclass
class _Level:
    """One HL: shipment (S), order (O), tare (T), pack (P), subpack (Q) or item (I), with its segments."""

    hl: Segment
    parent: _Level | None
    segments: list[Segment]

    @property
    def code(self) -> str:
        return self.hl.get(3)

    def lineage(self) -> Iterator[_Level]:
        """This level, then its parent, up to the top of the tree."""
        level: _Level | None = self
        while level is not None:
            yield level
            level = level.parent

    def within(self, ancestor: _Level) -> bool:
        return any(level is ancestor for level in self.lineage())

    def find(self, tag: str, qualifier: str | None = None) -> Segment | None:
        return _first(self.segments, tag, qualifier)

    def numbers(self) -> list[Segment]:
        """Segments that carry a carton's or a shipment's carrier number: MAN*CP, REF*2I, REF*CN."""
        return [segment for segment in self.segments if segment.get(2) and (
            (segment.tag == "MAN" and segment.get(1) == "CP") or (segment.tag == "REF" and segment.get(1) in (
                "CN", "2I")))]

    @property
    def is_item(self) -> bool:
        # Some partners put LIN and SN1 straight on the pack level (S/O/P): that pack is also the item.
        return self.code == "I" or self.find("SN1") is not None


@dataclass
class _ParcelDraft:
    carrier: str | None
    lines: list[ShippedLine] = field(default_factory=list)


@dataclass
class _Placed:
    """Segment numbers of the items and carrier numbers that made it into a ship notice."""

    segments: set[int] = field(default_factory=set)


def _read_856(transaction_set: TransactionSet, reading: _SetReading) -> None:
    header, loops, summary = _split_loops(_body(transaction_set), "HL")
    st = transaction_set.segments[0]
    levels = _hl_tree(loops, reading)
    for level in levels:
        prf = level.find("PRF")
        if level.code == "O" and (prf is None or not prf.get(1)):
            raise _SegmentError(level.hl, None, "the order level has no PRF01 purchase order number")
    anchors: dict[str, list[_Level]] = {}
    for level in levels:
        if (prf := level.find("PRF")) is not None:
            anchors.setdefault(_required(prf, 1, "the purchase order number"), []).append(level)
    if not anchors:
        raise _SegmentError(st, None, "the ship notice names no purchase order (no HL*O, and no PRF at any level)")
    placed = _Placed()
    for item in (level for level in levels if level.is_item):
        if _purchase_order_of(item) is None:
            raise _SegmentError(item.hl, None, "the item is under no purchase order (no PRF on its level or above)")
    for vendor_order_id, roots in anchors.items():
        reading.ship_notices.append(_ship_notice(vendor_order_id, roots, levels, header=header,
                                                 source_ref=reading.source_ref, placed=placed))
    _check_all_placed(levels, placed, reading)
    items = sum(1 for loop in loops for segment in loop if segment.tag == "LIN")
    _check_totals(reading, summary, counts=(len(levels), items), what="HL levels")


def _hl_tree(loops: list[list[Segment]], reading: _SetReading) -> list[_Level]:
    by_id: dict[str, _Level] = {}
    inferred: list[Segment] = []
    for loop in loops:
        hl = loop[0]
        hl_id = _required(hl, 1, "the HL id")
        if hl_id in by_id:
            raise _SegmentError(hl, 1, f"HL id {hl_id!r} is used twice")
        code = _required(hl, 3, "the HL level code")
        parent_id = hl.get(2)
        if parent_id and parent_id not in by_id:
            raise _SegmentError(hl, 2, f"parent {parent_id!r} is not an earlier HL")
        parent = by_id.get(parent_id) if parent_id else None
        if not parent_id and by_id:
            parent = _inferred_parent(hl, code, list(by_id.values()))
            if parent is not None:
                inferred.append(hl)
        by_id[hl_id] = _Level(hl=hl, parent=parent, segments=loop[1:])
    if inferred:
        reading.warn(inferred[0], f"HL02 (parent) is blank on {len(inferred)} levels; each was placed under the "
                                  "nearest earlier level above it (S > O > T > P > Q > I)")
    return list(by_id.values())


def _inferred_parent(hl: Segment, code: str, earlier: list[_Level]) -> _Level | None:
    rank = _LEVEL_RANKS.get(code)
    if rank is None:
        raise _SegmentError(hl, 2, f"the parent is blank and level code {code!r} has no known place "
                                   "(S, O, T, P, Q, I); the item cannot be placed")
    return next((level for level in reversed(earlier) if _LEVEL_RANKS.get(level.code, rank) < rank), None)


def _purchase_order_of(level: _Level) -> str | None:
    for ancestor in level.lineage():
        if (prf := ancestor.find("PRF")) is not None:
            return prf.get(1)
    return None


def _ship_notice(vendor_order_id: str, roots: list[_Level], levels: list[_Level], *, header: list[Segment],
                 source_ref: str, placed: _Placed) -> ShipNotice:
    """The notice for one purchase order: its levels are those whose nearest PRF names it."""
    anchor = roots[0]
    td5 = _nearest(anchor, "TD5")
    carrier = (td5.get(3) or None) if td5 else None
    service = (td5.get(5) or td5.get(12) or None) if td5 else None
    shipped = _nearest(anchor, "DTM", "011") or _first(header, "DTM", "011")
    shipped_at = _instant_or_none(shipped, 2, 3, 4) if shipped else None
    scope = [level for level in levels if _purchase_order_of(level) == vendor_order_id]
    items = [level for level in scope if level.is_item]
    if td5 is not None and td5.get(4) in _FREIGHT_METHODS:
        pro, bill = _freight_numbers(anchor, scope, td5, placed)
        lines = tuple(_placed_line(item, placed) for item in items)
        return ShipNotice(vendor_order_id=vendor_order_id, shipped_at=shipped_at, carrier=carrier, service=service,
                          parcels=(), source_ref=source_ref, freight=True, pro_number=pro, bill_of_lading=bill,
                          freight_lines=lines)
    parcels = _order_parcels(anchor, scope, items, carrier, placed)
    return ShipNotice(vendor_order_id=vendor_order_id, shipped_at=shipped_at, carrier=carrier, service=service,
                      source_ref=source_ref,
                      parcels=tuple(Parcel(tracking_number=number, carrier=draft.carrier, lines=tuple(draft.lines))
                                    for number, draft in parcels.items()))


def _nearest(level: _Level, tag: str, qualifier: str | None = None) -> Segment | None:
    for ancestor in level.lineage():
        found = ancestor.find(tag, qualifier)
        if found is not None:
            return found
    return None


def _freight_numbers(anchor: _Level, scope: list[_Level], td5: Segment, placed: _Placed) -> tuple[str, str]:
    """A freight shipment's PRO (REF*CN) and bill of lading (REF*BM), from its own levels or above."""
    above = [level for level in anchor.lineage() if level not in scope]
    pros: dict[str, Segment] = {}
    for level in (*scope, *above):
        for segment in level.numbers():
            if segment.get(1) != "CN":
                raise _SegmentError(segment, 2, f"{segment.tag}*{segment.get(1)} {segment.get(2)!r} is a parcel "
                                                f"number, but TD504 {td5.get(4)!r} says this is freight (motor, "
                                                "LTL, rail or ocean); a notice cannot be both")
            pros.setdefault(segment.get(2), segment)
            placed.segments.add(segment.number)
    if len(pros) > 1:
        second = list(pros.values())[1]
        raise _SegmentError(second, 2, f"a second PRO number {second.get(2)!r} for one freight shipment")
    bill = next((segment.get(2) for level in (*scope, *above) for segment in level.segments
                 if segment.tag == "REF" and segment.get(1) == "BM" and segment.get(2)), "")
    return next(iter(pros), ""), bill


def _order_parcels(anchor: _Level, scope: list[_Level], items: list[_Level], carrier: str | None,
                   placed: _Placed) -> dict[str, _ParcelDraft]:
    """One parcel per carrier number. Each item goes to the nearest number on its own level or above it
    (S/O/P/I, S/T/P/I, S/I), else to the carton listed under it (S/O/I/P). Numbers above the order are used
    when the order has none of its own (S/O/I with the shipment's REF*CN)."""
    parcels: dict[str, _ParcelDraft] = {}

    def add(segment: Segment, level: _Level) -> str:
        placed.segments.add(segment.number)
        parcels.setdefault(segment.get(2), _ParcelDraft(carrier=_carrier_of(level, carrier)))
        return segment.get(2)

    for level in scope:
        for segment in level.numbers():
            add(segment, level)
    unplaced: list[ShippedLine] = []
    for item in items:
        shipped = _placed_line(item, placed)
        holder = _holding_number(item, scope)
        if holder is None:
            unplaced.append(shipped)
        else:
            parcels[add(*holder)].lines.append(shipped)
    if not parcels:
        for level in anchor.lineage():
            for segment in level.numbers():
                add(segment, level)
    if unplaced:
        # Lines the vendor did not tie to a carton go with the first one; an ASN without any tracking
        # number still says what shipped, so it is kept with an empty number for the rules to flag.
        first = next(iter(parcels), "")
        parcels.setdefault(first, _ParcelDraft(carrier=carrier)).lines.extend(unplaced)
    return parcels


def _holding_number(item: _Level, scope: list[_Level]) -> tuple[Segment, _Level] | None:
    for level in item.lineage():
        if numbers := level.numbers():
            return numbers[0], level
    for level in scope:
        if level is not item and level.within(item) and (numbers := level.numbers()):
            return numbers[0], level
    return None


def _check_all_placed(levels: list[_Level], placed: _Placed, reading: _SetReading) -> None:
    """Nothing in a notice is dropped unnoticed: an item that landed nowhere refuses the set; a carrier
    number that is no parcel of any order (a shipment's master number beside the orders' own cartons) is
    named in a warning."""
    for level in levels:
        for segment in level.segments:
            if segment.tag in ("LIN", "SN1") and segment.number not in placed.segments:
                raise _SegmentError(segment, None, "this item is on no item level (HL*I) with its SN1, so it "
                                                   "cannot be placed in a shipment")
        for segment in level.numbers():
            if segment.number not in placed.segments:
                reading.warn(segment, f"carrier number {segment.get(2)!r} is not a parcel of any order in this "
                                      "notice: each order has cartons with numbers of their own")


def _carrier_of(level: _Level, default: str | None) -> str | None:
    td5 = _nearest(level, "TD5")
    return (td5.get(3) or default) if td5 else default


def _placed_line(item: _Level, placed: _Placed) -> ShippedLine:
    sn1 = item.find("SN1")
    if sn1 is None:
        raise _SegmentError(item.hl, None, "the item level has no SN1 quantity shipped")
    lin = item.find("LIN")
    ids = _item_ids(lin, 2) if lin else _ItemIds()
    line = (_as_int(lin.get(1)) if lin else None) or _as_int(sn1.get(1))
    placed.segments.update(segment.number for segment in (lin, sn1) if segment is not None)
    return ShippedLine(line=line, vendor_sku=ids.vendor_sku, qty=_whole(sn1, 2, "the quantity shipped"),
                       upc=ids.upc, sku=ids.sku)


# 846 ------------------------------------------------------------------------------------------------------


def _read_846(transaction_set: TransactionSet, reading: _SetReading) -> None:
    header, loops, summary = _split_loops(_body(transaction_set), "LIN")
    bia = _first(header, "BIA")
    as_of = _instant_or_none(bia, 4, 5) if bia else None
    for loop in loops:
        try:
            reading.stock.append(_stock_level(loop, as_of))
        except _SegmentError as error:
            reading.refusals.append(reading.refusal(error))
    _check_totals(reading, summary, counts=(len(loops),), what="LIN items")


def _stock_level(loop: list[Segment], as_of: datetime | None) -> StockLevel:
    lin = loop[0]
    ids = _item_ids(lin, 2)
    if not (ids.vendor_sku or ids.sku or ids.upc):
        raise _SegmentError(lin, None, "the item has no id orderflow can match (vendor: "
                                       f"{', '.join(_VENDOR_IDS)}; ours: {', '.join(_BUYER_IDS)}; barcode: "
                                       f"{', '.join(_BARCODE_IDS)})")
    quantity = next(((segment, what) for code, what in _STOCK_QUANTITIES
                     if (segment := _first(loop, "QTY", code)) is not None), None)
    if quantity is None:
        raise _SegmentError(lin, None, f"item {named(ids.vendor_sku or ids.sku or ids.upc)} has no QTY*33 "
                                       "(quantity available) or QTY*17 (quantity on hand)")
    restock = _first(loop, "DTM", "018")
    return StockLevel(vendor_sku=ids.vendor_sku, upc=ids.upc, sku=ids.sku, qty=_whole(quantity[0], 2, quantity[1]),
                      as_of=as_of, next_available=_date_or_none(restock, 2) if restock else None)


# 850 ------------------------------------------------------------------------------------------------------


def _read_850(transaction_set: TransactionSet, reading: _SetReading) -> None:
    header, loops, summary = _split_loops(_body(transaction_set), "PO1")
    beg = _first(header, "BEG")
    if beg is None:
        raise _SegmentError(transaction_set.segments[0], None, "the purchase order has no BEG segment")
    reference, requested, td5 = _first(header, "REF", "CO"), _first(header, "DTM", "010"), _first(header, "TD5")
    ship_to, customer_email = _ship_to(header)
    order_date = _date_or_none(beg, 5)
    if order_date is None:
        raise _SegmentError(beg, 5, "the purchase order date is missing")
    reading.purchase_orders.append(PurchaseOrder(
        vendor_order_id=_required(beg, 3, "the purchase order number"),
        order_number=reference.get(2) if reference else "", order_date=order_date, ship_to=ship_to,
        customer_email=customer_email, lines=tuple(_order_line(loop) for loop in loops),
        requested_ship_date=_date_or_none(requested, 2) if requested else None,
        carrier_scac=(td5.get(3) or None) if td5 else None))
    ordered = sum(_whole_or_none(loop[0], 2) or 0 for loop in loops)
    _check_totals(reading, summary, counts=(len(loops),), what="PO1 lines", quantity=ordered)


def _ship_to(header: list[Segment]) -> tuple[Address, str]:
    """The N1*ST loop: N1 name, N2 company, N3 street, N4 place, PER*IC phone and e-mail."""
    start = next((index for index, segment in enumerate(header)
                  if segment.tag == "N1" and segment.get(1) == "ST"), None)
    if start is None:
        return Address(), ""
    loop = [header[start]]
    for segment in header[start + 1:]:
        if segment.tag not in ("N2", "N3", "N4", "REF", "PER"):
            break
        loop.append(segment)
    n2, n3, n4, per = (_first(loop, "N2"), _first(loop, "N3"), _first(loop, "N4"), _first(loop, "PER", "IC"))
    contact = _product_ids(per, 3) if per else {}
    address = Address(name=loop[0].get(2), company=n2.get(1) if n2 else "",
                      address1=n3.get(1) if n3 else "", address2=n3.get(2) if n3 else "",
                      city=n4.get(1) if n4 else "", province=n4.get(2) if n4 else "",
                      zip=n4.get(3) if n4 else "", country=n4.get(4) if n4 else "",
                      phone=contact.get("TE", ""))
    return address, contact.get("EM", "")


def _order_line(loop: list[Segment]) -> PurchaseOrderLine:
    po1 = loop[0]
    ids = _product_ids(po1, 6)
    pid = _first(loop, "PID", "F")
    return PurchaseOrderLine(line=_whole(po1, 1, "the line number"), sku=ids.get("BP", ""),
                             vendor_sku=ids.get("VN", ""), upc=ids.get("UP", ""),
                             description=pid.get(5) if pid else "", qty=_whole(po1, 2, "the quantity"),
                             unit_cost=_decimal_or_none(po1, 4))


_READERS: dict[str, Callable[[TransactionSet, _SetReading], None]] = {
    "855": _read_855,
    "856": _read_856,
    "846": _read_846,
    "850": _read_850,
}


# ---------------------------------------------------------------------------------------------------------
# Writing

_UNSAFE = re.compile(r"[*>~\x00-\x1f\x7f-\x9f]")
_QUALIFIER = re.compile(r"[A-Z0-9]{2}")


@dataclass(frozen=True)
class _Envelope:
    sender_id: str
    sender_qualifier: str
    receiver_id: str
    receiver_qualifier: str
    interchange_control: int
    group_control: int
    now: datetime
    usage: str


def render_850(po: PurchaseOrder, *, sender_id: str, sender_qualifier: str, receiver_id: str,
               receiver_qualifier: str, interchange_control: int, group_control: int, now: datetime,
               usage: Literal["P", "T"] = "P") -> str:
    """The purchase order as one X12 interchange (ISA ... IEA) holding one 850.

    Raises :class:`InputError` for an order that cannot be sent as is (no lines, an identifier containing a
    separator, ...), and :class:`ConfigError` for envelope settings out of range.
    """
    envelope = _envelope(sender_id=sender_id, sender_qualifier=sender_qualifier, receiver_id=receiver_id,
                         receiver_qualifier=receiver_qualifier, interchange_control=interchange_control,
                         group_control=group_control, now=now, usage=usage)
    return _interchange("PO", "850", _purchase_order_segments(po), envelope)


def render_997(group: FunctionalGroup, *, sender_id: str, sender_qualifier: str, receiver_id: str,
               receiver_qualifier: str, interchange_control: int, group_control: int, now: datetime,
               usage: Literal["P", "T"] = "P") -> str:
    """A functional acknowledgement of ``group`` (from :func:`read_interchanges`): every set accepted,
    or the broken ones rejected with their AK5 code (AK9 ``A`` all, ``P`` some, ``R`` none accepted)."""
    envelope = _envelope(sender_id=sender_id, sender_qualifier=sender_qualifier, receiver_id=receiver_id,
                         receiver_qualifier=receiver_qualifier, interchange_control=interchange_control,
                         group_control=group_control, now=now, usage=usage)
    segments = [_segment("AK1", _identifier(group.functional_id, "GS01"), _identifier(group.control, "GS06"))]
    for transaction_set in group.transaction_sets:
        segments.append(_segment("AK2", _identifier(transaction_set.code, "ST01"),
                                 _identifier(transaction_set.control, "ST02")))
        if transaction_set.syntax_error is None:
            segments.append(_segment("AK5", "A"))
        else:
            segments.append(_segment("AK5", "R", transaction_set.syntax_error))
    received = len(group.transaction_sets)
    accepted = sum(1 for transaction_set in group.transaction_sets if transaction_set.syntax_error is None)
    verdict = "A" if accepted == received else "R" if accepted == 0 else "P"
    segments.append(_segment("AK9", verdict, str(received), str(received), str(accepted)))
    return _interchange("FA", "997", segments, envelope)


def _envelope(*, sender_id: str, sender_qualifier: str, receiver_id: str, receiver_qualifier: str,
              interchange_control: int, group_control: int, now: datetime, usage: str) -> _Envelope:
    for name, value in (("sender_id", sender_id), ("receiver_id", receiver_id)):
        if not 1 <= len(value) <= 15 or _UNSAFE.search(value) or value != value.strip():
            raise ConfigError(f"X12 {name} must be 1 to 15 characters without separators, not {value!r}")
    for name, value in (("sender_qualifier", sender_qualifier), ("receiver_qualifier", receiver_qualifier)):
        if not _QUALIFIER.fullmatch(value):
            raise ConfigError(f"X12 {name} must be two letters or digits (e.g. ZZ), not {value!r}")
    for name, number in (("interchange_control", interchange_control), ("group_control", group_control)):
        if not 1 <= number <= 999_999_999:
            raise ConfigError(f"X12 {name} must be between 1 and 999999999, not {number}")
    if usage not in ("P", "T"):
        raise ConfigError(f"X12 usage must be P (production) or T (test), not {usage!r}")
    stamp = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return _Envelope(sender_id, sender_qualifier, receiver_id, receiver_qualifier, interchange_control,
                     group_control, stamp, usage)


def _interchange(functional_id: str, set_code: str, body: list[str], envelope: _Envelope) -> str:
    set_control = f"{envelope.group_control:04d}"
    transaction_set = [_segment("ST", set_code, set_control), *body]
    transaction_set.append(_segment("SE", str(len(transaction_set) + 1), set_control))
    now = envelope.now
    isa = "*".join((
        "ISA", "00", " " * 10, "00", " " * 10,
        envelope.sender_qualifier, f"{envelope.sender_id:<15}", envelope.receiver_qualifier,
        f"{envelope.receiver_id:<15}", now.strftime("%y%m%d"), now.strftime("%H%M"), "U", "00401",
        f"{envelope.interchange_control:09d}", "0", envelope.usage, ">")) + "~\n"
    gs = _segment("GS", functional_id, envelope.sender_id, envelope.receiver_id, _ccyymmdd(now.date()),
                  now.strftime("%H%M"), str(envelope.group_control), "X", "004010")
    ge = _segment("GE", "1", str(envelope.group_control))
    iea = _segment("IEA", "1", f"{envelope.interchange_control:09d}")
    return "".join((isa, gs, *transaction_set, ge, iea))


def _segment(tag: str, *elements: str) -> str:
    """One segment and its newline; trailing empty elements are dropped, as X12 requires."""
    values = list(elements)
    while values and not values[-1]:
        values.pop()
    return "*".join((tag, *values)) + "~\n"


def _free_text(value: str) -> str:
    """Names, addresses, descriptions: a separator or control character becomes a space."""
    return _UNSAFE.sub(" ", value).strip()


def _identifier(value: str, field: str) -> str:
    """Ids are join keys and are never altered: one containing a separator is refused."""
    text = value.strip()
    if _UNSAFE.search(text):
        raise InputError(f"{text!r} contains an X12 separator or control character (* > ~ or a line break)",
                         field=field)
    return text


def _ccyymmdd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _amount(value: Decimal, field: str) -> str:
    if not value.is_finite() or value < 0:
        raise InputError(f"{value} is not a usable unit cost", field=field)
    # As given (6.25, 14.90); format "f" also turns an exponent form (1E+1) into plain digits.
    return "0" if value == 0 else format(value, "f")


def _purchase_order_segments(po: PurchaseOrder) -> list[str]:
    vendor_order_id = _identifier(po.vendor_order_id, "vendor_order_id")
    if not vendor_order_id:
        raise InputError("the purchase order has no vendor order id", field="vendor_order_id")
    if not po.lines:
        raise InputError(f"purchase order {vendor_order_id} has no lines", field="lines")
    segments = [_segment("BEG", "00", "NE", vendor_order_id, "", _ccyymmdd(po.order_date))]
    if order_number := _identifier(po.order_number, "order_number"):
        segments.append(_segment("REF", "CO", order_number))
    if po.requested_ship_date is not None:
        segments.append(_segment("DTM", "010", _ccyymmdd(po.requested_ship_date)))
    if po.carrier_scac and (scac := _identifier(po.carrier_scac, "carrier_scac")):
        segments.append(_segment("TD5", "", "2", scac, "U"))
    segments += _ship_to_segments(po.ship_to, _identifier(po.customer_email, "customer_email"))
    seen: set[int] = set()
    for index, line in enumerate(po.lines):
        segments += _line_segments(line, f"lines[{index}]", seen)
    segments.append(_segment("CTT", str(len(po.lines)), str(sum(line.qty for line in po.lines))))
    return segments


def _ship_to_segments(ship_to: Address, email: str) -> list[str]:
    name = _free_text(ship_to.name)
    if not name:
        raise InputError("the ship-to address has no name", field="ship_to.name")
    segments = [_segment("N1", "ST", name)]
    if company := _free_text(ship_to.company):
        segments.append(_segment("N2", company))
    street = (_free_text(ship_to.address1), _free_text(ship_to.address2))
    if any(street):
        segments.append(_segment("N3", *street))
    place = (_free_text(ship_to.city), _free_text(ship_to.province), _free_text(ship_to.zip),
             _free_text(ship_to.country))
    if any(place):
        segments.append(_segment("N4", *place))
    contact: list[str] = []
    if phone := _free_text(ship_to.phone):
        contact += ["TE", phone]
    if email:
        contact += ["EM", email]
    if contact:
        segments.append(_segment("PER", "IC", name, *contact))
    return segments


def _line_segments(line: PurchaseOrderLine, field: str, seen: set[int]) -> list[str]:
    if line.line < 1 or line.line in seen:
        raise InputError(f"line number {line.line} is not a new positive number", field=f"{field}.line")
    seen.add(line.line)
    if line.qty < 1:
        raise InputError(f"quantity {line.qty} is not positive", field=f"{field}.qty")
    ids: list[str] = []
    for qualifier, value, name in (("VN", line.vendor_sku, "vendor_sku"), ("UP", line.upc, "upc"),
                                   ("BP", line.sku, "sku")):
        if text := _identifier(value, f"{field}.{name}"):
            ids += [qualifier, text]
    if not line.vendor_sku.strip() and not line.upc.strip():
        raise InputError("the line has neither a vendor SKU nor a UPC", field=f"{field}.vendor_sku")
    cost = "" if line.unit_cost is None else _amount(line.unit_cost, f"{field}.unit_cost")
    segments = [_segment("PO1", str(line.line), str(line.qty), "EA", cost, "", *ids)]
    if description := _free_text(line.description):
        segments.append(_segment("PID", "F", "", "", "", description))
    return segments
