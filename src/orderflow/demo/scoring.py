"""What the staff queue should hold, from the simulated truth, and how close the real queue came.

For every rule the demo can tell, a *condition* says from the plans alone whether the problem is real at an
instant (a vendor past its grace deadline with no scan we could know of, a parcel past its estimate, ...),
with the same deadlines orderflow uses (the vendors' calendars, carriers' business days). The queue lags the
world a little: a scan is only seen at the carrier's next poll (up to 6 hours), and an observational problem
stays open 4 hours after it clears. So each condition is sampled every hour before the end::

    true at the end and for the last ``lag`` hours   -> the queue must show it          (True)
    false at the end and for the last ``clear`` hours -> the queue must not show it     (False)
    anything else                                    -> too close to call, not scored   (None)

    verdicts = expectations(world.orders, at=world.end, outages=world.outages)
    score = score_queue(verdicts, documents)      # documents: the queue's JSON
    score.line  # 'Queue against the simulated truth: precision 100% (24/24), recall 100% (24/24)'

A verdict's key is ``(rule, subject)``: the vendor order id for vendor rules, the tracking number for parcel
rules, the order number for ``delivery_late`` and the carrier for ``tracking_feed_unhealthy``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any

from orderflow.carriers.status import PackageStatus as S
from orderflow.demo.carriers import CARRIER_CALENDAR, Outage
from orderflow.demo.plans import FIRST_DAY, RESTOCK_AFTER, OrderPlan, ParcelPlan, VendorOrderPlan
from orderflow.orders.lateness import NOT_SCANNED_AFTER_BUSINESS_DAYS
from orderflow.rules.tracking_rules import (
    DELIVERY_GRACE_BUSINESS_DAYS,
    OUT_FOR_DELIVERY_STALL_BUSINESS_DAYS,
    STALL_BUSINESS_DAYS,
)
from orderflow.rules.vendor_rules import NO_TRACKING_WAITS_AT_LEAST, SHIPPED_LATE_SHOWN, UPLOAD_WAIT_AT_MOST
from orderflow.testing.carriers import REPORTED_AS

Key = tuple[str, str]
Verdict = bool | None
Condition = Callable[[datetime], bool | None]
"""Whether a problem is real at an instant; ``None``: the queue may or may not show it then (too close to call)."""

# rule -> (hours it must have been true to be queued for sure, hours it must have been false to be gone for sure).
# To be queued a problem must have been seen: rules run every hour; a parcel with a label only is polled every
# 6 hours, one on its way every 4. To be gone, an observational problem must also have stayed clear for 4 hours.
WINDOWS: Mapping[str, tuple[int, int]] = {
    "vendor_rejected": (1, 1), "vendor_on_hold": (1, 1), "out_of_stock": (1, 1), "tracking_invalid": (1, 1),
    "vendor_late": (1, 12), "tracking_not_scanned": (6, 12), "carrier_exception": (4, 12),
    "returned_to_sender": (4, 8), "stalled_in_transit": (4, 12), "delivery_late": (4, 12),
    "tracking_feed_unhealthy": (3, 12),
}
VENDOR_RULES = frozenset({"vendor_rejected", "vendor_on_hold", "out_of_stock", "vendor_late", "not_acknowledged",
                          "dispatch_failed", "cancel_not_confirmed"})
PARCEL_RULES = frozenset({"tracking_invalid", "tracking_not_scanned", "carrier_exception", "returned_to_sender",
                          "stalled_in_transit", "customer_not_notified"})
FEED_RECOVERS = timedelta(hours=2)
"""After an outage the feed rule needs two good poll runs before it stops finding the carrier unhealthy."""


# --- conditions at one instant -----------------------------------------------------------------------------------

def rejected(plan: VendorOrderPlan, t: datetime) -> bool:
    return plan.rejected_at is not None and plan.rejected_at <= t


def held(plan: VendorOrderPlan, t: datetime) -> bool:
    return plan.held_at is not None and plan.held_at <= t


def _reported(plan: VendorOrderPlan, t: datetime) -> ParcelPlan | None:
    """The parcel, once the vendor has told us about it."""
    parcel = plan.parcel
    return parcel if parcel is not None and parcel.uploaded_at <= t else None


def _invalid(plan: VendorOrderPlan, t: datetime) -> bool:
    parcel = _reported(plan, t)
    return parcel is not None and parcel.reported_number != parcel.tracking_number


def _status(parcel: ParcelPlan, t: datetime) -> S | None:
    """The parcel's status as its carrier's API reports it at ``t`` (some carriers say less than happened)."""
    scans = parcel.scans_by(t)
    if not scans:
        return None
    family = scans[-1].family
    return REPORTED_AS[parcel.carrier].get(family, family)


def _late(plan: VendorOrderPlan, t: datetime, unaskable: frozenset[str] = frozenset()) -> bool:
    """Past the grace deadline with units that have no physical evidence we could know of (found, not hidden).

    Units the vendor told us it backordered wait for the date it gave; a parcel of a carrier orderflow cannot
    ask counts as shipped on the vendor's word."""
    if t <= plan.grace or t < plan.received_at or rejected(plan, t) or held(plan, t):
        return False
    parcel = _reported(plan, t)
    scan = parcel.first_scan_at if parcel is not None else None
    if parcel is not None and parcel.carrier in unaskable:
        scan = parcel.uploaded_at
    backorder_late = bool(plan.backordered) and not backorder_promised(plan, t)
    if parcel is None and plan.parcel is None:  # every line backordered: nothing else was to ship
        return backorder_late
    return backorder_late or scan is None or scan > t


