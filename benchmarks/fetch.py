"""How fast ``orderflow fetch`` takes vendor tracking files over SFTP, against a bare paramiko download loop.

Starts a real OpenSSH sshd on 127.0.0.1 with throw-away keys and configures one stocked vendor (ACME, CSV,
``settle_seconds = 0``). The vendor orders the tracking rows attach to are made by orderflow itself, once,
before any timing:

- set-up, not timed: ``orderflow db upgrade``, ``orderflow catalog import`` (10 ACME SKUs) and
  ``orderflow import`` of a generated Shopify export (one order per file, 10 lines each, all routed to ACME),
  then ``orderflow dispatch`` to a local folder, so every vendor order is ``sent`` with 10 lines. That
  database is the template each run copies (SQLite's backup API): a fresh database per run.
- the tracking files: one CSV per vendor order, 10 rows (one per line, the quantity ordered shipped), in the
  columns of a vendor's tracking export (``po_number, order_number, line_number, vendor_sku,
  quantity_shipped, carrier, carrier_scac, service, tracking_number, tracking_url, ship_date,
  package_weight_lb``). Each order ships in two parcels, UPS for even order numbers and USPS for odd ones; every
  number passes its carrier's check digit (checked with ``orderflow.carriers.numbers.validate``).
- orderflow, timed: ``python -m orderflow --config ... --db ... fetch`` against a fresh remote folder holding
  the files (vendor over SFTP, host key checked against known_hosts), the wall time of that process. Afterwards
  every file must be in the remote ``archive/`` and none left inbound, and the database must hold one ledger row
  per file (its one ship notice taken, nothing refused), files x 10 shipment lines, files x 2 valid shipments, and
  every vendor order ``shipped``.
- the floor, timed: this script in a child process that imports only paramiko, connects once (same user key,
  host key verified against the same known_hosts), lists a folder holding the same files (written afresh
  just before) and reads every file into memory. It reports the files and bytes it read, which must match.
  Both sides are fresh processes, so both pay interpreter start-up and the SSH handshake; nothing is subtracted.

Each run is one pair; which side goes first alternates. Prints median seconds and rows/s for each (rows = files
x 10), the ratio orderflow rows/s over floor rows/s for each pair and its median (goal: at least 0.5).
``--profile FILE`` then runs one more fresh fetch under cProfile and prints where its time went.

Where the time goes (cProfile of one full-scale fetch, 1,000 files, 10.3 s under cProfile, load average about 2.5
from other work, 2026-12-07): the files are applied 50 to a transaction. Vendor orders, their lines and parcels are
read as plain rows for the whole batch (0.5 s), the records applied in memory and what they changed written at the
batch's end in a few statements: new shipments with their ids handed back, shipment lines, one UPDATE per set of
columns changed, the ledger rows (0.93 s for parcels and vendor orders, 0.14 s for the ledger); should anything
fail, the batch is applied again file by file under savepoints, so the failing file still rolls back alone. Taking
the files is 8.1 s: parsing 1.8 (CSV rows 0.6), applying the records 1.3 (the carrier check digits 0.6 of it), the
roll-up once a batch 0.94, reading over SFTP 1.3 (a file and the ones listed after it read together, every request
sent without waiting for the answers) and moving them into ``archive/`` 0.47 (a batch's renames sent together).
Before the first file, importing fetch and its models is 1.3 s under cProfile (a fetch of no files on a local
folder takes about 0.9 s of CPU, nearly all of it imports shared with every command: sqlalchemy, the models, the
configuration, typer) and connecting over SSH 0.45 (loading the user key 0.26 of it), which the floor pays too, but
for paramiko only.

Before and after, 2026-12-07, the same load (other work on the machine, load average about 2.5), ``--runs`` 2
and 3 at full scale: orderflow 10.17 s wall and 8.72 s CPU against a floor of 2.05 s (ratio 0.20) before;
3.30 s wall and 2.87 s CPU against 1.94 s (ratio 0.61) after. At quick scale start-up is most of the run:
1.71 s against 0.62 (ratio 0.36), from 2.89 s against 0.51 (0.18).

    .venv/bin/python benchmarks/fetch.py [--files 1000] [--quick] [--runs 3] [--profile FILE]
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paired import Pair, Sample, compile_sources, print_pairs, run_quietly, timed

if TYPE_CHECKING:
    from orderflow.testing.sshd import SshServer

RATIO_GOAL = 0.5
FILES = 1000
QUICK_FILES = 100
ROWS_PER_FILE = 10
NOW = "2026-11-03T18:00:00Z"
SHIP_DATE = "2026-11-03"
VENDOR = "ACME"
FIRST_ORDER_NUMBER = 100_001
FLOOR_MODE = "download-floor"
"""The first argument that turns this script into the floor's child process."""
SAMPLE_EXPORT = Path(__file__).resolve().parents[1] / "tests" / "samples" / "shopify_orders_export.csv"
TRACKING_COLUMNS = ["po_number", "order_number", "line_number", "vendor_sku", "quantity_shipped", "carrier",
                    "carrier_scac", "service", "tracking_number", "tracking_url", "ship_date", "package_weight_lb"]
