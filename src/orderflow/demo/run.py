"""The demo's week: set the shop up, then step through the days, running the real pipeline every hour.

::

    result = run_demo(DemoOptions(directory=Path("orderflow-demo"), days=5, orders_per_day=12, seed=7))
    result.score.line, result.report_folder, result.story_order

Each hourly step, at the simulated time: the storefront drops the orders placed in the last hour into its
inbox; the vendors do what their plans say is due (answers, ship notices, stock files, Printful events);
the carriers' clocks move on (one has an outage); then ``orderflow sync`` runs in this process with
``Clock(fixed=<that hour>)``, exactly as cron would run it, each step as its own job; then the vendors pick up
the purchase orders it sent. At 07:00 the daily report of the day before is made and mailed, as cron would.
At the end the day's report is written, and the queue is scored against the truth.

Everything listens on 127.0.0.1 and stops when the demo ends; the folder keeps the database, the
configuration, the vendors' files and the reports.
"""

from __future__ import annotations

import os
import secrets
import shutil
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from orderflow.clock import Clock
from orderflow.config import CarrierSettings, Settings, VendorSettings, load_settings
from orderflow.demo.carriers import SimulatedCarriers
from orderflow.demo.files import (
    CONFIG_NAME,
    INBOX,
    MARKER,
    SECRETS,
    catalog_csv,
    config_toml,
    run_settings,
    shopify_export,
    vendor_folder,
)
from orderflow.demo.plans import FIRST_DAY, OrderPlan
from orderflow.demo.scoring import Score, expectations, score_queue
from orderflow.demo.vendors import FileVendor, PrintfulVendor, SimulatedTime, vendor_sides
from orderflow.demo.world import SHOP_ZONE, SHOWN_RULES, VENDORS, World
from orderflow.errors import ConfigError, ExitCode
from orderflow.jobs import WorkResult
from orderflow.setup_check import check_setup, create_folders
from orderflow.sync import STEPS, Step, StepWork, SyncReport, run_sync

if TYPE_CHECKING:
    from orderflow.testing.smtp import SmtpServer

REPORT_TIME = time(7, 0)
CATALOG_NAME = "catalog.csv"


@dataclass(frozen=True)
class DemoOptions:
    directory: Path
    days: int = 5
    orders_per_day: int = 12
    seed: int = 7
    customer_notices: bool = True
    """False: the storefront emails customers, so orderflow has no ``[customers]`` section."""
    uncredentialed: tuple[str, ...] = ()
    """Carriers configured without API credentials."""


@dataclass
class DemoResult:
    """What the week did; the queue and the order to show are read from the database by the caller."""

    directory: Path
    config_path: Path
    start: datetime
    end: datetime
    orders: int
    vendor_orders: int
    parcels: int
    runs: int = 0
    runs_with_problems: int = 0
    internal_errors: list[str] = field(default_factory=list)
    emails: dict[str, int] = field(default_factory=dict)
    report_folder: Path | None = None
    story_order: str | None = None
    unshown: list[str] = field(default_factory=list)
    """Problems the demo promises that this (short or quiet) week did not get to show."""
    score: Score | None = None
    set_up_checks: int = 0
    set_up_problems: list[str] = field(default_factory=list)
    """`orderflow check` on the demo's set-up while its servers ran: how many checks, and what failed."""


def prepare_directory(directory: Path) -> None:
    """An empty folder for the demo: a new one, or an earlier demo's emptied. Anything else is refused."""
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"--dir {directory}: exists and is not a folder")
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).is_file():
            raise ConfigError(f"--dir {directory}: the folder is not empty and is not an earlier demo's "
                              f"(no {MARKER} in it); choose another --dir")
        for entry in directory.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / INBOX).mkdir(parents=True)
    (directory / MARKER).write_text("Made by `orderflow demo`: the next demo run may empty this folder.\n")


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the demo's own run, and put back what was there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_demo(options: DemoOptions, *, on_tick: Callable[[int, int], None] | None = None) -> DemoResult:
    """Make the shop in ``options.directory`` and simulate its week; ``on_tick(done, total)`` after each hour."""
    prepare_directory(options.directory)
    world = World(seed=options.seed, days=options.days, orders_per_day=options.orders_per_day)
    result = DemoResult(directory=options.directory, config_path=options.directory / CONFIG_NAME,
                        start=world.start, end=world.end, orders=len(world.orders),
                        vendor_orders=len(world.vendor_orders),
                        parcels=sum(1 for plan in world.vendor_orders if plan.parcel is not None))
    with ExitStack() as stack:
        shop = _open_shop(stack, world, options, result.config_path)
        previous: datetime | None = None
        for index, tick in enumerate(world.ticks, start=1):
            _hour(shop, world, result, previous, tick)
            previous = tick
            if on_tick is not None:
                on_tick(index, len(world.ticks))
        result.report_folder = _daily_report(shop.engine, shop.settings, at=world.end, email=False)
        checks = check_setup(shop.settings)
        result.set_up_checks = len(checks)
        result.set_up_problems = [f"{check.name}: {check.problem}" for check in checks if not check.ok]
        _judge(result, shop.engine, world)
        result.emails = _emails([mail.recipients for mail in shop.mail.received])
    return result


