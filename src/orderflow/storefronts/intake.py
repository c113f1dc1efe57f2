"""Storing storefront orders: idempotent upsert by (source, order number), then routing.

Orders stream through in batches. A batch costs a handful of queries whatever its size: one lookup of the
orders already known, bulk inserts of the new orders and their lines (with ids reserved for them first, so
none is read back), of their vendor orders and vendor order lines. A new line is inserted already routed (its
vendor, or unroutable), so nothing is written twice.
Re-importing the same order is a no-op ("unchanged", by content hash). A later version of an order updates
it: a cancellation or full refund cancels vendor orders not yet sent and flags sent ones
``cancel_requested``; an address change before dispatch is applied (after dispatch it is reported, because
the vendor already has the old one).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from orderflow.crashpoints import crash_point
from orderflow.db.bulk import chunked, insert_rows, reserved_ids, table_of
from orderflow.db.models import (
    LineState,
    Order,
    OrderLine,
    OrderState,
    VendorOrder,
    VendorOrderLine,
    VendorOrderState,
)
from orderflow.errors import Refusal
from orderflow.orders.records import Address, IncomingLine, IncomingOrder
from orderflow.orders.routing import Catalog, LineToRoute, RoutingResult, line_routing, route_new_lines

HashedOrder = tuple[IncomingOrder, str]
"""An order with its :func:`content_hash`."""

CANCELLED_FINANCIAL_STATES = {"refunded", "voided"}
NOT_YET_SENT = {VendorOrderState.PENDING}
FINISHED = {VendorOrderState.CANCELLED, VendorOrderState.REJECTED, VendorOrderState.SHIPPED,
            VendorOrderState.DELIVERED}


@dataclass
class ImportResult:
    """What an import did; refusals and problems are data, one line each when printed."""

    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    refusals: list[Refusal] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    files: int = 0
    routed_lines: int = 0
    unroutable_lines: int = 0

    @property
    def refused(self) -> int:
        return len(self.refusals)

    def add(self, other: ImportResult) -> None:
        for name in ("stored", "updated", "unchanged", "files", "routed_lines", "unroutable_lines"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.refusals.extend(other.refusals)
        self.problems.extend(other.problems)

    def counts(self) -> dict[str, int]:
        return {"stored": self.stored, "updated": self.updated, "unchanged": self.unchanged,
                "refused": self.refused, "files": self.files, "unroutable_lines": self.unroutable_lines}

    def add_routing(self, routing: RoutingResult) -> None:
        self.routed_lines += routing.routed_lines
        self.unroutable_lines += routing.unroutable_lines
        self.problems.extend(routing.problems)


def content_hash(order: IncomingOrder) -> str:
    """A fingerprint of everything we act on; the raw payload is left out so cosmetic changes do not count.

    It is the SHA-256 of ``json.dumps(fields, default=str, sort_keys=True)`` over the order's fields without
    ``raw`` (a record nested in it written as its fields): what earlier versions stored, so a re-import of an
    order stored by them still finds it unchanged. The text is written by :func:`_json` rather than by
    ``json.dumps``, whose call back into Python for every time, amount and record cost more than the rest of
    the hash.
    """
    return hashlib.sha256(_order_json(order).encode()).hexdigest()


def _order_json(order: IncomingOrder) -> str:
    """The hashed text of an order, written field by field for the types orders hold; :func:`_record_json`
    (slower, for any value) when a field holds another type, so the text is the same either way."""
    ship = order.shipping
    if type(order.placed_at) is not datetime or type(ship) is not Address:
        return _record_json(order, skip="raw")
    try:
        return (
            f'{{"cancelled_at": {_json(order.cancelled_at)}, "currency": {_quoted(order.currency)}, '
            f'"customer_email": {_quoted(order.customer_email)}, "customer_name": {_quoted(order.customer_name)}, '
            f'"external_id": {_quoted(order.external_id)}, "financial_status": {_quoted(order.financial_status)}, '
            f'"fulfillment_status": {_quoted(order.fulfillment_status)}, '
            f'"lines": [{", ".join(map(_line_json, order.lines))}], "order_number": {_quoted(order.order_number)}, '
            f'"placed_at": {_quoted(str(order.placed_at))}, "shipping": {{"address1": {_quoted(ship.address1)}, '
            f'"address2": {_quoted(ship.address2)}, "city": {_quoted(ship.city)}, "company": {_quoted(ship.company)}, '
            f'"country": {_quoted(ship.country)}, "name": {_quoted(ship.name)}, "phone": {_quoted(ship.phone)}, '
            f'"province": {_quoted(ship.province)}, "zip": {_quoted(ship.zip)}}}, "source": {_quoted(order.source)}, '
            f'"total": {_json(order.total)}}}'
        )
    except TypeError:  # a text field holding something else
        return _record_json(order, skip="raw")


def _line_json(line: IncomingLine) -> str:
    if type(line) is not IncomingLine or type(line.line) is not int or type(line.qty) is not int \
            or type(line.price) is not Decimal or type(line.fulfilled_at_storefront) is not bool:
        return _record_json(line)
    return (f'{{"fulfilled_at_storefront": {"true" if line.fulfilled_at_storefront else "false"}, '
            f'"line": {line.line}, "name": {_quoted(line.name)}, "price": {_quoted(str(line.price))}, '
            f'"qty": {line.qty}, "sku": {_quoted(line.sku)}, "storefront_vendor": {_quoted(line.storefront_vendor)}}}')


_quoted = json.encoder.encode_basestring_ascii  # a JSON string literal, as json.dumps writes it
_PLAIN_TEXT = frozenset({Decimal, datetime})  # what json.dumps(default=str) writes as its str()


def _json(value: Any) -> str:
    """``json.dumps(value, default=_hashed_value, sort_keys=True)``, with what orders hold most (nothing, a time,
    an amount, a record) written directly."""
    if value is None:
        return "null"
    if type(value) in _PLAIN_TEXT:
        return _quoted(str(value))
    if _field_names(type(value)) is not None:
        return _record_json(value)
    return json.dumps(value, default=_hashed_value, sort_keys=True)


def _record_json(record: Any, *, skip: str = "") -> str:
    """A record as the JSON object of its fields, keys sorted."""
    names = _sorted_field_names(type(record))
    return "{" + ", ".join([f"{_quoted(name)}: {_json(getattr(record, name))}" for name in names
                            if name != skip]) + "}"


def _hashed_value(value: Any) -> Any:
    """How ``json.dumps`` writes what JSON cannot, for the values :func:`_json` leaves to it: a record as its
    fields, anything else (time, money) as ``str``."""
    names = _field_names(type(value))
    if names is None:
        return str(value)
    return {name: getattr(value, name) for name in names}


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}
_SORTED_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass; ``None`` for any other type (remembered: asked once per value)."""
    try:
        return _FIELD_NAMES[kind]
    except KeyError:
        names = tuple(each.name for each in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else None
        _FIELD_NAMES[kind] = names
        return names


def _sorted_field_names(kind: type) -> tuple[str, ...]:
    try:
        return _SORTED_FIELD_NAMES[kind]
    except KeyError:
        names = _SORTED_FIELD_NAMES[kind] = tuple(sorted(_field_names(kind) or ()))
        return names


def is_cancelled(order: IncomingOrder) -> bool:
    return order.cancelled_at is not None or order.financial_status.lower() in CANCELLED_FINANCIAL_STATES


def is_fulfilled_elsewhere(order: IncomingOrder, line: IncomingLine) -> bool:
    """Fulfilled before it reached us (by hand, or by another app): sending it to a vendor would ship it twice."""
    return line.fulfilled_at_storefront or order.fulfillment_status.lower() == "fulfilled"


def initial_line_state(order: IncomingOrder, line: IncomingLine) -> LineState:
    if is_cancelled(order):
        return LineState.CANCELLED
    return LineState.FULFILLED_ELSEWHERE if is_fulfilled_elsewhere(order, line) else LineState.PENDING


def initial_order_state(order: IncomingOrder) -> OrderState:
    if is_cancelled(order):
        return OrderState.CANCELLED
    if order.lines and all(is_fulfilled_elsewhere(order, line) for line in order.lines):
        return OrderState.FULFILLED_ELSEWHERE
    return OrderState.OPEN


# New orders and their lines go in with one executemany each (see insert_rows) under ids reserved for them: the
# ORM's bulk insert asks for ids in parameter order, which on SQLite is a statement per row. States go in as
# their plain text (``.value``): SQLite's driver binds a str subclass through a slower lookup, per value.
_ORDERS = table_of(Order)
_ORDER_LINES = table_of(OrderLine)
_ORDER_FIELDS = (
    "external_id", "customer_name", "customer_email", "ship_name", "ship_company", "ship_address1", "ship_address2",
    "ship_city", "ship_province", "ship_zip", "ship_country", "ship_phone", "placed_at", "currency", "total",
    "financial_status", "fulfillment_status", "cancelled_at", "content_hash", "raw", "updated_at",
)
"""The columns an incoming order sets, on a new order and on an update (:func:`_order_values`)."""
_NEW_ORDER_COLUMNS = ("id", "source", "order_number", "state", "created_at", *_ORDER_FIELDS)
_LINE_COLUMNS = ("id", "order_id", "line_no", "sku", "name", "qty", "price", "state", "vendor_code",
                 "unroutable_since")


def upsert_orders(*, session: Session, orders: Iterable[IncomingOrder], catalog: Catalog, po_prefix: str,
                  now: datetime, file: str = "<input>", batch_size: int = 500) -> ImportResult:
    """Store new orders, update changed ones, route their lines. The caller owns the transaction."""
    result = ImportResult()
    for batch in chunked((_named_lines_resolved(order, catalog) for order in orders), batch_size):
        _upsert_batch(session=session, batch=batch, catalog=catalog, po_prefix=po_prefix, now=now,
                      file=file, result=result)
    return result


def _named_lines_resolved(order: IncomingOrder, catalog: Catalog) -> IncomingOrder:
    """Lines without a SKU (stores that sell without them) take the SKU the catalog gives their product and
    variant name; a name the catalog does not know leaves the line waiting, like an unknown SKU."""
    if all(line.sku for line in order.lines):
        return order
    return replace(order, lines=tuple(replace(line, sku=catalog.sku_of(line.sku, line.name))
                                      for line in order.lines))


def _upsert_batch(*, session: Session, batch: list[IncomingOrder], catalog: Catalog, po_prefix: str,
                  now: datetime, file: str, result: ImportResult) -> None:
    batch = _last_version_of_each(batch)
    stored = _stored_under_numbers(session, batch)
    fresh: list[HashedOrder] = []
    changed: dict[int, HashedOrder] = {}  # by the stored order's id
    for order in batch:
        digest = content_hash(order)  # once per order: it is compared, then stored
        same_number = stored.get(order.order_number, [])
        mine = next((row for row in same_number if row.source == order.source), None)
        if mine is not None:
            if mine.content_hash == digest:
                result.unchanged += 1
            else:
                changed[mine.id] = (order, digest)
        elif same_number:  # two sources with one order number would share vendor order ids
            result.refusals.append(Refusal(
                file=file, line=None, field="order_number",
                reason=f"order {order.order_number} already exists from source {same_number[0].source!r}; "
                       "vendor order ids would clash (give one source a po_prefix of its own)"))
        else:
            fresh.append((order, digest))
    if changed:  # only orders that changed are loaded whole, with one query, and updated in file order
        loaded = {existing.id: existing
                  for existing in session.scalars(select(Order).where(Order.id.in_(list(changed))))}
        for order_id, (order, digest) in changed.items():
            _apply_update(session=session, stored=loaded[order_id], order=order, digest=digest, catalog=catalog,
                          po_prefix=po_prefix, now=now, result=result)
    if fresh:
        _insert_new(session=session, orders=fresh, catalog=catalog, po_prefix=po_prefix, now=now, result=result)
    session.flush()
    crash_point("import.after_batch_insert")


def _last_version_of_each(batch: list[IncomingOrder]) -> list[IncomingOrder]:
    latest: dict[tuple[str, str], IncomingOrder] = {}
    for order in batch:
        latest[(order.source, order.order_number)] = order
    return list(latest.values())


class _Stored(NamedTuple):
    id: int
    source: str
    content_hash: str


def _stored_under_numbers(session: Session, batch: list[IncomingOrder]) -> dict[str, list[_Stored]]:
    """The stored orders under the batch's order numbers, from any source: a light row each, no model object."""
    stored: dict[str, list[_Stored]] = {}
    for order_id, source, number, digest in session.execute(
            select(_ORDERS.c.id, _ORDERS.c.source, _ORDERS.c.order_number, _ORDERS.c.content_hash)
            .where(_ORDERS.c.order_number.in_([order.order_number for order in batch]))).all():
        stored.setdefault(number, []).append(_Stored(order_id, source, digest))
    return stored


def _order_values(order: IncomingOrder, now: datetime, digest: str) -> tuple[Any, ...]:
    """The values of :data:`_ORDER_FIELDS`, in their order."""
    ship = order.shipping
    return (
        order.external_id or None, order.customer_name, order.customer_email, ship.name, ship.company,
        ship.address1, ship.address2, ship.city, ship.province, ship.zip, ship.country, ship.phone,
        order.placed_at, order.currency, order.total, order.financial_status, order.fulfillment_status,
        order.cancelled_at, digest, order.raw, now,
    )


def _insert_new(*, session: Session, orders: list[HashedOrder], catalog: Catalog, po_prefix: str,
                now: datetime, result: ImportResult) -> None:
    ids = reserved_ids(session, _ORDERS, len(orders))
    insert_rows(session, _ORDERS, _NEW_ORDER_COLUMNS, [
        (order_id, order.source, order.order_number, initial_order_state(order).value, now,
         *_order_values(order, now, digest))
        for order_id, (order, digest) in zip(ids, orders, strict=True)
    ])
    _insert_lines(session=session, orders=list(zip(ids, [order for order, _ in orders], strict=True)),
                  catalog=catalog, po_prefix=po_prefix, now=now, result=result)
    result.stored += len(orders)


def _insert_lines(*, session: Session, orders: list[tuple[int, IncomingOrder]], catalog: Catalog, po_prefix: str,
                  now: datetime, result: ImportResult) -> None:
    """Insert the lines of orders stored under the ids given, a pending line with its routing (vendor, or
    unroutable) from the start, and route the pending ones to their vendor orders."""
    line_ids = iter(reserved_ids(session, _ORDER_LINES, sum(len(order.lines) for _, order in orders)))
    rows: list[tuple[Any, ...]] = []
    pending: list[LineToRoute] = []
    for order_id, order in orders:
        for line in order.lines:
            line_id = next(line_ids)
            state = initial_line_state(order, line)
            vendor_code = unroutable_since = None
            if state == LineState.PENDING:
                vendor_code, state, unroutable_since = line_routing(line.sku, catalog, now)
                pending.append(LineToRoute(order_id, order.order_number, line_id, line.line, line.sku, line.qty,
                                           order.placed_at))
            rows.append((line_id, order_id, line.line, line.sku, line.name, line.qty, line.price, state.value,
                         vendor_code, unroutable_since))
    insert_rows(session, _ORDER_LINES, _LINE_COLUMNS, rows)
    result.add_routing(route_new_lines(session=session, lines=pending, catalog=catalog, po_prefix=po_prefix,
                                       now=now))


def _line_signature(lines: Iterable[tuple[int, str, int, Any]]) -> list[tuple[int, str, int, str]]:
    return sorted((number, sku, qty, str(price)) for number, sku, qty, price in lines)


def _apply_update(*, session: Session, stored: Order, order: IncomingOrder, digest: str, catalog: Catalog,
                  po_prefix: str, now: datetime, result: ImportResult) -> None:
    vendor_orders = list(stored.vendor_orders)
    dispatched = [vo for vo in vendor_orders if vo.state not in NOT_YET_SENT | {VendorOrderState.CANCELLED}]
    old_address = _address_of(stored)
    old_lines = _line_signature((line.line_no, line.sku, line.qty, line.price) for line in stored.lines)
    new_lines = _line_signature((line.line, line.sku, line.qty, line.price) for line in order.lines)
    was_cancelled = stored.state == OrderState.CANCELLED
    for key, value in zip(_ORDER_FIELDS, _order_values(order, now, digest), strict=True):
        setattr(stored, key, value)
    result.updated += 1
    if _address_of(stored) != old_address and dispatched:
        result.problems.append(
            f"order {order.order_number}: shipping address changed after dispatch to "
            f"{', '.join(vo.id for vo in dispatched)}; tell the vendor")
    if is_cancelled(order) and not was_cancelled:
        _cancel(stored, vendor_orders, now)
    elif was_cancelled and not is_cancelled(order):
        result.problems.append(f"order {order.order_number}: the storefront no longer shows it cancelled; "
                               "orderflow keeps it cancelled (re-enter it as a new order if it must ship)")
    elif new_lines != old_lines and not was_cancelled:
        if dispatched:
            result.problems.append(
                f"order {order.order_number}: its lines changed after dispatch to "
                f"{', '.join(vo.id for vo in dispatched)}; the change was not applied, arrange it with the vendor")
        else:
            _replace_lines(session=session, stored=stored, order=order, catalog=catalog, po_prefix=po_prefix,
                           now=now, result=result)


def _address_of(order: Order) -> tuple[str, ...]:
    return (order.ship_name, order.ship_company, order.ship_address1, order.ship_address2, order.ship_city,
            order.ship_province, order.ship_zip, order.ship_country)


def _cancel(stored: Order, vendor_orders: list[VendorOrder], now: datetime) -> None:
    stored.state = OrderState.CANCELLED
    for vendor_order in vendor_orders:
        if vendor_order.state in NOT_YET_SENT:
            vendor_order.state = VendorOrderState.CANCELLED
            for vendor_line in vendor_order.lines:
                vendor_line.state = LineState.CANCELLED
        elif vendor_order.state not in FINISHED and vendor_order.cancel_requested_at is None:
            vendor_order.cancel_requested_at = now
        vendor_order.updated_at = now
    for line in stored.lines:
        if line.state in (LineState.PENDING, LineState.UNROUTABLE):
            line.state = LineState.CANCELLED


def _replace_lines(*, session: Session, stored: Order, order: IncomingOrder, catalog: Catalog, po_prefix: str,
                   now: datetime, result: ImportResult) -> None:
    """Nothing was sent yet, so the lines and their routing are rebuilt from the new version."""
    vendor_order_ids = [vo.id for vo in stored.vendor_orders]
    if vendor_order_ids:
        session.execute(delete(VendorOrderLine).where(VendorOrderLine.vendor_order_id.in_(vendor_order_ids)))
        session.execute(delete(VendorOrder).where(VendorOrder.id.in_(vendor_order_ids)))
    session.execute(delete(OrderLine).where(OrderLine.order_id == stored.id))
    session.flush()
    session.expire(stored, ["lines", "vendor_orders"])
    _insert_lines(session=session, orders=[(stored.id, order)], catalog=catalog, po_prefix=po_prefix, now=now,
                  result=result)
