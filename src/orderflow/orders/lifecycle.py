"""The end of an order's life: vendor order lines and vendor orders ``delivered``, orders ``shipped``/``delivered``.

Vendor feedback moves lines and vendor orders up to ``shipped``; the carriers say when parcels arrive. This
rollup joins the two, so finished work leaves the rules' active set instead of staying ``open`` for years:

    >>> roll_up(session=session, vendor_order_ids=["TB1042-ACME"], now=now)  # doctest: +SKIP
    RollUp(lines_delivered=2, vendor_orders_delivered=1, orders_shipped=0, orders_delivered=1)

The rule, for the orders touched (an order given, or the order of a vendor order given):

- Only orders in ``open`` or ``shipped`` are looked at, and only their vendor orders: a cancelled order, one
  fulfilled elsewhere, or one already delivered is never touched (a cancelled order's vendor order that shipped
  anyway stays for ``cancel_not_confirmed``).
- A parcel *carries* a vendor order line when it has a shipment line for it with a quantity; parcels that carry
  nothing we know of are ignored.
- Units left on a vendor order line: its quantity, less the units rejected (a rejection without a quantity is
  the whole line), less the units shipped; none on a cancelled line.
- A vendor order line becomes ``delivered`` when it is ``shipped`` (nothing left) and every parcel carrying it
  is delivered.
- A vendor order becomes ``delivered`` when it is ``shipped``, no unit is left on it, none was rejected, it has
  a parcel carrying units, and every such parcel is delivered. ``delivered_at``: the latest of those deliveries.
- A vendor order is *finished* for its order when it is ``cancelled``, or ``shipped``, ``delivered`` or
  ``rejected`` with no unit left (a rejection leaves nothing more to come from that vendor).
- An order becomes ``shipped`` when every line we must fulfil (not cancelled, not fulfilled elsewhere) is on a
  vendor order, every one of its vendor orders is finished, and at least one is ``shipped`` or ``delivered``.
  It becomes ``delivered`` when, on top of that, every vendor order is ``delivered`` or ``cancelled``. Rejected
  units hold an order (and their vendor order) at ``shipped``: the customer has not got them, so
  ``vendor_rejected`` stays up until a person re-routes, cancels or refunds them (a storefront cancellation
  cancels the line). An order where nothing shipped at all (everything rejected or cancelled) stays ``open``.

States only move forward: every update names the states it moves from, so a stale carrier answer, a repeated
notice or a rerun changes nothing, and nothing here ever moves a state back. The caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

from orderflow.db.bulk import chunked
from orderflow.db.models import (
    LineState,
    Order,
    OrderLine,
    OrderState,
    Shipment,
    ShipmentLine,
    VendorOrder,
    VendorOrderLine,
    VendorOrderState,
)

S = VendorOrderState
LIVE_ORDER_STATES = (OrderState.OPEN, OrderState.SHIPPED)
"""Orders still to be fulfilled by us: a cancelled one, or one fulfilled elsewhere, needs no vendor alerts."""
NOT_OURS_TO_SHIP = (LineState.CANCELLED, LineState.FULFILLED_ELSEWHERE)
ENDED_WITH_NOTHING_LEFT = (S.SHIPPED, S.DELIVERED, S.REJECTED)
DELIVERED = "delivered"
"""A parcel's normalized status once the carrier delivered it."""
_LATEST_DELIVERY = (select(func.max(Shipment.delivered_at))
                    .where(Shipment.vendor_order_id == VendorOrder.id,
                           exists().where(ShipmentLine.shipment_id == Shipment.id, ShipmentLine.qty > 0))
                    .scalar_subquery())
"""A vendor order's ``delivered_at``: the last delivery among the parcels carrying its units."""


@dataclass(frozen=True)
class RollUp:
    """How many rows moved forward."""

    lines_delivered: int = 0
    vendor_orders_delivered: int = 0
    orders_shipped: int = 0
    orders_delivered: int = 0


