"""Rules about parcels and deliveries: one small function per rule.

Each rule is ``rule(context) -> list[Finding]``: a set-based query over the active work (parcels still being
followed, the last carrier poll runs), never over the whole history::

    >>> context = RuleContext(session=session, now=now, settings=settings,
    ...                       calendars=VendorCalendars(settings.vendors))  # doctest: +SKIP
    >>> [finding.evidence for finding in stalled_in_transit(context)]  # doctest: +SKIP
    ['UPS: in transit, no new event for 3 business days since Tue 3 Nov 09:00 (Departed facility, Columbus OH)']

``TRACKING_RULES`` lists each rule under its contract name. Decisions that keep false alarms down:

- **The active set** is a parcel that is neither delivered nor cancelled, on a vendor order that is not
  cancelled, of an order that is neither cancelled nor fulfilled elsewhere. What drops out of it resolves
  (the engine calls that moot for cancelled orders and delivered parcels).
- **"No news" needs a look**: a parcel is only called unscanned, stalled or late when the carrier was asked
  after the deadline had passed (``last_checked_at``). Until then we do not know, and a delivered scan the
  carrier publishes late never raises ``delivery_late``. While a carrier's feed is down the engine freezes the
  tracking rules for it; that is not done here.
- **A corrected upload supersedes**: a newer valid parcel on the same vendor order that carries every line of
  an older invalid or never-scanned one replaces it, so the old number stops counting (a parcel without lines
  is replaced by any newer valid one).
- **Carrier business days** are Monday to Friday in the shop's time zone, without US public holidays.
- **Evidence stays the same while the condition lasts** (no running "for 4 days" counts), so a new day is
  not "new evidence" that ends a snooze.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from orderflow.calendars import BusinessCalendar, after_business_days, shop_calendar
from orderflow.carriers.apis import carriers_we_cannot_ask
from orderflow.carriers.catalogue import BY_CODE
from orderflow.carriers.status import NOT_PHYSICAL, PackageStatus
from orderflow.carriers.tracking import CARRIER_FAILURES
from orderflow.db.models import (
    CarrierPollRun,
    Order,
    OrderState,
    Shipment,
    ShipmentLine,
    TrackingEvent,
    VendorOrder,
    VendorOrderState,
)
from orderflow.orders.lateness import NOT_SCANNED_AFTER_BUSINESS_DAYS
from orderflow.rules.findings import Finding, Hides, RuleContext, RuleEntry, SameProblem, Subject, rule_severity

CARRIER_INVALID_POLLS = 2
CARRIER_INVALID_APART = timedelta(hours=6)
FEED_FAILED_SHARE = 0.30
FEED_RUNS = 2
FEED_MIN_FAILURES = 2
"""One failed poll alone is never a feed outage, whatever share of a quiet carrier's polls it is."""
FEED_RECENT = timedelta(hours=24)
"""Poll runs older than this say nothing about the feed today (a carrier with nothing to track writes none)."""
STALL_BUSINESS_DAYS = 3.0
OUT_FOR_DELIVERY_STALL_BUSINESS_DAYS = 1.0
SERIOUS_EXCEPTION_REASONS = frozenset({"refused", "damaged", "lost", "address"})
DELIVERY_GRACE_BUSINESS_DAYS = 0.5
CUSTOMER_EMAIL_WITHIN = timedelta(hours=4)
FOLLOWED = tuple(status.value for status in PackageStatus
                 if status not in (PackageStatus.DELIVERED, PackageStatus.CANCELLED))
RETURNED = PackageStatus.RETURNED_TO_SENDER.value
EXCEPTIONS = (PackageStatus.EXCEPTION.value, PackageStatus.DELIVERY_ATTEMPTED.value)
ENDED_ORDER_STATES = (OrderState.CANCELLED, OrderState.FULFILLED_ELSEWHERE)
EVENT_DETAIL_LIMIT = 200
PARCELS_SHOWN = 3
"""How many tracking numbers a carrier's finding spells out; the rest are counted."""


# --- tracking numbers -------------------------------------------------------------------------------------