LINES_IN_FIRST_PARCEL = 6
# carrier code -> (carrier as the vendor writes it, SCAC, service, the number without its check digit): a UPS
# 1Z number (shipper 4R8W67, service 03) and a USPS IMpb number, each with a running package serial.
CARRIERS = {
    "ups": ("UPS", "UPSN", "Ground", "1Z4R8W6703{serial:07d}"),
    "usps": ("USPS", "USPS", "Ground Advantage", "940011189922385{serial:06d}"),
}
# ACME's ten SKUs: (our SKU, its SKU, product name, price).
PRODUCTS = [
    (f"TB-{style}-{colour}-{size}", f"ACM-{code}-{colour}-{size}", f"{title} - {colour} / {size}", price)
    for style, code, title, price in [("HCT", "G500", "Heavy Cotton Tee", "24.00"),
                                      ("HOOD", "18500", "Heavy Blend Hoodie", "48.50")]
    for colour, size in [("BLK", "L"), ("WHT", "M"), ("NVY", "S"), ("RED", "XL"), ("SND", "M")]
]
CUSTOMERS = [("Jordan Rivera", "Portland", "ME", "04101"), ("Mei Shah", "Austin", "TX", "78701"),
             ("Lukas Becker", "Boston", "MA", "02108"), ("Amara Nwosu", "Seattle", "WA", "98101")]


# --- what was ordered, and what the vendor says shipped ---------------------------------------------------------


@dataclass(frozen=True)
class OrderedLine:
    line: int
    sku: str
    vendor_sku: str
    title: str
    price: str
    qty: int


@dataclass(frozen=True)
class PlannedOrder:
    """One storefront order, all of it ACME's: its vendor order gets the same lines, numbered 1 to 10."""

    number: int
    lines: tuple[OrderedLine, ...]

    @property
    def vendor_order_id(self) -> str:
        return f"TB{self.number}-{VENDOR}"

    @property
    def carrier(self) -> str:
        return "ups" if self.number % 2 == 0 else "usps"


def plan_orders(files: int, *, seed: int = 1042) -> list[PlannedOrder]:
    chance = random.Random(seed)
    return [PlannedOrder(number, tuple(
        OrderedLine(line, sku, vendor_sku, title, price, chance.choice([1, 1, 2, 3]))
        for line, (sku, vendor_sku, title, price) in enumerate(chance.sample(PRODUCTS, ROWS_PER_FILE), start=1)))
        for number in range(FIRST_ORDER_NUMBER, FIRST_ORDER_NUMBER + files)]


def with_check_digit(serial: str, carrier: str) -> str:
    """``serial`` completed with the one digit that makes it a valid number of ``carrier``."""
    from orderflow.carriers.numbers import validate

    for digit in "0123456789":
        verdict = validate(serial + digit, carrier)
        if verdict.valid and verdict.carrier == carrier:
            return serial + digit
    raise SystemExit(f"no check digit makes {serial} a valid {carrier} number")


