"""The vendor formats, one record each: how a purchase order is written, what carries it, and how the vendor's
files are recognised and read.

A vendor's files are read by the format its configuration names, never by guessing from their content: a JSON
file in the folder of a CSV vendor is refused with a reason that says so, not taken for a Printful webhook.
The content is only looked at to say what a file that does not fit its vendor's format seems to be.

The settings' format choices, which transports carry which format, the dispatch channel and fetch all read
these records, so adding a format is one record here plus its renderer, its reader and tests. The module
imports nothing heavy: the settings read it, and a renderer or reader imports its format's module only when
it is used.

    >>> FORMATS["x12"].suffix, FORMATS["printful"].transports
    ('.edi', ('http',))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import Engine

    from orderflow.vendors.printful import PrintfulOrderState
    from orderflow.vendors.records import ParsedVendorFile, PurchaseOrder

FILE_TRANSPORTS = ("local", "sftp")
"""Transports that carry files (folders on disk, SFTP); ``http`` carries API calls."""
TRANSPORTS = (*FILE_TRANSPORTS, "http")


@dataclass(frozen=True)
class VendorFile:
    """One vendor file, read: its kind (for the ledger), its records, and for a Printful webhook about an order
    its state (holds and cancellations are applied from it)."""

    kind: str
    parsed: ParsedVendorFile
    printful: PrintfulOrderState | None = None


class X12Identity(Protocol):
    """The interchange ids an X12 vendor's purchase orders carry."""

    @property
    def sender_id(self) -> str: ...
    @property
    def sender_qualifier(self) -> str: ...
    @property
    def receiver_id(self) -> str: ...
    @property
    def receiver_qualifier(self) -> str: ...
    @property
    def usage(self) -> Literal["P", "T"]: ...


class FormatVendor(Protocol):
    """What a format needs to know of its vendor (a ``[[vendors]]`` entry has all of it). The settings check a
    vendor's format against these records, so the records name no settings class of their own."""

    @property
    def code(self) -> str: ...
    @property
    def csv_columns(self) -> tuple[str, ...] | None: ...
    @property
    def feedback_columns(self) -> Mapping[str, str]: ...
    @property
    def x12(self) -> X12Identity: ...


Render = Callable[["PurchaseOrder"], bytes]
RendererFor = Callable[[FormatVendor, "Engine", Callable[[], datetime]], Render]
"""(vendor, engine, now) -> the function that writes one purchase order for that vendor."""
Reader = Callable[[bytes, str, FormatVendor], VendorFile]
"""(content, file name as shown, vendor) -> the file read, or :class:`~orderflow.errors.InputError`."""


@dataclass(frozen=True, kw_only=True)
class VendorFormat:
    """One way orders go to a vendor and answers come back."""

    name: str
    """The ``format`` of a ``[[vendors]]`` entry."""
    transports: tuple[str, ...]
    """The transports that can carry it."""
    files: str
    """What its files are, as a person says it (in a refusal)."""
    recognises: Callable[[bytes], bool]
    """Whether content has the shape of its files (only to name what a file that does not fit seems to be)."""
    suffix: str | None = None
    """The purchase-order file's suffix over a file transport (the name is the vendor order id)."""
    renderer: RendererFor | None = None
    """Writes purchase-order files; None for a format that goes only through an API."""
    reader: Reader | None = None
    """Reads the vendor's files in ``from_vendor/``; None for a format whose answers come only from its API."""


def _start(data: bytes) -> bytes:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:3]


def _is_x12(data: bytes) -> bool:
    return _start(data) == b"ISA"


def _is_json(data: bytes) -> bool:
    return _start(data)[:1] in (b"{", b"[")


def _is_table(data: bytes) -> bool:
    return not (_is_x12(data) or _is_json(data))


def content_shape(data: bytes) -> str:
    """What a file seems to be, for a refusal: "JSON", "X12 EDI", "empty" or "text"."""
    if not data.strip():
        return "empty"
    return "JSON" if _is_json(data) else "X12 EDI" if _is_x12(data) else "text"