def tracking_invalid(context: RuleContext) -> list[Finding]:
    """A number that fails its check digits, or that the carrier called invalid on two polls >= 6 hours apart.

    The second poll's time is taken as ``last_checked_at`` (the poller keeps the first invalid poll and a
    count, not the time of the latest one). Factual: a corrected upload or a good poll resolves it at once.
    """
    severity = rule_severity(context, "tracking_invalid", "warning")
    if severity is None:
        return []
    zone = _zone(context)
    parcels = _parcels(context.session, or_(Shipment.tracking_valid.is_(False),
                                            Shipment.invalid_polls >= CARRIER_INVALID_POLLS))
    invalid = [(parcel, why) for parcel in parcels if (why := _why_invalid(parcel, zone)) is not None]
    replaced = _superseded(context.session, [parcel for parcel, _ in invalid])
    return [Finding("tracking_invalid", parcel.subject, severity, why, factual=True)
            for parcel, why in invalid if parcel.shipment.id not in replaced]


def _why_invalid(parcel: _Parcel, zone: ZoneInfo) -> str | None:
    shipment = parcel.shipment
    if not shipment.tracking_valid:
        return f"{parcel.vendor_code}: {shipment.tracking_note or 'not a valid tracking number'}"
    first, second = shipment.first_invalid_at, shipment.last_checked_at
    if first is not None and second is not None and second - first >= CARRIER_INVALID_APART:
        return (f"{parcel.vendor_code}: {_carrier_name(shipment.carrier)} says the number is invalid "
                f"(first said {_when(first, zone)})")
    return None


def tracking_not_scanned(context: RuleContext) -> list[Finding]:
    """A valid number the carrier has not scanned 2 business days after the vendor's ship date: the vendor's fault.

    The ship date is ``shipped_at`` as the vendor said, else when the vendor reported the parcel.
    """
    severity = rule_severity(context, "tracking_not_scanned", "warning")
    if severity is None:
        return []
    calendar, zone = shop_calendar(context.settings.timezone), _zone(context)
    parcels = _parcels(context.session, Shipment.tracking_valid.is_(True),
                       Shipment.invalid_polls < CARRIER_INVALID_POLLS, Shipment.first_scan_at.is_(None))
    unscanned = [parcel for parcel in parcels if _quiet_for(
        calendar, _ship_date(parcel.shipment), NOT_SCANNED_AFTER_BUSINESS_DAYS, parcel.shipment, context.now)]
    replaced = _superseded(context.session, unscanned)
    return [Finding("tracking_not_scanned", parcel.subject, severity,
                    f"{parcel.vendor_code}: label created {_day(_ship_date(parcel.shipment), zone)}, no carrier "
                    f"scan after {_business_days(NOT_SCANNED_AFTER_BUSINESS_DAYS)}", factual=False,
                    labels={"threshold": _quiet_threshold(
                        "no carrier scan", calendar, _ship_date(parcel.shipment), NOT_SCANNED_AFTER_BUSINESS_DAYS,
                        now=context.now, zone=zone, since_what="the ship date")})
            for parcel in unscanned if parcel.shipment.id not in replaced]


def _quiet_threshold(what: str, calendar: BusinessCalendar, since: datetime, limit: float, *, now: datetime,
                     zone: ZoneInfo, since_what: str) -> str:
    """``no carrier scan for 2.4 business days since the ship date Tue 3 Nov 14:00 EST, threshold 2``."""
    quiet = calendar.business_days_between(since, now)
    return f"{what} for {quiet:.1f} business days since {since_what} {_zoned(since, zone)}, threshold {limit:g}"


def _ship_date(shipment: Shipment) -> datetime:
    return shipment.shipped_at or shipment.reported_at


# --- the carrier feed -------------------------------------------------------------------------------------

