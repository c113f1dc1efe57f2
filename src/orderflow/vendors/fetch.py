"""``orderflow fetch``: bring back what vendors say, each file exactly once.

Files (local folders, SFTP): every file in the vendor's outbound folder that has stopped growing is read,
fingerprinted (vendor + SHA-256), parsed by the vendor's configured format (X12 855/856/846, CSV
acks/tracking/inventory, Printful webhook JSON; a file of another shape is refused, saying what it is) and
applied in ONE transaction together with its ledger row; only after that commit is it moved to ``archive/``
(or deleted). A crash before the commit leaves the file to be read again; a crash after it leaves a ledgered
file that the next run only moves. The same content under another name is a no-op. A file that cannot be read
at all goes to ``rejected/`` with its reason in the ledger; a file with some bad records keeps the good ones and
names the bad ones.

APIs (Printful): open vendor orders are looked up by our id, least recently looked first, up to
``poll_limit`` per run, and their status and parcels applied the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from orderflow.breaker import pause_notice, record_failure, record_success
from orderflow.clock import Clock
from orderflow.config import LimitSettings, Settings, VendorSettings
from orderflow.crashpoints import crash_point
from orderflow.db.engine import reader, session_factory
from orderflow.db.ledger import ledger_entry, taken
from orderflow.db.models import IngestedFile, LineState, VendorOrder, VendorOrderState
from orderflow.errors import ConfigError, ExitCode, InputError, OrderflowError, Refusal, RemoteRejected, refusal_lines
from orderflow.jobs import WorkResult, time_is_up
from orderflow.tokens import safe_token
from orderflow.vendors.channels import default_http_client, file_transport, printful_client, vendor_line
from orderflow.vendors.feedback import Feedback, FeedbackResult
from orderflow.vendors.formats.catalogue import FORMATS, VendorFile, content_shape, printful_feedback
from orderflow.vendors.records import ParsedVendorFile
from orderflow.vendors.transports.base import FileTransport, RemoteFile

if TYPE_CHECKING:
    import httpx

    from orderflow.vendors.printful import PrintfulOrderState

POLLED_STATES = (VendorOrderState.SENT, VendorOrderState.ACCEPTED, VendorOrderState.ON_HOLD,
                 VendorOrderState.PARTIALLY_SHIPPED)


@dataclass
class FetchTally:
    files: int = 0
    duplicates: int = 0
    files_refused: int = 0
    retry_refused: bool = False
    """Move each vendor's rejected files back to be read again before taking its files."""
    restored: int = 0
    files_left: int = 0
    """Files left in the vendor's folder: unreadable, or taken in but not put away (997, archive)."""
    polled: int = 0
    feedback: FeedbackResult = field(default_factory=FeedbackResult)
    vendors_failed: list[str] = field(default_factory=list)
    vendors_misconfigured: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class FetchIO:
    """What fetch reaches out with; tests and the demo point these at local servers."""

    http_client: Callable[[VendorSettings], httpx.Client] | None = None
    file_transport: Callable[[VendorSettings, Settings], FileTransport] = file_transport


def fetch(*, engine: Engine, settings: Settings, clock: Clock, vendor: str | None = None,
          io: FetchIO | None = None, retry_refused: bool = False) -> WorkResult:
    """Fetch from every vendor (or one). Exit 4 when a vendor file was refused, 6 when a vendor failed, 3 when a
    vendor's set-up is wrong (a secret not set): the other vendors are fetched all the same.

    ``retry_refused`` first moves the vendor's files from ``rejected/`` back to be read again (once the cause of
    their refusal is fixed); the ledger remembers a refusal as a refusal, so the same bytes are read afresh.
    """
    tally = FetchTally(retry_refused=retry_refused)
    for configured in [settings.vendor(vendor)] if vendor else list(settings.vendors):
        if time_is_up():
            break
        _fetch_vendor(engine=engine, settings=settings, vendor=configured, clock=clock, io=io or FetchIO(),
                      tally=tally)
    feedback = tally.feedback
    problems = tally.problems + refusal_lines(feedback.refusals, settings.limits.refusals_listed) + \
        feedback.problems
    code = ExitCode.CONFIG if tally.vendors_misconfigured else \
        ExitCode.PARTIAL_FAILURE if tally.vendors_failed or tally.files_left else \
        ExitCode.INPUT_REFUSED if feedback.refusals or tally.files_refused else ExitCode.OK
    return WorkResult(
        counts={"files": tally.files, "duplicates": tally.duplicates, "files_refused": tally.files_refused,
                "files_left": tally.files_left, "restored": tally.restored, "polled": tally.polled,
                "acknowledgements": feedback.acknowledgements,
                "shipments_added": feedback.shipments_added, "lines_rejected": feedback.lines_rejected,
                "lines_backordered": feedback.lines_backordered, "stock_levels": feedback.stock_levels,
                "records_refused": len(feedback.refusals)},
        problems=problems, exit_code=code, detail=tally)


