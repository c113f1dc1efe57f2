"""The vendor rules: what each vendor did, or failed to do, with our orders, as findings for the engine.

Each rule is ``rule(context) -> list[Finding]`` over the *active* work only: vendor orders in open states
(an indexed column), unroutable order lines, ledger rows of the last days. None reads the whole history.

    >>> context = RuleContext(session=session, now=now, settings=settings,  # doctest: +SKIP
    ...                       calendars=VendorCalendars(settings.vendors))
    >>> [(f.rule, f.subject.id, f.evidence) for f in vendor_late(context)]  # doctest: +SKIP
    [('vendor_late', 'TB5001-ACME', 'label created Wed 4 Nov, never scanned')]

Evidence names absolute times ("since Tue 3 Nov 10:04"), never ages ("for 25 min"): the same facts must give
the same text on every run, because new evidence is what ends a snooze. Times are shown in the shop's zone.

``settings.rules[name]`` can switch a rule off or fix its severity (see :func:`rule_severity`).
Inhibition (a rejection hiding lateness of the same vendor order) is the engine's job, not the rules'.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import selectinload

from orderflow.calendars import BusinessCalendar, after_business_days
from orderflow.carriers.apis import carriers_we_cannot_ask
from orderflow.carriers.numbers import FREIGHT
from orderflow.config import CalendarSettings
from orderflow.db.bulk import chunked
from orderflow.db.models import (
    IngestedFile,
    InventoryLevel,
    LineState,
    Order,
    OrderLine,
    Shipment,
    VendorOrder,
    VendorOrderLine,
    VendorOrderState,
)
from orderflow.orders.lateness import LATE_STATES
from orderflow.orders.lifecycle import LIVE_ORDER_STATES, units_to_ship
from orderflow.rules.findings import Finding, Hides, RuleContext, RuleEntry, Subject, rule_severity
from orderflow.rules.history import longest_upload_lags
from orderflow.rules.tracking_rules import lateness_labels
from orderflow.rules.vocabulary import Severity

# Thresholds.
DISPATCH_MAX_ATTEMPTS = 3
DISPATCH_MAX_WAIT = timedelta(hours=2)
UNROUTABLE_AFTER = timedelta(minutes=15)
CANCEL_CONFIRM_BUSINESS_DAYS = 1.0
LATE_ESCALATES_AFTER_BUSINESS_DAYS = 2.0
REFUSED_FILES_WINDOW = timedelta(days=7)
REFUSALS_SHOWN = 3
ACK_SILENT_ORDERS = 5
"""A vendor that answered none of its last this many orders is one problem, not one per order."""
"""How many refused rows a file's evidence spells out; the rest are counted."""

VENDOR_REJECTED = "vendor_rejected"
VENDOR_ON_HOLD = "vendor_on_hold"
DISPATCH_FAILED = "dispatch_failed"
UNROUTABLE_LINE = "unroutable_line"
CANCEL_NOT_CONFIRMED = "cancel_not_confirmed"
OUT_OF_STOCK = "out_of_stock"
VENDOR_FILE_REFUSED = "vendor_file_refused"
IMPORT_REFUSED = "import_refused"
NOT_ACKNOWLEDGED = "not_acknowledged"
VENDOR_LATE = "vendor_late"
SHIPPED_AFTER_CANCEL = "shipped_after_cancel"
NO_TRACKING = "no tracking"
NO_TRACKING_WAITS_AT_LEAST = 3.0
"""Business days after the grace deadline that lateness with no word at all from the vendor ("no tracking")
waits before it is a notification, whatever the vendor's history. Tracking uploaded late commonly comes one to
three business days after the deadline, and until it comes a parcel that left on time looks exactly like one
that has not left. A late shipment is still reported the moment its tracking arrives ("shipped late"), so the
wait costs detection delay, never recall; ``benchmarks/signal_quality.py --no-tracking-wait`` measures it."""
UPLOAD_WAIT_AT_MOST = 5.0
"""Business days after the grace deadline: however late a vendor has uploaded tracking before, lateness without
a word from it is never held back longer than this."""
SHIPPED_LATE_SHOWN = 1.0
"""Business days (the vendor's) that a late shipment orderflow heard of only after the grace deadline stays
found after the evidence arrived, saying how late it left."""
SHIPPED_LATE_LOOKS_BACK = timedelta(days=10)
"""Parcels reported this long ago or less are looked at for a late shipment; older ones are past showing."""
SHIPPED_AFTER_CANCEL_WINDOW = timedelta(days=14)

S = VendorOrderState
OPEN_VENDOR_ORDER_STATES = (S.PENDING, S.SENDING, S.SENT, S.ACCEPTED, S.ON_HOLD, S.PARTIALLY_SHIPPED, S.SHIPPED,
                            S.NEEDS_RECONCILE)
REJECTION_STATES = (S.SENDING, S.SENT, S.ACCEPTED, S.REJECTED, S.ON_HOLD, S.PARTIALLY_SHIPPED, S.SHIPPED,
                    S.NEEDS_RECONCILE)
STOCK_STATES = (S.PENDING, S.SENDING, S.SENT, S.ACCEPTED, S.ON_HOLD, S.PARTIALLY_SHIPPED, S.NEEDS_RECONCILE)
SHIPPING_STATES = (S.PARTIALLY_SHIPPED, S.SHIPPED)
DONE_LINE_STATES = (LineState.REJECTED, LineState.CANCELLED, LineState.SHIPPED, LineState.DELIVERED)
ORDER_LEVEL_CODE = "order"
"""The code feedback gives every line of an order rejected as a whole without line detail."""


# --- the rules -------------------------------------------------------------------------------------------

