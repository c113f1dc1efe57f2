"""How fast ``orderflow import`` stores a big Shopify export, against the plainest possible import of its lines.

Generates a Shopify order export (Shopify's exact header; 1 to 5 lines per order, 3 on average; order-level
columns on an order's first row only; some multi-line ``Note Attributes``; 20 SKUs over 5 vendors), then, in
fresh processes and with a fresh SQLite database each run:

- orderflow: ``orderflow db upgrade`` and ``orderflow catalog import`` (not timed), then
  ``orderflow import FILE`` (timed: the wall time of that process, interpreter start-up included);
- the floor: this script in a child process reads the same file with the ``csv`` module and inserts each
  line (order number, line number, SKU, quantity, price) with ``sqlite3.executemany`` into a fresh table,
  WAL mode, one transaction. Both pay interpreter start-up; nothing is subtracted.
- for scale, not a goal: SQLite storing, with ``executemany`` and nothing else, the very rows that run's import
  added (orders with their raw storefront payload, lines, vendor orders and their lines), into a copy of the
  database as it was before the import, in one transaction, with orderflow's pragmas; timed inside a child
  process around the inserts and the commit only. The floor's time over that is the best ratio orderflow could
  reach if its own work, start-up included, cost nothing: what storing its rows costs in the floor's own
  library bounds the ratio, whatever orderflow's code does.

Each timed process's CPU time (user and system, from the same ``os.wait4``) is printed beside its wall time:
on a machine shared with other work the wall time swings with the load, the CPU time much less. Peak memory
is each timed process's own maximum resident set size, as the kernel reports it to ``os.wait4``
for that one child (the ``ru_maxrss`` of ``getrusage``, per process rather than the maximum over all
children). Prints medians, lines per second, the ratio orderflow/floor (goal: at least 0.5) and orderflow's
peak memory (goal: under 400 MB), then checks that the orderflow database holds exactly what was generated.

At full scale on a quiet machine (2026-12-07): orderflow 13.81 s, the floor 1.36 s (ratio 0.10), SQLite storing
orderflow's rows alone 6.97 s, about half of orderflow's time and 5.1 times the floor's: at best 0.20.

Orderflow's modules are compiled to bytecode once before the timed runs, as installing it does (a machine
that sets PYTHONDONTWRITEBYTECODE would otherwise compile them from source in every timed process).

Where the time goes (py-spy sampling the import process, one full-scale import of 100,000 orders on a busy
machine, 2026-12-07, after that day's second round of changes; shares of its samples): SQLite's ``executemany``
27% and the commit 6%, the raw payload's JSON 8%, reading the CSV rows 10% (the checking pass 4% of it),
each row's cells by column name for the raw payload 4.5%, Shopify's fields 11% (the frozen order, line and
address records 3% of it, times 2.5%), content hashes 4%, converting values for SQLite 4%, the vendor orders'
rows 4.5% (ship-by dates 2% of it), start-up 3.5%. The database's share is its own work, not ours: four tables,
fourteen indexes, and a JSON payload of about 2 KB per order make a 476 MB database (the orders 337 MB of it)
where the floor writes one 18 MB table; those rows inserted with ``sqlite3.executemany`` and nothing else take
1.0-1.2 s of CPU at quick scale, three times the floor's whole run. An import of an empty export costs
0.76-0.96 s of CPU (start-up: SQLAlchemy, the models with the PostgreSQL dialect, the settings, Typer). The goal
of 0.5 is out of reach while the stored data is what it is.

That round: new orders and lines are inserted under ids reserved first (no query reads them back), as tuples
in a fixed column order with each insert's plan worked out once, states bound as plain text (the driver binds
a str subclass through a slower lookup); the CSV reader decodes, checks and splits a block of whole lines at a
time, and its checking pass keeps no row; a CSV row is a named tuple; a run collects its young objects less
often (the collector took 2.7 s of a full-scale import's CPU, 0.27 s after). Import-only CPU time, in-process,
quick scale, the least of three imports, four pairs alternating with the code before: 3.0-4.1 s before,
2.6-3.0 s after (11-27% less in each pair, before the collector change). Full scale, ``orderflow import`` alone
run alternately with the code before (load 3-4.7 on two cores): 43.8 and 38.4 s of CPU before, 35.6 and 32.4 s
after. This benchmark with ``--runs 1`` at that load: 57.7 s wall, 30.4 s of CPU against the floor's 2.3 s
(ratio 0.07 in wall time and in CPU time), 129 MB at peak (the reader's blocks of text; 106 MB before).

Before: the first round's profile (cProfile counting CPU time, a quick import, 10.4 s in all) gave reading the
export 3.3 s (the CSV rows 0.95 s: the shared row reader checks the whole file before the first row, then
reads it again, line by line in Python), storing 4.9 s (the inserts 2.3 s, routing 1.5 s, reading back new ids
0.2 s), content hashes 0.65 s, start-up 1.45 s; the benchmark at full scale 32.8 s wall, 30.7 s of CPU against
the floor's 2.4 s (ratio 0.07), 106 MB at peak; unprofiled, a quick import took 3.9 s of CPU against the floor's
0.29 s.

    .venv/bin/python benchmarks/import_orders.py [--orders 100000] [--quick] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from paired import compile_sources

RATIO_GOAL = 0.5
PEAK_MB_GOAL = 400.0
FILE_BYTES_DEFAULT = 20_000_000  # limits.file_bytes unless set
QUICK_ORDERS = 10_000
NOW = "2026-11-03T14:00:00Z"
SAMPLE_EXPORT = Path(__file__).resolve().parents[1] / "tests" / "samples" / "shopify_orders_export.csv"

VENDORS = {  # code: (name, kind)
    "ACME": ("Acme Blanks", "stocked"),
    "PF": ("Printful", "on_demand"),
    "STITCH": ("Stitch & Co", "stocked"),
    "INKWELL": ("Inkwell Print", "on_demand"),
    "NORTH": ("Northwind Apparel", "stocked"),
}
COLOURS = {"BLK": "Black", "WHT": "White", "NVY": "Navy", "RED": "Red", "SND": "Sand", "FRS": "Forest",
           "GRY": "Heather Grey", "PNK": "Pink"}
# 20 SKUs, 4 per vendor: (sku, vendor, product name, price in cents).
PRODUCTS = [
    (f"TB-{style}-{colour}-{size}", vendor, f"{title} - {COLOURS[colour]} / {size}", price)
    for vendor, style, title, price, variants in [
        ("ACME", "HCT", "Heavy Cotton Tee", 2400, [("BLK", "L"), ("WHT", "M"), ("NVY", "S"), ("RED", "XL")]),
        ("PF", "SUNWAVE", "Sunrise Wave Tee", 2600, [("BLK", "M"), ("WHT", "XL"), ("SND", "L"), ("BLK", "S")]),
        ("STITCH", "EMBLOGO", "Embroidered Logo Tee", 3400,
         [("FRS", "L"), ("FRS", "M"), ("BLK", "L"), ("GRY", "XL")]),
        ("INKWELL", "CUSTNAME", "Custom Name Tee", 3200, [("WHT", "L"), ("WHT", "M"), ("BLK", "M"), ("PNK", "S")]),
        ("NORTH", "HOOD", "Heavy Blend Hoodie", 4850, [("NVY", "XL"), ("NVY", "L"), ("GRY", "M"), ("BLK", "L")]),
    ]
    for colour, size in variants
]
FIRST_NAMES = ["Jordan", "Sam", "Mei", "Priya", "Lukas", "Amara", "Diego", "Hannah", "Kenji", "Olga", "Tariq", "Zoe"]
LAST_NAMES = ["Rivera", "Okafor", "Lindqvist", "Shah", "Becker", "Nwosu", "Alvarez", "Cohen", "Sato", "Ivanova"]
CITIES = [("Portland", "ME", "'04101"), ("Eugene", "OR", "97401"), ("Austin", "TX", "78701"),
          ("Boston", "MA", "'02108"), ("Denver", "CO", "80202"), ("Seattle", "WA", "98101")]
OFFSETS = ["-0400", "-0500", "-0700", "+0000", "+0100"]


@dataclass
class Expected:
    """What the generated file holds, in the terms orderflow stores it."""

    orders: int = 0
    lines: int = 0
    vendor_orders: int = 0
    routed_lines: int = 0


@dataclass
class Sample:
    seconds: float
    cpu_seconds: float
    peak_mb: float


@dataclass
class Measured:
    name: str
    samples: list[Sample] = field(default_factory=list)

    def median_seconds(self) -> float:
        return statistics.median(sample.seconds for sample in self.samples)

    def median_cpu_seconds(self) -> float:
        return statistics.median(sample.cpu_seconds for sample in self.samples)

    def peak_mb(self) -> float:
        return max(sample.peak_mb for sample in self.samples)


# --- the export ---------------------------------------------------------------------------------------------


def shopify_header() -> list[str]:
    with SAMPLE_EXPORT.open(encoding="utf-8-sig", newline="") as sample:
        return next(csv.reader(sample))


def write_export(path: Path, orders: int, *, seed: int = 1042) -> Expected:
    """Write ``orders`` orders as Shopify exports them; returns what orderflow should store."""
    header = shopify_header()
    position = {name: index for index, name in enumerate(header)}
    chance = random.Random(seed)
    expected = Expected()
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for number in range(100_001, 100_001 + orders):
            rows = export_rows(number, chance, expected)
            for row in rows:
                cells = [""] * len(header)
                for column, value in row.items():
                    cells[position[column]] = value
                writer.writerow(cells)
    return expected


def export_rows(number: int, chance: random.Random, expected: Expected) -> list[dict[str, str]]:
    """One order's rows: order-level columns on the first; the odd cancelled or already fulfilled order."""
    first, last = chance.choice(FIRST_NAMES), chance.choice(LAST_NAMES)
    city, province, zip_code = chance.choice(CITIES)
    street = f"{chance.randint(1, 9999)} {chance.choice(['Harbor Rd', 'Alder St', 'Main St', 'Couch St'])}"
    unit = chance.choice(["", "", "", f"Unit {chance.randint(1, 40)}"])
    email = f"{first.lower()}.{last.lower()}{number % 997}@example.com"
    day, hour = 1 + number % 28, chance.randint(0, 23)
    created = f"2026-10-{day:02d} {hour:02d}:{chance.randint(0, 59):02d}:{chance.randint(0, 59):02d} " \
              f"{chance.choice(OFFSETS)}"
    state = chance.random()
    cancelled = state < 0.02
    fulfilled = 0.02 <= state < 0.07
    items = chance.sample(PRODUCTS, chance.randint(1, 5))
    quantities = [chance.choice([1, 1, 1, 2, 3]) for _ in items]
    subtotal = sum(price * qty for (_, _, _, price), qty in zip(items, quantities, strict=True))
    rows = []
    for index, ((sku, vendor, title, price), qty) in enumerate(zip(items, quantities, strict=True)):
        row = {"Name": f"#{number}", "Email": email, "Lineitem quantity": str(qty), "Lineitem name": title,
               "Lineitem price": cents(price), "Lineitem sku": sku, "Lineitem requires shipping": "true",
               "Lineitem taxable": "true", "Lineitem fulfillment status": "fulfilled" if fulfilled else "pending",
               "Vendor": VENDORS[vendor][0], "Lineitem discount": "0.00"}
        if index == 0:
            row |= {
                "Financial Status": "refunded" if cancelled else "paid", "Paid at": created,
                "Fulfillment Status": "fulfilled" if fulfilled else "unfulfilled", "Accepts Marketing": "no",
                "Currency": "USD", "Subtotal": cents(subtotal), "Shipping": "4.95", "Taxes": "0.00",
                "Total": cents(subtotal + 495), "Discount Amount": "0.00", "Shipping Method": "Standard Shipping",
                "Created at": created, "Billing Name": f"{first} {last}", "Shipping Name": f"{first} {last}",
                "Shipping Street": f"{street}, {unit}" if unit else street, "Shipping Address1": street,
                "Shipping Address2": unit, "Shipping City": city, "Shipping Zip": zip_code,
                "Shipping Province": province, "Shipping Country": "US", "Shipping Phone": "+12075550142",
                "Payment Method": "Shopify Payments", "Payment Reference": f"c{number}.1", "Refunded Amount": "0.00",
                "Outstanding Balance": "0.00", "Id": str(6401100000000 + number), "Risk Level": "Low",
                "Source": "web",
            }
            if cancelled:
                row["Cancelled at"] = created
            if chance.random() < 0.15:  # a personalised order: a quoted cell over two physical lines
                row["Note Attributes"] = f"custom_name: {last.upper()}\ngift_wrap: {chance.choice(['yes', 'no'])}"
        rows.append(row)
    expected.orders += 1
    expected.lines += len(items)
    if not cancelled and not fulfilled:
        expected.routed_lines += len(items)
        expected.vendor_orders += len({vendor for _, vendor, _, _ in items})
    return rows


