"""Whether ``orderflow rules run`` costs what the live work costs, however much history the shop has.

Two databases from ``history``, generated once (not timed): a shop of ``--orders`` orders (1,000,000;
``--quick``: 20,000) of which ``--active-fraction`` (1%) is live work and the rest two years of delivered
history (about 3M lines, 2M parcels, 10M tracking events per million orders, resolved notifications, cron
runs, customer notices), and a shop holding only the same live work, row for row. Each invocation copies
them (and migrates the copies to the latest schema), so it starts from the same state. A fake Slack webhook
on 127.0.0.1 takes the pushes (``[push.webhook]`` is configured).

- **rules run**, whole processes (``python -m orderflow --config ... --db ... --now T rules run``: start-up,
  every rule, reconcile, push planning, delivery, exit; nothing subtracted), on the history database and on
  the live-work database, one after the other, in alternating order:
  - ``--first-runs`` *first* runs at ``T = NOW`` (3), each opening every notification and pushing; what a
    run wrote is deleted again before the next, so each starts from the generated state;
  - ``--runs`` *repeat* runs (5), ``T = NOW + 2 min, + 4 min, ...``, as cron's next runs: every rule again,
    every notification updated, nothing new to push.
  After the first runs both databases must hold exactly the same live notifications (fingerprint, state,
  hidden or not): history must change nothing the rules find. Goal: history / live work <= 1.5, wall time
  (cost follows the live work, not the history).
- **notifications**: the history database, topped up with open notifications inserted directly to
  ``--open`` (5,000) open ones when the rules opened fewer, ``python -m orderflow ... notifications`` (the
  ranked table, to a file) against ``python -c "import typer, rich, sqlalchemy"`` (the libraries every
  command needs), in pairs, ``--queue-runs`` times (11). Goal: orderflow / floor <= 1.3. The same with
  ``--format csv`` follows, to tell the table's drawing from the rest.

Figures are wall seconds and the child's own CPU seconds; a ratio is the median of the per-pair ratios.
``--detail`` also times each rule, the whole evaluation and the push planning inside this process on both
databases (in a transaction rolled back), to show where history costs. ``--postgres URL`` generates into
two fresh schemas of that database instead of SQLite files (anew every time). ``--finished-state shipped``
marks delivered history the way today's code leaves it (orders ``open``, vendor orders ``shipped``).

    .venv/bin/python benchmarks/rules.py [--orders 1000000] [--quick] [--active-fraction 0.01] \\
        [--first-runs 3] [--runs 5] [--open 5000] [--queue-runs 11] [--keep DIR] [--postgres URL] [--detail] \\
        [--finished-state delivered|shipped]

Where ``notifications`` spends its time (CPU seconds of one process on the quick database, 5,000 open,
2026-12-06): the floor's own imports 0.29; Typer turning each of the 16 options' values into Python ones
through pydantic type adapters, pydantic's import included, 0.14 (Typer's own cost: the floor only
imports it); the settings (pydantic-settings and the settings models) 0.16; reading and ranking the 5,000
rows 0.15; the table 0.07-0.10 and Rich's console 0.04. No longer on that path: the ORM models (building the
mapped classes, which through the notifications' partial index also loads the PostgreSQL dialect, ~0.25 s),
each ORM row (~0.2 s for 5,000), and the holidays package, whose one country look-up imported all 250
countries (~0.25 s): the queue is read through Core from ``orderflow.rules.listing`` and a year's public
holidays are remembered (``orderflow.public_holidays``).

On 2026-12-07 (CPU seconds, the same 5,000-row queue, the machine at load 2-4): the table now reads only the
rows it draws whole (the first ``--limit`` of each type) and ranks and counts the others from five light
columns, 0.07 s less than reading and converting every column of every row (0.695 -> 0.627 s against a floor
of 0.354 s); the settings no longer import the purchase-order writer. What is left, measured in the same
rounds: the floor 0.35-0.38; a Typer command given one option and nothing of orderflow (the ``for scale`` row)
0.45-0.46, 1.2-1.4 of the floor: its first option imports pydantic to build the type adapter; Typer, the
settings (pydantic-settings and the models) 0.72 together under the heavier load, 1.46 of that round's floor;
and the command's own work (Rich's console, the engine, the read, the table) 0.13. The goal of 1.3 is below
what Typer and pydantic-settings cost before the queue's first row is read.

That conclusion was wrong, found later the same day on a quiet machine: the ``for scale`` command ended by
tearing the interpreter down, pydantic's modules with it, which orderflow skips (it ends at once when its
output is written). Ended alike, a Typer command given one option is 1.05-1.09 of the floor, not 1.28. Step by
step on this benchmark's full-scale history database (``cli_startup.queue_steps``, 21 rounds, the floor
0.182 s): Typer given one option +0.016 s, Rich's console +0.021, the settings +0.026, the engine and the 5,061
rows read and ranked +0.039, the table's 475 rows drawn (19 types, 25 each) +0.076; the command 0.359 s, 1.98
of the floor. The goal leaves 0.055 s beyond the floor; Typer and Rich's console take 0.037 of it, and the
settings, the read and the table eight times what is left.

On PostgreSQL at full scale (``--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test``, 2026-12-07, quiet
machine; generating both schemas took 355 s): ``rules run`` first 1.12 (10.61 s against 9.47 s) and repeat 1.31
(3.77 s against 2.73 s), both within the goal, with the indexes written for SQLite's planner; the queue 2.30 of
the floor (0.420 s), the Typer command for scale 1.01.

At full scale the first and repeat runs had been measured only at quick scale. The first full-scale run
(2026-12-07, load 3) gave 2.63 and 3.82: in process, every rule on the history database took 31.2 s against
7.1 s on the live work alone. ``vendor_late`` 25.3 s of it: waiting out a vendor's upload lag, it built every
vendor's whole history of sixty days (each order's answer and handling, each parcel's lag, in business days
one by one, and a first-scan aggregate over every parcel ever shipped); now it counts the parcels in the
database and measures only those whose tracking came after the scan (``longest_upload_lags``). ``not_acknowledged``
5.9 s: a DISTINCT over every order of every vendor to learn which ever acknowledged, and each silent vendor's
last five orders sorted from all its orders; now one look per vendor that stops at its first acknowledged
order, and an index by vendor and due time. ``carrier_not_configured`` 4.9 s: SQLite, with no statistics,
searched the carrier's unique index (every parcel of the carrier) rather than the status's; the status index
now carries the carrier. Parcels are also indexed by their first scan. After these: 0.97 and 1.22 at full scale,
every rule in process 8.2 s against 6.1 s (load 1-2).

With ``--keep DIR`` the generated databases stay in DIR, and a later run with the same generation options
reuses them (a copy, not a new generation).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from history import FINISHED_STATES, NOW, Summary, add_open_notifications, generate, shop_toml
from paired import TYPER_ALONE, Sample, compile_sources, timed
from sqlalchemy import URL, Engine, delete, func, make_url, select, text

from orderflow.config import load_settings
from orderflow.db.engine import make_engine, session_factory
from orderflow.db.migrate import upgrade
from orderflow.db.models import JobRun, Notification, NotificationEvent, NotificationState, OutboxMessage
from orderflow.testing.webhook import FakeWebhook

RUN_GOAL = 1.5
QUEUE_GOAL = 1.3
QUICK_ORDERS = 20_000
WEBHOOK_ENV = "RULES_BENCH_WEBHOOK"
REPEAT_STEP = timedelta(minutes=2)
FLOOR = [sys.executable, "-c", "import typer, rich, sqlalchemy"]
SCHEMAS = {"history": "rules_bench_history", "live": "rules_bench_live"}
WRITTEN_BY_RULES = (NotificationEvent, Notification, OutboxMessage, JobRun)
"""Every table ``rules run`` adds rows to: deleting what it added puts a database back as it was."""
Step = Callable[[Any], int]


@dataclass(frozen=True)
class Shop:
    config: Path
    urls: dict[str, str]
    """``history`` and ``live`` -> the database URL each run uses."""
    summaries: dict[str, Summary]


@dataclass
class Row:
    label: str
    names: tuple[str, str]
    pairs: list[tuple[Sample, Sample]]
    goal: float | None
    """None: a measurement for scale, with no goal of its own."""

    def ratio(self) -> float:
        return statistics.median(ours.seconds / base.seconds for ours, base in self.pairs)


# --- the two databases -------------------------------------------------------------------------------------

def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def prepare(work: Path, options: argparse.Namespace) -> Shop:
    """Generate (or reuse) both databases and copy them for this run; write the configuration."""
    config = work / "orderflow.toml"
    config.write_text(shop_toml(webhook_env=WEBHOOK_ENV), encoding="utf-8")
    wanted = {"orders": options.orders, "active_fraction": options.active_fraction, "seed": options.seed,
              "now": iso(NOW), "finished_state": options.finished_state}
    if options.postgres:
        urls = {name: fresh_schema(options.postgres, schema) for name, schema in SCHEMAS.items()}
        summaries = {name: make(urls[name], name, wanted) for name in urls}
        return Shop(config, urls, summaries)
    stamp = work / "generated.json"
    pristine = {name: work / f"{name}.db" for name in SCHEMAS}
    saved = json.loads(stamp.read_text()) if stamp.exists() else {}
    if saved.get("wanted") == wanted and all(path.exists() for path in pristine.values()):
        summaries = {name: Summary(**saved["summaries"][name]) for name in pristine}
        print(f"reusing the databases generated in {work}")
    else:
        stamp.unlink(missing_ok=True)
        for path in pristine.values():
            remove_database(path)
        summaries = {name: make(str(path), name, wanted) for name, path in pristine.items()}
        stamp.write_text(json.dumps({"wanted": wanted, "summaries": {n: asdict(s) for n, s in summaries.items()}}))
    urls = {}
    for name, path in pristine.items():
        copy = work / f"{name}-run.db"
        remove_database(copy)
        shutil.copyfile(path, copy)
        urls[name] = f"sqlite:///{copy}"
        upgrade(urls[name])  # databases kept from an older version get the newer migrations
    os.sync()  # the copies' gigabytes reach the disk now, not while the first runs are being timed
    return Shop(config, urls, summaries)


def make(target: str, name: str, wanted: dict[str, Any]) -> Summary:
    summary = generate(target, orders=wanted["orders"], active_fraction=wanted["active_fraction"],
                       seed=wanted["seed"], now=NOW, history=name == "history", finished_state=wanted["finished_state"])
    print(f"generated {name}: {summary.describe()}", flush=True)
    return summary


def drop_schemas(server_url: str, schemas: list[str]) -> None:
    engine = make_engine(server_url)
    try:
        with engine.begin() as connection:
            for schema in schemas:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        engine.dispose()


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def fresh_schema(server_url: str, schema: str) -> str:
    drop_schemas(server_url, [schema])
    engine = make_engine(server_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    finally:
        engine.dispose()
    url: URL = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


# --- running orderflow -----------------------------------------------------------------------------------------

def orderflow(shop: Shop, name: str, now: datetime, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "orderflow", "--config", str(shop.config), "--db", shop.urls[name],
            "--now", iso(now), *arguments]


def rules_pair(shop: Shop, now: datetime, *, history_first: bool) -> tuple[Sample, Sample]:
    """One ``rules run`` on each database at ``now``; (history, live)."""
    order = ["history", "live"] if history_first else ["live", "history"]
    samples = {name: timed(orderflow(shop, name, now, "rules", "run")) for name in order}
    return samples["history"], samples["live"]


def queue_pair(queue: list[str], *, queue_first: bool) -> tuple[Sample, Sample]:
    """``orderflow notifications`` (or another command) and the floor, one after the other; (it, floor)."""
    if queue_first:
        ours = timed(queue)
        return ours, timed(FLOOR)
    floor = timed(FLOOR)
    return timed(queue), floor


def high_marks(url: str) -> dict[str, int]:
    """The highest id in each table ``rules run`` writes to."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {model.__tablename__: connection.scalar(select(func.coalesce(func.max(model.id), 0)))
                    for model in WRITTEN_BY_RULES}
    finally:
        engine.dispose()