def vendor_rejected(context: RuleContext) -> list[Finding]:
    """A vendor rejected an order, or some of its lines (855 reject codes, an API 4xx, Printful ``failed``).

    Fires for a vendor order in state ``rejected``, or with any line in state ``rejected``, while the order is
    live (not cancelled or fulfilled elsewhere) and the vendor order not delivered or cancelled. A
    ``rejected_at`` left from before staff re-sent the order is history, not a current rejection.
    Subject: the vendor order. Severity: critical. Factual. Evidence: the vendor's reason and code per line,
    "line 2 ACM-G500-WHT-M: Item rejected (IR)", or "whole order rejected by ACME: Invalid address (A1)".
    """
    severity = rule_severity(context, VENDOR_REJECTED, "critical")
    if severity is None:
        return []
    rejected_line = exists().where(VendorOrderLine.vendor_order_id == VendorOrder.id,
                                   VendorOrderLine.state == LineState.REJECTED)
    query = (_vendor_orders_on_live_orders(REJECTION_STATES)
             .where(or_(VendorOrder.state == S.REJECTED, rejected_line))
             .options(selectinload(VendorOrder.lines)))
    return [Finding(VENDOR_REJECTED, _vendor_order_subject(vendor_order, number), severity,
                    _rejection_evidence(vendor_order))
            for vendor_order, number in context.session.execute(query)]


def vendor_on_hold(context: RuleContext) -> list[Finding]:
    """The vendor holds the order for a problem we must fix (Printful ``onhold``: address, artwork, payment).

    Fires for a vendor order in state ``on_hold`` on a live order. Subject: the vendor order. Severity: high.
    Factual. Evidence: "on hold at PF: Recipient address is invalid".
    """
    severity = rule_severity(context, VENDOR_ON_HOLD, "high")
    if severity is None:
        return []
    query = _vendor_orders_on_live_orders((S.ON_HOLD,))
    return [Finding(VENDOR_ON_HOLD, _vendor_order_subject(vendor_order, number), severity,
                    f"on hold at {vendor_order.vendor_code}: {vendor_order.hold_reason or 'no reason given'}")
            for vendor_order, number in context.session.execute(query)]


def dispatch_failed(context: RuleContext) -> list[Finding]:
    """A vendor order we could not get to its vendor.

    Fires on a live order when the vendor order is ``needs_reconcile`` (outcome unknown: it must be looked up
    at the vendor before any re-send), or ``pending``/``sending`` after 3 attempts, or still ``pending`` 2 hours
    after it was created. Subject: the vendor order. Severity: high. Factual. Evidence: why, with the last
    error: "not sent after 3 attempts; last error: ACME: connection refused".
    """
    severity = rule_severity(context, DISPATCH_FAILED, "high")
    if severity is None:
        return []
    query = _vendor_orders_on_live_orders((S.PENDING, S.SENDING, S.NEEDS_RECONCILE)).where(or_(
        VendorOrder.state == S.NEEDS_RECONCILE,
        VendorOrder.attempts >= DISPATCH_MAX_ATTEMPTS,
        and_(VendorOrder.state == S.PENDING, VendorOrder.created_at <= context.now - DISPATCH_MAX_WAIT)))
    return [Finding(DISPATCH_FAILED, _vendor_order_subject(vendor_order, number), severity,
                    _dispatch_evidence(context, vendor_order))
            for vendor_order, number in context.session.execute(query)]


def unroutable_line(context: RuleContext) -> list[Finding]:
    """An order line whose SKU is not in the catalog, so no vendor will make it.

    Fires for a line in state ``unroutable`` for at least 15 minutes (``unroutable_since``) on a live order;
    a catalog import that routes it clears it. Subject: the order line (its id). Severity: high. Factual.
    Evidence: "line 3 TB-NEW-TEE: SKU not in the catalog since Tue 3 Nov 14:30".
    """
    severity = rule_severity(context, UNROUTABLE_LINE, "high")
    if severity is None:
        return []
    query = (select(OrderLine, Order.order_number).join(Order, Order.id == OrderLine.order_id)
             .where(OrderLine.state == LineState.UNROUTABLE, Order.state.in_(LIVE_ORDER_STATES),
                    OrderLine.unroutable_since <= context.now - UNROUTABLE_AFTER)
             .order_by(OrderLine.id))
    return [Finding(UNROUTABLE_LINE, Subject(type="order_line", id=str(line.id), order_number=number), severity,
                    f"line {line.line_no} {line.sku}: SKU not in the catalog since "
                    f"{_when(context, line.unroutable_since)}")
            for line, number in context.session.execute(query)]


def cancel_not_confirmed(context: RuleContext) -> list[Finding]:
    """We asked a vendor to cancel and it has not confirmed within 1 of its business days.

    Fires for a vendor order with ``cancel_requested_at`` and no ``cancel_confirmed_at``, not cancelled,
    delivered or rejected (a rejection means nothing ships), more than 1 vendor business day after the
    request: a Friday-evening request is not overdue before Monday evening. Subject: the vendor order.
    Severity: high. Factual. Evidence: "cancel requested Mon 2 Nov 10:04, not confirmed by ACME", plus
    "(shipped)" when the vendor has shipped since.
    """
    severity = rule_severity(context, CANCEL_NOT_CONFIRMED, "high")
    if severity is None:
        return []
    # The order itself is normally cancelled here: that is why a cancel was asked for.
    query = (select(VendorOrder, Order.order_number).join(Order, Order.id == VendorOrder.order_id)
             .where(VendorOrder.state.in_(OPEN_VENDOR_ORDER_STATES), VendorOrder.cancel_requested_at.is_not(None),
                    VendorOrder.cancel_confirmed_at.is_(None))
             .order_by(VendorOrder.id))
    findings = []
    for vendor_order, number in context.session.execute(query):
        requested = vendor_order.cancel_requested_at
        assert requested is not None  # the query asked for it
        calendar = _calendar(context, vendor_order.vendor_code)
        if calendar.business_days_between(requested, context.now) <= CANCEL_CONFIRM_BUSINESS_DAYS:
            continue
        evidence = f"cancel requested {_when(context, requested)}, not confirmed by {vendor_order.vendor_code}"
        if vendor_order.state in SHIPPING_STATES:
            evidence += f" ({vendor_order.state.replace('_', ' ')})"
        findings.append(Finding(CANCEL_NOT_CONFIRMED, _vendor_order_subject(vendor_order, number), severity,
                                evidence))
    return findings


