"""The live work: active vendor orders, each in a scenario a rule looks at (or one it must leave alone)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .shop import (
    CARRIER_NAMES,
    CARRIER_WEIGHTS,
    CARRIERS,
    CHUNK_ORDERS,
    EVENTS_PER_PARCEL,
    IDS_PER_ORDER,
    PLACES,
    PO_PREFIX,
    SERVICES,
    Product,
    Shop,
    valid_number,
)


def active_work(shop: Shop) -> None:
    """The live work: every active order, its vendor orders each in a scenario drawn from ``SCENARIOS``."""
    rng = random.Random(shop.seed + 1)
    for index in range(shop.active):
        active_order(shop, shop.history_orders + index + 1, rng)
        if (index + 1) % CHUNK_ORDERS == 0:
            shop.flush()
    shop.flush()


def active_order(shop: Shop, order_id: int, rng: random.Random) -> None:
    first = _draw(rng, SCENARIOS, primary=True)
    age = timedelta(hours=first.min_hours + rng.random() * (first.max_hours - first.min_hours))
    placed = shop.now - age
    by_vendor = shop.draw_lines(rng)
    scenarios = [first] + [_draw(rng, [s for s in SCENARIOS if s.fits(age)] or [ACCEPTED], primary=False)
                           for _ in range(len(by_vendor) - 1)]
    cancelled = shop.now - timedelta(hours=30 + rng.random() * 40) if first.name == "cancel_requested" else None
    lines = [line for vendor_lines in by_vendor.values() for line in vendor_lines]
    number = shop.order_row(order_id, rng, placed, lines, state="cancelled" if cancelled else "open",
                            cancelled=cancelled, updated=cancelled)
    line_id = order_id * IDS_PER_ORDER
    parcel_slot = order_id * IDS_PER_ORDER
    for (vendor, vendor_lines), scenario in zip(by_vendor.items(), scenarios, strict=True):
        draft = Draft(shop=shop, rng=rng, vendor=vendor, vendor_order_id=f"{PO_PREFIX}{number}-{vendor}",
                       order_id=order_id, placed=placed, lines=vendor_lines, first_line_id=line_id,
                       parcel_ids=[parcel_slot, parcel_slot + 1], cancelled=cancelled)
        (CANCEL_REQUESTED if cancelled else scenario).build(draft)
        draft.store()
        line_id += len(vendor_lines)
        parcel_slot += 2
    if rng.random() < 0.01:  # a SKU the catalog does not know yet
        shop.buffers["order_lines"].append((line_id, order_id, line_id % IDS_PER_ORDER + 1, "TB-NEWDROP-BLK-M",
                                            "New Drop Tee", 1, "28.00", None, "unroutable",
                                            placed + timedelta(minutes=1)))


@dataclass
class Draft:
    """One active vendor order being built: its fields, its lines' states and its parcels."""

    shop: Shop
    rng: random.Random
    vendor: str
    vendor_order_id: str
    order_id: int
    placed: datetime
    lines: list[tuple[Product, int]]
    first_line_id: int
    parcel_ids: list[int]
    cancelled: datetime | None
    state: str = "pending"
    fields: dict[str, Any] = field(default_factory=dict)
    line_state: str = "pending"
    line_overrides: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Line index -> vendor order line fields that differ from ``line_state``'s defaults."""
    parcels: list[dict[str, Any]] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return self.shop.now

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=low + self.rng.random() * (high - low))

    def dispatched(self, *, acknowledged: bool = True) -> datetime:
        """Sent within the hour of the order, and acknowledged a few hours later; returns the last of the two."""
        sent = min(self.placed + self.hours(0.1, 1.0), self.now - timedelta(minutes=5))
        ack = min(sent + self.hours(0.5, 5), self.now - timedelta(minutes=1)) if acknowledged else None
        self.fields |= {"sent_at": sent, "last_attempt_at": sent, "attempts": 1,
                        "ack_due_at": self.shop.ack_due(self.vendor, sent), "acknowledged_at": ack,
                        "vendor_reference": f"{self.vendor[:2]}-{self.order_id}" if ack else None}
        return ack or sent

    def parcel(self, *, shipped: datetime, status: str, scans: Sequence[tuple[datetime, str, str, str]] = (),
               line_indexes: Iterable[int] | None = None, **fields: Any) -> None:
        """A parcel labelled at ``shipped`` with carrier ``scans`` (time, status, code, words) after the label."""
        self.parcels.append({"shipped": shipped, "status": status, "scans": list(scans),
                             "lines": list(range(len(self.lines))) if line_indexes is None else list(line_indexes),
                             **fields})

    def journey(self, shipped: datetime, last: datetime, hubs: int = 2) -> list[tuple[datetime, str, str, str]]:
        """Pick-up a few hours after the label, then hub scans evenly up to ``last``."""
        picked_up = min(shipped + self.hours(2, 8), last)
        scans = [(picked_up, "in_transit", "PU", "Picked up")]
        for hub in range(hubs):
            scans.append((picked_up + (last - picked_up) * (hub + 1) / hubs, "in_transit",
                          ("AR", "DP")[hub % 2], ("Arrived at facility", "Departed facility")[hub % 2]))
        return scans

    def store(self) -> None:
        shop = self.shop
        vendor_order_lines, order_lines = shop.buffers["vendor_order_lines"], shop.buffers["order_lines"]
        for n, (product, qty) in enumerate(self.lines):
            line_id = self.first_line_id + n
            values = _line_values(self.line_state, qty) | self.line_overrides.get(n, {})
            order_lines.append((line_id, self.order_id, line_id % IDS_PER_ORDER + 1, product.sku, product.name, qty,
                                product.price, self.vendor, values["state"], None))
            vendor_order_lines.append((line_id, self.vendor_order_id, line_id, n + 1, product.sku, product.vendor_sku,
                                       qty, values["state"], values["qty_accepted"], values["qty_rejected"],
                                       values["qty_backordered"], values["qty_shipped"], values["reason_code"],
                                       values["reason"], values["expected_at"]))
        shipped = [self.store_parcel(parcel_id, parcel) for parcel_id, parcel in zip(self.parcel_ids, self.parcels,
                                                                                     strict=False)]
        updated = max([self.placed + timedelta(minutes=1), *[value for value in self.fields.values()
                                                             if isinstance(value, datetime) and value <= self.now]])
        shop.buffers["vendor_orders"].append(shop.vendor_order_row(
            self.vendor_order_id, self.order_id, self.vendor, self.state,
            ship_by=shop.ship_by(self.vendor, self.placed), created=self.placed + timedelta(minutes=1), updated=updated,
            **({"shipped_at": min(shipped)} if shipped else {}), **self.fields))

    def store_parcel(self, shipment_id: int, parcel: dict[str, Any]) -> datetime:
        shop, rng = self.shop, self.rng
        carrier = rng.choices(CARRIERS, CARRIER_WEIGHTS)[0]
        shipped: datetime = parcel["shipped"]
        reported = min(shipped + self.hours(0.2, 3), self.now - timedelta(minutes=30))
        scans = [(shipped, "label_created", "MP", "Shipper created a label"), *parcel["scans"]]
        events = shop.buffers["tracking_events"]
        for n, (at, status, code, text) in enumerate(scans):
            recorded = min(at + self.hours(0.2, 1.5), self.now - timedelta(minutes=10))
            events.append((shipment_id * EVENTS_PER_PARCEL + n, shipment_id, at, status, code, text,
                           "" if n == 0 else PLACES[(shipment_id + n) % 10], recorded))
        physical = [at for at, status, _, _ in parcel["scans"]]
        first_scan = min(physical) if physical else None
        last_event = max(at for at, _, _, _ in scans)
        status = parcel["status"]
        followed = status not in ("delivered", "cancelled")
        valid = parcel.get("valid", True)
        checked = self.now - self.hours(0.1, 1.9) if valid else None
        number = valid_number(carrier, shipment_id)
        if not valid:
            number = number[:-1] + str((int(number[-1]) + 1) % 10)
        notified = parcel.get("notified", first_scan + self.hours(0.5, 2) if first_scan else None)
        notified = notified if notified and notified <= self.now else None
        delivered_at = last_event if status == "delivered" else None
        shop.buffers["shipments"].append((
            shipment_id, self.vendor_order_id, carrier, CARRIER_NAMES[carrier], number, valid,
            None if valid else f"check digit fails for {CARRIER_NAMES[carrier]} format", SERVICES[carrier], shipped,
            reported, status, first_scan, last_event, parcel.get("estimated"), delivered_at,
            parcel.get("reason"), checked, "ok" if checked else None, 0, None,
            checked + timedelta(hours=4) if followed and checked else None, None,
            notified, reported, checked or reported, False))
        part = [(self.first_line_id + n, self.lines[n][1]) for n in parcel["lines"]]
        shop.buffers["shipment_lines"].extend((line, shipment_id, line, qty) for line, qty in part)
        if notified:
            shop.notice(shipment_id, self.vendor_order_id, carrier, shipped, notified)
        return shipped


