"""``orderflow dispatch``: send every pending vendor order to its vendor, never losing one, never sending one twice.

Per vendor: skip it while its breaker is open; connect once; claim due vendor orders in batches; send each
with retries (backoff, ``Retry-After``); record what the vendor made of it. A vendor that cannot be reached
gets the error recorded on its due orders (for ``dispatch_failed``) and a breaker failure; the other
vendors carry on. Several processes may run this at once: the claims divide the work between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, CursorResult, Engine, and_, or_, update

from orderflow.breaker import pause_notice, record_failure, record_success
from orderflow.calendars import VendorCalendars
from orderflow.clock import Clock
from orderflow.config import Settings, VendorSettings
from orderflow.crashpoints import crash_point
from orderflow.db.engine import session_factory
from orderflow.db.models import LineState, VendorOrder, VendorOrderLine, VendorOrderState
from orderflow.errors import (
    ConfigError,
    ExitCode,
    InputError,
    OrderflowError,
    OutcomeUnknown,
    RemoteRejected,
    RemoteUnavailable,
)
from orderflow.jobs import WorkResult, time_is_up
from orderflow.retries import attempts
from orderflow.vendors.channels import Channel, FileChannel, SendOutcome, open_channel, vendor_line
from orderflow.vendors.claims import Claim, claim_due, new_holder, retry_delay
from orderflow.vendors.purchase_orders import purchase_orders
from orderflow.vendors.records import PurchaseOrder

if TYPE_CHECKING:
    import httpx

CLAIM_BATCH = 200
FAILURES_BEFORE_GIVING_UP_ON_VENDOR = 3
"""Consecutive failed sends in one run after which the rest of that vendor's orders wait for a later run."""


@dataclass
class DispatchTally:
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    needs_reconcile: int = 0
    vendors_failed: list[str] = field(default_factory=list)
    vendors_misconfigured: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unsent: list[tuple[str, str]] = field(default_factory=list)
    """(vendor order id, error) of each send that failed and was left for a later run."""

    def count(self, outcome: SendOutcome) -> None:
        setattr(self, outcome.state, getattr(self, outcome.state) + 1)

    @property
    def failed(self) -> int:
        return len(self.unsent)


@dataclass
class DispatchIO:
    """What dispatch reaches out with; tests and the demo point these at local servers."""

    http_client: Callable[[VendorSettings], httpx.Client] | None = None


def dispatch(*, engine: Engine, settings: Settings, clock: Clock, vendor: str | None = None,
             io: DispatchIO | None = None) -> WorkResult:
    """Send what is due for every vendor (or one). Exit code 6 when some vendor or order could not be served,
    or an order's outcome is unknown (it waits in needs_reconcile for a later run to look it up); 3 when a
    vendor's set-up is wrong (a secret not set), the other vendors served all the same."""
    tally = DispatchTally()
    holder = new_holder()
    calendars = VendorCalendars(settings.vendors)
    vendors = [settings.vendor(vendor)] if vendor else list(settings.vendors)
    for configured in vendors:
        if time_is_up():
            break
        _dispatch_vendor(engine=engine, settings=settings, vendor=configured, clock=clock, holder=holder,
                         io=io or DispatchIO(), calendars=calendars, tally=tally)
    return WorkResult(
        counts={"sent": tally.sent, "accepted": tally.accepted, "rejected": tally.rejected,
                "failed": tally.failed, "needs_reconcile": tally.needs_reconcile},
        problems=tally.problems,
        exit_code=ExitCode.CONFIG if tally.vendors_misconfigured
        else ExitCode.PARTIAL_FAILURE if tally.vendors_failed or tally.failed or tally.needs_reconcile
        else ExitCode.OK,
        detail=tally,
    )