def tracking_files(plan: list[PlannedOrder]) -> dict[str, bytes]:
    """One tracking CSV per vendor order, by file name; lines 1-6 in the first parcel, the rest in the second."""
    from orderflow.carriers.numbers import tracking_url

    files = {}
    for index, order in enumerate(plan):
        carrier = order.carrier
        written_as, scac, service, pattern = CARRIERS[carrier]
        parcels = [with_check_digit(pattern.format(serial=2 * index + parcel), carrier) for parcel in (0, 1)]
        rows = []
        for ordered in order.lines:
            number = parcels[0] if ordered.line <= LINES_IN_FIRST_PARCEL else parcels[1]
            rows.append([order.vendor_order_id, str(order.number), str(ordered.line), ordered.vendor_sku,
                         str(ordered.qty), written_as, scac, service, number, tracking_url(carrier, number) or "",
                         SHIP_DATE, f"{0.4 * ordered.qty:.1f}"])
        text = _csv_text([TRACKING_COLUMNS, *rows])
        files[f"tracking_{order.vendor_order_id}_{SHIP_DATE.replace('-', '')}.csv"] = text.encode("utf-8")
    return files


def _csv_text(rows: list[list[str]]) -> str:
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def write_export(path: Path, plan: list[PlannedOrder]) -> None:
    """A Shopify order export: Shopify's header, order-level columns on each order's first row only."""
    with SAMPLE_EXPORT.open(encoding="utf-8-sig", newline="") as sample:
        header = next(csv.reader(sample))
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header, restval="")
        writer.writeheader()
        for order in plan:
            name, city, province, zip_code = CUSTOMERS[order.number % len(CUSTOMERS)]
            for ordered in order.lines:
                row = {"Name": f"#{order.number}", "Email": f"customer{order.number}@example.com",
                       "Lineitem quantity": str(ordered.qty), "Lineitem name": ordered.title,
                       "Lineitem price": ordered.price, "Lineitem sku": ordered.sku,
                       "Lineitem requires shipping": "true", "Lineitem fulfillment status": "pending",
                       "Vendor": "Acme Blanks"}
                if ordered.line == 1:
                    row |= {"Financial Status": "paid", "Fulfillment Status": "unfulfilled",
                            "Created at": "2026-11-02 10:04:00 -0500", "Shipping Name": name,
                            "Shipping Address1": f"{order.number % 9000 + 1} Main St", "Shipping City": city,
                            "Shipping Province": province, "Shipping Zip": zip_code, "Shipping Country": "US"}
                writer.writerow(row)


def write_catalog(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "vendor", "vendor_sku", "description"])
        writer.writerows([sku, VENDOR, vendor_sku, title] for sku, vendor_sku, title, _ in PRODUCTS)


# --- the shop -----------------------------------------------------------------------------------------------


def vendor_config(transport: list[str]) -> str:
    return "\n".join(['po_prefix = "TB"', "[[vendors]]", f'code = "{VENDOR}"', 'name = "Acme Blanks"',
                      'format = "csv"', *transport, "settle_seconds = 0"]) + "\n"


def local_transport(path: Path) -> list[str]:
    return ['transport = "local"', f'path = "{path}"']


def sftp_transport(sshd: SshServer, remote_dir: Path) -> list[str]:
    return ['transport = "sftp"', f'host = "{sshd.host}"', f"port = {sshd.port}", f'username = "{sshd.username}"',
            f'key_file = "{sshd.user_key_path}"', f'known_hosts = "{sshd.known_hosts_path}"',
            f'remote_dir = "{remote_dir}"']


def orderflow_command(config: Path, database: Path, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "orderflow", "--config", str(config), "--db", f"sqlite:///{database}",
            "--now", NOW, *arguments]


def prepare_template(folder: Path, plan: list[PlannedOrder]) -> Path:
    """A database where every planned vendor order was imported, routed and dispatched by orderflow."""
    folder.mkdir(parents=True)
    export, catalog, config = folder / "orders.csv", folder / "catalog.csv", folder / "orderflow.toml"
    database, dispatched = folder / "orderflow.db", folder / "acme-local"
    write_export(export, plan)
    write_catalog(catalog)
    config.write_text(vendor_config(local_transport(dispatched)), encoding="utf-8")
    for step in (["db", "upgrade"], ["catalog", "import", str(catalog)], ["import", str(export)], ["dispatch"]):
        run_quietly(orderflow_command(config, database, *step))
    sent = sum(1 for _ in (dispatched / "to_vendor").iterdir())
    states, lines = vendor_orders_by_state(database)
    if sent != len(plan) or states != {"sent": len(plan)} or lines != len(plan) * ROWS_PER_FILE:
        raise SystemExit(f"set-up: {sent} purchase orders sent, vendor orders by state {states}, {lines} lines; "
                         f"wanted {len(plan)} sent with {len(plan) * ROWS_PER_FILE} lines")
    return database