@dataclass
class _Shop:
    """Everything the week runs on: orderflow's settings and database, the fakes, and the simulated clock."""

    directory: Path
    settings: Settings
    engine: Engine
    time: SimulatedTime
    carriers: SimulatedCarriers
    sides: list[FileVendor | PrintfulVendor]
    mail: SmtpServer
    steps: tuple[Step, ...]


def _open_shop(stack: ExitStack, world: World, options: DemoOptions, config_path: Path) -> _Shop:
    """Start the fakes (closed by ``stack``), write the configuration and catalog, create the database."""
    directory = options.directory
    from orderflow.db.engine import make_engine
    from orderflow.db.migrate import upgrade
    from orderflow.testing.smtp import SmtpServer

    sim_time = SimulatedTime(world.start)
    token, client_id, client_secret, api_key = (secrets.token_hex(12) for _ in range(4))
    stack.enter_context(_environment({SECRETS["printful"]: token, SECRETS["client_id"]: client_id,
                                      SECRETS["client_secret"]: client_secret, SECRETS["api_key"]: api_key}))
    mail = stack.enter_context(SmtpServer())
    carriers = stack.enter_context(SimulatedCarriers(
        now=sim_time, credentials={"client_id": client_id, "client_secret": client_secret, "api_key": api_key},
        outages=world.outages))
    for plan in world.vendor_orders:
        if plan.parcel is not None:
            carriers.script(plan.parcel.carrier, plan.parcel.tracking_number, plan.parcel.scans,
                            plan.parcel.estimated_delivery)
    sides = vendor_sides(VENDORS, world.vendor_orders, folder=lambda code: directory / vendor_folder(code),
                         token=token, time=sim_time)
    printful = [side for side in sides if isinstance(side, PrintfulVendor)]
    for side in printful:
        stack.enter_context(side)
    stack.enter_context(_without_real_waits())
    config_path.write_text(config_toml(printful_urls={side.profile.code: side.url for side in printful},
                                       carrier_urls={code: fake.url for code, fake in carriers},
                                       smtp_port=mail.port, customer_notices=options.customer_notices),
                           encoding="utf-8")
    settings = run_settings(load_settings(config_path), uncredentialed=options.uncredentialed)
    upgrade(settings.database.url)
    create_folders(settings)  # as `orderflow init` does for a real shop
    engine = make_engine(settings.database.url)
    stack.callback(engine.dispose)
    _import_catalog(engine, settings, directory / CATALOG_NAME, at=world.start - timedelta(hours=1))
    return _Shop(directory=directory, settings=settings, engine=engine, time=sim_time, carriers=carriers,
                 sides=sides, mail=mail, steps=pipeline())


def _hour(shop: _Shop, world: World, result: DemoResult, previous: datetime | None, tick: datetime) -> None:
    """One cron tick: the world moves on to ``tick``, then orderflow's sync runs at that instant."""
    shop.time.at = tick
    shop.carriers.at(tick)
    _publish(shop.directory, world.orders_between(previous, tick), tick)
    for side in shop.sides:
        side.act(tick)
    _tally(result, tick, run_sync(engine=shop.engine, settings=shop.settings, clock=Clock(fixed=tick),
                                  steps=shop.steps))
    for side in shop.sides:
        side.receive()
    local = tick.astimezone(SHOP_ZONE)
    if local.time() == REPORT_TIME and local.date() > FIRST_DAY:
        _daily_report(shop.engine, shop.settings, at=tick, email=True)


@contextmanager
def _without_real_waits() -> Iterator[None]:
    """Retries still happen, as many as in production, but without sleeping through real backoff delays (the
    simulated hour does not pass while they wait), and without a log line per retry on the demo's terminal."""
    import stamina
    from stamina.instrumentation import get_on_retry_hooks, set_on_retry_hooks

    hooks = get_on_retry_hooks()
    set_on_retry_hooks([])
    try:
        with stamina.set_testing(True, attempts=1_000, cap=True):
            yield
    finally:
        set_on_retry_hooks(hooks)


def pipeline() -> tuple[Step, ...]:
    """``orderflow sync``'s own steps, with the HTTP clients the demo hands them (as tests do): every client
    shares one TLS set-up instead of reading the system's certificates again, and none consults proxy settings,
    so every call stays on 127.0.0.1."""
    import httpx

    from orderflow.carriers.apis import API
    from orderflow.carriers.poller import TrackIO, track
    from orderflow.vendors.dispatch import DispatchIO, dispatch
    from orderflow.vendors.fetch import FetchIO, fetch

    tls = ssl.create_default_context()

    def vendor_client(vendor: VendorSettings) -> httpx.Client:
        return httpx.Client(base_url=str(vendor.base_url), timeout=vendor.timeout_seconds, verify=tls,
                            trust_env=False)

    def carrier_client(code: str, carrier: CarrierSettings) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=carrier.base_url or API[code].carrier.base_url,
                                 timeout=carrier.timeout_seconds, verify=tls, trust_env=False)

    def dispatch_step(*, engine: Engine, settings: Settings, clock: Clock) -> WorkResult:
        return dispatch(engine=engine, settings=settings, clock=clock, io=DispatchIO(http_client=vendor_client))

    def fetch_step(*, engine: Engine, settings: Settings, clock: Clock) -> WorkResult:
        return fetch(engine=engine, settings=settings, clock=clock, io=FetchIO(http_client=vendor_client))

    def track_step(*, engine: Engine, settings: Settings, clock: Clock) -> WorkResult:
        return track(engine=engine, settings=settings, clock=clock, io=TrackIO(http_client=carrier_client))

    ours: dict[str, StepWork] = {"dispatch": dispatch_step, "fetch": fetch_step, "track": track_step}
    return tuple(Step(step.name, ours.get(step.name, step.work), step.exclusive) for step in STEPS)