def _line_values(state: str, qty: int) -> dict[str, Any]:
    accepted = qty if state in ("accepted", "partially_shipped", "shipped", "delivered", "backordered") else 0
    shipped = qty if state in ("shipped", "delivered") else 0
    return {"state": state, "qty_accepted": accepted, "qty_rejected": 0, "qty_backordered": 0, "qty_shipped": shipped,
            "reason_code": None, "reason": None, "expected_at": None}


@dataclass(frozen=True)
class Scenario:
    """A state active work can be in: how often, how old its order is (hours), and how to build it."""

    name: str
    weight: float
    min_hours: float
    max_hours: float
    build: Callable[[Draft], None]
    primary: bool = True
    """May be the order's first vendor order (``False``: only beside others, e.g. one part already delivered)."""

    def fits(self, age: timedelta) -> bool:
        return self.name != "cancel_requested" and self.min_hours * 3600 <= age.total_seconds() <= self.max_hours * 3600


def _draw(rng: random.Random, scenarios: Sequence[Scenario], *, primary: bool) -> Scenario:
    allowed = [s for s in scenarios if s.primary or not primary]
    return rng.choices(allowed, [s.weight for s in allowed])[0]


def _pending(draft: Draft) -> None:
    draft.state = "pending"


def _sent(draft: Draft) -> None:
    draft.dispatched(acknowledged=False)
    draft.state = "sent"


