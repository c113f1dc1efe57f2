"""What vendors tell us, applied to the database: acknowledgements, rejections, parcels, stock.

Every change moves forward only and repeats harmlessly. A line never moves back (an 855 that arrives after the
856 does not un-ship); a duplicate file or event changes nothing; a second parcel adds a shipment and never
overwrites the first; quantities shipped are recomputed from the parcels, so reading a file twice cannot
double them. A record that cannot be attached (an unknown vendor order, a line that is not on it) is refused
with its reason and the others are applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from orderflow.carriers.numbers import FREIGHT, normalize_number, validate
from orderflow.db.bulk import insert_many, table_of
from orderflow.db.models import (
    CatalogItem,
    InventoryLevel,
    LineState,
    Shipment,
    ShipmentLine,
    VendorOrder,
    VendorOrderLine,
    VendorOrderState,
)
from orderflow.errors import Refusal
from orderflow.orders.lifecycle import roll_up
from orderflow.vendors.records import Acknowledgement, LineAck, Parcel, ShipNotice, ShippedLine, StockLevel

# How far along a line is; a line only ever moves to a higher rank (accepted <-> backordered may swap).
LINE_RANK = {LineState.PENDING: 0, LineState.ACCEPTED: 1, LineState.BACKORDERED: 1, LineState.REJECTED: 2,
             LineState.PARTIALLY_SHIPPED: 3, LineState.SHIPPED: 4, LineState.DELIVERED: 5, LineState.CANCELLED: 6}
SHIPPING_STATES = {VendorOrderState.PARTIALLY_SHIPPED, VendorOrderState.SHIPPED, VendorOrderState.DELIVERED}
LOAD_BATCH = 500
"""Vendor orders read per query when a file names many."""
OPEN_FOR_ANSWERS = {VendorOrderState.SENDING, VendorOrderState.SENT, VendorOrderState.ACCEPTED,
                    VendorOrderState.ON_HOLD, VendorOrderState.NEEDS_RECONCILE}


@dataclass
class FeedbackResult:
    acknowledgements: int = 0
    lines_rejected: int = 0
    lines_backordered: int = 0
    shipments_added: int = 0
    stock_levels: int = 0
    refusals: list[Refusal] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, other: FeedbackResult) -> None:
        for name in ("acknowledgements", "lines_rejected", "lines_backordered", "shipments_added", "stock_levels"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.refusals += other.refusals
        self.problems += other.problems


LINE_COLUMNS = ("state", "qty_accepted", "qty_rejected", "qty_backordered", "qty_shipped", "reason_code", "reason",
                "expected_at")
"""The columns of a vendor order line that feedback changes."""
ORDER_COLUMNS = ("state", "acknowledged_at", "vendor_reference", "shipped_at", "rejected_at", "rejection_code",
                 "rejection_reason", "updated_at")
"""The columns of a vendor order that feedback changes."""


@dataclass(eq=False)
class _Line:
    """A vendor order line as applying feedback reads and changes it (plain, not an ORM object: a file's changes
    are written in one statement, and the rows cost nothing to track)."""

    id: int
    line_no: int
    sku: str
    vendor_sku: str
    qty: int
    state: str
    qty_accepted: int
    qty_rejected: int
    qty_backordered: int
    qty_shipped: int
    reason_code: str | None
    reason: str | None
    expected_at: date | None
    stored: tuple[Any, ...] = ()
    """The values of :data:`LINE_COLUMNS` the database holds."""


@dataclass(eq=False)
class _VendorOrder:
    """A vendor order as applying feedback reads and changes it, with its lines by line number."""

    id: str
    vendor_code: str
    state: str
    acknowledged_at: datetime | None
    vendor_reference: str | None
    shipped_at: datetime | None
    rejected_at: datetime | None
    rejection_code: str | None
    rejection_reason: str | None
    updated_at: datetime
    lines: list[_Line] = field(default_factory=list)
    stored: tuple[Any, ...] = ()
    """The values of :data:`ORDER_COLUMNS` the database holds."""


@dataclass(eq=False)
class _Parcel:
    """A shipment as applying feedback sees it: the lines it carries by vendor order line id, and what the
    database holds of it, so each file writes only its changes, in a few statements, not one ORM object a row."""

    vendor_order_id: str
    tracking_number: str
    shipped_at: datetime | None
    reported_at: datetime
    lines_inferred: bool
    lines: dict[int, int]
    """Quantity by vendor order line id."""
    id: int | None = None
    """``None``: a new parcel, its columns in ``row`` until written."""
    row: dict[str, Any] | None = None
    stored_lines: dict[int, int] = field(default_factory=dict)
    stored_inferred: bool = False


@dataclass
class Feedback:
    """Applies one vendor's records inside the caller's transaction."""

    session: Session
    vendor_code: str
    now: datetime
    file: str
    result: FeedbackResult = field(default_factory=FeedbackResult)
    touched: set[str] = field(default_factory=set)
    """Vendor orders an answer reached: their orders may now be shipped or delivered."""
    vendor_orders: dict[str, _VendorOrder | None] = field(default_factory=dict)
    """The vendor orders read so far, by id (``None``: there is none); files applied in one transaction share it,
    so a vendor order is read once for all of them."""
    parcel_owners: dict[str, str | None] = field(default_factory=dict)
    """Tracking numbers looked up so far, with the vendor order whose parcel has each (``None``: no parcel yet),
    kept up to date as parcels are added; shared like ``vendor_orders``."""
    parcels: dict[str, list[_Parcel]] = field(default_factory=dict)
    """The parcels of the vendor orders read so far, by vendor order id; shared like ``vendor_orders``."""
    deferred: bool = False
    """Leave the parcels and vendor orders the records changed for :meth:`write` (many files' changes then go
    in a few statements); otherwise each call of :meth:`apply_records` writes its own."""
    _changed: dict[int, _Parcel] = field(default_factory=dict)
    _unwritten: set[str] = field(default_factory=set)
    """Vendor orders reached since the last write."""
    _inventory: dict[str, tuple[int | None, datetime | None]] | None = None
    _new_stock: dict[str, dict[str, Any]] = field(default_factory=dict)
    _changed_stock: dict[int, dict[str, Any]] = field(default_factory=dict)

    # --- lookups ---------------------------------------------------------------------------------------------

    def vendor_order(self, vendor_order_id: str, source_ref: str) -> _VendorOrder | None:
        key = vendor_order_id.strip()
        if key not in self.vendor_orders:
            self.load_vendor_orders([key])
        vendor_order = self.vendor_orders[key]
        if vendor_order is None or vendor_order.vendor_code != self.vendor_code:
            self.refuse(source_ref, "po_number", f"no vendor order {vendor_order_id!r} for vendor {self.vendor_code}")
            return None
        self.touched.add(vendor_order.id)
        self._unwritten.add(vendor_order.id)
        return vendor_order

    def load_vendor_orders(self, ids: Iterable[str]) -> None:
        """Read the named vendor orders with their lines and parcels, a few hundred a query (a file of 100,000
        rows names many orders, or one missing order on every row); a missing one is remembered as ``None``."""
        wanted = sorted(set(ids) - self.vendor_orders.keys())
        for start in range(0, len(wanted), LOAD_BATCH):
            chunk = wanted[start:start + LOAD_BATCH]
            self.vendor_orders |= dict.fromkeys(chunk)
            found = {row.id: _VendorOrder(**row._asdict()) for row in self.session.execute(
                select(VendorOrder.id, VendorOrder.vendor_code, *_columns(VendorOrder, ORDER_COLUMNS))
                .where(VendorOrder.id.in_(chunk)))}
            for row in self.session.execute(
                    select(VendorOrderLine.vendor_order_id, VendorOrderLine.id, VendorOrderLine.line_no,
                           VendorOrderLine.sku, VendorOrderLine.vendor_sku, VendorOrderLine.qty,
                           *_columns(VendorOrderLine, LINE_COLUMNS))
                    .where(VendorOrderLine.vendor_order_id.in_(chunk))
                    .order_by(VendorOrderLine.vendor_order_id, VendorOrderLine.line_no, VendorOrderLine.id)):
                line = _Line(*row[1:])
                line.stored = _values(line, LINE_COLUMNS)
                found[row.vendor_order_id].lines.append(line)
            for vendor_order in found.values():
                vendor_order.stored = _values(vendor_order, ORDER_COLUMNS)
            self.vendor_orders |= found
            self._load_parcels(chunk)

    def for_file(self, file: str) -> Feedback:
        """Feedback for another file of the same transaction: what was read, and what waits to be written, are
        shared; the file's result and the vendor orders it reached are its own."""
        return replace(self, file=file, result=FeedbackResult(), touched=set(), _inventory=None, _new_stock={},
                       _changed_stock={})

    def discard(self) -> None:
        """Drop what was read and what waits to be written: the records applied since the last write were rolled
        back (a savepoint), and the database is read afresh when next asked."""
        self._changed.clear()
        self._unwritten.clear()
        self.vendor_orders.clear()
        self.parcels.clear()
        self.parcel_owners.clear()

    def forget(self, vendor_order_ids: Iterable[str]) -> None:
        """Read these vendor orders afresh when next asked for: something other than feedback changed them (their
        roll-up, a hold). What waits to be written is written first."""
        self.write()
        for vendor_order_id in vendor_order_ids:
            self.vendor_orders.pop(vendor_order_id, None)
            self.parcels.pop(vendor_order_id, None)

    def _load_parcels(self, vendor_order_ids: list[str]) -> None:
        """The parcels of these vendor orders, as plain rows: two queries, no ORM objects."""
        by_id: dict[int, _Parcel] = {}
        for vendor_order_id in vendor_order_ids:
            self.parcels[vendor_order_id] = []
        for row in self.session.execute(
                select(Shipment.id, Shipment.vendor_order_id, Shipment.tracking_number, Shipment.shipped_at,
                       Shipment.reported_at, Shipment.lines_inferred)
                .where(Shipment.vendor_order_id.in_(vendor_order_ids)).order_by(Shipment.id)):
            parcel = _Parcel(row.vendor_order_id, row.tracking_number, row.shipped_at, row.reported_at,
                             bool(row.lines_inferred), {}, id=row.id, stored_inferred=bool(row.lines_inferred))
            by_id[row.id] = parcel
            self.parcels[row.vendor_order_id].append(parcel)
        for shipment_id, line_id, qty in self.session.execute(
                select(ShipmentLine.shipment_id, ShipmentLine.vendor_order_line_id, ShipmentLine.qty)
                .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
                .where(Shipment.vendor_order_id.in_(vendor_order_ids)).order_by(ShipmentLine.id)):
            by_id[shipment_id].lines[line_id] = by_id[shipment_id].stored_lines[line_id] = qty

    def load_parcel_owners(self, notices: Iterable[ShipNotice]) -> None:
        """Look up the tracking numbers of these notices' parcels (a few hundred a query) that are not known yet."""
        wanted = sorted(set().union(*map(_numbers_of, notices)) - self.parcel_owners.keys())
        for start in range(0, len(wanted), LOAD_BATCH):
            chunk = wanted[start:start + LOAD_BATCH]
            self.parcel_owners |= dict.fromkeys(chunk)
            self.parcel_owners |= {row.tracking_number: row.vendor_order_id for row in self.session.execute(
                select(Shipment.tracking_number, Shipment.vendor_order_id).where(Shipment.tracking_number.in_(chunk)))}

    def line_of(self, vendor_order: _VendorOrder, line: int | None, vendor_sku: str, *, sku: str = "",
                upc: str = "") -> _Line | None:
        """The line by its number, else by the vendor's SKU, our SKU, or a UPC/EAN our catalog knows."""
        by_number = next((each for each in vendor_order.lines if line is not None and each.line_no == line), None)
        if by_number is not None:
            return by_number
        if upc and not sku:
            sku = self._catalog_sku(upc=upc) or ""
        return next((each for each in vendor_order.lines
                     if (vendor_sku and each.vendor_sku == vendor_sku) or (sku and each.sku == sku)), None)

    def _catalog_sku(self, *, upc: str) -> str | None:
        return self.session.scalar(select(CatalogItem.sku).where(
            CatalogItem.vendor_code == self.vendor_code, CatalogItem.upc == upc).limit(1))

    def _shipped_line_of(self, vendor_order: _VendorOrder, shipped: ShippedLine) -> _Line | None:
        return self.line_of(vendor_order, shipped.line, shipped.vendor_sku, sku=shipped.sku, upc=shipped.upc)

    def refuse(self, source_ref: str, field_name: str | None, reason: str) -> None:
        # A record's place in this file is its line; any other place (an X12 control number) is said after why.
        line = source_ref.removeprefix(f"{self.file}:")
        if line.isdigit():
            self.result.refusals.append(Refusal(file=self.file, line=int(line), field=field_name, reason=reason))
            return
        where = f" ({source_ref})" if source_ref else ""
        self.result.refusals.append(Refusal(file=self.file, line=None, field=field_name, reason=reason + where))

    # --- acknowledgements ------------------------------------------------------------------------------------

    def acknowledgement(self, ack: Acknowledgement) -> None:
        vendor_order = self.vendor_order(ack.vendor_order_id, ack.source_ref)
        if vendor_order is None:
            return
        self.result.acknowledgements += 1
        if vendor_order.acknowledged_at is None:
            vendor_order.acknowledged_at = self.now
        if ack.vendor_reference and not vendor_order.vendor_reference:
            vendor_order.vendor_reference = ack.vendor_reference
        for line_ack in ack.lines:
            self._line_ack(vendor_order, line_ack, ack.source_ref)
        if ack.status == "rejected" and not ack.lines:
            for line in vendor_order.lines:
                self._move_line(line, LineState.REJECTED, qty_rejected=line.qty, code="order", reason=ack.reason)
        self._settle(vendor_order, rejection_reason=ack.reason)

    def _line_ack(self, vendor_order: _VendorOrder, line_ack: LineAck, source_ref: str) -> None:
        line = self.line_of(vendor_order, line_ack.line, line_ack.vendor_sku, sku=line_ack.sku, upc=line_ack.upc)
        if line is None:
            self.refuse(source_ref, "line", f"{vendor_order.id} has no line {line_ack.line} ({line_ack.vendor_sku})")
            return
        reason = line_ack.reason or None
        if line_ack.status == "rejected":
            if self._move_line(line, LineState.REJECTED, qty_rejected=line_ack.qty or line.qty, code=line_ack.code,
                               reason=reason):
                self.result.lines_rejected += 1
        elif line_ack.status == "backordered":
            if self._move_line(line, LineState.BACKORDERED, qty_backordered=line_ack.qty or line.qty,
                               code=line_ack.code, reason=reason):
                line.expected_at = line_ack.expected_date
                self.result.lines_backordered += 1
        elif self._move_line(line, LineState.ACCEPTED, qty_accepted=line_ack.qty or line.qty, code=line_ack.code,
                             reason=reason if line_ack.status == "changed" else None):
            line.qty_backordered = 0
            line.expected_at = None

    @staticmethod
    def _move_line(line: _Line, state: LineState, *, code: str | None, reason: str | None,
                   **quantities: int) -> bool:
        """Move a line forward (never back); returns whether it moved."""
        current = LINE_RANK.get(LineState(line.state), 0)
        if LINE_RANK[state] < current or (LINE_RANK[state] == current and line.state == state):
            return False
        line.state = state
        for name, value in quantities.items():
            setattr(line, name, min(value, line.qty))
        line.reason_code, line.reason = code, reason
        return True

    # --- parcels -------------------------------------------------------------------------------------------

    def ship_notice(self, notice: ShipNotice) -> None:
        vendor_order = self.vendor_order(notice.vendor_order_id, notice.source_ref)
        if vendor_order is None:
            return
        mine = {shipment.tracking_number for shipment in self.parcels[vendor_order.id]}
        self.load_parcel_owners([notice])
        elsewhere = {number: owner for number in _numbers_of(notice) - mine
                     if (owner := self.parcel_owners[number]) is not None and owner != vendor_order.id}
        with self.session.no_autoflush:
            inferred = [shipment for shipment in self.parcels[vendor_order.id] if shipment.lines_inferred]
            if inferred and (notice.freight_lines or any(parcel.lines for parcel in notice.parcels)):
                # The vendor now says which lines went where: parcels that listed none give theirs back and
                # then carry only what the listed parcels do not.
                for shipment in inferred:
                    self._forget_lines(shipment)
            else:
                inferred = []
            if notice.freight:
                self._freight(vendor_order, notice, elsewhere)
            # Parcels that list their lines first: a parcel that lists none then carries what is left.
            for parcel in sorted(notice.parcels, key=lambda each: not each.lines):
                self._parcel(vendor_order, notice, parcel, elsewhere)
            for shipment in inferred:
                self._attach_lines(vendor_order, shipment, (), notice.source_ref)
        self._count_shipped(vendor_order, notice)
        self._settle(vendor_order)

    def _parcel(self, vendor_order: _VendorOrder, notice: ShipNotice, parcel: Parcel,
                elsewhere: dict[str, str]) -> None:
        """Add a parcel, or the lines it adds to one we know; ``elsewhere``: numbers on other vendor orders."""
        number = normalize_number(parcel.tracking_number)
        if not number:
            self.refuse(notice.source_ref, "tracking_number",
                        f"{vendor_order.id}: a parcel without a tracking number cannot be followed")
            return
        shipment = next((each for each in self.parcels[vendor_order.id] if each.tracking_number == number), None)
        if shipment is None:
            if number in elsewhere:
                self.result.problems.append(
                    f"{vendor_order.id}: tracking number {number} already belongs to {elsewhere[number]}; "
                    "its lines were not attached to it")
                return
            named = parcel.carrier or notice.carrier
            verdict = validate(number, named)
            shipment = self._new_parcel(vendor_order, notice, number, carrier=verdict.carrier, carrier_named=named,
                                        tracking_valid=verdict.valid, tracking_note=verdict.reason,
                                        next_check_at=self.now if verdict.valid else None)
        self._attach_lines(vendor_order, shipment, parcel.lines, notice.source_ref)

    def _new_parcel(self, vendor_order: _VendorOrder, notice: ShipNotice, number: str,
                    **columns: Any) -> _Parcel:
        row = {"vendor_order_id": vendor_order.id, "tracking_number": number, **columns, "service": notice.service,
               "shipped_at": notice.shipped_at, "reported_at": self.now, "status": "label_created",
               "created_at": self.now, "updated_at": self.now}
        shipment = _Parcel(vendor_order.id, number, notice.shipped_at, self.now, False, {}, row=row)
        self.parcels[vendor_order.id].append(shipment)
        self._changed[id(shipment)] = shipment
        self.parcel_owners[number] = vendor_order.id
        self.result.shipments_added += 1
        return shipment

    def _attach_lines(self, vendor_order: _VendorOrder, shipment: _Parcel, lines: tuple[ShippedLine, ...],
                      source_ref: str) -> None:
        self._changed[id(shipment)] = shipment
        if not lines and (shipment.lines_inferred or not shipment.lines):
            # A parcel that lists nothing (a file of PO and tracking number only) carries every line not yet
            # in a parcel, so the order's state, the customer's e-mail and the reports say the same thing.
            if not shipment.lines:
                shipment.lines.update(self._unshipped(vendor_order))
                shipment.lines_inferred = True
            return
        if shipment.lines_inferred:
            # The vendor lists this parcel's lines after all: those replace what it was assumed to carry.
            self._forget_lines(shipment)
            shipment.lines_inferred = False
        known = shipment.lines
        for shipped in lines:
            line = self._shipped_line_of(vendor_order, shipped)
            if line is None:
                ids = ", ".join(value for value in (shipped.vendor_sku, shipped.sku, shipped.upc) if value)
                self.refuse(source_ref, "line", f"{vendor_order.id} has no line {shipped.line} ({ids}) for "
                                                f"{shipment.tracking_number}")
                continue
            known[line.id] = max(known[line.id], shipped.qty) if line.id in known else shipped.qty

    def _forget_lines(self, shipment: _Parcel) -> None:
        shipment.lines = {}
        self._changed[id(shipment)] = shipment

    def _carried(self, vendor_order: _VendorOrder) -> dict[int, int]:
        """Units of each line the vendor order's parcels carry, by line id."""
        carried: dict[int, int] = {}
        for shipment in self.parcels[vendor_order.id]:
            for line_id, qty in shipment.lines.items():
                carried[line_id] = carried.get(line_id, 0) + qty
        return carried

    def _unshipped(self, vendor_order: _VendorOrder) -> list[tuple[int, int]]:
        """(line id, quantity) of what no parcel of the vendor order carries yet, rejected quantities aside."""
        carried = self._carried(vendor_order)
        return [(line.id, left) for line in vendor_order.lines if line.state != LineState.CANCELLED
                and (left := line.qty - line.qty_rejected - carried.get(line.id, 0)) > 0]

    def _freight(self, vendor_order: _VendorOrder, notice: ShipNotice, elsewhere: dict[str, str]) -> None:
        """A truckload or LTL shipment: kept under its PRO (else its bill of lading), shown, never polled."""
        number = normalize_number(notice.pro_number or notice.bill_of_lading)
        if not number:
            self.refuse(notice.source_ref, "pro_number",
                        f"{vendor_order.id}: a freight shipment without a PRO or bill of lading number")
            return
        if number in elsewhere:
            self.result.problems.append(f"{vendor_order.id}: PRO {number} already belongs to {elsewhere[number]}")
            return
        shipment = next((each for each in self.parcels[vendor_order.id] if each.tracking_number == number), None)
        if shipment is None:
            references = ", ".join(f"{name} {value}" for name, value in (
                ("PRO", notice.pro_number), ("bill of lading", notice.bill_of_lading)) if value)
            shipment = self._new_parcel(
                vendor_order, notice, number, carrier=FREIGHT, carrier_named=notice.carrier, tracking_valid=True,
                tracking_note=f"freight shipment ({references}): followed with the freight carrier, not polled",
                next_check_at=None)
        self._attach_lines(vendor_order, shipment, notice.freight_lines, notice.source_ref)

    def _count_shipped(self, vendor_order: _VendorOrder, notice: ShipNotice) -> None:
        """Quantities shipped come from the parcels themselves, so a repeated notice cannot double them.

        More shipped than ordered is counted as the quantity ordered, and said once per notice that makes it so.
        """
        totals = self._carried(vendor_order)
        in_notice = {(shipped.line, shipped.vendor_sku) for parcel in notice.parcels for shipped in parcel.lines}
        named = {id(line) for number, sku in in_notice if (line := self.line_of(vendor_order, number, sku))}
        for line in vendor_order.lines:
            if id(line) in named and totals.get(line.id, 0) > line.qty:
                self.result.problems.append(
                    f"{self.file}: {vendor_order.id} line {line.line_no} ({line.vendor_sku}): the parcels ship "
                    f"{totals[line.id]} of the {line.qty} ordered; counted as {line.qty}")
            shipped = min(totals.get(line.id, 0), line.qty)
            if shipped <= line.qty_shipped:
                continue
            line.qty_shipped = shipped
            wanted = line.qty - line.qty_rejected
            self._move_line(line, LineState.SHIPPED if shipped >= wanted else LineState.PARTIALLY_SHIPPED,
                            code=line.reason_code, reason=line.reason)
        dates = [each.shipped_at or each.reported_at for each in self.parcels[vendor_order.id]]
        if dates and vendor_order.shipped_at is None:
            vendor_order.shipped_at = min(dates)

    # --- the vendor order as a whole -----------------------------------------------------------------------

    def _settle(self, vendor_order: _VendorOrder, *, rejection_reason: str | None = None) -> None:
        """The vendor order's state from its lines, moving forward only."""
        lines = [line for line in vendor_order.lines if line.state != LineState.CANCELLED]
        rejected = [line for line in lines if line.state == LineState.REJECTED]
        live = [line for line in lines if line.state != LineState.REJECTED]
        state = VendorOrderState(vendor_order.state)
        if state in (VendorOrderState.DELIVERED, VendorOrderState.CANCELLED):
            return
        if live and all(line.qty_shipped >= line.qty - line.qty_rejected for line in live):
            new_state = VendorOrderState.SHIPPED
        elif any(line.qty_shipped for line in live):
            new_state = VendorOrderState.PARTIALLY_SHIPPED
        elif lines and not live:
            new_state = VendorOrderState.REJECTED
        elif state in OPEN_FOR_ANSWERS and vendor_order.acknowledged_at is not None:
            new_state = VendorOrderState.ACCEPTED if state != VendorOrderState.ON_HOLD else state
        else:
            new_state = state
        if new_state == VendorOrderState.REJECTED and state in SHIPPING_STATES:
            return
        if new_state != state:
            vendor_order.state = new_state
            vendor_order.updated_at = self.now
        if rejected and vendor_order.rejected_at is None:
            vendor_order.rejected_at = self.now
            vendor_order.rejection_code = rejected[0].reason_code
            vendor_order.rejection_reason = rejection_reason or rejected[0].reason

    # --- stock ---------------------------------------------------------------------------------------------

    def stock_level(self, level: StockLevel) -> None:
        """The newest stock level per vendor SKU wins; an older snapshot read late changes nothing.

        An item named only by our SKU or its UPC/EAN is found in the catalog; one the catalog does not know is
        refused naming the id."""
        vendor_sku = level.vendor_sku or self._catalog_vendor_sku(level)
        if not vendor_sku:
            ids = " / ".join(value for value in (level.sku, level.upc) if value)
            self.refuse("", "vendor_sku", f"stock for {ids!r}: no catalog item of {self.vendor_code} has that "
                                          "SKU or UPC")
            return
        as_of = level.as_of or self.now
        inventory = self._vendor_inventory()
        row_id, stored_as_of = inventory.get(vendor_sku, (None, None))
        self.result.stock_levels += 1
        if stored_as_of is not None and as_of < stored_as_of:
            return
        values = {"quantity": level.qty, "next_available": level.next_available, "as_of": as_of,
                  "updated_at": self.now}
        inventory[vendor_sku] = (row_id, as_of)
        if row_id is None:
            self._new_stock[vendor_sku] = {"vendor_code": self.vendor_code, "vendor_sku": vendor_sku, **values}
        else:
            self._changed_stock[row_id] = {"id": row_id, **values}

    def _catalog_vendor_sku(self, level: StockLevel) -> str | None:
        match = CatalogItem.sku == level.sku if level.sku else CatalogItem.upc == level.upc
        if not (level.sku or level.upc):
            return None
        return self.session.scalar(select(CatalogItem.vendor_sku).where(
            CatalogItem.vendor_code == self.vendor_code, match).limit(1))

    def _vendor_inventory(self) -> dict[str, tuple[int | None, datetime | None]]:
        """The vendor's stock rows (id, as of) by SKU, read once: a stock file of 100,000 rows is one query."""
        if self._inventory is None:
            self._inventory = {sku: (row_id, as_of) for row_id, sku, as_of in self.session.execute(
                select(InventoryLevel.id, InventoryLevel.vendor_sku, InventoryLevel.as_of)
                .where(InventoryLevel.vendor_code == self.vendor_code))}
        return self._inventory

    def _write_stock(self) -> None:
        """New and changed stock rows in a few statements, not one unit-of-work object per row."""
        insert_many(self.session, table_of(InventoryLevel), list(self._new_stock.values()))
        if self._changed_stock:
            self.session.execute(update(InventoryLevel), list(self._changed_stock.values()))
        self._new_stock, self._changed_stock = {}, {}

    def _write_parcels(self) -> None:
        """The parcels this file added or changed, in a few statements: the new shipments (their ids handed back
        in the order given), then the lines that went, changed and came, then the parcels' flags."""
        changed = list(self._changed.values())
        self._changed.clear()
        if not changed:
            return
        session = self.session
        # The ORM's own changes (the lines' quantities, a ledger row) wait for the caller's one flush.
        with session.no_autoflush:
            self._write_rows(changed)
        self._expire_stale(changed)

    def _write_rows(self, changed: list[_Parcel]) -> None:
        session = self.session
        self._insert_shipments([parcel for parcel in changed if parcel.id is None])
        shipment_lines, shipments = table_of(ShipmentLine), table_of(Shipment)
        gone, altered, came, inferred = _parcel_changes(changed)
        same_pair = (shipment_lines.c.shipment_id == bindparam("parcel")) & \
            (shipment_lines.c.vendor_order_line_id == bindparam("line"))
        # Gone before any is added again: the same (parcel, line) pair may come straight back.
        for statement, rows in ((delete(shipment_lines).where(same_pair), gone),
                                (update(shipment_lines).where(same_pair).values(qty=bindparam("quantity")), altered),
                                (insert(shipment_lines), came),
                                (update(shipments).where(shipments.c.id == bindparam("parcel"))
                                 .values(lines_inferred=bindparam("inferred")), inferred)):
            if rows:
                session.execute(statement, rows)

    def _insert_shipments(self, new: list[_Parcel]) -> None:
        """One statement for the new shipments; each id is matched by vendor order and tracking number, unique
        among the new parcels, since SQLite hands back a many-row insert's ids in no promised order."""
        if not new:
            return
        shipments = table_of(Shipment)
        ids = {(vendor_order_id, number): shipment_id for shipment_id, vendor_order_id, number in self.session.execute(
            insert(shipments).returning(shipments.c.id, shipments.c.vendor_order_id, shipments.c.tracking_number),
            [{**(parcel.row or {}), "lines_inferred": parcel.lines_inferred} for parcel in new])}
        for parcel in new:
            parcel.id, parcel.row = ids[parcel.vendor_order_id, parcel.tracking_number], None
            parcel.stored_inferred = parcel.lines_inferred

    def _write_vendor_orders(self) -> None:
        """The columns the records changed, one statement per set of columns changed (a ship notice's lines all
        change the same two): the vendor orders reached, then their lines."""
        reached = [vendor_order for vendor_order_id in sorted(self._unwritten)
                   if (vendor_order := self.vendor_orders.get(vendor_order_id)) is not None]
        self._unwritten.clear()
        with self.session.no_autoflush:
            self._write_changed(VendorOrder, ORDER_COLUMNS, reached)
            self._write_changed(VendorOrderLine, LINE_COLUMNS, [line for each in reached for line in each.lines])

    def _write_changed(self, model: type[VendorOrder] | type[VendorOrderLine], columns: tuple[str, ...],
                       rows: list[_VendorOrder] | list[_Line]) -> None:
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        identity_map = self.session.identity_map
        for row in rows:
            values = _values(row, columns)
            if values == row.stored:
                continue
            changed = tuple(name for name, new, old in zip(columns, values, row.stored, strict=True) if new != old)
            by_columns.setdefault(changed, []).append(
                {"row_id": row.id, **{name: getattr(row, name) for name in changed}})
            row.stored = values
            # An ORM object this session already holds reads its row afresh once written.
            if (loaded := identity_map.get(identity_key(model, row.id))) is not None:
                self.session.expire(loaded)
        table = table_of(model)
        for params in by_columns.values():
            self.session.execute(update(table).where(table.c.id == bindparam("row_id")), params)

    def _expire_stale(self, changed: list[_Parcel]) -> None:
        """ORM objects this session already holds read what was written afresh: a vendor order's parcels, and a
        parcel's lines."""
        session = self.session
        for vendor_order_id in {parcel.vendor_order_id for parcel in changed}:
            held = session.identity_map.get(identity_key(VendorOrder, vendor_order_id))
            if held is not None and "shipments" in held.__dict__:
                session.expire(held, ["shipments"])
        for parcel in changed:
            loaded = session.identity_map.get(identity_key(Shipment, parcel.id))
            if loaded is not None:
                session.expire(loaded, ["lines", "lines_inferred"])

    def apply(self, *, acks: Iterable[Acknowledgement] = (), ship_notices: Iterable[ShipNotice] = (),
              stock: Iterable[StockLevel] = ()) -> FeedbackResult:
        self.apply_records(acks=acks, ship_notices=ship_notices, stock=stock)
        self.roll_up()
        return self.result

    def apply_records(self, *, acks: Iterable[Acknowledgement] = (), ship_notices: Iterable[ShipNotice] = (),
                      stock: Iterable[StockLevel] = ()) -> FeedbackResult:
        """The records alone, their orders not yet rolled up: :meth:`roll_up` (or ``roll_up`` of
        :mod:`orderflow.orders.lifecycle` for ``touched``) must follow in the same transaction. The changes are
        written before it returns, a few statements for all of them (``deferred``: at :meth:`write`)."""
        acks, ship_notices = list(acks), list(ship_notices)
        self.load_vendor_orders(vendor_order_ids(acks, ship_notices))
        for ack in acks:
            self.acknowledgement(ack)
        for notice in ship_notices:
            self.ship_notice(notice)
        for level in stock:
            self.stock_level(level)
        self._write_stock()
        if not self.deferred:
            self.write()
        return self.result

    def write(self) -> None:
        """Write the parcels and vendor orders changed since the last write."""
        self._write_parcels()
        self._write_vendor_orders()

    def roll_up(self) -> None:
        # A parcel the carrier already delivered, or a rejection beside shipped work, can finish an order here.
        self.write()
        roll_up(session=self.session, vendor_order_ids=self.touched, now=self.now)
        self.forget(self.touched)