# --- one step each ------------------------------------------------------------------------------------------------

def _import_catalog(engine: Engine, settings: Settings, path: Path, *, at: datetime) -> None:
    from orderflow.catalog import import_catalog_file
    from orderflow.jobs import run_job

    path.write_bytes(catalog_csv())
    result = run_job("catalog import", engine=engine, clock=Clock(fixed=at),
                     work=lambda: import_catalog_file(engine=engine, settings=settings, path=path, now=at))
    if result.exit_code:
        raise ConfigError(f"the demo's catalog was refused: {'; '.join(result.problems[:3])}")


def _publish(directory: Path, orders: list[OrderPlan], at: datetime) -> None:
    """The storefront's export of the last hour's orders, dropped in the inbox orderflow imports from."""
    if not orders:
        return
    inbox = directory / INBOX
    inbox.mkdir(parents=True, exist_ok=True)
    partial = inbox / ".export.partial"
    partial.write_bytes(shopify_export(orders))
    os.replace(partial, inbox / f"orders_export_{at.astimezone(SHOP_ZONE):%Y%m%d_%H%M}.csv")


def _daily_report(engine: Engine, settings: Settings, *, at: datetime, email: bool) -> Path | None:
    """The report cron makes each morning (for the day before, mailed), or the last day's so far (written)."""
    from orderflow.jobs import run_job
    from orderflow.reports.daily import daily_report

    day = None if email else at.astimezone(SHOP_ZONE).date()
    result = run_job("report daily", engine=engine, clock=Clock(fixed=at),
                     work=lambda: daily_report(engine=engine, settings=settings, now=at, day=day, email=email))
    paths: list[Path] = result.detail or []
    return paths[0].parent if paths else None


def _tally(result: DemoResult, at: datetime, report: SyncReport) -> None:
    result.runs += 1
    if report.exit_code is not ExitCode.OK:
        result.runs_with_problems += 1
    for step in report.steps:
        if step.exit_code is ExitCode.INTERNAL:
            result.internal_errors += [f"{at:%Y-%m-%d %H:%M} UTC {step.name}: {problem}" for problem in step.problems]


def _judge(result: DemoResult, engine: Engine, world: World) -> None:
    """Score the final queue against the truth, and pick the order whose story is worth showing."""
    from orderflow.db.engine import reader, session_factory
    from orderflow.rules.queue import queue_documents

    with session_factory(reader(engine))() as session:
        documents = queue_documents(session)
    verdicts = expectations(world.orders, at=world.end, outages=world.outages)
    result.score = score_queue(verdicts, documents)
    queued = {document["rule"] for document in documents}
    result.unshown = [rule for rule in SHOWN_RULES if rule not in queued]
    result.story_order = _story(world, verdicts)


def _story(world: World, verdicts: Mapping[tuple[str, str], bool | None]) -> str | None:
    """An order worth reading: tracking that came days late but proves the vendor shipped on time (orderflow
    waited for it instead of raising lateness), beside parts with problems of their own; more vendors, more to
    read."""
    problems: dict[str, set[str]] = {}
    for (rule, subject), verdict in verdicts.items():
        if verdict:
            problems.setdefault(subject, set()).add(rule)

    def interest(order: OrderPlan) -> tuple[bool, int, int, int]:
        subjects = {order.number} | {plan.vendor_order_id for plan in order.vendor_orders} | \
            {plan.parcel.tracking_number for plan in order.vendor_orders if plan.parcel is not None}
        rules = set().union(*(problems.get(subject, set()) for subject in subjects))
        cleared = any(world.cleared_lateness(plan) for plan in order.vendor_orders)
        return cleared, len(rules), len(order.vendor_orders), -int(order.number)

    best = max(world.orders, key=interest, default=None)
    return best.number if best is not None else None


def _emails(recipients: list[tuple[str, ...]]) -> dict[str, int]:
    """Mail the local server took, by who it was for."""
    kinds = {"oncall@threadbare.example": "on-call pushes", "manager@threadbare.example": "daily reports"}
    counts = dict.fromkeys(("to customers", *kinds.values()), 0)
    for to in recipients:
        counts[next((kinds[address] for address in to if address in kinds), "to customers")] += 1
    return counts
