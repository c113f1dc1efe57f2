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

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from import_orders import VENDORS
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from orderflow.db.bulk import chunked, table_of
from orderflow.db.engine import make_engine, session_factory
from orderflow.db.migrate import upgrade
from orderflow.db.models import Notification, NotificationState, Order, Shipment, VendorOrder
from orderflow.rules.findings import Finding, Subject

from .scenarios import SCENARIOS, active_work
from .shop import CARRIER_NAMES, FINISHED_STATES, HISTORY_DAYS, NOW, PO_PREFIX, Shop
from .writers import COLUMNS, open_writer

__all__ = ["COLUMNS", "FINISHED_STATES", "NOW", "SCENARIOS", "Summary", "add_open_notifications", "database_url",
           "generate", "shop_toml"]


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
    writer = open_writer(url)
    try:
        shop = Shop(writer=writer, seed=seed, now=now.replace(tzinfo=None), orders=orders, active=active,
                     history_days=history_days, finished=FINISHED_STATES[finished_state])
        shop.reference_data()
        if history:
            shop.history()
        active_work(shop)
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