def _csv_renderer(vendor: FormatVendor, _engine: Engine, _now: Callable[[], datetime]) -> Render:
    from orderflow.vendors.formats.purchase_order_files import render_csv

    return lambda po: render_csv(po, vendor.csv_columns)


def _json_renderer(_vendor: FormatVendor, _engine: Engine, _now: Callable[[], datetime]) -> Render:
    from orderflow.vendors.formats.purchase_order_files import render_json

    return render_json


def _x12_renderer(vendor: FormatVendor, engine: Engine, now: Callable[[], datetime]) -> Render:
    from orderflow.vendors.control_numbers import next_control_number
    from orderflow.vendors.formats.x12 import render_850

    def render_x12(po: PurchaseOrder) -> bytes:
        number = next_control_number(engine, vendor.code)
        ids = vendor.x12
        return render_850(po, sender_id=ids.sender_id, sender_qualifier=ids.sender_qualifier,
                          receiver_id=ids.receiver_id or vendor.code, receiver_qualifier=ids.receiver_qualifier,
                          interchange_control=number, group_control=number, now=now(), usage=ids.usage).encode()

    return render_x12


def _read_csv(data: bytes, file: str, vendor: FormatVendor) -> VendorFile:
    from orderflow.vendors.formats.csv_feedback import parse_vendor_csv

    return VendorFile("csv", parse_vendor_csv(data, file=file, columns=vendor.feedback_columns or None))


def _read_x12(data: bytes, file: str, _vendor: FormatVendor) -> VendorFile:
    from orderflow.vendors.formats.x12 import parse_x12

    return VendorFile("x12", parse_x12(data, file=file))


def _read_printful_webhook(data: bytes, file: str, _vendor: FormatVendor) -> VendorFile:
    from orderflow.vendors.printful import parse_webhook
    from orderflow.vendors.records import ParsedVendorFile

    event = parse_webhook(data, file=file)
    parsed = ParsedVendorFile(stock=list(event.stock))
    if event.order is not None:
        return VendorFile("printful_webhook", printful_feedback(event.order, parsed), event.order)
    return VendorFile("printful_webhook", parsed)


def printful_feedback(state: PrintfulOrderState, parsed: ParsedVendorFile) -> ParsedVendorFile:
    """Printful's order status as acknowledgement records: failed is a rejection; shipments are ship notices."""
    from orderflow.vendors.records import Acknowledgement

    status = {"rejected": "rejected"}.get(state.vendor_order_state or "", "acknowledged")
    if state.vendor_order_state in ("accepted", "partially_shipped", "shipped", "rejected"):
        parsed.acks.append(Acknowledgement(vendor_order_id=state.vendor_order_id, status=status,  # type: ignore[arg-type]
                                           vendor_reference=state.printful_id, lines=(), reason=state.reason,
                                           source_ref=f"printful:{state.printful_id}"))
    parsed.ship_notices.extend(state.ship_notices)
    return parsed


VENDOR_FORMATS: tuple[VendorFormat, ...] = (
    VendorFormat(name="csv", transports=FILE_TRANSPORTS, suffix=".csv", renderer=_csv_renderer, reader=_read_csv,
                 files="CSV (acknowledgements, tracking or inventory rows)", recognises=_is_table),
    VendorFormat(name="x12", transports=FILE_TRANSPORTS, suffix=".edi", renderer=_x12_renderer, reader=_read_x12,
                 files="X12 EDI (an interchange that begins with ISA)", recognises=_is_x12),
    VendorFormat(name="json", transports=(*FILE_TRANSPORTS, "http"), suffix=".json", renderer=_json_renderer,
                 files="JSON purchase orders out, no files back", recognises=_is_json),
    VendorFormat(name="printful", transports=("http",), reader=_read_printful_webhook,
                 files="Printful webhooks saved as JSON", recognises=_is_json),
)
"""Every vendor format, in the order the settings list them."""

FORMATS: dict[str, VendorFormat] = {fmt.name: fmt for fmt in VENDOR_FORMATS}
FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)


def formats_over(transport: str) -> tuple[str, ...]:
    """The formats ``transport`` can carry, e.g. ``("csv", "x12", "json")`` over ``local``."""
    return tuple(fmt.name for fmt in VENDOR_FORMATS if transport in fmt.transports)