def tracking_feed_unhealthy(context: RuleContext) -> list[Finding]:
    """More than 30% of a carrier's polls failed (auth, rate limit, errors) over its last 2 runs in a day.

    The subject id is the carrier code: the engine freezes that carrier's tracking rules while this fires.
    """
    severity = rule_severity(context, "tracking_feed_unhealthy", "high")
    if severity is None:
        return []
    findings = []
    for carrier, runs in _last_poll_runs(context.session, context.now).items():
        polls = sum(run.polls for run in runs)
        failures = sum(run.failures for run in runs)
        if polls and failures >= FEED_MIN_FAILURES and failures / polls > FEED_FAILED_SHARE:
            evidence = (f"{_carrier_name(carrier)}: {failures} of {polls} polls failed in the last {len(runs)} "
                        f"run{'s' if len(runs) > 1 else ''} ({_failure_counts(runs)})")
            findings.append(Finding("tracking_feed_unhealthy", Subject("carrier", carrier, carrier=carrier),
                                    severity, evidence, factual=False))
    return findings


def _last_poll_runs(session: Session, now: datetime) -> dict[str, list[CarrierPollRun]]:
    recency = func.row_number().over(partition_by=CarrierPollRun.carrier,
                                     order_by=(CarrierPollRun.at.desc(), CarrierPollRun.id.desc())).label("recency")
    ranked = (select(CarrierPollRun.id, recency)
              .where(CarrierPollRun.at > now - FEED_RECENT, CarrierPollRun.at <= now).subquery())
    runs: dict[str, list[CarrierPollRun]] = defaultdict(list)
    for run in session.scalars(select(CarrierPollRun).join(ranked, ranked.c.id == CarrierPollRun.id)
                               .where(ranked.c.recency <= FEED_RUNS).order_by(CarrierPollRun.carrier)):
        runs[run.carrier].append(run)
    return runs