def _columns(model: type[VendorOrder] | type[VendorOrderLine], names: tuple[str, ...]) -> list[Any]:
    return [getattr(model, name) for name in names]


def _values(row: _VendorOrder | _Line, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in names)


def _parcel_changes(changed: list[_Parcel]) -> tuple[list[dict[str, Any]], ...]:
    """What to write of these parcels' lines (gone, changed, new) and flags, as parameter rows; each parcel then
    counts as stored."""
    gone: list[dict[str, Any]] = []
    altered: list[dict[str, Any]] = []
    came: list[dict[str, Any]] = []
    inferred: list[dict[str, Any]] = []
    for parcel in changed:
        for line_id, qty in parcel.stored_lines.items():
            if line_id not in parcel.lines:
                gone.append({"parcel": parcel.id, "line": line_id})
            elif parcel.lines[line_id] != qty:
                altered.append({"parcel": parcel.id, "line": line_id, "quantity": parcel.lines[line_id]})
        came += [{"shipment_id": parcel.id, "vendor_order_line_id": line_id, "qty": qty}
                 for line_id, qty in parcel.lines.items() if line_id not in parcel.stored_lines]
        if parcel.lines_inferred != parcel.stored_inferred:
            inferred.append({"parcel": parcel.id, "inferred": parcel.lines_inferred})
        parcel.stored_lines, parcel.stored_inferred = dict(parcel.lines), parcel.lines_inferred
    return gone, altered, came, inferred


def _numbers_of(notice: ShipNotice) -> set[str]:
    """The tracking numbers (a freight shipment's PRO or bill of lading) a notice names, as we store them."""
    numbers = {number for parcel in notice.parcels if (number := normalize_number(parcel.tracking_number))}
    if notice.freight and (freight_number := normalize_number(notice.pro_number or notice.bill_of_lading)):
        numbers.add(freight_number)
    return numbers


def vendor_order_ids(acks: Iterable[Acknowledgement], ship_notices: Iterable[ShipNotice]) -> set[str]:
    """The vendor orders these records name."""
    return {ack.vendor_order_id.strip() for ack in acks} | \
        {notice.vendor_order_id.strip() for notice in ship_notices}
