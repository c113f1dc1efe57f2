"""How fast ``orderflow track`` follows parcels against carriers that take ``latency`` to answer each call.

Starts four fake carrier APIs on 127.0.0.1 (UPS, FedEx, USPS, DHL; real HTTP, each carrier's documented JSON),
each holding every track answer for ``--latency`` seconds (0.1) while serving other calls meanwhile.

- set-up, not timed: a shop with one vendor (ACME); ``--parcels`` orders (5,000; ``--quick``: 500) imported
  through orderflow's own Shopify import, one vendor order each, and one parcel per vendor order, shared out
  equally over the four carriers in turn. Every number passes its carrier's check digit and is stored with its
  carrier, ``next_check_at`` = now and status ``label_created``. Each fake knows its parcels: a label and three
  in-transit scans, all before now. That database is the template each run copies: a fresh database per run.
- the configuration lifts every quota (``requests_per_hour`` far above what a run makes, for all four
  carriers, so no call waits for a rate budget) and sets ``concurrency`` per carrier (``--concurrency``, 4).
- orderflow, timed: ``python -m orderflow --config ... --db ... --now <fixed instant> track`` in a fresh
  process, its whole wall time (start-up, plan, polling, apply, exit: nothing is subtracted). Afterwards every
  shipment must be ``in_transit`` with ``last_checked_at`` set and its four scans stored, and the run's
  ``job_runs`` row must say ``ok``.
- the polling phase, measured from outside: the fakes record when the first request of the run arrives and
  when the last answer leaves, on this script's clock. ``before`` = process start to first request (start-up
  and plan), ``polling`` = first request to last answer, ``after`` = last answer to process exit (apply, exit).
  orderflow's CPU time (user + system, from the child's resource usage) and the fakes' (this process's CPU
  time meanwhile) show whether the run was waiting or working.
- the bound: carriers are polled side by side, so the run takes at least as long as its slowest carrier, and
  a carrier answering ``concurrency`` calls at a time needs ``ceil(calls / concurrency) x latency``, where calls
  = parcels for one-number carriers and ``ceil(parcels / 30)`` for FedEx (30 numbers a call).
  Bound parcels/s = parcels / that time.

Prints, per carrier, the parcels, the calls the bound assumes and the calls the fake counted (and token calls),
then the median wall time, parcels/s, bound parcels/s and their ratio (goal: at least 0.85), and the median
split of the wall time. ``--profile FILE`` then runs one more fresh track under cProfile and prints where the
CPU time went beyond waiting on the network.

Where the time goes (2026-12-07, on the 2-core machine with other work beside it, load average 6-9, so every
figure is slower than on a quiet machine; compare the rows with each other). Before this round, at full scale
(5,000 parcels, one run): wall 38.3 s = 1.1 s before the first request + 33.4 s polling (0.94 of the bound)
+ 3.9 s after the last answer, ratio 0.82. Under cProfile at quick scale (times inflated by the profiler):
the answers were stored only after the last one came back (2.0 s: the ORM's flush 1.0 s, apply_result 0.7
s), in batches of 200 but all after polling; start-up imports 3.4 s cumulative (the ORM models, which every
job needs for its run record, the carriers' modules, httpx, pydantic and the settings); making the four
httpx clients 0.56 s, 0.30 s of it reading the trusted certificates once per carrier; and, outside any
profile, tearing the interpreter down at exit (the same imports end 0.19-0.25 s sooner with ``os._exit``).
The plan itself (due parcels, one query of three columns; rate budgets) takes milliseconds.

What changed: answers are stored while the polling goes on, each batch of what has come back (at least 100)
in one transaction in a thread beside the event loop, as plain rows (one select, one update, one insert per
batch, not ORM objects), so what is left after the last answer is the last batch, the carriers' health and
the run record; the clients share one TLS context; and ``python -m orderflow`` ends the process as soon as
the command has returned and its output is written. Quick scale, paired (6 rounds, the code before and after
alternating in one run, load 6-8): wall 5.43 -> 4.67 s (ratio 0.59 -> 0.69), before the first request 1.41
-> 1.21 s, polling 3.35 -> 3.38 s (0.95 of the bound both), after the last answer 0.70 -> 0.06 s, CPU 2.02
-> 1.62 s. Full scale (``--runs 2``, the code before and after run back to back, load 3.6-3.7): wall 37.49 ->
33.88 s, ratio 0.835 -> 0.924 (goal met), before the first request 1.41 -> 1.19 s, polling 32.52 -> 32.63 s
(0.96 of the bound both), after the last answer 3.56 -> 0.06 s, CPU 10.0 -> 8.0 s. What is left is
start-up, nearly all of it imports every run needs (SQLAlchemy and the ORM models for the run record, pydantic
for the settings and Typer's option conversion, the carriers' modules, httpx): at quick scale it alone keeps
the ratio under 0.85; at full scale it weighs a tenth as much.

    .venv/bin/python benchmarks/track.py [--parcels 5000] [--quick] [--runs 3] [--latency 0.1] \\
        [--concurrency 4] [--profile FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import pstats
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from paired import compile_sources
from sqlalchemy import func, insert, select

from orderflow.carriers.numbers import validate
from orderflow.carriers.status import PackageStatus
from orderflow.catalog import CatalogRow, upsert_catalog
from orderflow.config import load_settings
from orderflow.db.bulk import chunked, table_of
from orderflow.db.engine import make_engine, session_factory
from orderflow.db.migrate import upgrade
from orderflow.db.models import Shipment, VendorOrder
from orderflow.storefronts.importing import import_orders
from orderflow.testing.carriers import MAX_FEDEX_NUMBERS, CarrierName, FakeCarrier, Reply, Scan
from orderflow.vendors.registry import sync_vendors

RATIO_GOAL = 0.85
PARCELS = 5000
QUICK_PARCELS = 500
NOW = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)
NO_QUOTA_PER_HOUR = 1_000_000_000
FIRST_ORDER_NUMBER = 300_001
CARRIERS: tuple[CarrierName, ...] = ("ups", "fedex", "usps", "dhl")
NUMBERS_PER_CALL = {"ups": 1, "fedex": MAX_FEDEX_NUMBERS, "usps": 1, "dhl": 1}
# The number without its check digit, with a running package serial: a UPS 1Z (shipper 4R8W67, service 03),
# a FedEx Express 12-digit, a USPS IMpb 22-digit and a DHL Express 10-digit number.
NUMBER_PATTERNS = {"ups": "1Z4R8W6703{serial:07d}", "fedex": "7946{serial:07d}",
                   "usps": "940011189922385{serial:06d}", "dhl": "33{serial:07d}"}
JOURNEY = (
    Scan(NOW - timedelta(days=2), PackageStatus.LABEL_CREATED, "Shipper created a label"),
    Scan(NOW - timedelta(hours=40), PackageStatus.IN_TRANSIT, "Picked up", "Chicago IL US"),
    Scan(NOW - timedelta(hours=20), PackageStatus.IN_TRANSIT, "Departed facility", "Columbus OH US"),
    Scan(NOW - timedelta(hours=6), PackageStatus.IN_TRANSIT, "Arrived at facility", "Albany NY US"),
)
SECRETS = {"TRACK_BENCH_CLIENT_ID": "id", "TRACK_BENCH_CLIENT_SECRET": "secret", "TRACK_BENCH_API_KEY": "key"}
SKU = CatalogRow("TB-HCT-BLK-L", "ACME", "ACM-G500-BLK-L", upc="086753090017", description="Heavy Cotton Tee")
SAMPLE_EXPORT = Path(__file__).resolve().parents[1] / "tests" / "samples" / "shopify_orders_export.csv"
# Steps whose cumulative time the profile shows (module suffix, function name, label). The frames that enclose
# the event loop (track, asyncio.run) come out of cProfile unrecorded or mis-attributed on Python 3.11, so the
# phases themselves are timed from outside instead (before / polling / after) and only inner steps are listed.
PROFILED_STEPS = [
    ("<frozen importlib._bootstrap>", "_find_and_load", "imports (start-up, and any repeated)"),
    ("orderflow/carriers/poller.py", "_due", "plan: due parcels (one query)"),
    ("orderflow/carriers/poller.py", "_allowance", "plan: rate budgets"),
    ("orderflow/carriers/poller.py", "_default_client", "poll: make the 4 httpx clients"),
    ("orderflow/carriers/poller.py", "_ask", "poll: one call with retries (CPU, no waits)"),
    ("httpx/_client.py", "request", "  httpx AsyncClient.request"),
    ("orderflow/carriers/connector.py", "read_track", "  parse the answers"),
    ("orderflow/carriers/poller.py", "_apply", "apply: all answers"),
    ("orderflow/carriers/tracking.py", "apply_result", "  apply_result (one per parcel)"),
    ("orderflow/carriers/tracking.py", "_store_events", "    store events: select known + insert + flush"),
    ("orderflow/carriers/tracking.py", "_all_events", "    read the events back"),
    ("orderflow/carriers/tracking.py", "_update_status", "    status"),
]
NETWORK_WAIT = ("~", "<method 'poll' of 'select.epoll' objects>")


class TimedCarrier(FakeCarrier):
    """A fake carrier that also notes, on this script's clock, when a run's first request came and last answer left."""

    def __init__(self, carrier: CarrierName, *, latency: float) -> None:
        super().__init__(carrier, client_id="id", client_secret="secret", api_key="key",  # noqa: S106
                         now=lambda: NOW, latency=latency)
        self._times = threading.Lock()
        self.first_request: float | None = None
        self.last_answer: float | None = None

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        arrived = time.perf_counter()
        reply = super().respond(method, target, headers, body)
        left = time.perf_counter()
        with self._times:
            self.first_request = arrived if self.first_request is None else min(self.first_request, arrived)
            self.last_answer = left if self.last_answer is None else max(self.last_answer, left)
        return reply

    def forget_times(self) -> None:
        with self._times:
            self.first_request = self.last_answer = None


@dataclass(frozen=True)
class Shop:
    folder: Path
    config: Path
    template: Path
    parcels: dict[str, list[str]]
    """Carrier -> its tracking numbers."""


@dataclass(frozen=True)
class Run:
    seconds: float
    before: float
    polling: float
    after: float
    cpu: float
    """User + system CPU seconds of the orderflow process."""
    fakes_cpu: float
    """CPU seconds of this process meanwhile: the four fake carriers (this script only waits)."""
    track_calls: dict[str, int]
    token_calls: dict[str, int]


# --- set-up (not timed) ------------------------------------------------------------------------------------

def with_check_digit(serial: str, carrier: str) -> str:
    """``serial`` completed with the one digit that makes it a valid number of ``carrier``."""
    for digit in "0123456789":
        if validate(serial + digit, carrier).valid:
            return serial + digit
    raise SystemExit(f"no check digit makes {serial} a valid {carrier} number")


def share_parcels(count: int) -> dict[str, list[str]]:
    """``count`` numbers dealt to the carriers in turn: equal shares, the first carriers one more when uneven."""
    parcels: dict[str, list[str]] = {code: [] for code in CARRIERS}
    for index in range(count):
        code = CARRIERS[index % len(CARRIERS)]
        serial = NUMBER_PATTERNS[code].format(serial=len(parcels[code]) + 1)
        parcels[code].append(with_check_digit(serial, code))
    return parcels


def config_toml(fakes: Mapping[str, FakeCarrier], *, concurrency: int, parcels: int) -> str:
    blocks = ['po_prefix = "TB"\n',
              '[[vendors]]\ncode = "ACME"\nname = "Acme Blanks"\nformat = "csv"\ntransport = "local"\n'
              'path = "acme"\n',
              f"[tracking]\nlimit_per_run = {max(parcels, 1)}\n"]
    for code, fake in fakes.items():
        blocks.append(f'[carriers.{code}]\nbase_url = "{fake.url}"\nclient_id_env = "TRACK_BENCH_CLIENT_ID"\n'
                      f'client_secret_env = "TRACK_BENCH_CLIENT_SECRET"\napi_key_env = "TRACK_BENCH_API_KEY"\n'
                      f"concurrency = {concurrency}\nrequests_per_hour = {NO_QUOTA_PER_HOUR}\n")
    return "".join(blocks)


def shopify_export(path: Path, order_numbers: list[int]) -> None:
    """One order per number, one line each, all for ACME's one SKU, in Shopify's export columns."""
    columns = SAMPLE_EXPORT.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns, restval="")
        writer.writeheader()
        for number in order_numbers:
            writer.writerow({
                "Name": f"#{number}", "Email": "pat@example.com", "Financial Status": "paid",
                "Fulfillment Status": "unfulfilled", "Currency": "USD", "Created at": "2026-11-01 10:04:00 -0500",
                "Lineitem quantity": "1", "Lineitem name": SKU.description, "Lineitem price": "24.00",
                "Lineitem sku": SKU.sku, "Lineitem requires shipping": "true",
                "Lineitem fulfillment status": "pending", "Shipping Name": "Pat Doe",
                "Shipping Address1": "1 Main St", "Shipping City": "Portland", "Shipping Zip": "04101",
                "Shipping Province": "ME", "Shipping Country": "US"})


def build_shop(folder: Path, fakes: Mapping[str, FakeCarrier], *, parcels: dict[str, list[str]],
               concurrency: int) -> Shop:
    """The template database: vendor, catalog, orders through orderflow's import, and one parcel per order."""
    total = sum(len(numbers) for numbers in parcels.values())
    config = folder / "orderflow.toml"
    config.write_text(config_toml(fakes, concurrency=concurrency, parcels=total), encoding="utf-8")
    template = folder / "template.db"
    url = f"sqlite:///{template}"
    upgrade(url)
    settings = load_settings(config, database_url=url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session, session.begin():
            sync_vendors(session=session, settings=settings, now=NOW)
            upsert_catalog(session=session, rows=[SKU], now=NOW)
        order_numbers = list(range(FIRST_ORDER_NUMBER, FIRST_ORDER_NUMBER + total))
        shopify_export(folder / "orders.csv", order_numbers)
        imported = import_orders(engine=engine, settings=settings, now=NOW, paths=[folder / "orders.csv"])
        if imported.exit_code:
            raise SystemExit(f"set-up: import refused orders: {imported.problems[:3]}")
        dealt = [(code, number) for index in range(total)
                 for code in [CARRIERS[index % len(CARRIERS)]]
                 for number in [parcels[code][index // len(CARRIERS)]]]
        shipped_at = JOURNEY[0].at
        rows = [{"vendor_order_id": f"TB{order}-ACME", "carrier": code, "carrier_named": code.upper(),
                 "tracking_number": number, "tracking_valid": True, "shipped_at": shipped_at,
                 "reported_at": shipped_at, "status": "label_created", "invalid_polls": 0, "next_check_at": NOW,
                 "created_at": shipped_at, "updated_at": shipped_at}
                for order, (code, number) in zip(order_numbers, dealt, strict=True)]
        with session_factory(engine)() as session, session.begin():
            for batch in chunked(rows, 1000):
                session.execute(insert(table_of(Shipment)), batch)
            vendor_orders = session.scalar(select(func.count()).select_from(VendorOrder))
        if vendor_orders != total:
            raise SystemExit(f"set-up: {vendor_orders} vendor orders for {total} imported orders")
    finally:
        engine.dispose()
    return Shop(folder, config, template, parcels)


def fresh_database(shop: Shop, name: str) -> Path:
    path = shop.folder / f"{name}.db"
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    with closing(sqlite3.connect(shop.template)) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    return path


# --- the timed run and its checks ----------------------------------------------------------------------------

def track_command(shop: Shop, database: Path) -> list[str]:
    return ["-m", "orderflow", "--config", str(shop.config), "--db", f"sqlite:///{database}",
            "--now", NOW.isoformat().replace("+00:00", "Z"), "track"]


def run_track(shop: Shop, fakes: Mapping[str, TimedCarrier], database: Path, timeout: float) -> Run:
    calls = {code: fake.track_requests for code, fake in fakes.items()}
    tokens = {code: fake.token_requests for code, fake in fakes.items()}
    for fake in fakes.values():
        fake.forget_times()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_cpu = time.process_time()
    started = time.perf_counter()
    finished_process = subprocess.run([sys.executable, *track_command(shop, database)], env=child_env(),
                                      stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                                      check=False)
    finished = time.perf_counter()
    fakes_cpu = time.process_time() - own_cpu
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after_children.ru_utime - children.ru_utime) + (after_children.ru_stime - children.ru_stime)
    if finished_process.returncode:
        raise SystemExit(f"orderflow track exited {finished_process.returncode}: {finished_process.stderr.strip()}")
    firsts = [fake.first_request for fake in fakes.values() if fake.first_request is not None]
    lasts = [fake.last_answer for fake in fakes.values() if fake.last_answer is not None]
    if not firsts or not lasts:
        raise SystemExit("no request reached the fake carriers' respond(): nothing to time")
    return Run(seconds=finished - started, before=min(firsts) - started, polling=max(lasts) - min(firsts),
               after=finished - max(lasts), cpu=cpu, fakes_cpu=fakes_cpu,
               track_calls={code: fake.track_requests - calls[code] for code, fake in fakes.items()},
               token_calls={code: fake.token_requests - tokens[code] for code, fake in fakes.items()})


def child_env() -> dict[str, str]:
    return {**os.environ, **SECRETS}


def check_tracked(shop: Shop, database: Path) -> None:
    """Every parcel read: in transit, checked now, its four scans stored once; the job recorded as ok."""
    total = sum(len(numbers) for numbers in shop.parcels.values())
    with closing(sqlite3.connect(database)) as db:
        statuses = dict(db.execute("SELECT status, count(*) FROM shipments GROUP BY status").fetchall())
        unchecked = db.execute("SELECT count(*) FROM shipments WHERE last_checked_at IS NULL").fetchone()[0]
        events = db.execute("SELECT count(*) FROM tracking_events").fetchone()[0]
        outcome, counts = db.execute(
            "SELECT outcome, counts FROM job_runs WHERE command = 'track' ORDER BY id DESC").fetchone()
    if statuses != {"in_transit": total} or unchecked:
        raise SystemExit(f"check: shipments by status {statuses}, {unchecked} never checked (want {total} in_transit)")
    if events != total * len(JOURNEY):
        raise SystemExit(f"check: {events} tracking events, want {total * len(JOURNEY)}")
    polled = json.loads(counts).get("polled") if isinstance(counts, str) else None
    if outcome != "ok" or polled != total:
        raise SystemExit(f"check: job_runs says {outcome} with counts {counts}")


# --- the bound -----------------------------------------------------------------------------------------------

def calls_needed(code: str, parcels: int) -> int:
    return math.ceil(parcels / NUMBERS_PER_CALL[code])


def bound_seconds(code: str, parcels: int, *, concurrency: int, latency: float) -> float:
    """The least time one carrier needs: its calls in rounds of ``concurrency``, each round one latency."""
    return math.ceil(calls_needed(code, parcels) / concurrency) * latency


# --- the profile ---------------------------------------------------------------------------------------------

def profile_run(shop: Shop, fakes: Mapping[str, TimedCarrier], out: Path, timeout: float) -> None:
    database = fresh_database(shop, "profiled")
    for fake in fakes.values():
        fake.forget_times()
    started = time.perf_counter()
    command = [sys.executable, "-m", "cProfile", "-o", str(out), *track_command(shop, database)]
    done = subprocess.run(command, env=child_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"profiled orderflow track exited {done.returncode}: {done.stderr.strip()}")
    check_tracked(shop, database)
    print_profile(pstats.Stats(str(out)), wall)


def print_profile(stats: pstats.Stats, wall: float) -> None:
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in entries.values())
    waited = sum(entry[2] for key, entry in entries.items() if (key[0], key[2]) == NETWORK_WAIT)
    print(f"\nprofile (one more fresh run under cProfile: wall {wall:.2f} s, profiled {total:.2f} s, "
          f"of which {waited:.2f} s waiting in epoll for answers, {total - waited:.2f} s running; the profiler "
          f"inflates Python-heavy steps, so compare these rows with each other, not with the table above)")
    print(f"{'step (cumulative; coroutine calls count resumptions)':<62}{'calls':>10}{'cum s':>10}")
    for suffix, name, label in PROFILED_STEPS:
        found = [entry for key, entry in entries.items() if key[0].endswith(suffix) and key[2] == name]
        if found:
            calls, cumulative = sum(entry[1] for entry in found), sum(entry[3] for entry in found)
            print(f"{label:<62}{calls:>10}{cumulative:>10.2f}")
        if name == "_find_and_load" and found:
            print_busiest_caller(found[0][4])
    print(f"\n{'top functions by own time (network wait left out)':<84}{'calls':>10}{'own s':>9}")
    ranked = sorted(((entry[2], entry[1], key) for key, entry in entries.items()
                     if (key[0], key[2]) != NETWORK_WAIT), reverse=True)
    for own, calls, (filename, line, name) in ranked[:15]:
        where = f"{short_path(filename)}:{line} {name}" if filename != "~" else name
        print(f"{where[:84]:<84}{calls:>10}{own:>9.2f}")


def print_busiest_caller(callers: dict[tuple[str, int, str], tuple[Any, ...]]) -> None:
    """Who imports most often: a module imported once per call (and failing, so never cached) shows up here."""
    if not callers:
        return
    (filename, line, name), entry = max(callers.items(), key=lambda item: item[1][0])
    label = f"  most from {short_path(filename)}:{line} {name}"
    print(f"{label[:62]:<62}{entry[0]:>10}{entry[3]:>10.2f}")


def short_path(filename: str) -> str:
    for marker in ("site-packages/", "src/", "lib/python3."):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# --- the report ----------------------------------------------------------------------------------------------

def print_report(shop: Shop, runs: list[Run], *, concurrency: int, latency: float) -> None:
    total = sum(len(numbers) for numbers in shop.parcels.values())
    bounds = {code: bound_seconds(code, len(numbers), concurrency=concurrency, latency=latency)
              for code, numbers in shop.parcels.items()}
    bound_time = max(bounds.values())
    print(f"orderflow track: {total} parcels, {len(runs)} runs (fresh database each), latency {latency * 1000:.0f} ms "
          f"per track call, concurrency {concurrency} per carrier; quotas lifted "
          f"(requests_per_hour = {NO_QUOTA_PER_HOUR:,} for every carrier); {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f} at the end\n")
    print(f"{'carrier':<9}{'parcels':>9}{'calls (bound)':>15}{'calls made':>12}{'token calls':>13}{'bound s':>10}")
    for code, numbers in shop.parcels.items():
        made = sorted({run.track_calls[code] for run in runs})
        tokens = sorted({run.token_calls[code] for run in runs})
        print(f"{code:<9}{len(numbers):>9}{calls_needed(code, len(numbers)):>15}"
              f"{'/'.join(map(str, made)):>12}{'/'.join(map(str, tokens)):>13}{bounds[code]:>10.2f}")
    wall = statistics.median(run.seconds for run in runs)
    ratio = statistics.median(bound_time / run.seconds for run in runs)
    print(f"\n{'':<34}{'median':>10}{'min':>10}{'max':>10}")
    rows = [("wall s (whole process)", [run.seconds for run in runs]),
            ("  before first request s", [run.before for run in runs]),
            ("  polling s (first req -> last ans)", [run.polling for run in runs]),
            ("  after last answer s", [run.after for run in runs]),
            ("orderflow CPU s (user + system)", [run.cpu for run in runs]),
            ("fake carriers CPU s", [run.fakes_cpu for run in runs]),
            ("parcels/s (whole process)", [total / run.seconds for run in runs]),
            ("parcels/s (polling phase only)", [total / run.polling for run in runs])]
    for label, samples in rows:
        print(f"{label:<34}{statistics.median(samples):>10.2f}{min(samples):>10.2f}{max(samples):>10.2f}")
    print(f"\nbound: slowest carrier {bound_time:.2f} s -> {total / bound_time:.1f} parcels/s")
    print(f"ratio measured/bound (whole process, median of {len(runs)}): {ratio:.3f}  goal >= {RATIO_GOAL}  "
          f"{'met' if ratio >= RATIO_GOAL else 'NOT met'}   (median wall {wall:.2f} s)")
    polling_ratio = statistics.median(bound_time / run.polling for run in runs)
    print(f"ratio measured/bound (polling phase only, measured at the fake servers): {polling_ratio:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=PARCELS)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PARCELS} parcels")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds each track answer is held")
    parser.add_argument("--concurrency", type=int, default=4, help="calls at once per carrier")
    parser.add_argument("--profile", type=Path, help="write a cProfile of one more run here and summarise it")
    args = parser.parse_args()
    compile_sources()
    count = QUICK_PARCELS if args.quick else args.parcels
    os.environ.update(SECRETS)  # the set-up loads the same configuration, which names these variables
    fakes: dict[str, TimedCarrier] = {code: TimedCarrier(code, latency=args.latency) for code in CARRIERS}
    for fake in fakes.values():
        fake.start()
    try:
        with tempfile.TemporaryDirectory(prefix="track-bench-") as scratch:
            parcels = share_parcels(count)
            for code, numbers in parcels.items():
                for number in numbers:
                    fakes[code].add_parcel(number, JOURNEY, estimated_delivery=NOW + timedelta(days=2))
            shop = build_shop(Path(scratch), fakes, parcels=parcels, concurrency=args.concurrency)
            bound_time = max(bound_seconds(code, len(numbers), concurrency=args.concurrency, latency=args.latency)
                             for code, numbers in parcels.items())
            timeout = 10 * bound_time + 120
            runs = []
            for index in range(args.runs):
                database = fresh_database(shop, f"run-{index}")
                runs.append(run_track(shop, fakes, database, timeout))
                check_tracked(shop, database)
            print_report(shop, runs, concurrency=args.concurrency, latency=args.latency)
            if args.profile:
                profile_run(shop, fakes, args.profile, timeout)
    finally:
        for fake in fakes.values():
            fake.stop()


if __name__ == "__main__":
    main()