def backorder_promised(plan: VendorOrderPlan, t: datetime) -> bool:
    """The vendor acknowledged its backorder with a date whose grace (noon on its next working day) is ahead."""
    if plan.answered_at is None or plan.answered_at > t:
        return False
    calendar = plan.vendor.business
    promised = datetime.combine(FIRST_DAY + RESTOCK_AFTER, time(12), tzinfo=calendar.zone)
    return t <= calendar.grace_deadline(promised)


def _late_shown(plan: VendorOrderPlan, t: datetime, unaskable: frozenset[str] = frozenset()) -> bool | None:
    """Lateness as the queue shows it: physical evidence at the grace deadline; "no tracking" after its wait
    (unsure while the vendor's learned upload lag may still hold it back); a late shipment heard of only after
    the grace deadline for a while after its evidence came (unsure: when a poll sees the scan)."""
    if _invalid(plan, t):
        return False  # invalid tracking hides lateness
    if not _late(plan, t, unaskable):
        return None if _shipped_late_shown(plan, t, unaskable) else False
    stated = plan.answered_at is not None and plan.answered_at <= t  # the vendor said what it backordered
    if _reported(plan, t) is not None or (plan.backordered and stated and not backorder_promised(plan, t)):
        return True
    waited = plan.vendor.business.business_days_between(plan.grace, t)
    if waited < NO_TRACKING_WAITS_AT_LEAST:
        return False
    return True if waited >= UPLOAD_WAIT_AT_MOST else None


def _shipped_late_shown(plan: VendorOrderPlan, t: datetime, unaskable: frozenset[str]) -> bool:
    """Heard of after the grace deadline, left after it, and the evidence came lately (``vendor_late`` says
    "shipped late" for a business day after it)."""
    parcel = _reported(plan, t)
    if parcel is None or parcel.uploaded_at <= plan.grace:
        return False
    left = parcel.labelled_at if parcel.carrier in unaskable else parcel.first_scan_at
    if left is None or left <= plan.grace or left > t:
        return False
    known = max(left, parcel.uploaded_at)
    return plan.vendor.business.business_days_between(known, t) <= SHIPPED_LATE_SHOWN + CLEARING_DAYS


CLEARING_DAYS = 0.5
"""Allowance past the shown business day for the next poll and the rules' clearing."""


def _not_scanned(plan: VendorOrderPlan, t: datetime) -> bool:
    parcel = _reported(plan, t)
    if parcel is None or _invalid(plan, t) or _late(plan, t):  # lateness hides "never scanned"
        return False
    scan = parcel.first_scan_at
    return (scan is None or scan > t) and \
        CARRIER_CALENDAR.business_days_between(parcel.labelled_at, t) >= NOT_SCANNED_AFTER_BUSINESS_DAYS