@dataclass
class _VendorOrderLine:
    id: int
    order_line_id: int
    state: str
    units_left: int
    units_rejected: int
    parcels: list[str]
    """The status of each parcel carrying it."""

    @property
    def all_arrived(self) -> bool:
        return bool(self.parcels) and all(status == DELIVERED for status in self.parcels)


@dataclass
class _VendorOrder:
    id: str
    order_id: int
    state: str
    lines: list[_VendorOrderLine]


def roll_up(*, session: Session, now: datetime, vendor_order_ids: Iterable[str] = (),
            order_ids: Iterable[int] = ()) -> RollUp:
    """Move the touched vendor order lines, vendor orders and orders as far forward as the rule allows."""
    orders = _live_orders(session, set(vendor_order_ids), set(order_ids))
    if not orders:
        return RollUp()
    vendor_orders = _vendor_orders(session, orders)

    lines_delivered = [line.id for vo in vendor_orders for line in vo.lines
                       if line.state == LineState.SHIPPED and line.all_arrived]
    arrived = set()
    for vo in vendor_orders:
        carrying = [line for line in vo.lines if line.parcels]
        if vo.state == S.SHIPPED and carrying and not any(line.units_left or line.units_rejected for line in vo.lines) \
                and all(line.all_arrived for line in carrying):
            arrived.add(vo.id)

    by_order: dict[int, list[_VendorOrder]] = defaultdict(list)
    for vo in vendor_orders:
        if vo.id in arrived:
            vo.state = S.DELIVERED
        by_order[vo.order_id].append(vo)
    shipped: list[int] = []
    delivered: list[int] = []
    for order_id, must_ship in orders.items():
        outcome = _order_outcome(must_ship, by_order[order_id])
        if outcome == OrderState.SHIPPED:
            shipped.append(order_id)
        elif outcome == OrderState.DELIVERED:
            delivered.append(order_id)

    return RollUp(
        lines_delivered=_move(session, VendorOrderLine, lines_delivered, (LineState.SHIPPED,), LineState.DELIVERED),
        vendor_orders_delivered=_move(session, VendorOrder, sorted(arrived), (S.SHIPPED,), S.DELIVERED,
                                      delivered_at=_LATEST_DELIVERY, updated_at=now),
        orders_shipped=_move(session, Order, shipped, (OrderState.OPEN,), OrderState.SHIPPED, updated_at=now),
        orders_delivered=_move(session, Order, delivered, LIVE_ORDER_STATES, OrderState.DELIVERED, updated_at=now))


def _order_outcome(must_ship: set[int], vendor_orders: list[_VendorOrder]) -> OrderState | None:
    """``shipped``, ``delivered`` or ``None`` (not finished) for one order, by the rule in the module docstring."""
    routed = {line.order_line_id for vo in vendor_orders for line in vo.lines}
    if not must_ship or not must_ship <= routed:
        return None
    for vo in vendor_orders:
        if vo.state != S.CANCELLED and (vo.state not in ENDED_WITH_NOTHING_LEFT
                                        or any(line.units_left for line in vo.lines)):
            return None
    states = {vo.state for vo in vendor_orders}
    if S.DELIVERED in states and states <= {S.DELIVERED, S.CANCELLED}:
        return OrderState.DELIVERED
    return OrderState.SHIPPED if states & {S.SHIPPED, S.DELIVERED} else None


def _live_orders(session: Session, vendor_order_ids: set[str], order_ids: set[int]) -> dict[int, set[int]]:
    """The touched orders still open or shipped, each with the ids of the lines we must ship."""
    for named in chunked(sorted(vendor_order_ids)):
        order_ids.update(session.scalars(select(VendorOrder.order_id).where(VendorOrder.id.in_(named))))
    orders: dict[int, set[int]] = {}
    for chunk in chunked(sorted(order_ids)):
        for order_id in session.scalars(select(Order.id).where(Order.id.in_(chunk),
                                                               Order.state.in_(LIVE_ORDER_STATES))):
            orders[order_id] = set()
        for line_id, order_id in session.execute(
                select(OrderLine.id, OrderLine.order_id).join(Order, Order.id == OrderLine.order_id)
                .where(OrderLine.order_id.in_(chunk), Order.state.in_(LIVE_ORDER_STATES),
                       OrderLine.state.not_in(NOT_OURS_TO_SHIP))):
            orders[order_id].add(line_id)
    return orders


