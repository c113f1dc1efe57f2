"""How long ``orderflow report daily`` takes on a shop with years of history, and how much memory it needs.

A database from ``history``, generated once and not timed: ``--orders`` orders (1,000,000; ``--quick``:
20,000), the last ``--active-fraction`` (1%) live work and the rest two years of delivered history (about 3M
lines, 2M parcels, 10M tracking events per million orders), topped up to ``--open`` (5,000) open notifications
for the queue's file. ``--db PATH`` keeps it: a later run with the same PATH reuses it instead of generating
again (a URL is used as it is, already generated). Then ``--runs`` (3) whole processes of

    python -m orderflow --config C --db URL --now T report daily --out DIR

(start-up, every query, the five files, and the four charts when matplotlib is installed: the ``charts`` extra,
which the ``test`` extra includes) for the day before ``T`` (``history.NOW``, a Tuesday), one after the
other. Each run's wall time, CPU time and peak resident memory are printed, then the rows of each file, and the
goals: under 30 s and under 1 GB.

Peak memory is each report process's own ``ru_maxrss``, as the kernel reports it for that one child to
``os.wait4`` (``getrusage(RUSAGE_CHILDREN)`` would add the generator's). Linux counts in a child's peak what
the parent had resident when it forked, so the database is prepared in a child process of its own and this
script imports nothing heavy: the figures are the report's alone.

    .venv/bin/python benchmarks/report.py [--orders 1000000] [--quick] [--runs 3] [--db PATH] \\
        [--active-fraction 0.01] [--open 5000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from paired import compile_sources

from orderflow.reports.report_day import FILES  # the files a day's report is, as the command writes them

SECONDS_GOAL = 30.0
MEGABYTES_GOAL = 1024.0
QUICK_ORDERS = 20_000


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float
    peak_megabytes: float


PREPARE = """
import json, sys
from pathlib import Path
from history import NOW, add_open_notifications, database_url, generate, shop_toml
from orderflow.db.migrate import upgrade

target, orders, active_fraction, wanted, config = sys.argv[1:]
if "://" in target or Path(target).exists():
    print(f"reusing {target}", file=sys.stderr)
    url = database_url(target)
    upgrade(url)  # a database kept from an older version gets the newer migrations
else:
    summary = generate(target, orders=int(orders), active_fraction=float(active_fraction))
    print(f"generated {target}: {summary.describe()}", file=sys.stderr)
    url = summary.url
added = add_open_notifications(url, wanted=int(wanted))
print(f"{added:,} open notifications added ({int(wanted):,} open)", file=sys.stderr)
Path(config).write_text(shop_toml(), encoding="utf-8")
print(json.dumps({"url": url, "now": NOW.isoformat().replace("+00:00", "Z")}))
"""


def prepare(options: argparse.Namespace, work: Path, config: Path) -> tuple[str, str]:
    """In a child process: the database (reused when ``--db`` names one that exists, otherwise generated), its
    open notifications and the configuration; the database URL and the instant to report at."""
    target = options.db or str(work / "shop.db")
    result = subprocess.run([sys.executable, "-c", PREPARE, target, str(options.orders), str(options.active_fraction),
                             str(options.open), str(config)], cwd=Path(__file__).parent, stdout=subprocess.PIPE,
                            text=True, check=True)
    prepared = json.loads(result.stdout)
    return prepared["url"], prepared["now"]


def run_report(config: Path, url: str, now: str, out: Path) -> Run:
    """One whole ``report daily`` process: wall and CPU seconds, and its own peak resident memory."""
    command = [sys.executable, "-m", "orderflow", "--config", str(config), "--db", url, "--now", now,
               "report", "daily", "--out", str(out)]
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if (code := os.waitstatus_to_exitcode(status)) != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} exited {code}:\n{errors.read().decode()}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def rows_in(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders in the generated database")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ORDERS:,} orders")
    parser.add_argument("--active-fraction", type=float, default=0.01, help="share of the orders that is live work")
    parser.add_argument("--runs", type=int, default=3, help="timed report processes")
    parser.add_argument("--open", type=int, default=5000, help="open notifications in the queue")
    parser.add_argument("--db", help="a SQLite file to keep (reused when it exists) or a generated database's URL")
    options = parser.parse_args()
    compile_sources()
    if options.quick:
        options.orders = QUICK_ORDERS
    with tempfile.TemporaryDirectory(prefix="orderflow-report-bench-") as folder:
        work = Path(folder)
        config = work / "orderflow.toml"
        url, now = prepare(options, work, config)
        runs = [run_report(config, url, now, work / f"out-{index}") for index in range(options.runs)]
        counted = {name: rows_in(work / "out-0" / name) for name in FILES}
    peak = max(run.peak_megabytes for run in runs)
    print(f"\norderflow report daily --now {now} (the report for the day before), whole processes:")
    print(f"{'run':<6}{'wall s':>10}{'cpu s':>10}{'peak MB':>10}")
    for index, run in enumerate(runs, start=1):
        print(f"{index:<6}{run.seconds:>10.2f}{run.cpu_seconds:>10.2f}{run.peak_megabytes:>10.0f}")
    print("rows: " + ", ".join(f"{name} {count:,}" for name, count in counted.items()))
    median = statistics.median(run.seconds for run in runs)
    print(f"median wall time {median:.2f} s  goal < {SECONDS_GOAL:.0f} s  "
          f"{'met' if median < SECONDS_GOAL else 'NOT met'}")
    print(f"peak memory (the largest run's ru_maxrss) {peak:.0f} MB  goal < {MEGABYTES_GOAL:.0f} MB  "
          f"{'met' if peak < MEGABYTES_GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