def _fetch_vendor(*, engine: Engine, settings: Settings, vendor: VendorSettings, clock: Clock, io: FetchIO,
                  tally: FetchTally) -> None:
    # Not dispatch's breaker: a vendor whose files we cannot take must still get its purchase orders.
    key = f"vendor-inbound:{vendor.code}"
    with session_factory(engine)() as session:
        paused = pause_notice(session, key, clock.now(), f"fetching from vendor {vendor.code}")
    if paused:
        tally.vendors_failed.append(vendor.code)
        tally.problems.append(paused)
        return
    try:
        if vendor.transport in ("local", "sftp"):
            with io.file_transport(vendor, settings) as transport:
                _take_files(engine=engine, vendor=vendor, transport=transport, clock=clock,
                            limits=settings.limits, tally=tally)
        elif vendor.format == "printful":
            if vendor.path:  # Printful webhook deliveries dropped as JSON files in a local folder
                with io.file_transport(vendor.model_copy(update={"transport": "local"}), settings) as transport:
                    _take_files(engine=engine, vendor=vendor, transport=transport, clock=clock,
                                limits=settings.limits, tally=tally)
            _poll_printful(engine=engine, settings=settings, vendor=vendor, clock=clock, io=io, tally=tally)
    except OrderflowError as exc:  # unreachable, refused us, or set up wrongly: this vendor only
        if isinstance(exc, ConfigError):  # a secret not set, a key file missing: ours to fix, so exit 3
            tally.vendors_misconfigured.append(vendor.code)
        tally.vendors_failed.append(vendor.code)
        tally.problems.append(vendor_line(vendor.code, str(exc)))
        with session_factory(engine)() as session, session.begin():
            record_failure(session, key, clock.now(), str(exc))
        return
    with session_factory(engine)() as session, session.begin():
        record_success(session, key, clock.now())


# --- files -------------------------------------------------------------------------------------------------

def _settled(engine: Engine, vendor: VendorSettings, listed: list[RemoteFile], clock: Clock,
             tally: FetchTally) -> list[RemoteFile]:
    """The files the vendor has finished writing, by what its server shows across our looks."""
    from orderflow.vendors.settling import settled_files

    with session_factory(engine)() as session, session.begin():
        ready, problems = settled_files(session, vendor_code=vendor.code, listed=listed, now=clock.now(),
                                        settle_seconds=vendor.settle_seconds)
    tally.problems += problems
    return ready


def _take_files(*, engine: Engine, vendor: VendorSettings, transport: FileTransport, clock: Clock,
                limits: LimitSettings, tally: FetchTally) -> None:
    if tally.retry_refused:
        tally.restored += len(transport.restore_rejected())
    for remote in _settled(engine, vendor, list(transport.list_inbound()), clock, tally):
        if time_is_up():
            break
        if remote.size > limits.file_bytes:
            refused_whole = _refuse_unread(engine, vendor, remote, limits=limits, now=clock.now(), tally=tally)
            data = b""
        else:
            try:
                data = transport.read(remote.name)
            except RemoteRejected as exc:  # this file only (gone meanwhile, not ours to read): the others go on
                tally.files_left += 1
                tally.problems.append(str(exc))
                continue
            if len(data) != remote.size:
                continue  # it grew while we read it: next run
            refused_whole = _ingest(engine=engine, vendor=vendor, name=remote.name, data=data, clock=clock,
                                    limits=limits, tally=tally)
        crash_point("fetch.after_ingest_commit")
        try:
            if vendor.format == "x12" and vendor.x12.send_997 and not refused_whole:
                _acknowledge_x12(engine, vendor, transport, name=remote.name, data=data, now=clock.now())
            if refused_whole:
                transport.reject(remote.name)
            elif vendor.after_ingest == "delete":
                transport.delete(remote.name)
            else:
                transport.archive(remote.name)
        except OrderflowError as exc:
            # Its changes and its ledger row are committed: the next run finds a copy it only tries to move.
            tally.files_left += 1
            tally.problems.append(f"{exc} ({vendor.code}:{remote.name} is taken in; putting it away is left "
                                  "for the next run)")