def _accepted(draft: Draft) -> None:
    draft.dispatched()
    draft.state, draft.line_state = "accepted", "accepted"


def _backordered(draft: Draft) -> None:
    _accepted(draft)
    qty = draft.lines[0][1]
    draft.line_overrides[0] = {"state": "backordered", "qty_backordered": qty, "reason_code": "BP",
                               "expected_at": (draft.now + draft.hours(72, 240)).date()}


def _shipped(draft: Draft, *, status: str, last_scan_ago: tuple[float, float], final: tuple[str, str, str] | None
             = None, **parcel: Any) -> None:
    """Dispatched, acknowledged, labelled a third of the way from order to now, scanned until a while ago."""
    acknowledged = draft.dispatched()
    shipped = acknowledged + (draft.now - acknowledged) * 0.3
    last = max(draft.now - draft.hours(*last_scan_ago), shipped + timedelta(hours=3))
    scans = draft.journey(shipped, last)
    if final is not None:
        scans.append((last + timedelta(minutes=5), *final))
    draft.parcel(shipped=shipped, status=status, scans=scans, **parcel)
    draft.state, draft.line_state = "shipped", "shipped"


def _in_transit(draft: Draft) -> None:
    _shipped(draft, status="in_transit", last_scan_ago=(2, 16), estimated=draft.now + draft.hours(20, 70))


def _out_for_delivery(draft: Draft) -> None:
    _shipped(draft, status="out_for_delivery", last_scan_ago=(1, 4),
             final=("out_for_delivery", "OT", "Out for delivery"), estimated=draft.now + draft.hours(2, 6))


def _not_notified(draft: Draft) -> None:
    _shipped(draft, status="in_transit", last_scan_ago=(2, 10), notified=None,
             estimated=draft.now + draft.hours(20, 70))


def _stalled(draft: Draft) -> None:
    _shipped(draft, status="in_transit", last_scan_ago=(120, 160))


def _late_delivery(draft: Draft) -> None:
    _shipped(draft, status="in_transit", last_scan_ago=(6, 20), estimated=draft.now - draft.hours(48, 80))


def _exception(draft: Draft) -> None:
    reason, words = draft.rng.choice([("address", "Incorrect address; attempting to correct"),
                                      ("weather", "Severe weather delay"), ("damaged", "Package damaged"),
                                      ("recipient_unavailable", "Business closed")])
    _shipped(draft, status="exception", last_scan_ago=(10, 40), final=("exception", "X1", words), reason=reason)


def _attempted(draft: Draft) -> None:
    _shipped(draft, status="delivery_attempted", last_scan_ago=(6, 30),
             final=("delivery_attempted", "DA", "Delivery attempted: no one available"),
             reason="recipient_unavailable")


def _returned(draft: Draft) -> None:
    _shipped(draft, status="returned_to_sender", last_scan_ago=(24, 70),
             final=("returned_to_sender", "RS", "Returning to sender: refused by recipient"))


def _delivered(draft: Draft) -> None:
    _shipped(draft, status="delivered", last_scan_ago=(20, 60), final=("delivered", "DL", "Delivered"))
    draft.state, draft.line_state = draft.shop.finished_vendor_order, draft.shop.finished_line
    if draft.state == "delivered":
        draft.fields["delivered_at"] = max(at for at, *_ in draft.parcels[0]["scans"])


def _label_only(draft: Draft) -> None:
    acknowledged = draft.dispatched()
    draft.parcel(shipped=acknowledged + (draft.now - acknowledged) * 0.2, status="label_created")
    draft.state, draft.line_state = "shipped", "shipped"


def _invalid(draft: Draft) -> None:
    acknowledged = draft.dispatched()
    draft.parcel(shipped=acknowledged + (draft.now - acknowledged) * 0.3, status="label_created", valid=False)
    draft.state, draft.line_state = "shipped", "shipped"