def _vendor_orders(session: Session, orders: dict[int, set[int]]) -> list[_VendorOrder]:
    """The orders' vendor orders with their lines and the parcels carrying each line, in three queries a chunk."""
    found: list[_VendorOrder] = []
    for chunk in chunked(sorted(orders)):
        by_id = {vo_id: _VendorOrder(vo_id, order_id, state, []) for vo_id, order_id, state in session.execute(
            select(VendorOrder.id, VendorOrder.order_id, VendorOrder.state).where(VendorOrder.order_id.in_(chunk))
            .order_by(VendorOrder.id))}
        lines: dict[int, _VendorOrderLine] = {}
        # Columns, not ORM objects: a batch of vendor files rolls up hundreds of lines at once.
        for row in session.execute(
                select(VendorOrderLine.id, VendorOrderLine.vendor_order_id, VendorOrderLine.order_line_id,
                       VendorOrderLine.state, VendorOrderLine.qty, VendorOrderLine.qty_rejected,
                       VendorOrderLine.qty_shipped)
                .join(VendorOrder, VendorOrder.id == VendorOrderLine.vendor_order_id)
                .where(VendorOrder.order_id.in_(chunk)).order_by(VendorOrderLine.id)):
            counts = _LineCounts(row.state, row.qty, row.qty_rejected, row.qty_shipped)
            lines[row.id] = _VendorOrderLine(row.id, row.order_line_id, row.state, _units_left(counts),
                                             _units_rejected(counts), [])
            by_id[row.vendor_order_id].lines.append(lines[row.id])
        for line_id, status in session.execute(
                select(ShipmentLine.vendor_order_line_id, Shipment.status)
                .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
                .join(VendorOrder, VendorOrder.id == Shipment.vendor_order_id)
                .where(VendorOrder.order_id.in_(chunk), ShipmentLine.qty > 0)):
            lines[line_id].parcels.append(status)
        found += by_id.values()
    return found


class LineCounts(Protocol):
    """What a vendor order line's units are reckoned from."""

    @property
    def state(self) -> str: ...
    @property
    def qty(self) -> int: ...
    @property
    def qty_rejected(self) -> int: ...
    @property
    def qty_shipped(self) -> int: ...


class _LineCounts(NamedTuple):
    state: str
    qty: int
    qty_rejected: int
    qty_shipped: int


def units_to_ship(line: LineCounts) -> int:
    """Units the vendor still owes on ``line``, shipped or not: none on a cancelled line, and none rejected (a
    rejection without a quantity is for the whole line)."""
    if line.state == LineState.CANCELLED or (line.state == LineState.REJECTED and line.qty_rejected == 0):
        return 0
    return max(line.qty - line.qty_rejected, 0)


def _units_rejected(line: LineCounts) -> int:
    return 0 if line.state == LineState.CANCELLED else line.qty - units_to_ship(line)


def _units_left(line: LineCounts) -> int:
    return max(units_to_ship(line) - line.qty_shipped, 0)


def _move(session: Session, model: type[Order] | type[VendorOrder] | type[VendorOrderLine], ids: Sequence[object],
          from_states: Iterable[str], to_state: str, **values: object) -> int:
    """Move rows to ``to_state`` only from ``from_states``: a row already past them is left as it is."""
    moved = 0
    allowed = list(from_states)
    for chunk in chunked(ids):
        result = session.execute(update(model).where(model.id.in_(chunk), model.state.in_(allowed))
                                 .values(state=to_state, **values)
                                 .execution_options(synchronize_session="fetch"))
        moved += cast("CursorResult[Any]", result).rowcount
    return moved