def cents(amount: int) -> str:
    return f"{amount // 100}.{amount % 100:02d}"


def write_shop(folder: Path, export_bytes: int) -> tuple[Path, Path]:
    """The configuration (five vendors on local folders; a file size limit the export fits in: a full-scale
    export is bigger than the default one) and the catalog of the 20 SKUs."""
    config = folder / "orderflow.toml"
    vendors = "".join(
        f'\n[[vendors]]\ncode = "{code}"\nname = "{name}"\nkind = "{kind}"\npath = "vendors/{code.lower()}"\n'
        for code, (name, kind) in VENDORS.items())
    limits = f"\n[limits]\nfile_bytes = {max(FILE_BYTES_DEFAULT, export_bytes)}\n"
    config.write_text(f'po_prefix = "TB"\n{vendors}{limits}', encoding="utf-8")
    catalog = folder / "catalog.csv"
    with catalog.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "vendor", "vendor_sku", "on_demand"])
        for sku, vendor, _, _ in PRODUCTS:
            writer.writerow([sku, vendor, f"{vendor}-{sku[3:]}", str(VENDORS[vendor][1] == "on_demand").lower()])
    return config, catalog


# --- running and measuring ----------------------------------------------------------------------------------


def measured_run(command: list[str]) -> Sample:
    """Run ``command`` to the end; its wall time, its own CPU time (user and system) and peak resident memory."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    errors = child.stderr.read()  # drained while it runs, so a chatty child cannot block on a full pipe
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    if child.returncode != 0:
        sys.exit(f"failed (exit {child.returncode}): {' '.join(command)}\n{errors.decode(errors='replace')}")
    peak_bytes = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux
    return Sample(seconds=seconds, cpu_seconds=usage.ru_utime + usage.ru_stime, peak_mb=peak_bytes / 1e6)


def orderflow(config: Path, database: Path, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "orderflow", "--config", str(config), "--db", f"sqlite:///{database}",
            "--now", NOW, "--quiet", *arguments]


def prepare_orderflow(config: Path, catalog: Path, database: Path) -> None:
    for arguments in (("db", "upgrade"), ("catalog", "import", str(catalog))):
        subprocess.run(orderflow(config, database, *arguments), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def floor_import(export: Path, database: Path) -> None:
    """The floor: the export's lines into one table with the csv module and ``executemany``, nothing else."""
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE order_lines (order_number TEXT NOT NULL, line_no INTEGER NOT NULL, "
                       "sku TEXT NOT NULL, qty INTEGER NOT NULL, price TEXT NOT NULL, "
                       "PRIMARY KEY (order_number, line_no))")
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany("INSERT INTO order_lines VALUES (?, ?, ?, ?, ?)", line_rows(export))
    connection.execute("COMMIT")
    connection.close()