def out_of_stock(context: RuleContext) -> list[Finding]:
    """A line the vendor cannot supply from stock.

    Fires for an unshipped, unrejected, uncancelled line of an open vendor order on a live order when the
    vendor backordered it (``qty_backordered > 0``), or when the vendor is ``stocked`` in settings, its stock
    level for the line's vendor SKU is 0 and the vendor has not yet answered for the order. Once a vendor has
    acknowledged or accepted, its own word about our units outranks a stock count that may already have
    taken them out; if it then cannot ship, it backorders the line. A backorder whose promised date has
    passed (noon on the vendor's next working day after it) is ``vendor_late``'s from then on, so the broken
    promise is one alert, not two. Subject: the vendor order line
    (``TB1042-ACME:2``). Severity: high. Factual. Evidence: "ACM-G500-WHT-M backordered by ACME (2 of 2),
    expected Fri 13 Nov" or "ACME reports ACM-G500-WHT-M out of stock (0 as of Tue 3 Nov 09:00)".
    """
    severity = rule_severity(context, OUT_OF_STOCK, "high")
    if severity is None:
        return []
    reasons: list[ColumnElement[bool]] = [VendorOrderLine.qty_backordered > 0]
    stocked = [vendor.code for vendor in context.settings.vendors if vendor.kind == "stocked"]
    if stocked:
        reasons.append(and_(VendorOrder.vendor_code.in_(stocked), InventoryLevel.quantity <= 0,
                            VendorOrder.acknowledged_at.is_(None), VendorOrderLine.state != LineState.ACCEPTED))
    query = (select(VendorOrderLine, VendorOrder, Order.order_number, InventoryLevel)
             .join(VendorOrder, VendorOrder.id == VendorOrderLine.vendor_order_id)
             .join(Order, Order.id == VendorOrder.order_id)
             .outerjoin(InventoryLevel, and_(InventoryLevel.vendor_code == VendorOrder.vendor_code,
                                             InventoryLevel.vendor_sku == VendorOrderLine.vendor_sku))
             .where(VendorOrder.state.in_(STOCK_STATES), Order.state.in_(LIVE_ORDER_STATES),
                    VendorOrderLine.state.not_in(DONE_LINE_STATES),
                    VendorOrderLine.qty_shipped < VendorOrderLine.qty - VendorOrderLine.qty_rejected,
                    or_(*reasons))
             .order_by(VendorOrder.id, VendorOrderLine.line_no))
    findings = []
    for line, vendor_order, number, stock in context.session.execute(query):
        if vendor_order.state in LATE_STATES and _promise_broken(context, vendor_order.vendor_code, line):
            continue  # the vendor missed the date it gave: vendor_late says so, one alert for one problem
        subject = Subject(type="vendor_order_line", id=f"{vendor_order.id}:{line.line_no}", order_number=number,
                          vendor_code=vendor_order.vendor_code, vendor_order_id=vendor_order.id)
        findings.append(Finding(OUT_OF_STOCK, subject, severity, _stock_evidence(context, line, vendor_order, stock)))
    return findings


def vendor_file_refused(context: RuleContext) -> list[Finding]:
    """A file from a vendor (acks, tracking, stock) that could not be loaded, whole or in part.

    Fires for a ledger row with origin ``vendor:CODE`` ingested in the last 7 days with an error or refused
    rows, unless the vendor has since sent a file under the same name that loaded cleanly. Subject: the
    vendor file (``vendor:ACME:shp_1.csv``). Severity: high. Factual. Evidence: the file, where and why,
    "shp_1.csv: line 3 Qty: not a whole number: 'abc'", or "... refused whole: ...".
    """
    severity = rule_severity(context, VENDOR_FILE_REFUSED, "high")
    if severity is None:
        return []
    findings = []
    for ledger in _refused_files(context, "vendor:"):
        vendor_code = ledger.origin.removeprefix("vendor:")
        subject = Subject(type="vendor_file", id=f"{ledger.origin}:{ledger.path}", vendor_code=vendor_code)
        findings.append(Finding(VENDOR_FILE_REFUSED, subject, severity, _file_evidence(ledger)))
    return findings


def import_refused(context: RuleContext) -> list[Finding]:
    """Storefront orders we took but could not import, so nobody will ship them.

    Fires once per storefront source (origin ``source:NAME``) with a ledger row of the last 7 days that has an
    error or refused rows (and no clean file since under the same name). Subject: the source (its name).
    Severity: high. Factual. Evidence: each file with where and why, "export-7.csv: line 3 Lineitem
    quantity: ...; export-8.csv refused whole: ...".
    """
    severity = rule_severity(context, IMPORT_REFUSED, "high")
    if severity is None:
        return []
    by_source: dict[str, list[IngestedFile]] = defaultdict(list)
    for ledger in _refused_files(context, "source:"):
        by_source[ledger.origin.removeprefix("source:")].append(ledger)
    return [Finding(IMPORT_REFUSED, Subject(type="source", id=source), severity,
                    "; ".join(_file_evidence(ledger) for ledger in files))
            for source, files in sorted(by_source.items())]