def undo_runs(url: str, marks: dict[str, int]) -> None:
    """Delete what runs added since ``marks``: the database is as it was before them."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for model in WRITTEN_BY_RULES:
                connection.execute(delete(model).where(model.id > marks[model.__tablename__]))
    finally:
        engine.dispose()


def last_rules_counts(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            outcome, counts = connection.execute(select(JobRun.outcome, JobRun.counts).where(
                JobRun.command == "rules run").order_by(JobRun.id.desc()).limit(1)).one()
    finally:
        engine.dispose()
    if outcome != "ok":
        raise SystemExit(f"rules run recorded outcome {outcome} in {url}")
    return dict(counts)


def live_notifications(url: str) -> set[tuple[str, str, str, bool]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {(row.rule, row.fingerprint, row.state, row.suppressed_by is None) for row in connection.execute(
                select(Notification.rule, Notification.fingerprint, Notification.state, Notification.suppressed_by)
                .where(Notification.state != NotificationState.RESOLVED))}
    finally:
        engine.dispose()


def check_same_findings(shop: Shop) -> str:
    """The live notifications after the first run, identical on both databases; a one-line account of them."""
    found = {name: live_notifications(url) for name, url in shop.urls.items()}
    if found["history"] != found["live"]:
        only_history = sorted(found["history"] - found["live"])[:5]
        only_live = sorted(found["live"] - found["history"])[:5]
        raise SystemExit(f"history changed what the rules found: only with history {only_history}; "
                         f"only without {only_live}")
    notifications = found["live"]
    hidden = sum(1 for *_, visible in notifications if not visible)
    by_rule: dict[str, int] = {}
    for rule, *_ in notifications:
        by_rule[rule] = by_rule.get(rule, 0) + 1
    listed = ", ".join(f"{rule} {count}" for rule, count in sorted(by_rule.items(), key=lambda kv: -kv[1]))
    return f"{len(notifications)} live notifications, {hidden} of them hidden, the same on both: {listed}"


# --- the report ------------------------------------------------------------------------------------------------

def print_rows(rows: list[Row]) -> None:
    """Per row and side: median, min and max wall seconds and median CPU seconds; then the ratios per pair."""
    print(f"\n{'measure':<46}{'':>12}{'median s':>10}{'min s':>8}{'max s':>8}{'cpu s':>8}{'ratio':>8}  goal")
    for row in rows:
        ratio = row.ratio()
        verdict = "no goal" if row.goal is None else "met" if ratio <= row.goal else "NOT met"
        for side, name in enumerate(row.names):
            samples = [pair[side] for pair in row.pairs]
            seconds = [sample.seconds for sample in samples]
            label = row.label if side == 0 else ""
            tail = "" if side else f"{ratio:>8.2f}  " + (verdict if row.goal is None else f"<= {row.goal} {verdict}")
            print(f"{label:<46}{name:>12}{statistics.median(seconds):>10.3f}{min(seconds):>8.3f}"
                  f"{max(seconds):>8.3f}{statistics.median(s.cpu_seconds for s in samples):>8.2f}{tail}")
        cpu = [a.cpu_seconds / b.cpu_seconds for a, b in row.pairs]
        print(f"{'':<46}{'per pair:':>12} wall " + " ".join(f"{a.seconds / b.seconds:.2f}" for a, b in row.pairs)
              + "; cpu " + " ".join(f"{ratio:.2f}" for ratio in cpu) + f" (median {statistics.median(cpu):.2f})")


# --- in-process detail -----------------------------------------------------------------------------------------

def detail(shop: Shop, now: datetime, repeats: int = 3) -> None:
    """Each rule, the whole evaluation and the push planning, timed in this process on both databases."""
    from orderflow.calendars import VendorCalendars
    from orderflow.rules.catalogue import RULES
    from orderflow.rules.engine import evaluate, shop_calendar
    from orderflow.rules.findings import Rule, RuleContext
    from orderflow.rules.push import plan_pushes

    settings = load_settings(shop.config)  # the webhook's variable is still set: push planning reads it

    def one_rule(rule: Rule) -> Step:
        return lambda session: len(list(rule(RuleContext(session=session, now=now, settings=settings,
                                                         calendars=VendorCalendars(settings.vendors)))))

    def evaluated(session: Any) -> int:
        result = evaluate(session=session, settings=settings, now=now, rules=list(RULES.items()))
        return result.opened + result.reopened + result.updated

    def planned(session: Any) -> int:
        evaluated(session)
        return plan_pushes(session=session, settings=settings, now=now, calendar=shop_calendar(settings))

    steps: dict[str, Step] = {name: one_rule(rule) for name, rule in RULES.items()}
    steps |= {"evaluate (every rule + reconcile)": evaluated, "evaluate + plan_pushes": planned}
    times: dict[str, dict[str, float]] = {step: {} for step in steps}
    found: dict[str, int] = {}
    for name, url in shop.urls.items():
        engine = make_engine(url)
        try:
            for step, work in steps.items():
                times[step][name], found[step] = best_of(engine, work, repeats)
        finally:
            engine.dispose()
    print(f"\nin-process detail at {iso(now)} (best of {repeats}, each in a transaction rolled back)")
    print(f"{'step':<36}{'found':>8}{'history ms':>12}{'live ms':>10}{'ratio':>8}{'extra ms':>10}")
    for step, by_db in sorted(times.items(), key=lambda kv: kv[1]["live"] - kv[1]["history"]):
        print(f"{step:<36}{found[step]:>8}{by_db['history'] * 1000:>12.1f}{by_db['live'] * 1000:>10.1f}"
              f"{by_db['history'] / max(by_db['live'], 1e-6):>8.2f}{(by_db['history'] - by_db['live']) * 1000:>10.1f}")


def best_of(engine: Engine, work: Step, repeats: int) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(repeats):
        with session_factory(engine)() as session:
            session.execute(text("SELECT 1"))  # the connection and transaction are open before the clock starts
            started = time.perf_counter()
            result = work(session)
            best = min(best, time.perf_counter() - started)
            session.rollback()
    return best, result


# --- the benchmark ---------------------------------------------------------------------------------------------

def benchmark(work: Path, options: argparse.Namespace) -> None:
    started = time.perf_counter()
    shop = prepare(work, options)
    print(f"ready in {time.perf_counter() - started:.0f} s", flush=True)
    with FakeWebhook() as webhook:
        os.environ[WEBHOOK_ENV] = webhook.webhook_url
        marks = {name: high_marks(url) for name, url in shop.urls.items()}
        firsts = []
        for index in range(options.first_runs):
            if index:
                for name, url in shop.urls.items():
                    undo_runs(url, marks[name])
            firsts.append(rules_pair(shop, NOW, history_first=index % 2 == 0))
        counts = {name: last_rules_counts(url) for name, url in shop.urls.items()}
        if counts["history"] != counts["live"]:
            raise SystemExit(f"the first runs did different work: {counts}")
        account = check_same_findings(shop)
        print(f"first run at {iso(NOW)}: {counts['live']}; {len(webhook.posts)} webhook posts in all\n{account}",
              flush=True)
        repeats = []
        for index in range(1, options.runs + 1):
            repeats.append(rules_pair(shop, NOW + index * REPEAT_STEP, history_first=index % 2 == 0))
        print(f"repeat runs: {last_rules_counts(shop.urls['live'])} each", flush=True)
        last = NOW + options.runs * REPEAT_STEP
        if options.detail:  # before the queue's notifications are added: the same database the runs judged
            detail(shop, last)
        rules_opened = int(counts["live"]["opened"]) - int(counts["live"]["hidden"])
        added = add_open_notifications(shop.urls["history"], wanted=options.open, now=last)
        queue = orderflow(shop, "history", last, "notifications")
        listed = json.loads(timed([*queue, "--format", "json"]).output)
        print(f"notifications: {len(listed)} open and visible ({rules_opened} opened by rules run, {added} inserted)",
              flush=True)
        timed(queue), timed(FLOOR)  # warm the file cache and bytecode for both
        queue_pairs = [queue_pair(queue, queue_first=index % 2 == 0) for index in range(options.queue_runs)]
        csv_pairs = [queue_pair([*queue, "--format", "csv"], queue_first=index % 2 == 0)
                     for index in range(options.queue_runs)]
        typer_pairs = [queue_pair(TYPER_ALONE, queue_first=index % 2 == 0) for index in range(options.queue_runs)]
    history, live = shop.summaries["history"], shop.summaries["live"]
    print(f"\nrules run: {history.orders:,} orders ({history.rows['tracking_events']:,} tracking events) against "
          f"the same {live.active_orders:,} live orders alone; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f} at the end; {'PostgreSQL' if options.postgres else 'SQLite'}")
    print_rows([
        Row(f"rules run, first (opens {rules_opened:,}; median of {options.first_runs})", ("history", "live only"),
            firsts, RUN_GOAL),
        Row(f"rules run, repeat (median of {options.runs})", ("history", "live only"), repeats, RUN_GOAL),
        Row(f"notifications, {len(listed):,} open (median of {options.queue_runs})", ("orderflow", "floor"),
            queue_pairs, QUEUE_GOAL),
        Row("  the same as --format csv (no Rich table)", ("orderflow", "floor"), csv_pairs, QUEUE_GOAL),
        Row("  for scale: Typer alone, one option given", ("Typer", "floor"), typer_pairs, None),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ORDERS:,} orders")
    parser.add_argument("--active-fraction", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1042)
    parser.add_argument("--finished-state", choices=sorted(FINISHED_STATES), default="delivered",
                        help="how delivered history is marked: delivered (the design), or shipped (where today's "
                             "code leaves orders and vendor orders)")
    parser.add_argument("--first-runs", type=int, default=3, help="first rules runs per database (undone between)")
    parser.add_argument("--runs", type=int, default=5, help="repeat rules runs per database")
    parser.add_argument("--open", type=int, default=5000, help="open notifications for the queue measurement")
    parser.add_argument("--queue-runs", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it; reuse what it already holds")
    parser.add_argument("--postgres", help="a PostgreSQL URL: generate into two schemas there instead of SQLite")
    parser.add_argument("--detail", action="store_true", help="time each rule in this process on both databases")
    options = parser.parse_args()
    compile_sources()
    if options.quick:
        options.orders = QUICK_ORDERS
    if options.keep:
        options.keep.mkdir(parents=True, exist_ok=True)
        benchmark(options.keep.resolve(), options)
        return
    work = Path(tempfile.mkdtemp(prefix="orderflow-rules-bench-"))
    try:
        benchmark(work, options)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if options.postgres:
            drop_schemas(options.postgres, list(SCHEMAS.values()))


if __name__ == "__main__":
    main()