def _partially_shipped(draft: Draft) -> None:
    if len(draft.lines) < 2:
        _in_transit(draft)
        return
    acknowledged = draft.dispatched()
    shipped = acknowledged + (draft.now - acknowledged) * 0.3
    half = len(draft.lines) // 2
    draft.parcel(shipped=shipped, status="in_transit", line_indexes=range(half),
                 scans=draft.journey(shipped, draft.now - draft.hours(2, 16)))
    draft.state, draft.line_state = "partially_shipped", "accepted"
    for n in range(half):
        draft.line_overrides[n] = {"state": "shipped", "qty_shipped": draft.lines[n][1]}


def _accepted_late(draft: Draft) -> None:
    _accepted(draft)


def _unacknowledged(draft: Draft) -> None:
    _sent(draft)


def _rejected(draft: Draft) -> None:
    acknowledged = draft.dispatched()
    whole = len(draft.lines) == 1 or draft.rng.random() < 0.5
    reason, code = draft.rng.choice([("Invalid address", "A1"), ("Item discontinued", "IR"),
                                     ("Quantity not available", "IQ")])
    draft.fields |= {"rejected_at": acknowledged, "rejection_code": code, "rejection_reason": reason}
    if whole:
        draft.state, draft.line_state = "rejected", "rejected"
        for n, (_, qty) in enumerate(draft.lines):
            draft.line_overrides[n] = {"qty_rejected": qty, "reason_code": code, "reason": reason}
    else:
        draft.state, draft.line_state = "accepted", "accepted"
        draft.line_overrides[len(draft.lines) - 1] = {"state": "rejected", "qty_accepted": 0,
                                                      "qty_rejected": draft.lines[-1][1], "reason_code": code,
                                                      "reason": reason}


def _on_hold(draft: Draft) -> None:
    draft.dispatched()
    draft.state = "on_hold"
    draft.fields["hold_reason"] = draft.rng.choice(["Recipient address is invalid", "Artwork file missing",
                                                    "Payment method declined"])


def _dispatch_stuck(draft: Draft) -> None:
    tried = draft.now - draft.hours(0.2, 1)
    draft.state = "pending"
    draft.fields |= {"attempts": 3, "last_attempt_at": tried, "next_attempt_at": tried + timedelta(hours=1),
                     "last_error": f"{draft.vendor}: connection refused"}


def _needs_reconcile(draft: Draft) -> None:
    tried = draft.now - draft.hours(1, 3)
    draft.state = "needs_reconcile"
    draft.fields |= {"attempts": 1, "last_attempt_at": tried,
                     "last_error": f"{draft.vendor}: no answer within 30 s; outcome unknown"}


def _cancel_requested(draft: Draft) -> None:
    assert draft.cancelled is not None  # the order was cancelled after the vendor had it
    _accepted(draft)
    draft.fields["cancel_requested_at"] = draft.cancelled


ACCEPTED = Scenario("accepted", 10, 3, 40, _accepted)
CANCEL_REQUESTED = Scenario("cancel_requested", 1, 60, 120, _cancel_requested)
SCENARIOS: list[Scenario] = [
    Scenario("pending", 4, 0.05, 1.5, _pending),
    Scenario("sent", 5, 1, 5, _sent),
    ACCEPTED,
    Scenario("backordered", 2, 20, 60, _backordered),
    Scenario("in_transit", 30, 30, 100, _in_transit),
    Scenario("out_for_delivery", 6, 50, 120, _out_for_delivery),
    Scenario("not_notified", 3, 30, 80, _not_notified),
    Scenario("label_only", 3, 100, 170, _label_only),
    Scenario("stalled", 3, 170, 240, _stalled),
    Scenario("late_delivery", 3, 150, 230, _late_delivery),
    Scenario("exception", 2, 60, 150, _exception),
    Scenario("attempted", 1, 80, 150, _attempted),
    Scenario("returned", 1, 150, 240, _returned),
    Scenario("invalid", 1, 40, 120, _invalid),
    Scenario("partially_shipped", 2, 140, 220, _partially_shipped),
    Scenario("accepted_late", 4, 140, 230, _accepted_late),
    Scenario("unacknowledged", 3, 50, 100, _unacknowledged),
    Scenario("rejected", 2, 5, 100, _rejected),
    Scenario("on_hold", 1, 5, 100, _on_hold),
    Scenario("dispatch_stuck", 1, 3, 30, _dispatch_stuck),
    Scenario("needs_reconcile", 0.5, 3, 30, _needs_reconcile),
    CANCEL_REQUESTED,
    Scenario("delivered", 8, 70, 240, _delivered, primary=False),
]
"""Active vendor orders by what is going on with them; about a third are problems some rule should raise."""