def _dispatch_vendor(*, engine: Engine, settings: Settings, vendor: VendorSettings, clock: Clock, holder: str,
                     io: DispatchIO, calendars: VendorCalendars, tally: DispatchTally) -> None:
    key = f"vendor:{vendor.code}"
    now = clock.now()
    with session_factory(engine)() as session:
        paused = pause_notice(session, key, now, f"vendor {vendor.code}")
    if paused:
        tally.vendors_failed.append(vendor.code)
        tally.problems.append(paused)
        return
    try:
        channel = open_channel(vendor, settings=settings, engine=engine, now=clock.now, http_client=io.http_client)
    except OrderflowError as exc:  # unreachable, refused us, or set up wrongly: this vendor only
        if isinstance(exc, ConfigError):  # a secret not set, a key file missing: ours to fix, so exit 3
            tally.vendors_misconfigured.append(vendor.code)
        _vendor_failed(engine, vendor=vendor, key=key, now=now, error=str(exc), tally=tally)
        return
    unsent_before = len(tally.unsent)
    try:
        failure = _send_all(engine=engine, vendor=vendor, channel=channel, clock=clock, holder=holder,
                            calendars=calendars, tally=tally)
    finally:
        channel.close()
    if failure:
        _vendor_failed(engine, vendor=vendor, key=key, now=now, error=failure, tally=tally, record_on_orders=False)
    else:
        if len(tally.unsent) > unsent_before:  # fewer failures than give up on the vendor: still one line for cron
            tally.problems.append(_unsent_line(vendor.code, tally.unsent[unsent_before:]))
        with session_factory(engine)() as session, session.begin():
            record_success(session, key, now)


def _send_all(*, engine: Engine, vendor: VendorSettings, channel: Channel, clock: Clock, holder: str,
              calendars: VendorCalendars, tally: DispatchTally) -> str | None:
    """Claim and send batch after batch; returns the error that made us stop serving this vendor, if any."""
    failures_in_a_row = 0
    while not time_is_up() and (claims := claim_due(engine, vendor_code=vendor.code, holder=holder,
                                                     now=clock.now(), limit=CLAIM_BATCH)):
        with session_factory(engine)() as session:
            documents = purchase_orders(session, [claim.vendor_order_id for claim in claims], calendars)
        sent_files: list[Claim] = []
        ack_due_at = calendars.ack_due(vendor.code, clock.now())
        try:
            failure = _send_batch(engine=engine, vendor=vendor, channel=channel, clock=clock, holder=holder,
                                  claims=claims, documents=documents, sent_files=sent_files, ack_due_at=ack_due_at,
                                  tally=tally, failures_in_a_row=failures_in_a_row)
        finally:
            _record_sent_files(engine, sent_files, holder=holder, now=clock.now(), ack_due_at=ack_due_at)
        if isinstance(failure, str):
            return failure
        failures_in_a_row = failure
    return None


