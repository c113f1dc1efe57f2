"""A generated shop database for benchmarks: years of finished orders around a small set of live work.

``generate(target, orders=1_000_000, active_fraction=0.01)`` writes, for a shop of five vendors and twenty
SKUs (the import benchmark's), into a fresh SQLite file (or an empty PostgreSQL database or schema):

- **history** (the first 99% of the orders, placed over ``history_days`` (730) up to three days ago): 1 to 5
  lines an order (3 on average) over 1 to 3 vendors (about 1.9 vendor orders an order), each vendor order
  dispatched, acknowledged, shipped in one parcel (1 in 20 with two lines or more in two) and delivered,
  every parcel with its carrier journey (label, pick-up, 0 to 2 hub scans, out for delivery, delivered: 5
  events on average) and the shipment email ``customers notify`` sent for it (its outbox row). 2% of the
  orders were cancelled before dispatch, 1% fulfilled elsewhere, and 1 vendor order in 200 was rejected.
  3 vendor orders in 100 had a notification, long since resolved (the high and critical ones pushed, with
  their outbox rows); every hour of the period has its cron runs (``job_runs``), its carrier poll runs and
  two vendor files a vendor in the ingest ledger. Per 1,000,000 orders: about 2.9M order lines, 1.9M vendor
  orders, 1.9M parcels (and as many outbox rows), 9.7M tracking events.
- **active work** (the last ``active_fraction`` of the orders, placed over the last ten days): every vendor
  order in a state the rules look at, drawn from ``SCENARIOS`` (pending, sent, accepted, in transit, out for
  delivery, and the problems: dispatch failures, rejections, holds, backorders, unacknowledged, late,
  unscanned, stalled, exceptions, returns, late deliveries, invalid numbers, customers not told,
  cancellations not confirmed, unroutable lines), with deadlines from each vendor's own calendar; stock
  levels (one SKU out); the cron runs, poll runs and ledger rows of the last ten days (one failed daily
  report, two refused vendor files, one refused import).

``finished_state="shipped"`` marks finished history where today's code leaves it (orders ``open``, vendor
orders and lines ``shipped``: nothing moves them on to ``delivered`` yet) instead of ``delivered``.

``history=False`` writes the same active work alone (the same rows with the same ids), the database a new
shop with the same open work would have. Ids are given per order (order ``n`` has lines ``8n..8n+7``), so
they do not depend on whether the history was written.

Rows go in with plain ``executemany`` (sqlite3) or ``COPY`` (psycopg), not through the ORM; the schema comes
from orderflow's own migrations. Tracking numbers of active parcels pass their carrier's check digit;
history numbers only have their carrier's shape (nothing reads them again). Nothing is analysed afterwards on
SQLite (orderflow never runs ``ANALYZE`` itself); PostgreSQL is analysed, as its autovacuum would.

    >>> summary = generate("/tmp/shop.db", orders=20_000)  # doctest: +SKIP
    >>> summary.rows["tracking_events"]  # doctest: +SKIP
    194051
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from import_orders import CITIES, FIRST_NAMES, LAST_NAMES, PRODUCTS, VENDORS
from sqlalchemy import Integer, insert, select
from sqlalchemy.orm import Session

from orderflow.calendars import VendorCalendars
from orderflow.carriers.numbers import validate
from orderflow.config import VendorSettings
from orderflow.customers.notify import EMAIL as NOTICE_EMAIL
from orderflow.customers.selection import notice_key
from orderflow.db.bulk import chunked, table_of
from orderflow.db.engine import make_engine, session_factory
from orderflow.db.migrate import upgrade
from orderflow.db.models import Base, Notification, NotificationState, Order, Shipment, VendorOrder
from orderflow.rules.findings import Finding, Subject, fingerprint
from orderflow.rules.push import message_key

NOW = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)  # a Tuesday, 13:00 in New York
HISTORY_DAYS = 730
ACTIVE_DAYS = 10
RECENT_HISTORY = timedelta(days=3)
"""The newest history order is this old: delivered orders and live work overlap in time, as in a real shop."""
FIRST_NUMBER = 1_000_001
SOURCE = "shopify"
PO_PREFIX = "TB"
CHUNK_ORDERS = 10_000
IDS_PER_ORDER = 8
"""Order ``n`` owns line (and vendor order line, parcel line) ids and parcel ids ``8n`` to ``8n + 7``."""
EVENTS_PER_PARCEL = 16
STOCKED = [code for code, (_, kind) in VENDORS.items() if kind == "stocked"]
OUT_OF_STOCK_SKU = ("ACME", "ACME-HCT-RED-XL")
CARRIERS = ("ups", "fedex", "usps", "dhl")
CARRIER_WEIGHTS = (40, 30, 25, 5)
CARRIER_NAMES = {"ups": "UPS", "fedex": "FedEx", "usps": "USPS", "dhl": "DHL"}
SERVICES = {"ups": "Ground", "fedex": "Home Delivery", "usps": "Ground Advantage", "dhl": "Express Worldwide"}
PLACES = ["Chicago IL US", "Columbus OH US", "Albany NY US", "Memphis TN US", "Louisville KY US", "Reno NV US",
          "Atlanta GA US", "Dallas TX US", "Portland ME US", "Denver CO US"]
CRON_COMMANDS = ("import", "dispatch", "fetch", "track", "rules run", "customers notify")
CRON_MINUTE = 30
"""Every hour at minutes 30, 35, ... 55 (``report daily`` at 11:50 UTC): at ``NOW`` (18:00) and for the next
half hour every command last completed well within its interval."""
"""``customers notify``'s outbox row for a parcel: one per parcel the customer was told about."""
HISTORY_RULES = (  # (rule, severity, about the parcel rather than the vendor order)
    ("vendor_late", "warning", False), ("vendor_late", "high", False), ("stalled_in_transit", "warning", True),
    ("customer_not_notified", "warning", True), ("carrier_exception", "high", True),
    ("delivery_late", "high", True), ("tracking_not_scanned", "warning", True), ("not_acknowledged", "warning", False),
)


FINISHED_STATES = {"delivered": ("delivered", "delivered", "delivered"), "shipped": ("open", "shipped", "shipped")}
"""How finished work is marked, as (order, vendor order, line) states: ``delivered`` (the end of the state machine), or
``shipped``, where the code leaves it today (nothing moves orders or vendor orders on to ``delivered`` yet).
With ``shipped`` the history has no rejected vendor orders: on an order that stays ``open`` an old rejection
is still raised today, so the two databases would not hold the same problems."""