def _ingest(*, engine: Engine, vendor: VendorSettings, name: str, data: bytes, clock: Clock,
            limits: LimitSettings, tally: FetchTally) -> bool:
    """Read, then apply and ledger one file in one transaction. Returns whether it was refused whole."""
    now = clock.now()
    file = f"{vendor.code}:{name}"
    origin, digest = f"vendor:{vendor.code}", hashlib.sha256(data).hexdigest()
    with session_factory(reader(engine))() as session:
        if taken(session, origin=origin, digest=digest):
            tally.duplicates += 1
            return False
    # Read before the write transaction begins: on SQLite it holds every other writer (an import, an ack) off.
    try:
        read: VendorFile | InputError = _within_limits(parse_vendor_file(data, file=file, vendor=vendor), file,
                                                       limits)
    except InputError as exc:
        read = exc
    with session_factory(engine)() as session, session.begin():
        ledger = ledger_entry(session, origin=origin, path=name, size=len(data), digest=digest, kind="unknown",
                              now=now)
        if ledger is None:
            tally.duplicates += 1
            return False
        tally.files += 1
        if isinstance(read, InputError):
            _refused(ledger, read, tally)
            return True
        parsed = read.parsed
        applied = Feedback(session=session, vendor_code=vendor.code, now=now, file=file).apply(
            acks=parsed.acks, ship_notices=parsed.ship_notices, stock=parsed.stock)
        if read.printful is not None:
            vendor_order = session.get(VendorOrder, read.printful.vendor_order_id)
            if vendor_order is not None and vendor_order.vendor_code == vendor.code:
                _apply_hold_and_cancel(vendor_order, read.printful, now, tally)
        records = len(parsed.acks) + len(parsed.ship_notices) + len(parsed.stock)
        ledger.rows_ok = max(0, records - len(applied.refusals))  # one record may be refused for several reasons
        applied.refusals = parsed.refusals + applied.refusals
        ledger.kind = read.kind
        ledger.rows_refused = len(applied.refusals)
        ledger.refusals = [_refusal_json(refusal) for refusal in applied.refusals[:limits.refusals_listed]]
        tally.feedback.add(applied)
    return False


def _within_limits(read: VendorFile, file: str, limits: LimitSettings) -> VendorFile:
    parsed = read.parsed
    records = len(parsed.acks) + len(parsed.ship_notices) + len(parsed.stock) + len(parsed.refusals)
    if records > limits.file_rows:
        raise InputError(f"{records} records, more than limits.file_rows ({limits.file_rows}) allows in one file; "
                         "ask the vendor to split it, or raise the limit", file=file)
    return read


def _refuse_unread(engine: Engine, vendor: VendorSettings, remote: RemoteFile, *, limits: LimitSettings,
                   now: datetime, tally: FetchTally) -> bool:
    """A file over ``limits.file_bytes`` is refused without being read; its ledger row is keyed by its name, size
    and time (the content is never hashed), so the same file is one refusal. Returns whether it was refused."""
    error = InputError(f"{remote.size} bytes, more than limits.file_bytes ({limits.file_bytes}) allows; ask the "
                       "vendor to split it, or raise the limit", file=f"{vendor.code}:{remote.name}")
    unread = f"unread:{remote.name}:{remote.size}:{remote.modified_at.isoformat()}"
    with session_factory(engine)() as session, session.begin():
        ledger = ledger_entry(session, origin=f"vendor:{vendor.code}", path=remote.name, size=remote.size,
                              digest=hashlib.sha256(unread.encode()).hexdigest(), kind="unknown", now=now)
        if ledger is None:
            return False
        tally.files += 1
        _refused(ledger, error, tally)
    return True


def _refused(ledger: IngestedFile, error: InputError, tally: FetchTally) -> None:
    ledger.kind, ledger.error, ledger.rows_refused = "refused", str(error), 1
    ledger.refusals = [_refusal_json(error.refusal)]
    tally.files_refused += 1
    tally.problems.append(str(error))


def _acknowledge_x12(engine: Engine, vendor: VendorSettings, transport: FileTransport, *, name: str, data: bytes,
                     now: datetime) -> None:
    """A 997 for each functional group we read, uploaded for the vendor as ``997_<their control number>.edi``.

    The name is deterministic, so a re-run after a crash replaces rather than adds an acknowledgement."""
    from orderflow.vendors.control_numbers import next_control_number
    from orderflow.vendors.formats.x12 import read_interchanges, render_997

    ids = vendor.x12
    for interchange in read_interchanges(data, file=name):
        for group in interchange.groups:
            number = next_control_number(engine, vendor.code)
            document = render_997(group, sender_id=ids.sender_id, sender_qualifier=ids.sender_qualifier,
                                  receiver_id=interchange.sender_id, receiver_qualifier=interchange.sender_qualifier,
                                  interchange_control=number, group_control=number, now=now, usage=ids.usage)
            parts = (interchange.sender_id, interchange.control, group.control)
            transport.upload(f"997_{'_'.join(safe_token(str(part)) for part in parts)}.edi", document.encode())