def _send_batch(*, engine: Engine, vendor: VendorSettings, channel: Channel, clock: Clock, holder: str,
                claims: list[Claim], documents: dict[str, PurchaseOrder], sent_files: list[Claim],
                ack_due_at: datetime | None, tally: DispatchTally, failures_in_a_row: int) -> str | int:
    """Send one claimed batch. Returns the error that stops this vendor, or the failures-in-a-row count.

    Files go out together first, many under way at once, under their fixed names, so their "sent" is
    recorded once for the batch (``sent_files``, committed by the caller): a crash before that commit only
    means the same files are uploaded again, replacing themselves. A file that did not make it goes again on
    its own below, with retries, and its error is the one reported. What an API answers is recorded order by
    order.
    """
    together = channel.send_many([documents[claim.vendor_order_id] for claim in claims]) \
        if isinstance(channel, FileChannel) else {}
    rest: list[Claim] = []
    for claim in claims:
        if not isinstance(outcome := together.get(claim.vendor_order_id), SendOutcome):
            rest.append(claim)
            continue
        crash_point("dispatch.after_send")
        failures_in_a_row = 0
        tally.count(outcome)
        sent_files.append(claim)
    for position, claim in enumerate(rest):
        try:
            if isinstance(unwritable := together.get(claim.vendor_order_id), InputError):
                raise unwritable
            outcome = _send_with_retries(channel, documents[claim.vendor_order_id], claim)
        except OutcomeUnknown as exc:
            _record_unknown(engine, claim, holder=holder, now=clock.now(), error=str(exc))
            tally.needs_reconcile += 1
            tally.problems.append(f"{claim.vendor_order_id}: {exc}; it needs reconciling before any re-send")
            continue
        except InputError as exc:  # this purchase order cannot be written (a vendor SKU with a separator)
            field = f"{exc.refusal.field}: " if exc.refusal.field else ""
            error = f"cannot be written for {vendor.code}: {field}{exc.refusal.reason}"
            _release(engine, [claim], holder=holder, now=clock.now(), error=error,
                     checks_by_lookup=channel.checks_by_lookup)
            tally.unsent.append((claim.vendor_order_id, error))
            continue  # the vendor is fine: neither its breaker nor the failures in a row count this one
        except RemoteRejected as exc:
            _release(engine, rest[position:], holder=holder, now=clock.now(), error=str(exc),
                     checks_by_lookup=channel.checks_by_lookup)
            return str(exc)
        except RemoteUnavailable as exc:
            _release(engine, [claim], holder=holder, now=clock.now(), error=str(exc),
                     checks_by_lookup=channel.checks_by_lookup)
            tally.unsent.append((claim.vendor_order_id, str(exc)))
            failures_in_a_row += 1
            if failures_in_a_row >= FAILURES_BEFORE_GIVING_UP_ON_VENDOR:
                _release(engine, rest[position + 1:], holder=holder, now=clock.now(), error=None,
                         checks_by_lookup=channel.checks_by_lookup)
                return str(exc)
            continue
        crash_point("dispatch.after_send")
        failures_in_a_row = 0
        tally.count(outcome)
        if isinstance(channel, FileChannel):
            sent_files.append(claim)
            continue
        _record(engine, claim, outcome, holder=holder, now=clock.now(), ack_due_at=None)
        if outcome.state == "rejected":
            tally.problems.append(f"{claim.vendor_order_id}: rejected by {vendor.code}: {outcome.reason}")
    return failures_in_a_row


def _unsent_line(vendor_code: str, unsent: list[tuple[str, str]]) -> str:
    """``vendor ACME: 2 vendor orders not sent (TB1-ACME, TB2-ACME), left for the next run: <last error>``."""
    names = ", ".join(vendor_order_id for vendor_order_id, _ in unsent[:5])
    more = f" and {len(unsent) - 5} more" if len(unsent) > 5 else ""
    plural = "s" if len(unsent) != 1 else ""
    return (f"vendor {vendor_code}: {len(unsent)} vendor order{plural} not sent ({names}{more}), left for the next "
            f"run: {unsent[-1][1]}")


def _record_sent_files(engine: Engine, claims: list[Claim], *, holder: str, now: datetime,
                       ack_due_at: datetime | None) -> None:
    """One transaction for a batch of uploaded files: each still under our claim becomes ``sent``."""
    if not claims:
        return
    with session_factory(engine)() as session, session.begin():
        session.execute(update(VendorOrder).where(
            VendorOrder.id.in_([claim.vendor_order_id for claim in claims]), VendorOrder.claimed_by == holder,
        ).values(state=VendorOrderState.SENT, claimed_by=None, claimed_until=None, last_error=None,
                 next_attempt_at=None, sent_at=now, updated_at=now, ack_due_at=ack_due_at))


def _send_with_retries(channel: Channel, po: PurchaseOrder, claim: Claim) -> SendOutcome:
    """Send with retries. Once an outcome is unknown, every retry looks first; if even that fails, the order
    goes to needs_reconcile (for channels that must look before re-sending) instead of back to pending."""
    unknown = claim.reconcile
    try:
        for attempt in attempts():
            with attempt:
                try:
                    return channel.send(po, reconcile=unknown)
                except OutcomeUnknown:
                    unknown = True
                    raise
    except RemoteUnavailable as exc:
        if unknown and channel.checks_by_lookup and not isinstance(exc, OutcomeUnknown):
            raise OutcomeUnknown(f"{exc}; an earlier send may have reached the vendor") from exc
        raise
    raise AssertionError("unreachable: the retry loop returns or raises")  # pragma: no cover


def _mine(claim: Claim, holder: str) -> ColumnElement[bool]:
    return and_(VendorOrder.id == claim.vendor_order_id, VendorOrder.claimed_by == holder)