@dataclass(frozen=True)
class Shop:
    """One run's configuration, database copy and remote folders (local paths, since sshd is local)."""

    config: Path
    database: Path
    remote: Path
    floor_inbound: Path

    @property
    def inbound(self) -> Path:
        return self.remote / "from_vendor"

    @property
    def archive(self) -> Path:
        return self.remote / "archive"

    def fetch(self) -> list[str]:
        return orderflow_command(self.config, self.database, "fetch")


def fresh_shop(folder: Path, *, template: Path, sshd: SshServer) -> Shop:
    folder.mkdir(parents=True)
    shop = Shop(config=folder / "orderflow.toml", database=folder / "orderflow.db", remote=folder / "remote",
                floor_inbound=folder / "floor" / "from_vendor")
    for made in (shop.inbound, shop.remote / "to_vendor", shop.floor_inbound):
        made.mkdir(parents=True)
    shop.config.write_text(vendor_config(sftp_transport(sshd, shop.remote)), encoding="utf-8")
    with sqlite3.connect(template) as source, sqlite3.connect(shop.database) as copy:
        source.backup(copy)
    return shop


def drop_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (folder / name).write_bytes(content)


# --- checks -------------------------------------------------------------------------------------------------


def vendor_orders_by_state(database: Path) -> tuple[dict[str, int], int]:
    with sqlite3.connect(database) as db:
        states = dict(db.execute("SELECT state, count(*) FROM vendor_orders GROUP BY state").fetchall())
        [(lines,)] = db.execute("SELECT count(*) FROM vendor_order_lines").fetchall()
    return states, int(lines)


def check_fetched(shop: Shop, files: dict[str, bytes]) -> None:
    """Every file archived on the server, none left; one clean ledger row a file; the lines shipped.

    The ledger counts records, not rows: a file's 10 rows make one ship notice (one vendor order, two parcels).
    """
    archived = {path.name for path in shop.archive.iterdir()}
    left = sorted(path.name for path in shop.inbound.iterdir())
    if archived != set(files) or left:
        raise SystemExit(f"{shop.remote}: {len(archived & set(files))} of {len(files)} files archived, "
                         f"{len(archived - set(files))} unexpected, {len(left)} left in from_vendor")
    with sqlite3.connect(shop.database) as db:
        [(ledger, rows_ok, rows_refused)] = db.execute(
            "SELECT count(*), sum(rows_ok), sum(rows_refused) FROM ingested_files").fetchall()
        [(shipment_lines, shipped_qty)] = db.execute("SELECT count(*), sum(qty) FROM shipment_lines").fetchall()
        [(shipments, valid)] = db.execute("SELECT count(*), sum(tracking_valid) FROM shipments").fetchall()
        [(ordered_qty,)] = db.execute("SELECT sum(qty) FROM vendor_order_lines").fetchall()
    states, _ = vendor_orders_by_state(shop.database)
    found = (ledger, rows_ok, rows_refused, shipment_lines, shipped_qty, shipments, valid, states)
    count = len(files)
    wanted = (count, count, 0, count * ROWS_PER_FILE, ordered_qty, 2 * count, 2 * count,
              {"shipped": count})
    if found != wanted:
        names = ("ledger rows", "ship notices taken", "records refused", "shipment lines", "qty shipped", "shipments",
                 "valid tracking", "vendor orders by state")
        raise SystemExit("after fetch: " + "; ".join(f"{name} {got} (wanted {want})"
                                                     for name, got, want in zip(names, found, wanted, strict=True)
                                                     if got != want))


def check_floor_read(sample: Sample, files: dict[str, bytes]) -> None:
    wanted = f"{len(files)} {sum(len(content) for content in files.values())}"
    if sample.output.strip() != wanted:
        raise SystemExit(f"the floor read {sample.output.strip()!r} (files bytes); wanted {wanted!r}")


# --- the floor: a child process that imports only paramiko ----------------------------------------------------


def floor_command(sshd: SshServer, folder: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), FLOOR_MODE, str(folder), sshd.host, str(sshd.port),
            sshd.username, str(sshd.user_key_path), str(sshd.known_hosts_path)]