def parse_vendor_file(data: bytes, *, file: str, vendor: VendorSettings) -> VendorFile:
    """Read one file from ``vendor`` by the format its configuration names, never by guessing from the content.

    A file that does not have its format's shape (a JSON file from a CSV vendor) is refused whole, saying what it
    is, rather than read as some other format.
    """
    fmt = FORMATS[vendor.format]
    if fmt.reader is None:
        raise InputError(f"vendor {vendor.code}'s format {fmt.name!r} has no files to read ({fmt.files})", file=file)
    if not fmt.recognises(data):
        raise InputError(f"vendor {vendor.code}'s format is {fmt.name!r}, {fmt.files}, but this file is "
                         f"{content_shape(data)}; it is not read as another format", file=file)
    return fmt.reader(data, file, vendor)


def _refusal_json(refusal: Refusal) -> dict[str, object]:
    return {"file": refusal.file, "line": refusal.line, "field": refusal.field, "reason": refusal.reason}


# --- Printful polling --------------------------------------------------------------------------------------

def _poll_printful(*, engine: Engine, settings: Settings, vendor: VendorSettings, clock: Clock, io: FetchIO,
                   tally: FetchTally) -> None:
    from orderflow.vendors.printful import parse_order_status

    with session_factory(engine)() as session:
        due = list(session.scalars(
            select(VendorOrder.id).where(VendorOrder.vendor_code == vendor.code, VendorOrder.state.in_(POLLED_STATES))
            .order_by(VendorOrder.last_polled_at.asc().nulls_first(), VendorOrder.id).limit(vendor.poll_limit)))
    if not due:
        return
    http = (io.http_client or default_http_client)(vendor)
    try:
        client = printful_client(vendor, http, settings)
        for vendor_order_id in due:
            if time_is_up():
                break
            answer = client.get_order(vendor_order_id)
            if answer.outcome == "unauthorized":
                raise RemoteRejected(f"printful: not authorised ({answer.reason or 'check the token'})")
            if answer.outcome != "found" or answer.order is None:
                tally.problems.append(f"{vendor_order_id}: Printful lookup: {answer.outcome} {answer.reason}".strip())
                continue
            state = parse_order_status(answer.order, source_ref=f"printful:{answer.printful_id}")
            _apply_printful_state(engine, vendor, state, clock.now(), tally)
            tally.polled += 1
    finally:
        http.close()


def _apply_printful_state(engine: Engine, vendor: VendorSettings, state: PrintfulOrderState, now: datetime,
                          tally: FetchTally) -> None:
    with session_factory(engine)() as session, session.begin():
        parsed = printful_feedback(state, ParsedVendorFile())
        tally.feedback.add(Feedback(session=session, vendor_code=vendor.code, now=now,
                                    file=f"printful:{state.vendor_order_id}").apply(
            acks=parsed.acks, ship_notices=parsed.ship_notices))
        vendor_order = session.get(VendorOrder, state.vendor_order_id)
        if vendor_order is None:
            return
        vendor_order.last_polled_at = now
        _apply_hold_and_cancel(vendor_order, state, now, tally)


def _apply_hold_and_cancel(vendor_order: VendorOrder, state: PrintfulOrderState, now: datetime,
                           tally: FetchTally) -> None:
    """States an acknowledgement cannot say: on hold (with the reason), and cancelled at the vendor."""
    if state.vendor_order_state == "on_hold" and vendor_order.state in (VendorOrderState.SENT,
                                                                          VendorOrderState.ACCEPTED):
        vendor_order.state, vendor_order.hold_reason, vendor_order.updated_at = \
            VendorOrderState.ON_HOLD, state.reason or "on hold at Printful", now
    elif state.vendor_order_state == "accepted" and vendor_order.state == VendorOrderState.ON_HOLD:
        vendor_order.state, vendor_order.hold_reason, vendor_order.updated_at = VendorOrderState.ACCEPTED, None, now
    elif state.vendor_order_state == "cancelled" and vendor_order.state != VendorOrderState.CANCELLED:
        if vendor_order.cancel_requested_at is None:
            tally.problems.append(f"{vendor_order.id}: cancelled at Printful without our request")
        vendor_order.cancel_confirmed_at = now
        vendor_order.state, vendor_order.updated_at = VendorOrderState.CANCELLED, now
        for line in vendor_order.lines:
            if line.state not in (LineState.SHIPPED, LineState.DELIVERED):
                line.state = LineState.CANCELLED