@dataclass(frozen=True)
class Product:
    sku: str
    vendor: str
    name: str
    price: str
    cents: int
    vendor_sku: str


CATALOG = [Product(sku, vendor, name, f"{cents // 100}.{cents % 100:02d}", cents, f"{vendor}-{sku[3:]}")
           for sku, vendor, name, cents in PRODUCTS]
BY_VENDOR = {code: [product for product in CATALOG if product.vendor == code] for code in VENDORS}
VENDOR_CODES = list(VENDORS)

COLUMNS: dict[str, tuple[str, ...]] = {
    "vendors": ("code", "name", "kind", "format", "transport", "active", "updated_at"),
    "catalog": ("sku", "vendor_code", "vendor_sku", "upc", "description", "on_demand", "vendor_variant_id",
                "updated_at", "product", "variant"),
    "inventory": ("id", "vendor_code", "vendor_sku", "quantity", "next_available", "as_of", "updated_at"),
    "orders": ("id", "source", "order_number", "external_id", "customer_name", "customer_email", "ship_name",
               "ship_company", "ship_address1", "ship_address2", "ship_city", "ship_province", "ship_zip",
               "ship_country", "ship_phone", "placed_at", "currency", "total", "financial_status",
               "fulfillment_status", "cancelled_at", "state", "content_hash", "raw", "created_at", "updated_at"),
    "order_lines": ("id", "order_id", "line_no", "sku", "name", "qty", "price", "vendor_code", "state",
                    "unroutable_since"),
    "vendor_orders": ("id", "order_id", "vendor_code", "state", "ship_by", "ack_due_at", "attempts", "last_error",
                      "last_attempt_at", "next_attempt_at", "claimed_by", "claimed_until", "vendor_reference",
                      "sent_at", "acknowledged_at", "rejected_at", "rejection_code", "rejection_reason",
                      "hold_reason", "cancel_requested_at", "cancel_confirmed_at", "shipped_at", "delivered_at",
                      "last_polled_at", "created_at", "updated_at"),
    "vendor_order_lines": ("id", "vendor_order_id", "order_line_id", "line_no", "sku", "vendor_sku", "qty", "state",
                           "qty_accepted", "qty_rejected", "qty_backordered", "qty_shipped", "reason_code",
                           "reason", "expected_at"),
    "shipments": ("id", "vendor_order_id", "carrier", "carrier_named", "tracking_number", "tracking_valid",
                  "tracking_note", "service", "shipped_at", "reported_at", "status", "first_scan_at",
                  "last_event_at", "estimated_delivery", "delivered_at", "exception_reason", "last_checked_at",
                  "last_outcome", "invalid_polls", "first_invalid_at", "next_check_at", "tracking_expired_at",
                  "customer_notified_at", "created_at", "updated_at", "lines_inferred"),
    "shipment_lines": ("id", "shipment_id", "vendor_order_line_id", "qty"),
    "tracking_events": ("id", "shipment_id", "occurred_at", "status", "code", "description", "location",
                        "recorded_at"),
    "notifications": ("id", "fingerprint", "rule", "severity", "subject_type", "subject_id", "order_number",
                      "vendor_code", "vendor_order_id", "shipment_id", "tracking_number", "carrier", "labels",
                      "evidence", "state", "episode", "pending_since", "opened_at", "last_true_at", "last_seen_at",
                      "false_since", "acked_by", "acked_at", "snoozed_until", "resolved_at", "resolved_how", "note",
                      "count", "pushed_at", "suppressed_by"),
    "notification_events": ("id", "notification_id", "at", "from_state", "to_state", "reason", "actor"),
    "outbox": ("id", "kind", "dedupe_key", "payload", "state", "attempts", "last_error", "claimed_until",
               "created_at", "sent_at"),
    "job_runs": ("id", "command", "host", "pid", "started_at", "finished_at", "outcome", "exit_code", "counts",
                 "error"),
    "carrier_poll_runs": ("id", "carrier", "at", "outcomes", "polls", "failures"),
    "ingested_files": ("id", "origin", "path", "size", "sha256", "kind", "rows_ok", "rows_refused", "refusals",
                       "error", "ingested_at"),
}
"""Every column of every table written, in the order the rows give them (checked against the models)."""


@dataclass
class Summary:
    url: str
    orders: int
    active_orders: int
    history: bool
    finished_state: str = "delivered"
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        counted = ", ".join(f"{count:,} {table}" for table, count in self.rows.items() if count)
        kind = "history and active work" if self.history else "active work only"
        return f"{kind} ({self.active_orders:,} active orders): {counted}; {self.seconds:.0f} s"


def database_url(target: str | Path) -> str:
    """A SQLite file path as a URL; a URL as it is."""
    text = str(target)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def shop_toml(*, webhook_env: str | None = None) -> str:
    """The shop's configuration: the five vendors the data names (default calendars), and a push webhook."""
    vendors = "".join(
        f'\n[[vendors]]\ncode = "{code}"\nname = "{name}"\nkind = "{kind}"\npath = "vendors/{code.lower()}"\n'
        for code, (name, kind) in VENDORS.items())
    push = f'\n[push.webhook]\nurl_env = "{webhook_env}"\n' if webhook_env else ""
    return f'po_prefix = "{PO_PREFIX}"\ntimezone = "America/New_York"\n{vendors}{push}'


def generate(target: str | Path, *, orders: int, active_fraction: float = 0.01, seed: int = 1042,
             now: datetime = NOW, history: bool = True, history_days: int = HISTORY_DAYS,
             finished_state: str = "delivered") -> Summary:
    """Create the schema in ``target`` (a SQLite path or an empty database URL) and fill it; what was written.

    ``finished_state`` is a key of ``FINISHED_STATES``: how delivered orders are marked.
    """
    started = time.perf_counter()
    url = database_url(target)
    if url.startswith("sqlite:///") and Path(url.removeprefix("sqlite:///")).exists():
        raise SystemExit(f"{target} exists: the generator fills a new database only")
    active = max(1, round(orders * active_fraction))
    summary = Summary(url=url, orders=orders if history else active, active_orders=active, history=history,
                      finished_state=finished_state)
    upgrade(url)
    writer = _writer(url)
    try:
        shop = _Shop(writer=writer, seed=seed, now=now.replace(tzinfo=None), orders=orders, active=active,
                     history_days=history_days, finished=FINISHED_STATES[finished_state])
        shop.reference_data()
        if history:
            shop.history()
        shop.active_work()
        shop.operations(include_history=history)
        writer.finish()
    finally:
        writer.close()
    summary.rows = dict(writer.counts)
    summary.seconds = time.perf_counter() - started
    return summary