def not_acknowledged(context: RuleContext) -> list[Finding]:
    """A vendor that acknowledges orders has not answered one within its ack window (business hours).

    Which vendors are waited for follows ``acknowledges``: ``true`` always, ``false`` never, and ``auto`` (the
    default) once the vendor has acknowledged any order, so a vendor that exchanges files without ever
    acknowledging is never waited for. None of our formats makes the answer compulsory: an X12 855 is a trading
    partners' agreement (the 997 only says the file was read), and Printful's own order status is its answer.

    Fires for a vendor order in state ``sent`` on a live order, of such a vendor, with no ``acknowledged_at``,
    no parcel reported (a vendor that shipped has answered in the way that matters) and ``now`` past
    ``ack_due_at`` (set at dispatch from the vendor's calendar). Subject: the vendor order. Severity: warning.
    Factual: the answer or a parcel ends it at once. Evidence: "sent Tue 3 Nov 14:30, no acknowledgement from
    ACME (due Wed 4 Nov 14:30)".

    A vendor waited for that has acknowledged none of its last 5 orders due an answer gets one finding about
    the vendor instead of one per order: it has stopped answering, or never will (``acknowledges = false``).
    Subject: the vendor (its code). Evidence: "no acknowledgement from ACME for its last 5 orders
    (TB5001-ACME ... TB5005-ACME, the first due Wed 4 Nov 14:30)".
    """
    severity = rule_severity(context, NOT_ACKNOWLEDGED, "warning")
    if severity is None:
        return []
    waited_for = _vendors_waited_for(context)
    if not waited_for:
        return []
    shipped = exists().where(Shipment.vendor_order_id == VendorOrder.id, Shipment.reported_at <= context.now)
    query = _vendor_orders_on_live_orders((S.SENT,)).where(
        VendorOrder.vendor_code.in_(waited_for), VendorOrder.acknowledged_at.is_(None),
        VendorOrder.ack_due_at < context.now, ~shipped)
    overdue: dict[str, list[tuple[VendorOrder, str]]] = defaultdict(list)
    for vendor_order, number in context.session.execute(query):
        overdue[vendor_order.vendor_code].append((vendor_order, number))
    findings = []
    for vendor_code, vendor_orders in sorted(overdue.items()):
        if (silent := _silent_vendor(context, vendor_code)) is not None:
            findings.append(Finding(NOT_ACKNOWLEDGED, Subject(type="vendor", id=vendor_code, vendor_code=vendor_code),
                                    severity, silent))
            continue
        for vendor_order, number in vendor_orders:
            sent = _when(context, vendor_order.sent_at) if vendor_order.sent_at else "earlier"
            evidence = (f"sent {sent}, no acknowledgement from {vendor_code} "
                        f"(due {_when(context, vendor_order.ack_due_at)})")
            calendar = _calendar(context, vendor_code)
            labels = lateness_labels(vendor_order.ack_due_at, calendar, context.now) | {"threshold": (
                f"past the acknowledgement due ({vendor_time(vendor_order.ack_due_at, calendar, vendor_code)}) by "
                f"{_business_days(calendar.business_days_between(vendor_order.ack_due_at, context.now))}")} \
                if vendor_order.ack_due_at else {}
            findings.append(Finding(NOT_ACKNOWLEDGED, _vendor_order_subject(vendor_order, number), severity,
                                    evidence, labels=labels))
    return findings


def _vendors_waited_for(context: RuleContext) -> list[str]:
    """Vendors set to acknowledge, and those on ``auto`` that have acknowledged an order by now."""
    vendors = [vendor for vendor in context.settings.vendors if vendor.acknowledges is not False]
    auto = [vendor.code for vendor in vendors if vendor.acknowledges == "auto"]
    # One acknowledged order is enough: asked vendor by vendor, the search stops at the first one, where a
    # DISTINCT over every vendor went through all their orders.
    learned = {code for code in auto if context.session.scalar(
        select(VendorOrder.id).where(VendorOrder.vendor_code == code, VendorOrder.acknowledged_at <= context.now)
        .limit(1)) is not None}
    return [vendor.code for vendor in vendors if vendor.acknowledges is True or vendor.code in learned]


def _silent_vendor(context: RuleContext, vendor_code: str) -> str | None:
    """The evidence when none of the vendor's last orders due an answer was answered; ``None`` if one was."""
    last = context.session.execute(
        select(VendorOrder.id, VendorOrder.ack_due_at, VendorOrder.acknowledged_at)
        .where(VendorOrder.vendor_code == vendor_code, VendorOrder.ack_due_at < context.now)
        .order_by(VendorOrder.ack_due_at.desc(), VendorOrder.id.desc()).limit(ACK_SILENT_ORDERS)).all()
    if len(last) < ACK_SILENT_ORDERS or any(acked is not None and acked <= context.now for _, _, acked in last):
        return None
    first, latest = last[-1], last[0]
    return (f"no acknowledgement from {vendor_code} for its last {ACK_SILENT_ORDERS} orders ({first.id} ... "
            f"{latest.id}, the first due {_when(context, first.ack_due_at)})")


