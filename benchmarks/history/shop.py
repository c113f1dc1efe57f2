"""The generated shop: its dimensions, catalog and history, and the rows of its reference data, finished orders
and hourly operations."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from import_orders import CITIES, FIRST_NAMES, LAST_NAMES, PRODUCTS, VENDORS

from orderflow.calendars import VendorCalendars
from orderflow.carriers.catalogue import BY_CODE
from orderflow.carriers.numbers import validate
from orderflow.config import VendorSettings
from orderflow.customers.notify import EMAIL as NOTICE_EMAIL
from orderflow.customers.selection import notice_key
from orderflow.rules.findings import fingerprint
from orderflow.rules.push import message_key

from .writers import COLUMNS, Writer

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
CARRIER_NAMES = {carrier: BY_CODE[carrier].name for carrier in CARRIERS}
SERVICES = {"ups": "Ground", "fedex": "Home Delivery", "usps": "Ground Advantage", "dhl": "Express Worldwide"}
PLACES = ["Chicago IL US", "Columbus OH US", "Albany NY US", "Memphis TN US", "Louisville KY US", "Reno NV US",
          "Atlanta GA US", "Dallas TX US", "Portland ME US", "Denver CO US"]
CRON_COMMANDS = ("import", "dispatch", "fetch", "track", "rules run", "customers notify")
CRON_MINUTE = 30
"""Every hour at minutes 30, 35, ... 55 (``report daily`` at 11:50 UTC): at ``NOW`` (18:00) and for the next
half hour every command last completed well within its interval."""
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


def valid_number(carrier: str, serial: int) -> str:
    """A number that passes the carrier's check digit (for parcels still followed)."""
    stem = _history_number(carrier, serial)[:-1]
    for digit in "0123456789":
        if validate(stem + digit, carrier).valid:
            return stem + digit
    raise SystemExit(f"no check digit makes {stem} a valid {carrier} number")


class Shop:
    """Builds the rows; ``writer`` stores them. Times are naive UTC inside (the writers' format)."""

    def __init__(self, *, writer: Writer, seed: int, now: datetime, orders: int, active: int,
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