def add_open_notifications(url: str, *, wanted: int, now: datetime = NOW) -> int:
    """Open notifications, inserted directly, until ``wanted`` are open and visible; returns how many were added.

    They read like the rules' own (``vendor_late`` on a vendor order, ``customer_not_notified`` on a parcel,
    the commonest kinds) and are about the newest vendor orders and parcels, live work first and recent
    history after it when the live work is too small; none duplicates a live fingerprint. The next
    ``rules run`` would resolve those its rules do not find: they are for measuring the queue.
    """
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session, session.begin():
            have = len(session.scalars(select(Notification.id).where(
                Notification.state.in_((NotificationState.OPEN, NotificationState.ACKNOWLEDGED)),
                Notification.suppressed_by.is_(None))).all())
            live = set(session.scalars(select(Notification.fingerprint).where(
                Notification.state != NotificationState.RESOLVED)))
            findings = _made_up_findings(session, live, wanted - have)
            rows = [{"fingerprint": f.fingerprint, "rule": f.rule, "severity": f.severity,
                     "subject_type": f.subject.type, "subject_id": f.subject.id,
                     "order_number": f.subject.order_number, "vendor_code": f.subject.vendor_code,
                     "vendor_order_id": f.subject.vendor_order_id, "shipment_id": f.subject.shipment_id,
                     "tracking_number": f.subject.tracking_number, "carrier": f.subject.carrier,
                     "labels": {"factual": "no"}, "evidence": f.evidence, "state": NotificationState.OPEN,
                     "episode": 1, "opened_at": now - timedelta(hours=index % 200), "last_true_at": now,
                     "last_seen_at": now, "count": 1 + index % 30}
                    for index, f in enumerate(findings)]
            for batch in chunked(rows, 1000):
                session.execute(insert(table_of(Notification)), batch)
            return len(rows)
    finally:
        engine.dispose()


def _made_up_findings(session: Session, live: set[str], count: int) -> list[Finding]:
    if count <= 0:
        return []
    vendor_orders = session.execute(
        select(VendorOrder.id, VendorOrder.vendor_code, Order.order_number)
        .join(Order, Order.id == VendorOrder.order_id).order_by(Order.id.desc()).limit(count + len(live)))
    late = [Finding("vendor_late", Subject("vendor_order", vendor_order_id, order_number=order_number,
                                           vendor_code=vendor_code, vendor_order_id=vendor_order_id),
                    "warning", "label created Wed 28 Oct, never scanned", factual=False)
            for vendor_order_id, vendor_code, order_number in vendor_orders]
    parcels = session.execute(
        select(Shipment.id, Shipment.vendor_order_id, Shipment.tracking_number, Shipment.carrier, Order.order_number,
               VendorOrder.vendor_code)
        .join(VendorOrder, VendorOrder.id == Shipment.vendor_order_id).join(Order, Order.id == VendorOrder.order_id)
        .order_by(Shipment.id.desc()).limit(count + len(live)))
    unnotified = [Finding("customer_not_notified",
                          Subject("shipment", str(row.id), order_number=row.order_number, vendor_code=row.vendor_code,
                                  vendor_order_id=row.vendor_order_id, shipment_id=row.id,
                                  tracking_number=row.tracking_number, carrier=row.carrier),
                          "warning", f"{CARRIER_NAMES.get(row.carrier or '', 'the carrier')} scanned it Mon 2 Nov "
                                     "09:12; no shipment email to the customer after 4 hours", factual=False)
                  for row in parcels]
    mixed = [finding for pair in zip(late, unnotified, strict=False) for finding in pair]
    fresh = [finding for finding in mixed if finding.fingerprint not in live]
    if len(fresh) < count:
        raise SystemExit(f"only {len(fresh)} vendor orders and parcels to add notifications to; {count} wanted")
    return fresh[:count]


# --- writing ---------------------------------------------------------------------------------------------------

class _Writer:
    """Rows to tables, in big batches; counts what it wrote."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        for table, columns in COLUMNS.items():
            expected = set(Base.metadata.tables[table].columns.keys())
            if set(columns) != expected:
                raise SystemExit(f"history.py is out of date for {table}: model columns {sorted(expected)}")

    def write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self._write(table, rows)
            self.counts[table] += len(rows)

    def _write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        self.commit()

    def close(self) -> None:
        raise NotImplementedError


def _sqlite_time(moment: datetime) -> str:
    # SQLAlchemy's SQLite format for UTCDateTime (naive UTC, always with microseconds): rules compare it as text.
    return moment.isoformat(" ", "microseconds")


class _SqliteWriter(_Writer):
    def __init__(self, path: str) -> None:
        super().__init__()
        sqlite3.register_adapter(datetime, _sqlite_time)
        sqlite3.register_adapter(date, date.isoformat)
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=OFF")  # a failed generation is simply made again
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.execute("PRAGMA cache_size=-1000000")
        self.connection.execute("PRAGMA foreign_keys=OFF")  # ids are consistent by construction
        # The schema's own secondary indexes are dropped for the load and made again at the end (a sort each,
        # several times faster than keeping them up to date row by row); the database ends up the same.
        self.indexes = self.connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall()
        for name, _ in self.indexes:
            self.connection.execute(f"DROP INDEX {name}")
        self.connection.execute("BEGIN")
        self.statements = {table: f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608 - our names
                                  f"({', '.join('?' * len(columns))})" for table, columns in COLUMNS.items()}

    def _write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        self.connection.executemany(self.statements[table], rows)

    def commit(self) -> None:
        self.connection.execute("COMMIT")
        self.connection.execute("BEGIN")

    def finish(self) -> None:
        for _, sql in self.indexes:
            self.connection.execute(sql)
        self.connection.execute("COMMIT")
        self.connection.execute("PRAGMA journal_mode=WAL")  # as orderflow runs it

    def close(self) -> None:
        self.connection.close()


class _PostgresWriter(_Writer):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.engine = make_engine(url)
        self.raw = self.engine.raw_connection()
        self.connection: Any = self.raw.driver_connection
        self.connection.execute("SET TIME ZONE 'UTC'")  # the naive UTC times below are read in this zone

    def _write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        with self.connection.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self.connection.commit()

    def finish(self) -> None:
        with self.connection.cursor() as cursor:
            for table, columns in COLUMNS.items():  # ids were given, so the sequences must catch up
                if "id" in columns and self.counts[table] and isinstance(
                        Base.metadata.tables[table].c.id.type, Integer):
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our names
                                   f"(SELECT max(id) FROM {table}))")
        self.connection.commit()
        self.connection.autocommit = True
        self.connection.execute("ANALYZE")

    def close(self) -> None:
        self.raw.close()
        self.engine.dispose()


def _writer(url: str) -> _Writer:
    if url.startswith("sqlite:///"):
        return _SqliteWriter(url.removeprefix("sqlite:///"))
    return _PostgresWriter(url)


# --- the shop ----------------------------------------------------------------------------------------------

def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _outbox_id(order_id: int, slot: int) -> int:
    """Order ``n`` owns outbox ids ``16n`` to ``16n + 15``: pushes from ``16n``, parcel notices from ``16n + 8``."""
    return order_id * 16 + slot


def _history_number(carrier: str, serial: int) -> str:
    """A number of the carrier's shape; its check digit is not computed (nothing reads history numbers again)."""
    if carrier == "ups":
        return f"1Z4R8W{serial // 10_000_000:02d}03{serial % 10_000_000:07d}{serial % 10}"
    if carrier == "fedex":
        return f"79{serial:09d}{serial % 10}"
    if carrier == "usps":
        return f"9400111899223{serial:08d}{serial % 10}"
    return f"3{serial:08d}{serial % 10}"