def _followed(plan: VendorOrderPlan, t: datetime) -> ParcelPlan | None:
    """A valid reported parcel the carrier has scanned, still on its way (not delivered or cancelled)."""
    parcel = _reported(plan, t)
    if parcel is None or _invalid(plan, t) or parcel.first_scan_at is None or parcel.first_scan_at > t:
        return None
    return parcel if _status(parcel, t) not in (S.DELIVERED, S.CANCELLED) else None


def _exception(plan: VendorOrderPlan, t: datetime) -> bool:
    parcel = _followed(plan, t)
    return parcel is not None and _status(parcel, t) in (S.EXCEPTION, S.DELIVERY_ATTEMPTED)


def _returned(plan: VendorOrderPlan, t: datetime) -> bool:
    parcel = _followed(plan, t)
    return parcel is not None and _status(parcel, t) is S.RETURNED_TO_SENDER


def _stalled(plan: VendorOrderPlan, t: datetime) -> bool:
    parcel = _followed(plan, t)
    if parcel is None or _exception(plan, t) or _status(parcel, t) is S.RETURNED_TO_SENDER:
        return False
    last = parcel.scans_by(t)[-1]
    limit = OUT_FOR_DELIVERY_STALL_BUSINESS_DAYS if _status(parcel, t) is S.OUT_FOR_DELIVERY else STALL_BUSINESS_DAYS
    return CARRIER_CALENDAR.business_days_between(last.at, t) >= limit


def _overdue(plan: VendorOrderPlan, t: datetime) -> bool:
    parcel = _followed(plan, t)
    return parcel is not None and parcel.estimated_delivery is not None and \
        _status(parcel, t) is not S.RETURNED_TO_SENDER and \
        CARRIER_CALENDAR.business_days_between(parcel.estimated_delivery, t) > DELIVERY_GRACE_BUSINESS_DAYS


def _delivery_late(order: OrderPlan, t: datetime, unaskable: frozenset[str] = frozenset()) -> bool:
    """An order with a parcel past its estimate, unless one of its parcels has a carrier exception (it hides)."""
    plans = [plan for plan in order.vendor_orders if plan.parcel is None or plan.parcel.carrier not in unaskable]
    return any(_overdue(plan, t) for plan in plans) and not any(_exception(plan, t) for plan in plans)


def _out_of_stock(plan: VendorOrderPlan, t: datetime) -> bool:
    """Backordered lines, until a promised date has passed (then lateness says so); a rejection hides it."""
    if not plan.backordered or t < plan.received_at or rejected(plan, t):
        return False
    return plan.answered_at is None or plan.answered_at > t or backorder_promised(plan, t)


def _feed_down(outage: Outage, watched_from: datetime | None, t: datetime) -> bool:
    """The carrier's feed is down for the shop from when orderflow had a parcel of it to follow during the
    outage: an outage while it had none to ask about hurts nothing, and nobody could see it."""
    return watched_from is not None and watched_from <= t < outage.ends + FEED_RECOVERS


def _watched_from(outage: Outage, orders: Iterable[OrderPlan]) -> datetime | None:
    """The first moment of the outage at which orderflow followed a parcel of that carrier (reported with a
    valid number and not yet delivered), if any."""
    moments = []
    for order in orders:
        for plan in order.vendor_orders:
            parcel = plan.parcel
            if parcel is None or parcel.carrier != outage.carrier or parcel.reported_number != parcel.tracking_number:
                continue
            since = max(outage.starts, parcel.uploaded_at)
            if since < min(outage.ends, parcel.delivered_at or outage.ends):
                moments.append(since)
    return min(moments, default=None)


PARCEL_CONDITIONS: Mapping[str, Callable[[VendorOrderPlan, datetime], bool]] = {
    "tracking_not_scanned": _not_scanned, "carrier_exception": _exception, "returned_to_sender": _returned,
    "stalled_in_transit": _stalled,
}