def download_floor(arguments: list[str]) -> None:
    """Connect once, verify the host key, list FOLDER and read every file in it into memory; print files, bytes."""
    import paramiko

    parser = argparse.ArgumentParser(prog=f"fetch.py {FLOOR_MODE}")
    for name in ("folder", "host", "port", "username", "key_file", "known_hosts"):
        parser.add_argument(name)
    args = parser.parse_args(arguments)
    client = paramiko.SSHClient()
    client.load_host_keys(args.known_hosts)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(args.host, port=int(args.port), username=args.username, key_filename=args.key_file,
                   look_for_keys=False, allow_agent=False, timeout=10)
    try:
        sftp = client.open_sftp()
        contents = []
        for entry in sftp.listdir_attr(args.folder):
            with sftp.open(f"{args.folder}/{entry.filename}", "rb") as remote:
                contents.append(remote.read())
        sftp.close()
    finally:
        client.close()
    print(len(contents), sum(len(content) for content in contents))


# --- the profile --------------------------------------------------------------------------------------------


def profile_fetch(shop: Shop, files: dict[str, bytes], output: Path) -> None:
    """One more fetch under cProfile; prints its top entries by cumulative and by own time."""
    import pstats

    import orderflow

    command = shop.fetch()
    command[1:3] = ["-m", "cProfile", "-o", str(output), "-m", "orderflow"]
    drop_files(shop.inbound, files)
    sample = timed(command)
    check_fetched(shop, files)
    print(f"\nprofile of one fetch of {len(files)} files ({sample.seconds:.2f} s under cProfile), saved to {output}")
    # orderflow's own functions by cumulative time say which step costs; everything by own time says in what.
    package = re.escape(str(Path(orderflow.__file__).parent))
    for order, restrictions in (("cumulative", (package, 25)), ("tottime", (25,))):
        print(f"\n--- top 25 by {order}{' (orderflow functions)' if order == 'cumulative' else ''} ---")
        stats = pstats.Stats(str(output), stream=sys.stdout)
        stats.sort_stats(order).print_stats(*restrictions)


# --- the benchmark ------------------------------------------------------------------------------------------


def run_pair(run: int, shop: Shop, sshd: SshServer, files: dict[str, bytes]) -> Pair:
    """One orderflow fetch and one floor download of the same files; odd runs start with orderflow."""

    def orderflow() -> Sample:
        drop_files(shop.inbound, files)
        sample = timed(shop.fetch())
        check_fetched(shop, files)
        return sample

    def floor() -> Sample:
        drop_files(shop.floor_inbound, files)
        sample = timed(floor_command(sshd, shop.floor_inbound))
        check_floor_read(sample, files)
        return sample

    if run % 2:
        first = orderflow()
        return Pair(first, floor())
    first = floor()
    return Pair(orderflow(), first)


def print_table(pairs: list[Pair], files: int) -> None:
    rows = files * ROWS_PER_FILE
    print_pairs(pairs, work=f"{files} files, {rows} rows", amount=rows, unit="rows",
                names=("orderflow fetch", "paramiko download loop (floor)"), goal=RATIO_GOAL)


def main() -> None:
    if sys.argv[1:2] == [FLOOR_MODE]:
        download_floor(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=FILES, help=f"tracking files of {ROWS_PER_FILE} rows [{FILES}]")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FILES} files")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", type=Path, metavar="FILE", help="then profile one fetch into FILE")
    args = parser.parse_args()
    compile_sources()
    count = QUICK_FILES if args.quick else args.files

    from orderflow.testing.sshd import SshServer

    with tempfile.TemporaryDirectory(prefix="orderflow-bench-fetch-") as temp, SshServer(Path(temp) / "sshd") as sshd:
        work = Path(temp)
        plan = plan_orders(count)
        started = time.perf_counter()
        template = prepare_template(work / "template", plan)
        files = tracking_files(plan)
        print(f"set-up (not timed): {count} orders of {ROWS_PER_FILE} lines imported and dispatched, "
              f"{count} tracking files made, in {time.perf_counter() - started:.1f} s\n")
        pairs = [run_pair(run, fresh_shop(work / f"run-{run}", template=template, sshd=sshd), sshd, files)
                 for run in range(1, args.runs + 1)]
        print_table(pairs, count)
        if args.profile is not None:
            shop = fresh_shop(work / "profile", template=template, sshd=sshd)
            profile_fetch(shop, files, args.profile.resolve())


if __name__ == "__main__":
    main()