def vendor_late(context: RuleContext) -> list[Finding]:
    """A vendor order past its grace deadline with units that have no physical evidence of shipping, or one
    that shipped after it.

    The deadline is the vendor's: ``ship_by`` (stored, or counted from the order's time on the vendor's
    calendar: time zone, cut-off, weekends, holidays) and its grace, noon on the next working day. Evidence of
    shipping is a carrier scan (``first_scan_at``) or delivery, at any time up to now: a parcel scanned before
    the deadline whose tracking was uploaded late is not late. A label created, a number the carrier does not
    know, or an invalid number is not evidence; a parcel of a carrier orderflow cannot ask (no section, no
    credentials, freight) counts as shipped on the vendor's word, on the ship date it gave (else when it
    reported the parcel). Rejected and cancelled lines need no shipping; a parcel whose contents the vendor did
    not list counts for every line. Units the vendor backordered are held until the date it promised (noon on
    its next working day after it): before that ``out_of_stock`` is the one alert (it stays while no date is
    given); after it they are late, "ACM-G500 was backordered until Mon 7 Dec; still not shipped".

    Physical evidence of lateness (a label never scanned, a partial shipment, a broken backorder promise) fires
    at the grace deadline. Lateness without any word from the vendor ("no tracking") waits
    :data:`NO_TRACKING_WAITS_AT_LEAST` business days past the grace deadline, or the vendor's longest upload lag
    of its recent parcels (:mod:`orderflow.rules.history`) counted from the ship-by when that is later, at most
    :data:`UPLOAD_WAIT_AT_MOST`: a parcel that left on time may yet be uploaded, as tracking uploaded late
    commonly is. A vendor order orderflow heard nothing of by the grace deadline is judged by its evidence when
    that arrives: if it left after the deadline, "shipped late: first scan Wed 18 Nov 19:10, 1.3 business days
    past its ship-by" is found for :data:`SHIPPED_LATE_SHOWN` business day after the evidence came, so that
    waiting costs detection delay and never a late shipment.

    Fires for a vendor order the vendor has (``sent``, ``accepted``, ``partially_shipped``, ``shipped``) on a
    live order. Never for one cancelled, rejected as a whole, delivered, on hold (vendor_on_hold) or not yet
    sent (dispatch_failed). Subject: the vendor order. Severity: warning; high once 2 more vendor business days
    have passed after the grace deadline (a late shipment already on its way stays a warning). Observational.
    Evidence: what is missing and the deadline on the vendor's clock, "no tracking 3.0 business days after the
    grace deadline (ship by Wed 4 Nov 23:59 CST, ACME's time)", "label created Wed 4 Nov, never scanned (...)",
    or "2 of 3 lines unshipped: line 2 ACME-1, line 3 ACME-1 (...)"; labels ``due_at`` and
    ``late_business_days`` say how late, ``threshold`` which deadline was crossed and by how much.
    """
    if rule_severity(context, VENDOR_LATE, "warning") is None:
        return []
    # A freight shipment travels under a PRO number no parcel carrier knows: like a parcel of a carrier nobody
    # can ask, it counts as shipped on the vendor's word.
    unaskable = frozenset(carriers_we_cannot_ask(context.settings)) | {FREIGHT}
    overdue = {}
    for vendor_order_id, vendor_code, ship_by, placed_at in context.session.execute(_late_candidates(context)):
        calendar = _calendar(context, vendor_code)
        deadline = ship_by or calendar.ship_by(placed_at)
        grace = calendar.grace_deadline(deadline)
        if context.now > grace:
            overdue[vendor_order_id] = (deadline, grace)
    findings = []
    upload_lags: dict[str, float | None] | None = None
    for chunk in chunked(sorted(overdue)):
        query = (select(VendorOrder, Order.order_number).join(Order, Order.id == VendorOrder.order_id)
                 .where(VendorOrder.id.in_(chunk)).order_by(VendorOrder.id)
                 .options(selectinload(VendorOrder.lines),
                          selectinload(VendorOrder.shipments).selectinload(Shipment.lines)))
        for vendor_order, number in context.session.execute(query):
            deadline, grace = overdue[vendor_order.id]
            calendar = _calendar(context, vendor_order.vendor_code)
            found = _lateness_evidence(context, vendor_order, unaskable)
            if found is None:
                late = _shipped_late(context, vendor_order, number, unaskable, deadline=deadline, grace=grace)
                if late is not None:
                    findings.append(late)
                continue
            evidence, promised = found
            if evidence == NO_TRACKING:
                if upload_lags is None:
                    upload_lags = longest_upload_lags(context.session, context.settings, context.now)
                waits_until, learned = _no_tracking_waits(calendar, deadline, grace,
                                                          upload_lags.get(vendor_order.vendor_code))
                if context.now < waits_until:
                    continue  # a parcel that left on time may yet be uploaded, as tracking uploaded late is
                evidence = (f"no tracking yet; {vendor_order.vendor_code}'s tracking has come up to {learned:.1f} "
                            f"business days after the first scan" if learned is not None else
                            f"no tracking {_business_days(NO_TRACKING_WAITS_AT_LEAST)} after the grace deadline")
            late_for = calendar.business_days_between(grace, context.now)
            default: Severity = "high" if late_for >= LATE_ESCALATES_AFTER_BUSINESS_DAYS else "warning"
            severity = rule_severity(context, VENDOR_LATE, default)
            assert severity is not None  # checked above: the rule is enabled
            if promised is None:  # a broken promise names its own date
                evidence += f" (ship by {vendor_time(deadline, calendar, vendor_order.vendor_code)})"
            crossed = promised or grace
            threshold = (f"past the {'promised date' if promised else 'grace deadline'} "
                         f"({vendor_time(crossed, calendar, vendor_order.vendor_code)}) by "
                         f"{_business_days(max(calendar.business_days_between(crossed, context.now), 0.0))}")
            findings.append(Finding(VENDOR_LATE, _vendor_order_subject(vendor_order, number), severity, evidence,
                                    factual=False,
                                    labels={"ship_by": deadline.isoformat(), "late_since": grace.isoformat(),
                                            "threshold": threshold}
                                    | lateness_labels(promised or deadline, calendar, context.now)))
    return findings


def _shipped_late(context: RuleContext, vendor_order: VendorOrder, number: str, unaskable: frozenset[str], *,
                  deadline: datetime, grace: datetime) -> Finding | None:
    """A vendor order orderflow heard nothing of by its grace deadline whose evidence, now in, shows it left
    after the deadline: found for :data:`SHIPPED_LATE_SHOWN` business day after that evidence arrived.

    When a parcel was reported by the grace deadline, its lateness was shown on physical evidence from the
    deadline on and ends with the scan; when none was, the wait on "no tracking" may have kept it unshown."""
    reported = [parcel.reported_at for parcel in vendor_order.shipments if parcel.reported_at <= context.now]
    if not reported or min(reported) <= grace:
        return None
    left = _left_at(context, vendor_order, unaskable)
    if left is None:
        return None
    moment, parcel = left
    if moment <= grace:
        return None
    calendar = _calendar(context, vendor_order.vendor_code)
    known = max(moment, parcel.reported_at)
    if calendar.business_days_between(known, context.now) > SHIPPED_LATE_SHOWN:
        return None
    if parcel.carrier in unaskable:
        carrier = parcel.carrier_named or parcel.carrier or "the carrier"
        how = (f"{vendor_order.vendor_code} says it shipped {_when(context, moment)}" if parcel.shipped_at
               else f"{vendor_order.vendor_code} reported {parcel.tracking_number} {_when(context, moment)}")
        how += f" ({carrier} cannot be asked)"
    else:
        how = f"first scan of {parcel.tracking_number} {_when(context, moment)}"
    past = _business_days(max(calendar.business_days_between(deadline, moment), 0.0))
    evidence = (f"shipped late: {how}, {past} past its ship-by "
                f"(ship by {vendor_time(deadline, calendar, vendor_order.vendor_code)})")
    threshold = (f"past the grace deadline ({vendor_time(grace, calendar, vendor_order.vendor_code)}) by "
                 f"{_business_days(calendar.business_days_between(grace, moment))} when it left")
    severity = rule_severity(context, VENDOR_LATE, "warning")
    assert severity is not None  # the caller checked the rule is enabled
    return Finding(VENDOR_LATE, _vendor_order_subject(vendor_order, number), severity,
                   evidence, factual=False,
                   labels={"ship_by": deadline.isoformat(), "late_since": grace.isoformat(), "threshold": threshold}
                   | lateness_labels(deadline, calendar, moment))