def conditions(orders: Iterable[OrderPlan], outages: Sequence[Outage],
               unaskable: frozenset[str] = frozenset()) -> Iterable[tuple[Key, Condition]]:
    """Each problem the simulation can tell, by key, with its condition over time. Parcels of a carrier in
    ``unaskable`` (configured without credentials) have no tracking problems anyone could see: that carrier's
    one problem is its configuration."""
    orders = list(orders)
    for order in orders:
        yield ("delivery_late", order.number), partial(_delivery_late, order, unaskable=unaskable)
        for plan in order.vendor_orders:
            vendor_order = plan.vendor_order_id
            yield ("vendor_rejected", vendor_order), partial(rejected, plan)
            yield ("vendor_on_hold", vendor_order), partial(held, plan)
            yield ("out_of_stock", vendor_order), partial(_out_of_stock, plan)
            yield ("vendor_late", vendor_order), partial(_late_shown, plan, unaskable=unaskable)
            if plan.parcel is not None and plan.parcel.carrier not in unaskable:
                yield ("tracking_invalid", plan.parcel.reported_number), partial(_invalid, plan)
                for rule, condition in PARCEL_CONDITIONS.items():
                    yield (rule, plan.parcel.tracking_number), partial(condition, plan)
    for outage in outages:
        yield ("tracking_feed_unhealthy", outage.carrier), partial(_feed_down, outage, _watched_from(outage, orders))


def expectations(orders: Iterable[OrderPlan], *, at: datetime, outages: Sequence[Outage]) -> dict[Key, Verdict]:
    """Each problem that is real at ``at``, or was lately: True (must be queued) or None (too close to call).

    A problem not in the answer must not be queued.
    """
    verdicts: dict[Key, Verdict] = {}
    for key, condition in conditions(orders, outages):
        lag, clear = WINDOWS[key[0]]
        values = [condition(at - timedelta(hours=hours)) for hours in range(clear + 1)]
        if all(value is True for value in values[:lag + 1]):
            verdicts[key] = True
        elif any(value is not False for value in values):
            verdicts[key] = None
    return verdicts


# --- the queue against the truth -----------------------------------------------------------------------------------

def queue_key(document: Mapping[str, Any]) -> Key:
    """The ``(rule, subject)`` of one queued notification (its ``--format json`` document)."""
    rule = str(document["rule"])
    if rule in VENDOR_RULES and document.get("vendor_order"):
        return rule, str(document["vendor_order"])
    if rule in PARCEL_RULES and document.get("tracking_number"):
        return rule, str(document["tracking_number"])
    if rule == "delivery_late" and document.get("order_number"):
        return rule, str(document["order_number"])
    if rule in ("tracking_feed_unhealthy", "carrier_not_configured") and document.get("carrier"):
        return rule, str(document["carrier"])
    return rule, str(document["subject"])


@dataclass(frozen=True)
class Score:
    """The queue against the truth: right, wrong (shown but not real) and missed; unsure ones left out."""

    right: frozenset[Key]
    wrong: frozenset[Key]
    missed: frozenset[Key]
    unsure: int

    @property
    def precision(self) -> float:
        shown = len(self.right) + len(self.wrong)
        return len(self.right) / shown if shown else 1.0

    @property
    def recall(self) -> float:
        real = len(self.right) + len(self.missed)
        return len(self.right) / real if real else 1.0

    @property
    def line(self) -> str:
        right = len(self.right)
        text = (f"Queue against the simulated truth: precision {self.precision:.0%} "
                f"({right}/{right + len(self.wrong)}), recall {self.recall:.0%} ({right}/{right + len(self.missed)})")
        return text + (f"; {self.unsure} settling" if self.unsure else "")


def score_queue(verdicts: Mapping[Key, Verdict], documents: Iterable[Mapping[str, Any]]) -> Score:
    shown = {queue_key(document) for document in documents}
    real = {key for key, verdict in verdicts.items() if verdict is True}
    unsure = {key for key, verdict in verdicts.items() if verdict is None}
    return Score(right=frozenset(shown & real), wrong=frozenset(shown - real - unsure),
                 missed=frozenset(real - shown), unsure=len(unsure))