def _valid_number(carrier: str, serial: int) -> str:
    """A number that passes the carrier's check digit (for parcels still followed)."""
    stem = _history_number(carrier, serial)[:-1]
    for digit in "0123456789":
        if validate(stem + digit, carrier).valid:
            return stem + digit
    raise SystemExit(f"no check digit makes {stem} a valid {carrier} number")


class _Shop:
    """Builds the rows; ``writer`` stores them. Times are naive UTC inside (the writers' format)."""

    def __init__(self, *, writer: _Writer, seed: int, now: datetime, orders: int, active: int,
                 history_days: int, finished: tuple[str, str, str]) -> None:
        self.writer = writer
        self.finished_order, self.finished_vendor_order, self.finished_line = finished
        self.rejection_rate = 0.005 if self.finished_order == "delivered" else 0.0
        self.seed = seed
        self.now = now
        self.orders = orders
        self.active = active
        self.history_orders = orders - active
        self.start = now - timedelta(days=history_days)
        self.active_start = now - timedelta(days=ACTIVE_DAYS)
        self.calendars = VendorCalendars(
            VendorSettings(code=code, name=name, kind=kind, path=Path("vendors") / code.lower())
            for code, (name, kind) in VENDORS.items())
        self.buffers: dict[str, list[tuple[Any, ...]]] = {table: [] for table in COLUMNS}
        self.customer = ("", "", "")
        """The current order's customer name, email and order number, for its parcels' notices."""

    # --- helpers -------------------------------------------------------------------------------------------

    def flush(self) -> None:
        for table, rows in self.buffers.items():
            self.writer.write(table, rows)
            rows.clear()
        self.writer.commit()

    def ship_by(self, vendor: str, placed: datetime) -> datetime:
        deadline = self.calendars.ship_by(vendor, placed.replace(tzinfo=UTC))
        assert deadline is not None  # every vendor of the data is configured
        return deadline.replace(tzinfo=None)

    def ack_due(self, vendor: str, sent: datetime) -> datetime:
        due = self.calendars.ack_due(vendor, sent.replace(tzinfo=UTC))
        assert due is not None  # every vendor acknowledges
        return due.replace(tzinfo=None)

    def order_row(self, order_id: int, rng: random.Random, placed: datetime, lines: Sequence[tuple[Product, int]],
                  *, state: str, cancelled: datetime | None = None, fulfilled: bool = False,
                  updated: datetime | None = None) -> str:
        number = str(FIRST_NUMBER + order_id - 1)
        first, last = FIRST_NAMES[int(rng.random() * len(FIRST_NAMES))], LAST_NAMES[int(rng.random() * len(LAST_NAMES))]
        city, province, zip_code = CITIES[order_id % len(CITIES)]
        name = f"{first} {last}"
        email = f"{first.lower()}.{last.lower()}{order_id % 997}@example.com"
        street = f"{1 + order_id % 9973} {('Harbor Rd', 'Alder St', 'Main St', 'Couch St')[order_id % 4]}"
        cents = sum(product.cents * qty for product, qty in lines) + 495
        total = f"{cents // 100}.{cents % 100:02d}"
        self.customer = (name, email, number)
        raw = json.dumps({"name": f"#{number}", "email": email, "created_at": placed.isoformat() + "Z",
                          "total_price": total, "line_items": [{"sku": p.sku, "quantity": q, "price": p.price}
                                                               for p, q in lines]})
        self.buffers["orders"].append((
            order_id, SOURCE, number, str(6_401_100_000_000 + order_id), name, email, name, "", street, "", city,
            province, zip_code.lstrip("'"), "US", "+12075550142", placed, "USD", total,
            "refunded" if cancelled else "paid", "fulfilled" if fulfilled else "unfulfilled", cancelled, state,
            _sha(raw), raw, placed, updated or placed))
        return number

    def draw_lines(self, rng: random.Random) -> dict[str, list[tuple[Product, int]]]:
        """1 to 5 lines over 1 to 3 vendors: vendor -> [(product, qty)] in line order."""
        count = 1 + int(rng.random() * 5)
        vendors = rng.sample(VENDOR_CODES, min(count, (1, 2, 2, 3, 3)[int(rng.random() * 5)]))
        picked = vendors + [vendors[int(rng.random() * len(vendors))] for _ in range(count - len(vendors))]
        by_vendor: dict[str, list[tuple[Product, int]]] = {vendor: [] for vendor in vendors}
        for vendor in picked:
            by_vendor[vendor].append((BY_VENDOR[vendor][int(rng.random() * 4)], (1, 1, 1, 2, 3)[int(rng.random() * 5)]))
        return by_vendor

    # --- reference data ----------------------------------------------------------------------------------------

    def reference_data(self) -> None:
        now = self.now
        self.buffers["vendors"] = [(code, name, kind, "csv", "local", True, now)
                                   for code, (name, kind) in VENDORS.items()]
        self.buffers["catalog"] = [(p.sku, p.vendor, p.vendor_sku, None, p.name, VENDORS[p.vendor][1] == "on_demand",
                                    None, now, None, None) for p in CATALOG]
        stock = [p for p in CATALOG if p.vendor in STOCKED]
        self.buffers["inventory"] = [
            (index + 1, p.vendor, p.vendor_sku, 0 if (p.vendor, p.vendor_sku) == OUT_OF_STOCK_SKU else 40 + index * 7,
             (now + timedelta(days=9)).date() if (p.vendor, p.vendor_sku) == OUT_OF_STOCK_SKU else None,
             now - timedelta(hours=5), now - timedelta(hours=5))
            for index, p in enumerate(stock)]
        self.flush()

    # --- history -------------------------------------------------------------------------------------------

    def history(self) -> None:
        rng = random.Random(self.seed)
        span = (self.now - RECENT_HISTORY - self.start).total_seconds()
        step = span / max(self.history_orders, 1)
        for index in range(self.history_orders):
            placed = self.start + timedelta(seconds=int(index * step + rng.random() * step))
            self.history_order(index + 1, rng, placed)
            if (index + 1) % CHUNK_ORDERS == 0:
                self.flush()
        self.flush()

    def history_order(self, order_id: int, rng: random.Random, placed: datetime) -> None:
        by_vendor = self.draw_lines(rng)
        lines = [line for vendor_lines in by_vendor.values() for line in vendor_lines]
        fate = rng.random()
        minute = timedelta(minutes=1)
        if fate < 0.01:  # fulfilled elsewhere: stored, never sent to a vendor
            self.order_row(order_id, rng, placed, lines, state="fulfilled_elsewhere", fulfilled=True)
            self.buffers["order_lines"].extend(
                (order_id * IDS_PER_ORDER + n, order_id, n + 1, p.sku, p.name, qty, p.price, p.vendor,
                 "fulfilled_elsewhere", None) for n, (p, qty) in enumerate(lines))
            return
        cancelled = placed + timedelta(minutes=20 + int(rng.random() * 600)) if fate < 0.03 else None
        rejections = [not cancelled and rng.random() < self.rejection_rate for _ in by_vendor]
        # Staff cancel an order whose only vendor rejected it; otherwise the rest of it was delivered.
        state = "cancelled" if cancelled or all(rejections) else self.finished_order
        number = self.order_row(order_id, rng, placed, lines, state=state, cancelled=cancelled, updated=cancelled)
        line_id = order_id * IDS_PER_ORDER
        parcel_slot = 0
        order_lines, vendor_order_lines = self.buffers["order_lines"], self.buffers["vendor_order_lines"]
        for slot, ((vendor, vendor_lines), rejected_whole) in enumerate(zip(by_vendor.items(), rejections,
                                                                             strict=True)):
            vendor_order_id = f"{PO_PREFIX}{number}-{vendor}"
            created = placed + minute
            ship_by = self.ship_by(vendor, placed)
            if cancelled:
                self.buffers["vendor_orders"].append(self.vendor_order_row(
                    vendor_order_id, order_id, vendor, "cancelled", ship_by=ship_by, created=created,
                    updated=cancelled))
                for n, (p, qty) in enumerate(vendor_lines, start=1):
                    order_lines.append((line_id, order_id, line_id % IDS_PER_ORDER + 1, p.sku, p.name, qty, p.price,
                                        vendor, "cancelled", None))
                    vendor_order_lines.append((line_id, vendor_order_id, line_id, n, p.sku, p.vendor_sku, qty,
                                               "cancelled", 0, 0, 0, 0, None, None, None))
                    line_id += 1
                continue
            sent = created + timedelta(minutes=5 + int(rng.random() * 55))
            acknowledged = sent + timedelta(minutes=30 + int(rng.random() * 300))
            if rejected_whole:
                rejected = acknowledged
                self.buffers["vendor_orders"].append(self.vendor_order_row(
                    vendor_order_id, order_id, vendor, "rejected", ship_by=ship_by, created=created, updated=rejected,
                    sent=sent, ack_due=self.ack_due(vendor, sent), acknowledged=acknowledged, rejected=rejected))
                for n, (p, qty) in enumerate(vendor_lines, start=1):
                    order_lines.append((line_id, order_id, line_id % IDS_PER_ORDER + 1, p.sku, p.name, qty, p.price,
                                        vendor, "rejected", None))
                    vendor_order_lines.append((line_id, vendor_order_id, line_id, n, p.sku, p.vendor_sku, qty,
                                               "rejected", 0, qty, 0, 0, "IR", "Item discontinued", None))
                    line_id += 1
                continue
            shipped = acknowledged + timedelta(hours=2 + rng.random() * 40)
            first_line = line_id
            for n, (p, qty) in enumerate(vendor_lines, start=1):
                order_lines.append((line_id, order_id, line_id % IDS_PER_ORDER + 1, p.sku, p.name, qty, p.price,
                                    vendor, self.finished_line, None))
                vendor_order_lines.append((line_id, vendor_order_id, line_id, n, p.sku, p.vendor_sku, qty,
                                           self.finished_line, qty, 0, 0, qty, None, None, None))
                line_id += 1
            ids = list(range(first_line, line_id))
            parts = [ids] if len(ids) < 2 or rng.random() >= 0.05 else [ids[: len(ids) // 2], ids[len(ids) // 2:]]
            delivered = shipped
            for part in parts:
                shipment_id = order_id * IDS_PER_ORDER + parcel_slot
                parcel_slot += 1
                delivered = max(delivered, self.delivered_parcel(
                    rng, shipment_id, vendor_order_id, shipped, [(line, vendor_lines[line - first_line][1])
                                                                 for line in part]))
            self.buffers["vendor_orders"].append(self.vendor_order_row(
                vendor_order_id, order_id, vendor, self.finished_vendor_order, ship_by=ship_by, created=created,
                updated=delivered, sent=sent, ack_due=self.ack_due(vendor, sent), acknowledged=acknowledged,
                shipped=shipped, delivered=delivered if self.finished_vendor_order == "delivered" else None))
            if rng.random() < 0.03:
                self.resolved_notification(rng, order_id * 4 + slot, number=number, vendor=vendor,
                                           vendor_order_id=vendor_order_id,
                                           shipment_id=order_id * IDS_PER_ORDER + parcel_slot - 1, shipped=shipped,
                                           delivered=delivered)

    def vendor_order_row(self, vendor_order_id: str, order_id: int, vendor: str, state: str, *, ship_by: datetime,
                         created: datetime, updated: datetime, sent: datetime | None = None,
                         ack_due: datetime | None = None, acknowledged: datetime | None = None,
                         rejected: datetime | None = None, shipped: datetime | None = None,
                         delivered: datetime | None = None, **fields: Any) -> tuple[Any, ...]:
        row: dict[str, Any] = {
            "id": vendor_order_id, "order_id": order_id, "vendor_code": vendor, "state": state, "ship_by": ship_by,
            "ack_due_at": ack_due, "attempts": 1 if sent else 0, "last_error": None,
            "last_attempt_at": sent, "next_attempt_at": None, "claimed_by": None, "claimed_until": None,
            "vendor_reference": f"{vendor[:2]}-{order_id}" if acknowledged else None, "sent_at": sent,
            "acknowledged_at": acknowledged, "rejected_at": rejected,
            "rejection_code": "IR" if rejected else None,
            "rejection_reason": "Item discontinued" if rejected else None, "hold_reason": None,
            "cancel_requested_at": None, "cancel_confirmed_at": None, "shipped_at": shipped,
            "delivered_at": delivered, "last_polled_at": None, "created_at": created, "updated_at": updated}
        row.update(fields)
        return tuple(row[column] for column in COLUMNS["vendor_orders"])

    def delivered_parcel(self, rng: random.Random, shipment_id: int, vendor_order_id: str, shipped: datetime,
                         lines: list[tuple[int, int]]) -> datetime:
        """A parcel's whole journey, label to doorstep, with its lines; returns when it was delivered."""
        carrier = rng.choices(CARRIERS, CARRIER_WEIGHTS)[0]
        hour = timedelta(hours=1)
        picked_up = shipped + hour * (2 + rng.random() * 8)
        hubs = int(rng.random() * 3)
        out = picked_up + hour * (20 + rng.random() * 70)
        delivered = out + hour * (2 + rng.random() * 7)
        journey = [(shipped, "label_created", "MP", "Shipper created a label", ""),
                   (picked_up, "in_transit", "PU", "Picked up", PLACES[shipment_id % 10])]
        for hub in range(hubs):
            journey.append((picked_up + (out - picked_up) * (hub + 1) / (hubs + 1), "in_transit", "DP",
                            "Departed facility", PLACES[(shipment_id + hub + 1) % 10]))
        journey += [(out, "out_for_delivery", "OT", "Out for delivery", PLACES[(shipment_id + 7) % 10]),
                    (delivered, "delivered", "DL", "Delivered", PLACES[(shipment_id + 7) % 10])]
        events = self.buffers["tracking_events"]
        base = shipment_id * EVENTS_PER_PARCEL
        for n, (at, status, code, text, place) in enumerate(journey):
            events.append((base + n, shipment_id, at, status, code, text, place, at + hour))
        checked = delivered + hour
        reported = shipped + hour * rng.random() * 3
        self.buffers["shipments"].append((
            shipment_id, vendor_order_id, carrier, CARRIER_NAMES[carrier], _history_number(carrier, shipment_id),
            True, None, SERVICES[carrier], shipped, reported, "delivered", picked_up, delivered,
            delivered.replace(hour=23, minute=59, second=0, microsecond=0), delivered, None, checked, "ok", 0, None,
            None, None, picked_up + 2 * hour, reported, checked, False))
        self.buffers["shipment_lines"].extend((line, shipment_id, line, qty) for line, qty in lines)
        self.notice(shipment_id, vendor_order_id, carrier, shipped, picked_up + 2 * hour)
        return delivered

    def notice(self, shipment_id: int, vendor_order_id: str, carrier: str, shipped: datetime,
               sent: datetime) -> None:
        """The shipment email ``customers notify`` sent for this parcel (its outbox row)."""
        name, email, number = self.customer
        payload = json.dumps({"shipment_id": shipment_id, "order_number": number, "vendor_order_id": vendor_order_id,
                              "customer_name": name, "to": email, "carrier_code": carrier,
                              "carrier": CARRIER_NAMES[carrier], "shipped_at": shipped.isoformat() + "+00:00"})
        order_id, slot = divmod(shipment_id, IDS_PER_ORDER)
        self.buffers["outbox"].append((_outbox_id(order_id, IDS_PER_ORDER + slot), NOTICE_EMAIL,
                                       notice_key(shipment_id), payload, "sent", 1, None, None, sent, sent))

    def resolved_notification(self, rng: random.Random, notification_id: int, *, number: str, vendor: str,
                              vendor_order_id: str, shipment_id: int, shipped: datetime, delivered: datetime) -> None:
        """A problem this vendor order had once: opened, maybe pushed, resolved when it cleared."""
        rule, severity, about_parcel = HISTORY_RULES[int(rng.random() * len(HISTORY_RULES))]
        subject_type, subject_id = ("shipment", str(shipment_id)) if about_parcel else ("vendor_order",
                                                                                        vendor_order_id)
        opened = shipped + (delivered - shipped) * 0.3
        resolved = delivered if about_parcel else shipped + timedelta(hours=4)
        pushed = opened if severity in ("high", "critical") else None
        labels = {"factual": "no"} | ({"pushed_severity": severity, "resolve_pushed": "yes"} if pushed else {})
        self.buffers["notifications"].append((
            notification_id, fingerprint(rule, subject_type, subject_id), rule, severity, subject_type, subject_id,
            number, vendor, vendor_order_id, shipment_id if about_parcel else None, None, None, json.dumps(labels),
            f"{rule.replace('_', ' ')} (history)", "resolved", 1, None, opened, resolved, resolved, resolved, None,
            None, None, resolved, "auto", None, 1 + int(rng.random() * 20), pushed, None))
        events = self.buffers["notification_events"]
        events.append((notification_id * 2, notification_id, opened, None, "open", f"{rule}: opened", "rules"))
        events.append((notification_id * 2 + 1, notification_id, resolved, "open", "resolved",
                       "auto: no longer found", "rules"))
        if pushed:
            outbox = self.buffers["outbox"]
            for n, (route, at) in enumerate((("new", opened), ("resolved", resolved))):
                key = message_key(route, rule, at.replace(tzinfo=UTC).isoformat(), notification_id)
                order_id, slot = divmod(notification_id, 4)
                outbox.append((_outbox_id(order_id, slot * 2 + n), "push_webhook", f"push_webhook:{key}",
                               json.dumps({"route": route, "rule": rule, "ids": [notification_id]}), "sent", 1, None,
                               None, at, at))

    # --- active work ---------------------------------------------------------------------------------------

    def active_work(self) -> None:
        rng = random.Random(self.seed + 1)
        for index in range(self.active):
            self.active_order(self.history_orders + index + 1, rng)
            if (index + 1) % CHUNK_ORDERS == 0:
                self.flush()
        self.flush()

    def active_order(self, order_id: int, rng: random.Random) -> None:
        first = _draw(rng, SCENARIOS, primary=True)
        age = timedelta(hours=first.min_hours + rng.random() * (first.max_hours - first.min_hours))
        placed = self.now - age
        by_vendor = self.draw_lines(rng)
        scenarios = [first] + [_draw(rng, [s for s in SCENARIOS if s.fits(age)] or [ACCEPTED], primary=False)
                               for _ in range(len(by_vendor) - 1)]
        cancelled = self.now - timedelta(hours=30 + rng.random() * 40) if first.name == "cancel_requested" else None
        lines = [line for vendor_lines in by_vendor.values() for line in vendor_lines]
        number = self.order_row(order_id, rng, placed, lines, state="cancelled" if cancelled else "open",
                                cancelled=cancelled, updated=cancelled)
        line_id = order_id * IDS_PER_ORDER
        parcel_slot = order_id * IDS_PER_ORDER
        for (vendor, vendor_lines), scenario in zip(by_vendor.items(), scenarios, strict=True):
            draft = _Draft(shop=self, rng=rng, vendor=vendor, vendor_order_id=f"{PO_PREFIX}{number}-{vendor}",
                           order_id=order_id, placed=placed, lines=vendor_lines, first_line_id=line_id,
                           parcel_ids=[parcel_slot, parcel_slot + 1], cancelled=cancelled)
            (CANCEL_REQUESTED if cancelled else scenario).build(draft)
            draft.store()
            line_id += len(vendor_lines)
            parcel_slot += 2
        if rng.random() < 0.01:  # a SKU the catalog does not know yet
            self.buffers["order_lines"].append((line_id, order_id, line_id % IDS_PER_ORDER + 1, "TB-NEWDROP-BLK-M",
                                                "New Drop Tee", 1, "28.00", None, "unroutable",
                                                placed + timedelta(minutes=1)))

    # --- cron runs, carrier polls, the ingest ledger ----------------------------------------------------------

    def operations(self, *, include_history: bool) -> None:
        """Hourly cron runs, poll runs and vendor files since the history began (or only the last ten days)."""
        rng = random.Random(self.seed + 2)
        first_hour = self.start if include_history else self.active_start
        hours = int((self.now - first_hour).total_seconds() // 3600)
        base_hour = int((first_hour - self.start).total_seconds() // 3600)
        for offset in range(hours):
            hour_index = base_hour + offset
            at = first_hour + timedelta(hours=offset)
            self.cron_hour(rng, hour_index, at)
            if (offset + 1) % 5000 == 0:
                self.flush()
        self.refused_files()
        self.flush()

    def cron_hour(self, rng: random.Random, hour_index: int, at: datetime) -> None:
        jobs, polls, files = self.buffers["job_runs"], self.buffers["carrier_poll_runs"], self.buffers["ingested_files"]
        recent = self.now - at < timedelta(days=1)
        for n, command in enumerate(CRON_COMMANDS):
            started = at + timedelta(minutes=CRON_MINUTE + 5 * n, seconds=int(rng.random() * 20))
            draw = rng.random()
            outcome = "ok" if recent or draw > 0.01 else "partial" if draw > 0.003 else "failed"
            error = "SFTP ACME: connection timed out" if outcome == "failed" else None
            jobs.append((hour_index * 8 + n + 1, command, "cron1", 1000 + int(rng.random() * 30000), started,
                         started + timedelta(seconds=2 + rng.random() * 40), outcome,
                         {"ok": 0, "partial": 5, "failed": 6}[outcome], "{}", error))
        if at.hour == 11:
            latest = self.now - at < timedelta(days=1)  # the last report failed: job_failed is raised
            started = at + timedelta(minutes=CRON_MINUTE + 20)
            jobs.append((hour_index * 8 + 7, "report daily", "cron1", 1000 + int(rng.random() * 30000), started,
                         started + timedelta(seconds=20), "failed" if latest else "ok", 6 if latest else 0, "{}",
                         "SMTP smtp.example.com: connection refused" if latest else None))
        poll_at = at + timedelta(minutes=CRON_MINUTE + 15, seconds=30)
        for n, carrier in enumerate(CARRIERS):
            count = 20 + int(rng.random() * 200)
            failed = int(rng.random() * 2)
            outcomes = {"ok": count - failed} | ({"carrier_error": failed} if failed else {})
            polls.append((hour_index * 4 + n + 1, carrier, poll_at, json.dumps(outcomes), count, failed))
        for n, vendor in enumerate(VENDOR_CODES):
            for k, kind in enumerate(("acknowledgements", "tracking")):
                stamp = f"{at:%Y%m%d%H}"
                rows = 1 + int(rng.random() * 30)
                files.append((hour_index * 16 + n * 2 + k + 1, f"vendor:{vendor}", f"from_vendor/{kind}_{stamp}.csv",
                              80 * rows, f"{rng.getrandbits(256):064x}", kind, rows, 0, "[]", None,
                              at + timedelta(minutes=CRON_MINUTE + 10, seconds=n)))
        files.append((hour_index * 16 + 11, f"source:{SOURCE}", f"inbox/orders_{at:%Y%m%d%H}.csv", 4000,
                      f"{rng.getrandbits(256):064x}", "orders", 12, 0, "[]", None,
                      at + timedelta(minutes=CRON_MINUTE, seconds=30)))

    def refused_files(self) -> None:
        """Two vendor files and one storefront export of the last days that could not be loaded."""
        files = self.buffers["ingested_files"]
        hour_index = int((self.now - self.start).total_seconds() // 3600)
        refusals = json.dumps([{"line": 3, "field": "Qty", "reason": "not a whole number: 'abc'"}])
        for n, (origin, path, kind, at_hours) in enumerate([
                ("vendor:ACME", "from_vendor/tracking_bad.csv", "tracking", 30),
                ("vendor:STITCH", "from_vendor/acks_0917.csv", "acknowledgements", 52),
                (f"source:{SOURCE}", "inbox/export-7.csv", "orders", 20)]):
            files.append((hour_index * 16 + 12 + n, origin, path, 900, _sha(path), kind, 12, 1, refusals, None,
                          self.now - timedelta(hours=at_hours)))


# --- active scenarios --------------------------------------------------------------------------------------------

@dataclass
class _Draft:
    """One active vendor order being built: its fields, its lines' states and its parcels."""

    shop: _Shop
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
        number = _valid_number(carrier, shipment_id)
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
    build: Callable[[_Draft], None]
    primary: bool = True
    """May be the order's first vendor order (``False``: only beside others, e.g. one part already delivered)."""

    def fits(self, age: timedelta) -> bool:
        return self.name != "cancel_requested" and self.min_hours * 3600 <= age.total_seconds() <= self.max_hours * 3600


def _draw(rng: random.Random, scenarios: Sequence[Scenario], *, primary: bool) -> Scenario:
    allowed = [s for s in scenarios if s.primary or not primary]
    return rng.choices(allowed, [s.weight for s in allowed])[0]


def _pending(draft: _Draft) -> None:
    draft.state = "pending"


def _sent(draft: _Draft) -> None:
    draft.dispatched(acknowledged=False)
    draft.state = "sent"


def _accepted(draft: _Draft) -> None:
    draft.dispatched()
    draft.state, draft.line_state = "accepted", "accepted"


def _backordered(draft: _Draft) -> None:
    _accepted(draft)
    qty = draft.lines[0][1]
    draft.line_overrides[0] = {"state": "backordered", "qty_backordered": qty, "reason_code": "BP",
                               "expected_at": (draft.now + draft.hours(72, 240)).date()}


def _shipped(draft: _Draft, *, status: str, last_scan_ago: tuple[float, float], final: tuple[str, str, str] | None
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


def _in_transit(draft: _Draft) -> None:
    _shipped(draft, status="in_transit", last_scan_ago=(2, 16), estimated=draft.now + draft.hours(20, 70))


def _out_for_delivery(draft: _Draft) -> None:
    _shipped(draft, status="out_for_delivery", last_scan_ago=(1, 4),
             final=("out_for_delivery", "OT", "Out for delivery"), estimated=draft.now + draft.hours(2, 6))


def _not_notified(draft: _Draft) -> None:
    _shipped(draft, status="in_transit", last_scan_ago=(2, 10), notified=None,
             estimated=draft.now + draft.hours(20, 70))


def _stalled(draft: _Draft) -> None:
    _shipped(draft, status="in_transit", last_scan_ago=(120, 160))


def _late_delivery(draft: _Draft) -> None:
    _shipped(draft, status="in_transit", last_scan_ago=(6, 20), estimated=draft.now - draft.hours(48, 80))


def _exception(draft: _Draft) -> None:
    reason, words = draft.rng.choice([("address", "Incorrect address; attempting to correct"),
                                      ("weather", "Severe weather delay"), ("damaged", "Package damaged"),
                                      ("recipient_unavailable", "Business closed")])
    _shipped(draft, status="exception", last_scan_ago=(10, 40), final=("exception", "X1", words), reason=reason)


def _attempted(draft: _Draft) -> None:
    _shipped(draft, status="delivery_attempted", last_scan_ago=(6, 30),
             final=("delivery_attempted", "DA", "Delivery attempted: no one available"),
             reason="recipient_unavailable")


def _returned(draft: _Draft) -> None:
    _shipped(draft, status="returned_to_sender", last_scan_ago=(24, 70),
             final=("returned_to_sender", "RS", "Returning to sender: refused by recipient"))


def _delivered(draft: _Draft) -> None:
    _shipped(draft, status="delivered", last_scan_ago=(20, 60), final=("delivered", "DL", "Delivered"))
    draft.state, draft.line_state = draft.shop.finished_vendor_order, draft.shop.finished_line
    if draft.state == "delivered":
        draft.fields["delivered_at"] = max(at for at, *_ in draft.parcels[0]["scans"])


def _label_only(draft: _Draft) -> None:
    acknowledged = draft.dispatched()
    draft.parcel(shipped=acknowledged + (draft.now - acknowledged) * 0.2, status="label_created")
    draft.state, draft.line_state = "shipped", "shipped"


def _invalid(draft: _Draft) -> None:
    acknowledged = draft.dispatched()
    draft.parcel(shipped=acknowledged + (draft.now - acknowledged) * 0.3, status="label_created", valid=False)
    draft.state, draft.line_state = "shipped", "shipped"


def _partially_shipped(draft: _Draft) -> None:
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


def _accepted_late(draft: _Draft) -> None:
    _accepted(draft)


def _unacknowledged(draft: _Draft) -> None:
    _sent(draft)


def _rejected(draft: _Draft) -> None:
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


def _on_hold(draft: _Draft) -> None:
    draft.dispatched()
    draft.state = "on_hold"
    draft.fields["hold_reason"] = draft.rng.choice(["Recipient address is invalid", "Artwork file missing",
                                                    "Payment method declined"])


def _dispatch_stuck(draft: _Draft) -> None:
    tried = draft.now - draft.hours(0.2, 1)
    draft.state = "pending"
    draft.fields |= {"attempts": 3, "last_attempt_at": tried, "next_attempt_at": tried + timedelta(hours=1),
                     "last_error": f"{draft.vendor}: connection refused"}


def _needs_reconcile(draft: _Draft) -> None:
    tried = draft.now - draft.hours(1, 3)
    draft.state = "needs_reconcile"
    draft.fields |= {"attempts": 1, "last_attempt_at": tried,
                     "last_error": f"{draft.vendor}: no answer within 30 s; outcome unknown"}


def _cancel_requested(draft: _Draft) -> None:
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