def shipped_after_cancel(context: RuleContext) -> list[Finding]:
    """The vendor shipped a vendor order we cancelled: the customer may get what they cancelled, and we pay.

    Fires for a vendor order in state ``cancelled`` with a parcel (not a voided label) reported in the last
    14 days, whatever the order's own state (a cancelled order is the usual reason). Subject: the vendor
    order. Severity: high. Factual; resolving it by hand is for good. Evidence: "ACME shipped
    1Z4R8W670312345676 (reported Wed 4 Nov 10:00) on a vendor order we cancelled".
    """
    severity = rule_severity(context, SHIPPED_AFTER_CANCEL, "high")
    if severity is None:
        return []
    query = (select(VendorOrder, Order.order_number, Shipment)
             .join(Order, Order.id == VendorOrder.order_id).join(Shipment, Shipment.vendor_order_id == VendorOrder.id)
             .where(VendorOrder.state == S.CANCELLED, Shipment.status != "cancelled",
                    Shipment.reported_at > context.now - SHIPPED_AFTER_CANCEL_WINDOW,
                    Shipment.reported_at <= context.now)
             .order_by(VendorOrder.id, Shipment.reported_at, Shipment.id))
    shipped: dict[str, tuple[Subject, list[str]]] = {}
    for vendor_order, number, parcel in context.session.execute(query):
        _, parcels = shipped.setdefault(vendor_order.id, (_vendor_order_subject(vendor_order, number), []))
        parcels.append(f"{parcel.tracking_number} (reported {_when(context, parcel.reported_at)})")
    return [Finding(SHIPPED_AFTER_CANCEL, subject, severity,
                    f"{subject.vendor_code} shipped {', '.join(parcels)} on a vendor order we cancelled")
            for subject, parcels in shipped.values()]


VENDOR_RULES: tuple[RuleEntry, ...] = (
    RuleEntry(name=VENDOR_REJECTED, check=vendor_rejected, rank=50, hides=(
        Hides(frozenset({VENDOR_LATE, OUT_OF_STOCK, NOT_ACKNOWLEDGED}), on="vendor_order_id"),)),
    RuleEntry(name=VENDOR_ON_HOLD, check=vendor_on_hold, rank=60),
    RuleEntry(name=DISPATCH_FAILED, check=dispatch_failed, rank=70),
    RuleEntry(name=UNROUTABLE_LINE, check=unroutable_line, rank=80),
    RuleEntry(name=CANCEL_NOT_CONFIRMED, check=cancel_not_confirmed, rank=120, never_moot=True),
    RuleEntry(name=OUT_OF_STOCK, check=out_of_stock, rank=110),
    RuleEntry(name=VENDOR_FILE_REFUSED, check=vendor_file_refused, rank=100, handled_by_hand=True),
    RuleEntry(name=IMPORT_REFUSED, check=import_refused, rank=90, handled_by_hand=True),
    RuleEntry(name=NOT_ACKNOWLEDGED, check=not_acknowledged, rank=210),
    RuleEntry(name=VENDOR_LATE, check=vendor_late, rank=180, hides=(
        Hides(frozenset({"tracking_not_scanned"}), on="vendor_order_id"),)),
    RuleEntry(name=SHIPPED_AFTER_CANCEL, check=shipped_after_cancel, rank=130, never_moot=True,
              handled_by_hand=True),
)
"""Every vendor rule by its contract name, with what the engine and the queue need to know about it."""


# --- queries -------------------------------------------------------------------------------------------------

def _vendor_orders_on_live_orders(states: Sequence[VendorOrderState]) -> Select[VendorOrder, str]:
    """Vendor orders in ``states`` (indexed) with their order number, on orders we still have to fulfil."""
    return (select(VendorOrder, Order.order_number).join(Order, Order.id == VendorOrder.order_id)
            .where(VendorOrder.state.in_(states), Order.state.in_(LIVE_ORDER_STATES))
            .order_by(VendorOrder.id))


def _late_candidates(context: RuleContext) -> Select[str, str, datetime | None, datetime]:
    """Vendor orders that could be late: some unit not counted shipped, some parcel not yet scanned, or a parcel
    reported lately (it may have left late).

    Their deadlines need the vendor's calendar, so they are judged in Python; this keeps that set to open work.
    """
    unshipped_line = exists().where(
        VendorOrderLine.vendor_order_id == VendorOrder.id, VendorOrderLine.state != LineState.CANCELLED,
        VendorOrderLine.qty_shipped < VendorOrderLine.qty - VendorOrderLine.qty_rejected)
    unscanned_parcel = exists().where(
        Shipment.vendor_order_id == VendorOrder.id,
        or_(Shipment.first_scan_at.is_(None), Shipment.first_scan_at > context.now),
        or_(Shipment.delivered_at.is_(None), Shipment.delivered_at > context.now))
    # A late shipment heard of lately is shown for a while after its evidence came (_shipped_late).
    lately_reported = exists().where(
        Shipment.vendor_order_id == VendorOrder.id, Shipment.reported_at <= context.now,
        Shipment.reported_at > context.now - SHIPPED_LATE_LOOKS_BACK)
    return (select(VendorOrder.id, VendorOrder.vendor_code, VendorOrder.ship_by, Order.placed_at)
            .join(Order, Order.id == VendorOrder.order_id)
            .where(VendorOrder.state.in_(LATE_STATES), Order.state.in_(LIVE_ORDER_STATES),
                   or_(unshipped_line, unscanned_parcel, lately_reported)))