def store_rows_alone(before: Path, imported: Path) -> float:
    """The database's own share: the rows an import added, read into memory first (not timed), inserted into a
    copy of the database as it was before that import with ``sqlite3.executemany``, every table in one
    transaction, with orderflow's pragmas and nothing of orderflow's code. Returns the seconds of the inserts and
    the commit alone: no start-up, no CSV, no Python of ours, so the floor over this is a ratio orderflow could
    not pass however little its own work cost."""
    connection = sqlite3.connect(before, isolation_level=None)
    # Foreign keys are checked at the commit, so the tables' order does not matter.
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "defer_foreign_keys=ON", "synchronous=NORMAL"):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute("ATTACH DATABASE ? AS imported", (str(imported),))
    tables = [name for (name,) in connection.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rootpage")]
    added = {}
    for table in tables:  # our own table names, from the schema
        columns = ", ".join(f'"{column}"' for _, column, *_ in connection.execute(f'PRAGMA main.table_info("{table}")'))
        rows = connection.execute(f'SELECT {columns} FROM imported."{table}" WHERE rowid > '  # noqa: S608
                                  f'(SELECT coalesce(max(rowid), 0) FROM main."{table}") ORDER BY rowid').fetchall()
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            added[f'INSERT INTO main."{table}" ({columns}) VALUES ({marks})'] = rows  # noqa: S608
    connection.execute("DETACH DATABASE imported")
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    for statement, rows in added.items():
        connection.executemany(statement, rows)
    connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def line_rows(export: Path) -> Iterator[tuple[str, int, str, int, str]]:
    with export.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        name, sku, qty, price = (header.index(column) for column in
                                 ("Name", "Lineitem sku", "Lineitem quantity", "Lineitem price"))
        current, line_no = "", 0
        for row in reader:
            number = row[name].lstrip("#")
            line_no = line_no + 1 if number == current else 1
            current = number
            yield number, line_no, row[sku], int(row[qty]), row[price]


def copy_database(source: Path, target: Path) -> None:
    """A copy of ``source`` with whatever its write-ahead log still holds (orderflow exits without closing)."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


def fresh(database: Path) -> Path:
    """``database`` with no file left from an earlier run (``--keep`` reuses its folder)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return database


def database_counts(database: Path) -> Expected:
    connection = sqlite3.connect(database)
    try:
        def count(table: str) -> int:
            return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 - our names

        return Expected(orders=count("orders"), lines=count("order_lines"), vendor_orders=count("vendor_orders"),
                        routed_lines=count("vendor_order_lines"))
    finally:
        connection.close()


# --- the benchmark ------------------------------------------------------------------------------------------


def benchmark(work: Path, orders: int, runs: int) -> int:
    export = work / "orders_export.csv"
    started = time.perf_counter()
    expected = write_export(export, orders)
    print(f"generated {expected.orders} orders, {expected.lines} lines, "
          f"{export.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s: {export}")
    config, catalog = write_shop(work, export.stat().st_size)
    results = {"orderflow": Measured("orderflow import"), "floor": Measured("csv + sqlite3.executemany")}
    ratios, cpu_ratios, stored_alone = [], [], []
    for run in range(1, runs + 1):
        database, floor_database = fresh(work / f"orderflow-{run}.db"), fresh(work / f"floor-{run}.db")
        before = fresh(work / f"stored-rows-alone-{run}.db")  # the database before the import, then the rows
        prepare_orderflow(config, catalog, database)
        copy_database(database, before)
        ours = measured_run(orderflow(config, database, "import", str(export)))
        floor = measured_run([sys.executable, __file__, "--floor", str(export), str(floor_database)])
        stored = subprocess.run([sys.executable, __file__, "--store-rows", str(before), str(database)], check=True,
                                capture_output=True, text=True)
        stored_alone.append(float(stored.stdout))
        results["orderflow"].samples.append(ours)
        results["floor"].samples.append(floor)
        ratios.append(floor.seconds / ours.seconds)  # lines/s ratio: the line count is the same on both sides
        cpu_ratios.append(floor.cpu_seconds / ours.cpu_seconds)
        print(f"run {run}/{runs}: orderflow {ours.seconds:.2f} s ({ours.cpu_seconds:.2f} s CPU), "
              f"floor {floor.seconds:.2f} s ({floor.cpu_seconds:.2f} s CPU), "
              f"SQLite storing orderflow's rows alone {stored_alone[-1]:.2f} s", flush=True)
    print_table(expected.lines, results, statistics.median(ratios), statistics.median(cpu_ratios), runs)
    best = statistics.median(floor.seconds / alone
                             for floor, alone in zip(results["floor"].samples, stored_alone, strict=True))
    print(f"for scale: SQLite storing the rows orderflow's import added, with executemany and nothing else "
          f"(inserts and commit only, median of {runs}): {statistics.median(stored_alone):.2f} s; the floor over "
          f"that: {best:.2f}, the best ratio orderflow could reach if its own work, start-up included, cost "
          f"nothing")
    return verify(expected, work / f"orderflow-{runs}.db", work / f"floor-{runs}.db")


def print_table(lines: int, results: dict[str, Measured], ratio: float, cpu_ratio: float, runs: int) -> None:
    print(f"\n{'import':<28}{'lines':>10}{'median s':>10}{'lines/s':>11}{'CPU s':>8}{'peak MB':>9}")
    for measured in results.values():
        seconds = measured.median_seconds()
        print(f"{measured.name:<28}{lines:>10}{seconds:>10.2f}{lines / seconds:>11,.0f}"
              f"{measured.median_cpu_seconds():>8.2f}{measured.peak_mb():>9.0f}")
    peak = results["orderflow"].peak_mb()
    print(f"\nratio orderflow/floor lines/s (median of {runs} paired runs): {ratio:.2f}  goal >= {RATIO_GOAL}  "
          f"{'met' if ratio >= RATIO_GOAL else 'NOT met'}")
    print(f"the same ratio in CPU time (steadier on a busy machine, not the goal): {cpu_ratio:.2f}")
    print(f"orderflow peak memory (largest of {runs} runs): {peak:.0f} MB  goal < {PEAK_MB_GOAL:.0f} MB  "
          f"{'met' if peak < PEAK_MB_GOAL else 'NOT met'}")


def verify(expected: Expected, database: Path, floor_database: Path) -> int:
    found = database_counts(database)
    connection = sqlite3.connect(floor_database)
    floor_lines = int(connection.execute("SELECT count(*) FROM order_lines").fetchone()[0])
    connection.close()
    problems = [f"{name}: expected {want}, found {got}" for name, want, got in [
        ("orders", expected.orders, found.orders), ("order lines", expected.lines, found.lines),
        ("vendor orders", expected.vendor_orders, found.vendor_orders),
        ("routed lines", expected.routed_lines, found.routed_lines), ("floor lines", expected.lines, floor_lines)]
        if want != got]
    if problems:
        print("\ncorrectness: FAILED\n  " + "\n  ".join(problems))
        return 1
    print(f"\ncorrectness: ok ({found.orders} orders, {found.lines} lines, {found.vendor_orders} vendor orders, "
          f"{found.routed_lines} routed lines, as generated)")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ORDERS} orders")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (export, databases)")
    parser.add_argument("--floor", nargs=2, type=Path, metavar=("EXPORT", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--store-rows", nargs=2, type=Path, metavar=("BEFORE", "IMPORTED"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.floor:
        floor_import(*options.floor)
        return
    if options.store_rows:
        print(f"{store_rows_alone(*options.store_rows):.6f}")
        return
    compile_sources()
    orders = QUICK_ORDERS if options.quick else options.orders
    if options.keep:
        options.keep.mkdir(parents=True, exist_ok=True)
        sys.exit(benchmark(options.keep.resolve(), orders, options.runs))
    work = Path(tempfile.mkdtemp(prefix="orderflow-import-bench-"))
    try:
        code = benchmark(work, orders, options.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