def _record(engine: Engine, claim: Claim, outcome: SendOutcome, *, holder: str, now: datetime,
            ack_due_at: datetime | None) -> None:
    state = VendorOrderState(outcome.state)
    values: dict[str, object] = {"state": state, "claimed_by": None, "claimed_until": None, "last_error": None,
                                 "next_attempt_at": None, "sent_at": now, "updated_at": now,
                                 "vendor_reference": outcome.vendor_reference, "ack_due_at": ack_due_at}
    if state == VendorOrderState.ACCEPTED:
        values["acknowledged_at"] = now
    if state == VendorOrderState.REJECTED:
        values |= {"rejected_at": now, "rejection_reason": outcome.reason, "rejection_code": outcome.code}
    with session_factory(engine)() as session, session.begin():
        result = session.execute(update(VendorOrder).where(_mine(claim, holder)).values(**values))
        changed = cast("CursorResult[Any]", result).rowcount
        if changed and state in (VendorOrderState.ACCEPTED, VendorOrderState.REJECTED):
            line_state = LineState.ACCEPTED if state == VendorOrderState.ACCEPTED else LineState.REJECTED
            line_values: dict[str, object] = {"state": line_state}
            if state == VendorOrderState.ACCEPTED:
                line_values["qty_accepted"] = VendorOrderLine.qty
            else:
                line_values |= {"qty_rejected": VendorOrderLine.qty, "reason": outcome.reason,
                                "reason_code": outcome.code}
            session.execute(update(VendorOrderLine).where(
                VendorOrderLine.vendor_order_id == claim.vendor_order_id,
                VendorOrderLine.state == LineState.PENDING).values(**line_values))


def _record_unknown(engine: Engine, claim: Claim, *, holder: str, now: datetime, error: str) -> None:
    """The vendor may have the order: later runs look it up (never re-create it blindly)."""
    with session_factory(engine)() as session, session.begin():
        session.execute(update(VendorOrder).where(_mine(claim, holder)).values(
            state=VendorOrderState.NEEDS_RECONCILE, claimed_by=None, claimed_until=None, last_error=error,
            next_attempt_at=now + retry_delay(1), updated_at=now))


def _release(engine: Engine, claims: list[Claim], *, holder: str, now: datetime, error: str | None,
             checks_by_lookup: bool) -> None:
    """Give claims back for a later run. With an error the attempt counts; without, it was never tried.

    A claim whose earlier send may have arrived stays in needs_reconcile when the vendor must be asked first.
    """
    if not claims:
        return
    values: dict[str, object] = {"claimed_by": None, "claimed_until": None, "updated_at": now}
    if error is None:
        values["attempts"] = VendorOrder.attempts - 1
    else:
        values |= {"last_error": error, "next_attempt_at": now + retry_delay(1)}
    with session_factory(engine)() as session, session.begin():
        for unknown in (False, True):
            ids = [claim.vendor_order_id for claim in claims if (claim.reconcile and checks_by_lookup) == unknown]
            if ids:
                session.execute(update(VendorOrder).where(
                    VendorOrder.id.in_(ids), VendorOrder.claimed_by == holder,
                ).values(state=VendorOrderState.NEEDS_RECONCILE if unknown else VendorOrderState.PENDING, **values))


def _vendor_failed(engine: Engine, *, vendor: VendorSettings, key: str, now: datetime, error: str,
                   tally: DispatchTally, record_on_orders: bool = True) -> None:
    """The vendor could not be served: one line, a breaker failure, and the error kept on its due orders."""
    tally.vendors_failed.append(vendor.code)
    tally.problems.append(vendor_line(vendor.code, error))
    with session_factory(engine)() as session, session.begin():
        if record_on_orders:
            session.execute(update(VendorOrder).where(
                VendorOrder.vendor_code == vendor.code, VendorOrder.state == VendorOrderState.PENDING,
                or_(VendorOrder.next_attempt_at.is_(None), VendorOrder.next_attempt_at <= now),
            ).values(attempts=VendorOrder.attempts + 1, last_error=error, last_attempt_at=now, updated_at=now))
        record_failure(session, key, now, error)