def _refused_files(context: RuleContext, origin_prefix: str) -> list[IngestedFile]:
    """Ledger rows of the window with problems, where the latest file under the same name still has them."""
    query = (select(IngestedFile)
             .where(IngestedFile.ingested_at > context.now - REFUSED_FILES_WINDOW,
                    IngestedFile.ingested_at <= context.now, IngestedFile.origin.startswith(origin_prefix))
             .order_by(IngestedFile.ingested_at, IngestedFile.id))
    latest: dict[tuple[str, str], IngestedFile] = {}
    for ledger in context.session.scalars(query):
        latest[ledger.origin, ledger.path] = ledger
    return [ledger for _, ledger in sorted(latest.items()) if ledger.error or ledger.rows_refused > 0]


# --- evidence ----------------------------------------------------------------------------------------------------

def _rejection_evidence(vendor_order: VendorOrder) -> str:
    lines = [line for line in vendor_order.lines if line.state != LineState.CANCELLED]
    rejected = [line for line in lines if line.state == LineState.REJECTED]
    if not rejected:
        return f"rejected by {vendor_order.vendor_code}: " + _reason(vendor_order.rejection_reason,
                                                                      vendor_order.rejection_code)
    by_reason: dict[str, list[VendorOrderLine]] = defaultdict(list)
    for line in rejected:
        by_reason[_reason(line.reason or vendor_order.rejection_reason, line.reason_code)].append(line)
    if len(rejected) == len(lines) and len(by_reason) == 1:
        return f"whole order rejected by {vendor_order.vendor_code}: {next(iter(by_reason))}"
    return "; ".join(", ".join(f"line {line.line_no} {line.vendor_sku}" for line in group) + f": {reason}"
                     for reason, group in by_reason.items())


def _reason(reason: str | None, code: str | None) -> str:
    text = reason or "no reason given"
    return f"{text} ({code})" if code and code != ORDER_LEVEL_CODE else text


