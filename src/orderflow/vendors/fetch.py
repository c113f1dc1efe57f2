"""``orderflow fetch``: bring back what vendors say, each file exactly once.

Files (local folders, SFTP): every file in the vendor's outbound folder that has stopped growing is read,
fingerprinted (vendor + SHA-256), parsed by the vendor's configured format (X12 855/856/846, CSV
acks/tracking/inventory, Printful webhook JSON; a file of another shape is refused, saying what it is) and
applied together with its ledger row: a batch of files shares one transaction and its changes are written
together; should that fail, the batch is applied again with each file under a savepoint of its own, so a file
whose applying fails rolls back alone. Only after that commit are the files moved to
``archive/`` (or deleted). A crash before the commit leaves the batch's files to be read again; a crash after
it leaves ledgered files that the next run only moves. The same content under another name is a no-op. A file
that cannot be read at all goes to ``rejected/`` with its reason in the ledger; a file with some bad records
keeps the good ones and names the bad ones.

APIs (Printful): open vendor orders are looked up by our id, least recently looked first, up to
``poll_limit`` per run, and their status and parcels applied the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.orm import Session

from orderflow.breaker import pause_notice, record_failure, record_success
from orderflow.clock import Clock
from orderflow.config import LimitSettings, Settings, VendorSettings
from orderflow.crashpoints import crash_point
from orderflow.db.bulk import table_of
from orderflow.db.engine import reader, session_factory
from orderflow.db.ledger import ledger_entries, ledger_entry, taken
from orderflow.db.models import IngestedFile, LineState, VendorOrder, VendorOrderState
from orderflow.errors import ConfigError, ExitCode, InputError, OrderflowError, Refusal, RemoteRejected, refusal_lines
from orderflow.jobs import WorkResult, time_is_up
from orderflow.orders.lifecycle import roll_up
from orderflow.tokens import safe_token
from orderflow.vendors.channels import default_http_client, file_transport, printful_client, vendor_line
from orderflow.vendors.feedback import Feedback, FeedbackResult, vendor_order_ids
from orderflow.vendors.formats.catalogue import FORMATS, VendorFile, content_shape, printful_feedback
from orderflow.vendors.records import ParsedVendorFile
from orderflow.vendors.transports.base import FileTransport, RemoteFile

if TYPE_CHECKING:
    import httpx

    from orderflow.vendors.printful import PrintfulOrderState

POLLED_STATES = (VendorOrderState.SENT, VendorOrderState.ACCEPTED, VendorOrderState.ON_HOLD,
                 VendorOrderState.PARTIALLY_SHIPPED)
BATCH_FILES = 50
"""Files applied in one transaction, their changes written together: a transaction per file cost more than the
file's own changes. Few enough that, on SQLite, another writer waits a moment, not its busy timeout."""
BATCH_BYTES = 1 << 20
"""And about this many bytes of them: a big file goes alone, or with few others."""


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
    ready = _settled(engine, vendor, list(transport.list_inbound()), clock, tally)
    for batch in _downloads(vendor, transport, ready, limits=limits, tally=tally):
        failure = _ingest(engine=engine, vendor=vendor, batch=batch, clock=clock, limits=limits, tally=tally)
        crash_point("fetch.after_ingest_commit")
        _put_away_batch(engine, vendor, transport, [arrival for arrival in batch if arrival.outcome is not None],
                        now=clock.now(), tally=tally)
        if failure is not None:
            raise failure


Outcome = Literal["applied", "copy", "refused"]


@dataclass
class _Arrival:
    """One file taken from the vendor's folder, on its way through one batch."""

    remote: RemoteFile
    data: bytes
    digest: str
    unread: bool = False
    """Over ``limits.file_bytes``: refused without being read (its digest is of its name, size and time)."""
    read: VendorFile | InputError | None = None
    outcome: Outcome | None = None
    """What its batch's commit made of it; ``None``: nothing, it stays where it is."""