def _failure_counts(runs: Sequence[CarrierPollRun]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for run in runs:
        for outcome, count in run.outcomes.items():
            if outcome in CARRIER_FAILURES:
                counts[outcome] += int(count)
    return ", ".join(f"{outcome} {count}" for outcome, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def carrier_not_configured(context: RuleContext) -> list[Finding]:
    """Parcels of a carrier orderflow cannot ask: no ``[carriers.X]`` section, or one without credentials.

    One finding per carrier, while parcels of it are followed (not delivered, on live work): nobody will see
    them scanned, stalled or late, and ``vendor_late`` takes the vendor's word for them rather than blaming
    the vendor for scans nobody asked for. Subject: the carrier. Severity: high. Factual: configuring the
    carrier ends it. Evidence: "UPS: no [carriers.ups] section, so 3 parcels cannot be tracked (1Z..., ...)".
    """
    severity = rule_severity(context, "carrier_not_configured", "high")
    if severity is None:
        return []
    # A carrier switched off with ``enabled = false`` is the shop's choice not to track with it, not a set-up
    # mistake: its parcels still count on the vendor's word, and nobody is alarmed about it.
    switched_off = {code for code, carrier in context.settings.carriers.items() if not carrier.enabled}
    unaskable = {code: why for code, why in carriers_we_cannot_ask(context.settings).items()
                 if code not in switched_off}
    if not unaskable:
        return []
    by_carrier: dict[str, list[_Parcel]] = defaultdict(list)
    for parcel in _parcels(context.session, Shipment.carrier.in_(unaskable), Shipment.tracking_valid.is_(True)):
        by_carrier[str(parcel.shipment.carrier)].append(parcel)
    findings = []
    for carrier, parcels in sorted(by_carrier.items()):
        numbers = [parcel.shipment.tracking_number for parcel in parcels]
        shown = ", ".join(numbers[:PARCELS_SHOWN]) + (f", and {len(numbers) - PARCELS_SHOWN} more"
                                                      if len(numbers) > PARCELS_SHOWN else "")
        count = f"{len(numbers)} parcel{'' if len(numbers) == 1 else 's'}"
        findings.append(Finding("carrier_not_configured", Subject("carrier", carrier, carrier=carrier), severity,
                                f"{_carrier_name(carrier)}: {unaskable[carrier]}, so {count} cannot be tracked "
                                f"({shown})"))
    return findings


# --- parcels on their way ---------------------------------------------------------------------------------

def stalled_in_transit(context: RuleContext) -> list[Finding]:
    """Scanned, not delivered, and no new carrier event for 3 carrier business days (1 when out for delivery).

    Judged from ``last_event_at``. A returning parcel is ``returned_to_sender``'s; an exception's stall is
    hidden by the engine behind ``carrier_exception``.
    """
    severity = rule_severity(context, "stalled_in_transit", "warning")
    if severity is None:
        return []
    calendar, zone = shop_calendar(context.settings.timezone), _zone(context)
    parcels = _parcels(context.session, Shipment.first_scan_at.is_not(None), Shipment.status != RETURNED)
    stalled = [parcel for parcel in parcels
               if _quiet_for(calendar, _last_news(parcel.shipment), _stall_limit(parcel.shipment), parcel.shipment,
                             context.now)]
    latest = _latest_events(context.session, [parcel.shipment.id for parcel in stalled])
    findings = []
    for parcel in stalled:
        shipment = parcel.shipment
        evidence = (f"{_carrier_name(shipment.carrier)}: {_words(shipment.status)}, no new event for "
                    f"{_business_days(_stall_limit(shipment))} since {_when(_last_news(shipment), zone)}"
                    f"{_event_in_brackets(latest.get(shipment.id))}")
        threshold = _quiet_threshold("no new carrier event", calendar, _last_news(shipment), _stall_limit(shipment),
                                     now=context.now, zone=zone, since_what="the last one")
        findings.append(Finding("stalled_in_transit", parcel.subject, severity, evidence, factual=False,
                                labels={"threshold": threshold}))
    return findings


def _last_news(shipment: Shipment) -> datetime:
    return shipment.last_event_at or shipment.first_scan_at or shipment.reported_at


def _stall_limit(shipment: Shipment) -> float:
    if shipment.status == PackageStatus.OUT_FOR_DELIVERY:
        return OUT_FOR_DELIVERY_STALL_BUSINESS_DAYS
    return STALL_BUSINESS_DAYS


def carrier_exception(context: RuleContext) -> list[Finding]:
    """The carrier reports an exception or a failed delivery attempt; clears on the next normal event.

    High for a refusal, damage, loss or a bad address (a person must act); warning otherwise.
    """
    high, warning = rule_severity(context, "carrier_exception", "high"), rule_severity(context, "carrier_exception",
                                                                                    "warning")
    if high is None or warning is None:
        return []
    findings = []
    parcels = _parcels(context.session, Shipment.status.in_(EXCEPTIONS))
    latest = _latest_events(context.session, [parcel.shipment.id for parcel in parcels])
    for parcel in parcels:
        shipment = parcel.shipment
        severity = high if shipment.exception_reason in SERIOUS_EXCEPTION_REASONS else warning
        reason = f" ({shipment.exception_reason})" if shipment.exception_reason else ""
        evidence = (f"{_carrier_name(shipment.carrier)}: {_words(shipment.status)}{reason}"
                    f"{_event_text(latest.get(shipment.id))}")
        findings.append(Finding("carrier_exception", parcel.subject, severity, evidence, factual=False))
    return findings


def returned_to_sender(context: RuleContext) -> list[Finding]:
    """The carrier is sending the parcel back (or has): the customer will not get it without a person acting."""
    severity = rule_severity(context, "returned_to_sender", "high")
    if severity is None:
        return []
    parcels = _parcels(context.session, Shipment.status == RETURNED)
    latest = _latest_events(context.session, [parcel.shipment.id for parcel in parcels])
    return [Finding("returned_to_sender", parcel.subject, severity,
                    f"{_carrier_name(parcel.shipment.carrier)}: returning to sender"
                    f"{_event_text(latest.get(parcel.shipment.id))}", factual=True)
            for parcel in parcels]


def delivery_late(context: RuleContext) -> list[Finding]:
    """An order with a parcel not delivered half a carrier business day after the carrier's estimate.

    One finding per order, naming its late parcels. Only a check made after that deadline can say "not
    delivered": a delivery the carrier publishes late is judged by its ``delivered_at``, not by when we learned.
    Labels ``due_at`` (the earliest estimate) and ``late_business_days`` (carrier business days past it).
    """
    severity = rule_severity(context, "delivery_late", "high")
    if severity is None:
        return []
    calendar, zone = shop_calendar(context.settings.timezone), _zone(context)
    parcels = _parcels(context.session, Shipment.estimated_delivery.is_not(None), Shipment.status != RETURNED)
    late_by_order: dict[int, list[_Parcel]] = defaultdict(list)
    for parcel in parcels:
        estimate = parcel.shipment.estimated_delivery
        if estimate is not None and _quiet_for(calendar, estimate, DELIVERY_GRACE_BUSINESS_DAYS, parcel.shipment,
                                               context.now, strictly=True):
            late_by_order[parcel.order_id].append(parcel)
    findings = []
    for late in late_by_order.values():
        due = min(parcel.shipment.estimated_delivery for parcel in late if parcel.shipment.estimated_delivery)
        deadline = after_business_days(calendar, due, DELIVERY_GRACE_BUSINESS_DAYS)
        threshold = (f"past the delivery deadline {_zoned(deadline, zone)} (the carrier's estimate and "
                     f"{_business_days(DELIVERY_GRACE_BUSINESS_DAYS)}) by "
                     f"{calendar.business_days_between(deadline, context.now):.1f} business days")
        findings.append(Finding("delivery_late", _order_subject(late), severity,
                                _late_evidence(late, calendar, zone), factual=False,
                                labels=lateness_labels(due, calendar, context.now) | {"threshold": threshold}))
    return findings


def lateness_labels(due: datetime, calendar: BusinessCalendar, now: datetime) -> dict[str, str]:
    """``due_at`` and ``late_business_days`` (past ``due`` on ``calendar``, to a tenth): kept beside the
    evidence, not in it, so a day passing is not new evidence that would end a snooze."""
    late = max(calendar.business_days_between(due, now), 0.0)
    return {"due_at": due.astimezone(UTC).isoformat(), "late_business_days": f"{late:.1f}"}


def _order_subject(late: Sequence[_Parcel]) -> Subject:
    """The order, with the parcel, vendor and carrier filled in when they are the same for every late parcel."""
    first = late[0]

    def shared(values: list[Any]) -> Any:
        return values[0] if len(set(values)) == 1 else None

    return Subject("order", str(first.order_id), order_number=first.order_number,
                   vendor_code=shared([p.vendor_code for p in late]),
                   vendor_order_id=shared([p.shipment.vendor_order_id for p in late]),
                   shipment_id=shared([p.shipment.id for p in late]),
                   tracking_number=shared([p.shipment.tracking_number for p in late]),
                   carrier=shared([p.shipment.carrier for p in late]))


def _late_evidence(late: Sequence[_Parcel], calendar: BusinessCalendar, zone: ZoneInfo) -> str:
    """``UPS 1Z... expected Tue 3 Nov, not delivered by Tue 3 Nov 12:00 EST``: each parcel's estimate and the
    deadline it missed (the estimate and half a carrier business day), in the shop's zone, labelled."""
    parcels = [f"{_carrier_name(p.shipment.carrier)} {p.shipment.tracking_number} expected "
               f"{_day(estimate, zone)}, not delivered by "
               f"{_zoned(after_business_days(calendar, estimate, DELIVERY_GRACE_BUSINESS_DAYS), zone)}"
               for p in late if (estimate := p.shipment.estimated_delivery) is not None]
    return "; ".join(parcels)


def _zoned(moment: datetime, zone: ZoneInfo) -> str:
    """``Tue 3 Nov 12:00 EST``: a deadline with its zone's label."""
    return f"{_when(moment, zone)} {moment.astimezone(zone).tzname()}"


def customer_not_notified(context: RuleContext) -> list[Finding]:
    """The carrier scanned a parcel over 4 hours ago and the customer's shipment email is not sent (or failed).

    Only where orderflow sends the notices (a ``[customers]`` section): a shop whose storefront emails its
    customers has nothing here to miss. The 4 hours count from when we learned of the scan, so a scan
    published late is not our delay.
    """
    severity = rule_severity(context, "customer_not_notified", "warning")
    if severity is None or context.settings.customers is None:
        return []
    zone = _zone(context)
    parcels = _parcels(context.session, Shipment.first_scan_at <= context.now - CUSTOMER_EMAIL_WITHIN,
                       Shipment.customer_notified_at.is_(None), Shipment.status != RETURNED)
    learned = _scans_learned_at(context.session, [parcel.shipment.id for parcel in parcels])
    findings = []
    for parcel in parcels:
        scanned = parcel.shipment.first_scan_at
        if scanned is None or context.now - max(scanned, learned.get(parcel.shipment.id, scanned)) \
                <= CUSTOMER_EMAIL_WITHIN:
            continue
        evidence = (f"{_carrier_name(parcel.shipment.carrier)} scanned it {_when(scanned, zone)}; no shipment email "
                    f"to the customer after {_hours(CUSTOMER_EMAIL_WITHIN)}")
        findings.append(Finding("customer_not_notified", parcel.subject, severity, evidence, factual=True))
    return findings


TRACKING_RULES: tuple[RuleEntry, ...] = (
    RuleEntry(name="tracking_invalid", check=tracking_invalid, rank=140, frozen_with_feed=True, hides=(
        Hides(frozenset({"vendor_late"}), on="vendor_order_id"),
        Hides(frozenset({"stalled_in_transit"}), on="shipment_id"))),
    RuleEntry(name="tracking_not_scanned", check=tracking_not_scanned, rank=150, frozen_with_feed=True),
    RuleEntry(name="tracking_feed_unhealthy", check=tracking_feed_unhealthy, rank=30),
    RuleEntry(name="carrier_not_configured", check=carrier_not_configured, rank=40, hides=(
        Hides(frozenset({"tracking_feed_unhealthy"}), on="carrier"),)),
    RuleEntry(name="stalled_in_transit", check=stalled_in_transit, rank=190, frozen_with_feed=True),
    RuleEntry(name="carrier_exception", check=carrier_exception, rank=160, frozen_with_feed=True, hides=(
        Hides(frozenset({"stalled_in_transit"}), on="shipment_id"),
        Hides(frozenset({"delivery_late"}), on="order_number"))),
    RuleEntry(name="returned_to_sender", check=returned_to_sender, rank=170, frozen_with_feed=True),
    RuleEntry(name="delivery_late", check=delivery_late, rank=200, frozen_with_feed=True,
              same_problem=(SameProblem("stalled_in_transit", on="shipment_id"),)),
    RuleEntry(name="customer_not_notified", check=customer_not_notified, rank=220),
)
"""Every parcel and delivery rule by its contract name, with what the engine and the queue need to know."""


# --- shared helpers ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Parcel:
    shipment: Shipment
    vendor_code: str
    order_id: int
    order_number: str

    @property
    def subject(self) -> Subject:
        shipment = self.shipment
        return Subject("shipment", str(shipment.id), order_number=self.order_number, vendor_code=self.vendor_code,
                       vendor_order_id=shipment.vendor_order_id, shipment_id=shipment.id,
                       tracking_number=shipment.tracking_number, carrier=shipment.carrier)


def _parcels(session: Session, *conditions: Any) -> list[_Parcel]:
    """The parcels still followed on live orders that meet ``conditions``, with their vendor and order."""
    rows = session.execute(
        select(Shipment, VendorOrder.vendor_code, Order.id, Order.order_number)
        .join(VendorOrder, Shipment.vendor_order_id == VendorOrder.id)
        .join(Order, VendorOrder.order_id == Order.id)
        .where(Shipment.status.in_(FOLLOWED), VendorOrder.state != VendorOrderState.CANCELLED,
               Order.state.not_in(ENDED_ORDER_STATES), *conditions)
        .order_by(Shipment.id))
    return [_Parcel(shipment, vendor_code, order_id, order_number)
            for shipment, vendor_code, order_id, order_number in rows]


def _superseded(session: Session, parcels: Sequence[_Parcel]) -> set[int]:
    """Ids of ``parcels`` replaced by a newer valid parcel on the same vendor order that carries all their lines."""
    if not parcels:
        return set()
    newer = session.execute(
        select(Shipment.id, Shipment.vendor_order_id, Shipment.reported_at)
        .where(Shipment.vendor_order_id.in_({parcel.shipment.vendor_order_id for parcel in parcels}),
               Shipment.tracking_valid.is_(True), Shipment.invalid_polls < CARRIER_INVALID_POLLS,
               Shipment.status != PackageStatus.CANCELLED)).all()
    ids = {row.id for row in newer} | {parcel.shipment.id for parcel in parcels}
    lines: dict[int, set[int]] = defaultdict(set)
    for shipment_id, line_id in session.execute(
            select(ShipmentLine.shipment_id, ShipmentLine.vendor_order_line_id)
            .where(ShipmentLine.shipment_id.in_(ids))):
        lines[shipment_id].add(line_id)
    replaced = set()
    for parcel in parcels:
        old = parcel.shipment
        if any(row.vendor_order_id == old.vendor_order_id and (row.reported_at, row.id) > (old.reported_at, old.id)
               and lines[old.id] <= lines[row.id] for row in newer):
            replaced.add(old.id)
    return replaced


def _quiet_for(calendar: BusinessCalendar, since: datetime, business_days: float, shipment: Shipment,
               now: datetime, *, strictly: bool = False) -> bool:
    """``business_days`` passed since ``since``, and the carrier was asked after that, so silence is a fact."""
    def passed(moment: datetime | None) -> bool:
        if moment is None:
            return False
        elapsed = calendar.business_days_between(since, moment)
        return elapsed > business_days if strictly else elapsed >= business_days

    return passed(now) and passed(shipment.last_checked_at)


def _latest_events(session: Session, shipment_ids: Sequence[int]) -> dict[int, TrackingEvent]:
    """The newest stored carrier event of each parcel, for the evidence staff read."""
    if not shipment_ids:
        return {}
    recency = func.row_number().over(partition_by=TrackingEvent.shipment_id,
                                     order_by=(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc()))
    ranked = (select(TrackingEvent.id, recency.label("recency"))
              .where(TrackingEvent.shipment_id.in_(shipment_ids)).subquery())
    return {event.shipment_id: event for event in session.scalars(
        select(TrackingEvent).join(ranked, ranked.c.id == TrackingEvent.id).where(ranked.c.recency == 1))}


def _scans_learned_at(session: Session, shipment_ids: Sequence[int]) -> dict[int, datetime]:
    """When we first stored a physical scan of each parcel (``recorded_at``), as opposed to when it happened."""
    if not shipment_ids:
        return {}
    not_scans = [status.value for status in NOT_PHYSICAL]
    rows = session.execute(
        select(TrackingEvent.shipment_id, func.min(TrackingEvent.recorded_at))
        .where(TrackingEvent.shipment_id.in_(shipment_ids), TrackingEvent.status.not_in(not_scans))
        .group_by(TrackingEvent.shipment_id))
    return {shipment_id: learned for shipment_id, learned in rows if learned is not None}


def _carrier_name(code: str | None) -> str:
    if code is None:
        return "the carrier"
    return BY_CODE[code].name if code in BY_CODE else code


def _event_in_brackets(event: TrackingEvent | None) -> str:
    """`` (Departed facility, Columbus OH US)``: the carrier's words and place, or nothing."""
    if event is None or not event.description:
        return ""
    place = f", {event.location}" if event.location else ""
    return f" ({event.description[:EVENT_DETAIL_LIMIT]}{place})"


def _event_text(event: TrackingEvent | None) -> str:
    """``: Customer refused delivery``: the carrier's own words, or nothing."""
    if event is None or not event.description:
        return ""
    return f": {event.description[:EVENT_DETAIL_LIMIT]}"


def _zone(context: RuleContext) -> ZoneInfo:
    return ZoneInfo(context.settings.timezone)


def _day(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return f"{_day(moment, zone)} {moment.astimezone(zone):%H:%M}"


def _words(status: str) -> str:
    return status.replace("_", " ")


def _business_days(days: float) -> str:
    return f"{days:g} business day{'' if days == 1 else 's'}"


def _hours(interval: timedelta) -> str:
    hours = interval / timedelta(hours=1)
    return f"{hours:g} hour{'' if hours == 1 else 's'}"