def _dispatch_evidence(context: RuleContext, vendor_order: VendorOrder) -> str:
    error = f"last error: {vendor_order.last_error}" if vendor_order.last_error else "not tried yet"
    if vendor_order.state == S.NEEDS_RECONCILE:
        return f"outcome unknown, to be looked up at {vendor_order.vendor_code} before any re-send; {error}"
    if vendor_order.attempts >= DISPATCH_MAX_ATTEMPTS:
        return f"not sent after {DISPATCH_MAX_ATTEMPTS} attempts; {error}"
    hours = int(DISPATCH_MAX_WAIT.total_seconds() // 3600)
    return f"not sent within {hours} hours of {_when(context, vendor_order.created_at)}; {error}"


def _stock_evidence(context: RuleContext, line: VendorOrderLine, vendor_order: VendorOrder,
                    stock: InventoryLevel | None) -> str:
    if line.qty_backordered > 0 or stock is None:
        text = f"{line.vendor_sku} backordered by {vendor_order.vendor_code} ({line.qty_backordered} of {line.qty})"
        return text + (f", expected {_day(line.expected_at)}" if line.expected_at else "")
    text = (f"{vendor_order.vendor_code} reports {line.vendor_sku} out of stock "
            f"({stock.quantity} as of {_when(context, stock.as_of)})")
    return text + (f", next available {_day(stock.next_available)}" if stock.next_available else "")


def _file_evidence(ledger: IngestedFile) -> str:
    name = PurePath(ledger.path).name
    refusals = [entry for entry in ledger.refusals if isinstance(entry, dict)]
    if ledger.error and not refusals:
        return f"{name} refused whole: {ledger.error}"
    shown = "; ".join(_refusal_text(entry) for entry in refusals[:REFUSALS_SHOWN])
    more = ledger.rows_refused - min(len(refusals), REFUSALS_SHOWN)
    text = f"{name} refused whole: {shown}" if ledger.error else f"{name}: {shown}"
    return text + (f"; and {more} more" if more > 0 else "")


def _refusal_text(entry: dict[str, Any]) -> str:
    where = " ".join(part for part in (f"line {entry['line']}" if entry.get("line") is not None else "",
                                       str(entry.get("field") or "")) if part)
    reason = str(entry.get("reason") or "refused")
    return f"{where}: {reason}" if where else reason


def _lateness_evidence(context: RuleContext, vendor_order: VendorOrder,
                       unaskable: frozenset[str]) -> tuple[str, datetime | None] | None:
    """What is missing, in the staff's words, and when all of it is backordered past its promised dates, the
    end of the latest of them; ``None`` when every unit that must ship has been scanned, or the only ones
    missing are backordered to a date not yet past.

    A valid parcel of a carrier orderflow cannot ask (``unaskable``) counts as shipped on the vendor's word:
    ``carrier_not_configured`` names that problem, and it is not the vendor's."""
    needed = {line.id: (line, units) for line in vendor_order.lines if (units := units_to_ship(line)) > 0}
    scanned = [parcel for parcel in vendor_order.shipments if _scanned(parcel, context.now) or (
        parcel.tracking_valid and parcel.carrier in unaskable and parcel.reported_at <= context.now)]
    if not needed or any(not parcel.lines for parcel in scanned):
        return None
    proven: Counter[int] = Counter()
    for parcel in scanned:
        for part in parcel.lines:
            proven[part.vendor_order_line_id] += part.qty
    missing = {line_id: (line, units, units - min(proven[line_id], units))
               for line_id, (line, units) in needed.items() if proven[line_id] < units}
    missing = {line_id: (line, units, short) for line_id, (line, units, short) in missing.items()
               if short > line.qty_backordered or _promise_broken(context, vendor_order.vendor_code, line)}
    if not missing:
        return None
    broken = [line for line, _, short in missing.values() if short <= line.qty_backordered]
    if len(broken) == len(missing):
        calendar = _calendar(context, vendor_order.vendor_code)
        promised = max(datetime.combine(line.expected_at, time.max, tzinfo=calendar.zone)
                       for line in broken if line.expected_at)
        return "; ".join(f"{line.vendor_sku} was backordered until {_day(line.expected_at)}; still not shipped"
                         for line in sorted(broken, key=lambda line: line.line_no) if line.expected_at), promised
    waiting = [parcel for parcel in vendor_order.shipments if not _scanned(parcel, context.now)
               and (not parcel.lines or any(part.vendor_order_line_id in missing for part in parcel.lines))]
    parcels = "; ".join(dict.fromkeys(_parcel_evidence(context, parcel) for parcel in waiting))
    if not any(proven[line_id] for line_id in needed):
        return parcels or NO_TRACKING, None
    listed = ", ".join(f"line {line.line_no} {line.vendor_sku}" + (f" ({short} of {units} units)" if short < units
                                                                    else "")
                       for line, units, short in sorted(missing.values(), key=lambda item: item[0].line_no))
    text = f"{len(missing)} of {len(needed)} lines unshipped: {listed}"
    return f"{text}; {parcels}" if parcels else text, None


def _scanned(parcel: Shipment, now: datetime) -> bool:
    """Physical evidence: the carrier scanned or delivered it (a label alone is not a scan)."""
    return any(moment is not None and moment <= now for moment in (parcel.first_scan_at, parcel.delivered_at))


def _parcel_evidence(context: RuleContext, parcel: Shipment) -> str:
    if not parcel.tracking_valid:
        return f"tracking {parcel.tracking_number} invalid"
    if parcel.last_outcome == "not_found":
        return f"tracking {parcel.tracking_number} not found by the carrier"
    created = _day(_local(context, parcel.shipped_at or parcel.reported_at))
    if parcel.status == "cancelled":
        return f"label created {created} then cancelled, never scanned"
    return f"label created {created}, never scanned"


# --- calendars and time ------------------------------------------------------------------------------------------

def _left_at(context: RuleContext, vendor_order: VendorOrder,
             unaskable: frozenset[str]) -> tuple[datetime, Shipment] | None:
    """When the last unit that had to ship got its evidence of shipping, and the parcel that gave it; ``None``
    while some unit has none. Evidence is the carrier's first scan or delivery, or for a carrier orderflow cannot
    ask the vendor's own ship date (else when it reported the parcel). Units backordered are left out: their
    promise is judged on its own."""
    needed = {line.id: units for line in vendor_order.lines
              if (units := units_to_ship(line)) > 0 and line.qty_backordered <= 0}
    if not needed:
        return None
    evidence: list[tuple[datetime, Shipment]] = []
    for parcel in vendor_order.shipments:
        if _scanned(parcel, context.now):
            evidence.append((min(moment for moment in (parcel.first_scan_at, parcel.delivered_at)
                                 if moment is not None), parcel))
        elif parcel.tracking_valid and parcel.carrier in unaskable and parcel.reported_at <= context.now:
            evidence.append((parcel.shipped_at or parcel.reported_at, parcel))
    proven: Counter[int] = Counter()
    for moment, parcel in sorted(evidence, key=lambda item: (item[0], item[1].id)):
        if not parcel.lines:
            return moment, parcel  # its contents unlisted, it counts for every line
        for part in parcel.lines:
            proven[part.vendor_order_line_id] += part.qty
        if all(proven[line_id] >= units for line_id, units in needed.items()):
            return moment, parcel
    return None


def _no_tracking_waits(calendar: BusinessCalendar, deadline: datetime, grace: datetime,
                       learned: float | None) -> tuple[datetime, float | None]:
    """Until when a vendor order with no tracking is given, and the vendor's longest recent upload lag when that
    is what it is given (``None`` when the default wait is longer). ``learned``: that longest lag, ``None`` when
    the vendor has too few recent parcels to say.

    :data:`NO_TRACKING_WAITS_AT_LEAST` business days after the grace deadline, or the vendor's longest upload
    lag of its recent parcels counted from the ship-by when that ends later (a parcel scanned by the ship-by
    and uploaded that late arrives by then), at most :data:`UPLOAD_WAIT_AT_MOST` after the grace deadline. The
    longest, not the 90th percentile: with one parcel in ten uploaded late, that is a timely upload's lag."""
    default = after_business_days(calendar, grace, NO_TRACKING_WAITS_AT_LEAST)
    by_history = after_business_days(calendar, deadline, learned) if learned is not None else default
    until = min(max(default, by_history), after_business_days(calendar, grace, UPLOAD_WAIT_AT_MOST))
    return until, learned if by_history > default else None


def _business_days(days: float) -> str:
    """``1.3 business days``."""
    return f"{days:.1f} business day{'' if round(days, 1) == 1 else 's'}"


def _promise_broken(context: RuleContext, vendor_code: str, line: VendorOrderLine) -> bool:
    """The line is backordered to a date whose grace (noon on the vendor's next working day) has passed."""
    if line.qty_backordered <= 0 or line.expected_at is None:
        return False
    calendar = _calendar(context, vendor_code)
    promised = datetime.combine(line.expected_at, time(12), tzinfo=calendar.zone)
    return context.now > calendar.grace_deadline(promised)


def _calendar(context: RuleContext, vendor_code: str) -> BusinessCalendar:
    """The vendor's calendar; a vendor no longer configured is judged on the default one rather than not at all."""
    return context.calendars.calendar(vendor_code) or _default_calendar()


@cache
def _default_calendar() -> BusinessCalendar:
    return BusinessCalendar.from_settings(CalendarSettings())


def vendor_time(moment: datetime, calendar: BusinessCalendar, vendor_code: str) -> str:
    """``Wed 4 Nov 23:59 CST, ACME's time``: a deadline as the vendor reads its own clock, saying whose."""
    local = moment.astimezone(calendar.zone)
    return f"{_day(local)} {local:%H:%M} {local.tzname()}, {vendor_code}'s time"


def _local(context: RuleContext, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(context.settings.timezone))


def _when(context: RuleContext, moment: datetime | None) -> str:
    """``Tue 3 Nov 14:30`` in the shop's zone."""
    if moment is None:
        return "unknown"
    local = _local(context, moment)
    return f"{_day(local)} {local:%H:%M}"


def _day(day: date) -> str:
    """``Tue 3 Nov``."""
    return f"{day:%a} {day.day} {day:%b}"


def _vendor_order_subject(vendor_order: VendorOrder, order_number: str) -> Subject:
    return Subject(type="vendor_order", id=vendor_order.id, order_number=order_number,
                   vendor_code=vendor_order.vendor_code, vendor_order_id=vendor_order.id)