def _downloads(vendor: VendorSettings, transport: FileTransport, ready: list[RemoteFile], *, limits: LimitSettings,
               tally: FetchTally) -> Iterator[list[_Arrival]]:
    """The settled files, read in batches of up to :data:`BATCH_FILES` (and about :data:`BATCH_BYTES`). The
    deadline is asked before each file: once it has passed, what was read is still given as a last batch."""
    batch: list[_Arrival] = []
    size = 0
    for remote in ready:
        if time_is_up():
            break
        if batch and (len(batch) >= BATCH_FILES or size + remote.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        if remote.size > limits.file_bytes:
            unread = f"unread:{remote.name}:{remote.size}:{remote.modified_at.isoformat()}"
            batch.append(_Arrival(remote, b"", hashlib.sha256(unread.encode()).hexdigest(), unread=True))
            continue
        try:
            data = transport.read(remote.name)
        except RemoteRejected as exc:  # this file only (gone meanwhile, not ours to read): the others go on
            tally.files_left += 1
            tally.problems.append(str(exc))
            continue
        if len(data) != remote.size:
            continue  # it grew while we read it: next run
        batch.append(_Arrival(remote, data, hashlib.sha256(data).hexdigest()))
        size += len(data)
    if batch:
        yield batch


def _ingest(*, engine: Engine, vendor: VendorSettings, batch: list[_Arrival], clock: Clock, limits: LimitSettings,
            tally: FetchTally) -> BaseException | None:
    """Apply and ledger a batch of files in one transaction: a file's ledger row and its changes are committed
    together or not at all. Sets each file's outcome once committed.

    The files' changes are written together, a few statements for the batch. Should anything fail, the batch is
    applied again with each file under a savepoint of its own: the file whose applying raises rolls back alone,
    the files before it are committed and the error is returned for the caller to raise once those are put away
    (the files after it are left for the next run)."""
    now = clock.now()
    origin = f"vendor:{vendor.code}"
    with session_factory(reader(engine))() as session:
        applied_before = taken(session, origin=origin, digests=[each.digest for each in batch if not each.unread])
    for arrival in batch:
        if arrival.digest in applied_before:
            arrival.outcome = "copy"
        elif not arrival.unread:
            # Read before the write transaction begins: on SQLite it holds every other writer (an import, an
            # ack) off.
            arrival.read = _read(arrival, vendor, limits)
    fresh = [arrival for arrival in batch if arrival.outcome is None]
    failure: BaseException | None = None
    results: list[tuple[_Arrival, Outcome, _Applied | None]] = []
    if fresh:
        try:
            with session_factory(engine)() as session, session.begin():
                results, _ = _apply_batch(session, vendor, fresh, origin=origin, now=now, limits=limits,
                                          together=True)
        except Exception:  # one of the files: find it, keeping the files before it
            with session_factory(engine)() as session, session.begin():
                results, failure = _apply_batch(session, vendor, fresh, origin=origin, now=now, limits=limits,
                                                together=False)
        # Committed: now, and only now, is each file taken.
        for arrival, outcome, _ in results:
            arrival.outcome = outcome
    for arrival in batch:
        if arrival.outcome == "copy" and arrival.digest in applied_before:
            tally.duplicates += 1
    for arrival, _, applied in results:
        _count(arrival, applied, tally)
    return failure


def _apply_batch(session: Session, vendor: VendorSettings, fresh: list[_Arrival], *, origin: str, now: datetime,
                 limits: LimitSettings, together: bool,
                 ) -> tuple[list[tuple[_Arrival, Outcome, _Applied | None]], BaseException | None]:
    """Apply the batch's files in the caller's transaction: ``together``, their changes written at the end (an
    error is raised); otherwise each file under a savepoint, stopping at the first that fails (its error is
    returned with what the files before it came to)."""
    known = ledger_entries(session, origin=origin, digests=[arrival.digest for arrival in fresh])
    # What every file of the batch will look up, read for all of them at once.
    shared = Feedback(session=session, vendor_code=vendor.code, now=now, file="", deferred=together)
    shared.load_vendor_orders(set().union(*(_vendor_orders_named(arrival.read) for arrival in fresh)))
    shared.load_parcel_owners(notice for arrival in fresh if isinstance(arrival.read, VendorFile)
                              for notice in arrival.read.parsed.ship_notices)
    results: list[tuple[_Arrival, Outcome, _Applied | None]] = []
    failure: BaseException | None = None
    waiting: set[str] = set()  # vendor orders applied to, their orders not yet rolled up
    for arrival in fresh:
        if waiting & _vendor_orders_named(arrival.read):
            # A file about a vendor order an earlier file of the batch reached sees it rolled up first, as it
            # would in a transaction of its own.
            shared.write()
            roll_up(session=session, vendor_order_ids=waiting, now=now)
            shared.forget(waiting)
            waiting = set()
        try:
            with contextlib.nullcontext() if together else session.begin_nested():
                outcome, applied = _apply(session, vendor, arrival, origin=origin, now=now, known=known,
                                          shared=shared, limits=limits)
        except Exception as exc:
            if together:
                raise
            shared.discard()  # what the file changed in memory went with its savepoint
            failure = exc
            break
        results.append((arrival, outcome, applied))
        if applied is not None:
            waiting |= applied.touched
    if together:
        _insert_ledger_rows(session, list(known.values()))
    shared.write()
    roll_up(session=session, vendor_order_ids=waiting, now=now)
    return results, failure


def _insert_ledger_rows(session: Session, entries: list[IngestedFile]) -> None:
    """The batch's new ledger rows in one statement, in the files' order: the ORM would insert each alone to
    learn its id, which nothing here needs."""
    new = [entry for entry in entries if inspect(entry).pending]
    if not new:
        return
    table = table_of(IngestedFile)
    rows = [{column.key: getattr(entry, column.key) for column in table.columns if column.key != "id"}
            for entry in new]
    for entry in new:
        session.expunge(entry)
    session.execute(insert(table), rows)


def _read(arrival: _Arrival, vendor: VendorSettings, limits: LimitSettings) -> VendorFile | InputError:
    file = f"{vendor.code}:{arrival.remote.name}"
    try:
        return _within_limits(parse_vendor_file(arrival.data, file=file, vendor=vendor), file, limits)
    except InputError as exc:
        return exc


def _vendor_orders_named(read: VendorFile | InputError | None) -> set[str]:
    if not isinstance(read, VendorFile):
        return set()
    named = vendor_order_ids(read.parsed.acks, read.parsed.ship_notices)
    return named | {read.printful.vendor_order_id} if read.printful is not None else named


@dataclass
class _Applied:
    """What applying one file did, counted once its batch is committed."""

    feedback: FeedbackResult
    touched: set[str]
    problems: list[str] = field(default_factory=list)


def _apply(session: Session, vendor: VendorSettings, arrival: _Arrival, *, origin: str, now: datetime,
           known: dict[str, IngestedFile], shared: Feedback, limits: LimitSettings) -> tuple[Outcome, _Applied | None]:
    """Apply and ledger one file inside the batch's transaction: what it comes to, and what applying it did.
    ``shared``: the vendor orders and parcels the batch's files read, for this file to look up in."""
    remote = arrival.remote
    file = f"{vendor.code}:{remote.name}"
    ledger = ledger_entry(session, origin=origin, path=remote.name, size=remote.size, digest=arrival.digest,
                          kind="unknown", now=now, known=known)
    if ledger is None:  # the same content twice in one batch
        return "copy", None
    read = arrival.read
    if not isinstance(read, VendorFile):
        error = read if isinstance(read, InputError) else InputError(
            f"{remote.size} bytes, more than limits.file_bytes ({limits.file_bytes}) allows; ask the vendor to "
            "split it, or raise the limit", file=file)
        _refused(ledger, error)
        arrival.read = error
        return "refused", None
    parsed = read.parsed
    feedback = shared.for_file(file)
    applied = _Applied(feedback.apply_records(acks=parsed.acks, ship_notices=parsed.ship_notices, stock=parsed.stock),
                       feedback.touched)
    if read.printful is not None:
        # Rolled up before a hold or cancellation is applied, as the webhook's records always were.
        feedback.roll_up()
        applied.touched = set()
        vendor_order = session.get(VendorOrder, read.printful.vendor_order_id)
        if vendor_order is not None and vendor_order.vendor_code == vendor.code:
            _apply_hold_and_cancel(vendor_order, read.printful, now, applied.problems)
            session.flush()  # before a later file's writes to the vendor order expire the object holding these
            shared.forget([vendor_order.id])
    records = len(parsed.acks) + len(parsed.ship_notices) + len(parsed.stock)
    ledger.rows_ok = max(0, records - len(applied.feedback.refusals))  # one record may be refused for several
    applied.feedback.refusals = parsed.refusals + applied.feedback.refusals
    ledger.kind = read.kind
    ledger.rows_refused = len(applied.feedback.refusals)
    ledger.refusals = [_refusal_json(refusal) for refusal in applied.feedback.refusals[:limits.refusals_listed]]
    if not shared.deferred:
        session.flush()  # inside the file's savepoint
    return "applied", applied


def _count(arrival: _Arrival, applied: _Applied | None, tally: FetchTally) -> None:
    if arrival.outcome == "copy":  # the same content twice in one batch
        tally.duplicates += 1
        return
    tally.files += 1
    if arrival.outcome == "refused":
        tally.files_refused += 1
        tally.problems.append(str(arrival.read))
    if applied is not None:
        tally.feedback.add(applied.feedback)
        tally.problems += applied.problems


def _put_away_batch(engine: Engine, vendor: VendorSettings, transport: FileTransport, taken: list[_Arrival], *,
                    now: datetime, tally: FetchTally) -> None:
    """Move the files a batch committed out of the vendor's folder: the plainly archived ones all at once."""
    plain = vendor.after_ingest != "delete" and not (vendor.format == "x12" and vendor.x12.send_997)
    archived: list[str] = []
    for arrival in taken:
        if plain and arrival.outcome != "refused":
            archived.append(arrival.remote.name)
        else:
            _put_away(engine, vendor, transport, arrival, now=now, tally=tally)
    try:
        failures = transport.archive_many(archived)
    except OrderflowError as exc:  # the connection went: every one of them is left
        failures = dict.fromkeys(archived, exc)
    for name, problem in failures.items():
        _left(vendor, name, problem, tally)


def _left(vendor: VendorSettings, name: str, exc: OrderflowError, tally: FetchTally) -> None:
    # Its changes and its ledger row are committed: the next run finds a copy it only tries to move.
    tally.files_left += 1
    tally.problems.append(f"{exc} ({vendor.code}:{name} is taken in; putting it away is left for the next run)")


def _put_away(engine: Engine, vendor: VendorSettings, transport: FileTransport, arrival: _Arrival, *,
              now: datetime, tally: FetchTally) -> None:
    """Move a file its batch committed out of the vendor's folder (997 first, for an X12 vendor that wants one)."""
    name = arrival.remote.name
    try:
        if vendor.format == "x12" and vendor.x12.send_997 and arrival.outcome != "refused":
            _acknowledge_x12(engine, vendor, transport, name=name, data=arrival.data, now=now)
        if arrival.outcome == "refused":
            transport.reject(name)
        elif vendor.after_ingest == "delete":
            transport.delete(name)
        else:
            transport.archive(name)
    except OrderflowError as exc:
        _left(vendor, name, exc, tally)


def _within_limits(read: VendorFile, file: str, limits: LimitSettings) -> VendorFile:
    parsed = read.parsed
    records = len(parsed.acks) + len(parsed.ship_notices) + len(parsed.stock) + len(parsed.refusals)
    if records > limits.file_rows:
        raise InputError(f"{records} records, more than limits.file_rows ({limits.file_rows}) allows in one file; "
                         "ask the vendor to split it, or raise the limit", file=file)
    return read


def _refused(ledger: IngestedFile, error: InputError) -> None:
    ledger.kind, ledger.error, ledger.rows_refused = "refused", str(error), 1
    ledger.refusals = [_refusal_json(error.refusal)]


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
        _apply_hold_and_cancel(vendor_order, state, now, tally.problems)


def _apply_hold_and_cancel(vendor_order: VendorOrder, state: PrintfulOrderState, now: datetime,
                           problems: list[str]) -> None:
    """States an acknowledgement cannot say: on hold (with the reason), and cancelled at the vendor."""
    if state.vendor_order_state == "on_hold" and vendor_order.state in (VendorOrderState.SENT,
                                                                          VendorOrderState.ACCEPTED):
        vendor_order.state, vendor_order.hold_reason, vendor_order.updated_at = \
            VendorOrderState.ON_HOLD, state.reason or "on hold at Printful", now
    elif state.vendor_order_state == "accepted" and vendor_order.state == VendorOrderState.ON_HOLD:
        vendor_order.state, vendor_order.hold_reason, vendor_order.updated_at = VendorOrderState.ACCEPTED, None, now
    elif state.vendor_order_state == "cancelled" and vendor_order.state != VendorOrderState.CANCELLED:
        if vendor_order.cancel_requested_at is None:
            problems.append(f"{vendor_order.id}: cancelled at Printful without our request")
        vendor_order.cancel_confirmed_at = now
        vendor_order.state, vendor_order.updated_at = VendorOrderState.CANCELLED, now
        for line in vendor_order.lines:
            if line.state not in (LineState.SHIPPED, LineState.DELIVERED):
                line.state = LineState.CANCELLED
