"""A whole shop on local servers, run through ``orderflow`` as child processes, and one verifier over all of it.

The crash sweep, the SIGKILL soak and the concurrency tests share it::

    with pipeline_world(tmp_path, database_url, sshd=sshd, monkeypatch=monkeypatch) as world:
        world.add_orders(6)                      # a new Shopify export lands in the inbox
        world.run("sync", crash_at="dispatch.after_send")   # returncode -9: died there
        world.settle()                           # clean syncs, the vendors answering in between, until quiet
        assert world.verify() == []

The shop: orders arrive as files in an inbox; ACME takes CSV purchase orders in a local folder, STITCH CSV
over SFTP (a real sshd), PF is Printful (a fake of its API). :meth:`PipelineWorld.vendor_side` plays the
vendors between runs: ACME and STITCH answer each new purchase order with an acknowledgement and a tracking
file (ACME rejects some orders whole), Printful ships what it accepted (and refuses some orders at once);
every parcel gets a carrier scan at UPS or USPS. Customer shipment emails and pushes go to one SMTP server,
pushes also to a Slack-style webhook. Rejections are critical, so each one is pushed.

:meth:`PipelineWorld.verify` states what no crash, kill or race may break: every order once with its lines;
every vendor order at its vendor exactly once; every vendor and inbox file ledgered once and moved aside;
every customer email and push handed over at most once, exactly once when recorded as sent, and never left
where a later run would send it again; no lock left behind; ``job_runs`` left running only by killed processes.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from orderflow.carriers.status import PackageStatus
from orderflow.catalog import CatalogRow
from orderflow.db.engine import make_engine, session_factory
from orderflow.db.locks import _advisory_key
from orderflow.db.models import (
    IngestedFile,
    JobLock,
    JobRun,
    Order,
    OrderLine,
    OutboxMessage,
    Shipment,
    VendorOrder,
)
from orderflow.demo.carriers import TrackingNumbers
from orderflow.errors import ExitCode
from orderflow.schedule import SYNC_COMMAND
from orderflow.sync import STEPS
from orderflow.testing.carriers import FakeCarrier, Scan
from orderflow.testing.printful import FakePrintful
from orderflow.testing.smtp import SmtpServer
from orderflow.testing.sshd import SshServer
from orderflow.testing.webhook import FakeWebhook
from tests.support.sample_shop import stock_catalog
from tests.support.servers import create_schema
from tests.support.shop_with_vendors import shopify_export, vendor_block, write_settings

START = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
"""A Tuesday, 09:00 in New York: every vendor at work."""
PRINTFUL_TOKEN = "pf-test-token"
SOURCE = "shop"
ACK_HEADER = "po_number,line_number,vendor_sku,status,quantity,reason,expected_date"
TRACKING_HEADER = "po_number,line_number,vendor_sku,quantity_shipped,carrier,service,tracking_number,ship_date"
SETTLED_STATES = {"sent", "accepted", "rejected", "on_hold", "partially_shipped", "shipped", "delivered"}
FINE = (ExitCode.OK, ExitCode.PARTIAL_FAILURE, ExitCode.LOCK_HELD)
"""How a run in this world may end: well, with one vendor's part partial, or stepping aside for a run holding
its lock. Never 1 (a bug) or anything else."""


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a reader never sees half a file (as real senders should)."""
    temp = path.parent.parent / f".{path.name}.incoming"
    temp.write_bytes(data)
    temp.replace(path)


@dataclass
class Finished:
    """One child process, once it ended: its id, exit code (-9 when killed) and output."""

    args: tuple[str, ...]
    pid: int
    returncode: int
    stdout: str
    stderr: str


@dataclass
class FileVendor:
    """A vendor that reads purchase-order files from a folder and answers with files (locally, or behind sshd)."""

    code: str
    folder: Path
    carrier: str
    seen: dict[str, str] = field(default_factory=dict)
    """Purchase-order file name -> SHA-256 of the content the vendor read first."""
    changed: list[str] = field(default_factory=list)
    """Files the vendor had read that later held something else: a second, different purchase order."""
    answered: set[str] = field(default_factory=set)

    def sub(self, name: str) -> Path:
        return self.folder / name


@dataclass
class PipelineWorld:
    root: Path
    database_url: str
    engine: Engine
    smtp: SmtpServer
    webhook: FakeWebhook
    printful: FakePrintful
    carriers: dict[str, FakeCarrier]
    env: dict[str, str]
    now: datetime = START
    orders: dict[str, list[str]] = field(default_factory=dict)
    """Every order put in the inbox: number -> its SKUs (one line of 2 each)."""
    inbox_files: list[tuple[str, str]] = field(default_factory=list)
    """(file name, SHA-256) of every export put in the inbox."""
    vendor_files: list[tuple[str, str, str]] = field(default_factory=list)
    """(vendor, file name, SHA-256) of every file a vendor wrote for us."""
    killed: set[int] = field(default_factory=set)
    """Process ids this world killed, or that killed themselves at a crash point."""
    vendors: dict[str, FileVendor] = field(default_factory=dict)
    printful_shipped: set[str] = field(default_factory=set)
    acme_rejects: set[str] = field(default_factory=set)
    printful_rejects: set[str] = field(default_factory=set)
    numbers: TrackingNumbers = field(default_factory=lambda: TrackingNumbers(random.Random(11)))

    # --- the shop's side -----------------------------------------------------------------------------------

    @property
    def config(self) -> Path:
        return self.root / "orderflow.toml"

    def add_orders(self, count: int) -> list[str]:
        """A new export with ``count`` orders in the inbox. Every order has ACME; every second one STITCH;
        every third PF. ACME rejects every fifth order, Printful every sixth of its own."""
        first = len(self.orders)
        batch: dict[str, list[str]] = {}
        for index in range(first, first + count):
            number = str(7001 + index)
            skus = ["SKU-ACME"] + (["SKU-STITCH"] if index % 2 == 1 else []) + (["SKU-PF"] if index % 3 == 2 else [])
            batch[number] = skus
            if index % 5 == 4:
                self.acme_rejects.add(f"TB{number}-ACME")
            if index % 6 == 5:
                self.printful_rejects.add(f"TB{number}-PF")
        name = f"orders-{len(self.inbox_files) + 1:04d}.csv"
        data = shopify_export(batch).encode()
        write_atomically(self.root / "inbox" / name, data)
        self.inbox_files.append((name, hashlib.sha256(data).hexdigest()))
        self.orders |= batch
        return list(batch)

    def expected_vendor_orders(self) -> dict[str, str]:
        """Vendor order id -> vendor code, for every order put in the inbox."""
        return {f"TB{number}-{sku.removeprefix('SKU-')}": sku.removeprefix("SKU-")
                for number, skus in self.orders.items() for sku in skus}

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    # --- running orderflow ---------------------------------------------------------------------------------

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "orderflow", "--config", str(self.config), "--db", self.database_url,
                "--now", self.now.isoformat(), *args]

    def start(self, *args: str, crash_at: str | None = None) -> subprocess.Popen[str]:
        env = self.env | ({"ORDERFLOW_CRASH_AT": crash_at} if crash_at else {})
        return subprocess.Popen(self.command(*args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def finish(self, process: subprocess.Popen[str], *, kill_after: float | None = None) -> Finished:
        """Wait for ``process`` (SIGKILL it after ``kill_after`` seconds, if it is still running then)."""
        try:
            stdout, stderr = process.communicate(timeout=kill_after if kill_after is not None else 120)
        except subprocess.TimeoutExpired:
            if kill_after is None:
                raise
            process.send_signal(signal.SIGKILL)
            stdout, stderr = process.communicate(timeout=60)
        if process.returncode == -signal.SIGKILL:
            self.killed.add(process.pid)
        command = [str(arg) for arg in process.args]  # type: ignore[union-attr]
        return Finished(tuple(command[command.index("--now") + 2:]), process.pid, process.returncode, stdout, stderr)

    def run(self, *args: str, crash_at: str | None = None) -> Finished:
        return self.finish(self.start(*args, crash_at=crash_at))

    def sync(self) -> Finished:
        """One clean ``orderflow sync``, which must end well."""
        finished = self.run("sync")
        assert finished.returncode in (ExitCode.OK, ExitCode.PARTIAL_FAILURE), finished.stderr
        assert "Traceback" not in finished.stderr, finished.stderr
        return finished

    def settle(self, *, rounds: int = 5) -> None:
        """Clean syncs with the vendors answering in between, until a sync leaves the vendors nothing new."""
        for _ in range(rounds):
            self.sync()
            if not self.vendor_side():
                return
        raise AssertionError(f"still busy after {rounds} clean syncs")

    # --- the vendors' and carriers' side ---------------------------------------------------------------------

    def vendor_side(self) -> bool:
        """Each vendor answers what it has received since it last looked; whether anything new was answered."""
        answered = False
        for vendor in self.vendors.values():
            answered |= self._answer_files(vendor)
        for external_id in [order_id for order_id in self.printful.creates if order_id not in self.printful_shipped]:
            number = self.numbers.next("usps")
            self.printful.ship(external_id, tracking_number=number, carrier="USPS")
            self._scan("usps", number)
            self.printful_shipped.add(external_id)
            answered = True
        return answered

    def _answer_files(self, vendor: FileVendor) -> bool:
        answered = False
        for path in sorted(vendor.sub("to_vendor").glob("*.csv")):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            first = vendor.seen.setdefault(path.name, digest)
            if first != digest and path.name not in vendor.changed:
                vendor.changed.append(path.name)
            po = path.stem
            if po in vendor.answered:
                continue
            vendor.answered.add(po)
            answered = True
            rejected = po in self.acme_rejects
            status, reason = ("rejected", "Invalid address") if rejected else ("accepted", "")
            self._vendor_file(vendor, f"ack-{po}.csv", f"{ACK_HEADER}\n{po},1,{vendor.code}-1,{status},2,{reason},\n")
            if not rejected:
                number = self.numbers.next(vendor.carrier)  # type: ignore[arg-type]
                self._vendor_file(vendor, f"ship-{po}.csv", f"{TRACKING_HEADER}\n{po},1,{vendor.code}-1,2,"
                                  f"{vendor.carrier.upper()},Ground,{number},{self.now.date().isoformat()}\n")
                self._scan(vendor.carrier, number)
        return answered

    def _vendor_file(self, vendor: FileVendor, name: str, content: str) -> None:
        data = content.encode()
        write_atomically(vendor.sub("from_vendor") / name, data)
        self.vendor_files.append((vendor.code, name, hashlib.sha256(data).hexdigest()))

    def _scan(self, carrier: str, number: str) -> None:
        self.carriers[carrier].add_parcel(number, [Scan(self.now - timedelta(minutes=30), PackageStatus.IN_TRANSIT,
                                                        "Picked up", "Chicago IL US")])

    # --- the verifier --------------------------------------------------------------------------------------

    def verify(self, *, settled: bool = True) -> list[str]:
        """Everything that must hold whatever was killed where; one line per violation (empty: all is well).

        ``settled``: a clean run has just ended, so everything that was there before it must also have got all
        the way through: nothing pending or stuck, every file taken in, every lock free.
        """
        with session_factory(self.engine)() as session:
            checks = (self._orders, self._vendor_orders, self._files, self._emails, self._pushes, self._jobs)
            problems = [line for check in checks for line in check(session, settled)]
        return problems + (self._locks() if settled else [])

    def _orders(self, session: Session, settled: bool) -> list[str]:
        stored = Counter(session.scalars(select(Order.order_number).where(Order.source == SOURCE)))
        problems = [f"order {number} stored {stored[number]} times" for number in self.orders
                    if stored[number] > 1 or (settled and stored[number] != 1)]
        problems += [f"order {number} was never put in the inbox" for number in stored if number not in self.orders]
        lines: dict[str, list[tuple[str, int]]] = {}
        for number, sku, qty in session.execute(select(Order.order_number, OrderLine.sku, OrderLine.qty)
                                                .join(OrderLine, OrderLine.order_id == Order.id)
                                                .order_by(Order.order_number, OrderLine.line_no)):
            lines.setdefault(number, []).append((sku, qty))
        problems += [f"order {number} has lines {lines.get(number)}, not {skus}" for number, skus in self.orders.items()
                     if stored[number] == 1 and lines.get(number) != [(sku, 2) for sku in skus]]
        return problems

    def _vendor_orders(self, session: Session, settled: bool) -> list[str]:
        expected = self.expected_vendor_orders()
        states: dict[str, str] = dict(session.execute(select(VendorOrder.id, VendorOrder.state)).all())
        problems = [f"vendor order {vo} is missing" for vo in expected if vo not in states and settled]
        problems += [f"vendor order {vo} was never expected" for vo in states if vo not in expected]
        for code, vendor in self.vendors.items():
            files = sorted(path.name for path in vendor.sub("to_vendor").iterdir() if not path.name.startswith("."))
            wanted = sorted(f"{vo}.csv" for vo, owner in expected.items() if owner == code
                            and states.get(vo) in SETTLED_STATES)
            if settled and files != wanted:
                problems.append(f"{code} holds {files}, not {wanted}")
            problems += [f"{code} received a second, different {name}" for name in vendor.changed]
        creates = Counter(self.printful.creates)
        problems += [f"Printful has {count} orders {vo}" for vo, count in creates.items() if count > 1]
        for vo, owner in expected.items():
            if owner != "PF" or not settled:
                continue
            wanted_creates = 0 if vo in self.printful_rejects else 1
            if creates[vo] != wanted_creates:
                problems.append(f"Printful has {creates[vo]} orders {vo}, not {wanted_creates}")
        if settled:
            problems += [f"vendor order {vo} is still {state} after a clean run" for vo, state in states.items()
                         if state not in SETTLED_STATES]
            said = self.printful_rejects | (self.acme_rejects & self.vendors["ACME"].answered)
            problems += [f"vendor order {vo} is {states.get(vo)}, expected rejected" for vo in said
                         if vo in expected and states.get(vo) != "rejected"]
        return problems

    def _files(self, session: Session, settled: bool) -> list[str]:
        ledger = Counter((origin, digest) for origin, digest in session.execute(
            select(IngestedFile.origin, IngestedFile.sha256)))
        problems = [f"ledger holds {origin} {digest[:12]} {count} times" for (origin, digest), count in ledger.items()
                    if count > 1]
        for code, name, digest in self.vendor_files:
            vendor = self.vendors[code]
            inbound, archived = vendor.sub("from_vendor") / name, vendor.sub("archive") / name
            if settled and (ledger[(f"vendor:{code}", digest)] != 1 or inbound.exists() or not archived.exists()):
                problems.append(f"{code} file {name}: ledgered {ledger[(f'vendor:{code}', digest)]} times, "
                                f"{'still waiting' if inbound.exists() else 'taken'}, "
                                f"{'archived' if archived.exists() else 'not archived'}")
        inbox = self.root / "inbox"
        for name, digest in self.inbox_files:
            if settled and (ledger[(f"source:{SOURCE}", digest)] != 1 or (inbox / name).exists()
                            or not (inbox / "archive" / name).exists()):
                problems.append(f"inbox file {name} is not ledgered once and archived")
        return problems

    def _delivered(self, kind: str) -> Counter[int]:
        """How often the SMTP server got the message of each outbox row of ``kind`` ("shipment" or "push")."""
        ids = [str(message["Message-ID"]) for message in self.smtp.messages]
        prefix = f"<orderflow.{kind}."
        return Counter(int(mid.removeprefix(prefix).partition("@")[0]) for mid in ids if mid.startswith(prefix))

    def _emails(self, session: Session, settled: bool) -> list[str]:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "customer_email")))
        delivered = self._delivered("shipment")
        problems = outbox_problems("email for parcel", [(row.payload["shipment_id"], row.state) for row in rows],
                                   delivered)
        decided = {row.payload["shipment_id"] for row in rows}
        problems += [f"email for parcel {shipment} was sent without an outbox row" for shipment in delivered
                     if shipment not in decided]
        if settled:
            problems += [f"email for parcel {row.payload['shipment_id']} is stuck pending" for row in rows
                         if stuck(row)]
            scanned = session.scalars(select(Shipment.id).where(Shipment.first_scan_at.is_not(None))).all()
            problems += [f"parcel {shipment} was scanned but no email was decided" for shipment in scanned
                         if shipment not in decided]
        return problems

    def _pushes(self, session: Session, settled: bool) -> list[str]:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(("push_email",
                                                                                         "push_webhook")))))
        emails = [(row.id, row.state) for row in rows if row.kind == "push_email"]
        problems = outbox_problems("push email", emails, self._delivered("push"))
        texts = Counter(post["text"] for post in self.webhook.posts)
        by_text: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            if row.kind == "push_webhook":
                by_text.setdefault(f"*{row.payload['title']}*\n" + "\n".join(row.payload["lines"]), []).append(row)
        for body, same in by_text.items():
            ever_sent = sum(row.state in ("sent", "sending", "unknown", "refused") for row in same)
            surely_sent = sum(row.state == "sent" for row in same)
            if not surely_sent <= texts[body] <= ever_sent:
                problems.append(f"webhook got {texts[body]} posts of {body.splitlines()[0]!r} for rows "
                                f"{[(row.id, row.state) for row in same]}")
        problems += [f"webhook got a post no row accounts for: {body.splitlines()[0]!r}" for body in texts
                     if body not in by_text]
        if settled:
            problems += [f"push {row.kind} #{row.id} is stuck pending" for row in rows if stuck(row)]
            if not rows and (self.acme_rejects | self.printful_rejects) & set(self.expected_vendor_orders()):
                problems.append("rejections happened but nothing was pushed")
        return problems

    def _jobs(self, session: Session, settled: bool) -> list[str]:
        running = session.execute(select(JobRun.command, JobRun.pid).where(JobRun.outcome == "running")).all()
        problems = [f"job_runs: {command!r} of pid {pid} is left running, but that process was not killed"
                    for command, pid in running if pid not in self.killed]
        if settled and self.engine.dialect.name == "sqlite":
            leases = session.scalars(select(JobLock.name)).all()
            problems += [f"job_locks: {name!r} is still held" for name in leases]
        return problems

    def _locks(self) -> list[str]:
        if self.engine.dialect.name != "postgresql":
            return []
        with self.engine.connect() as connection:
            schema = str(connection.execute(text("SELECT current_schema()")).scalar_one())
            held = {(int(row.classid), int(row.objid)) for row in connection.execute(text(
                "SELECT classid::bigint AS classid, objid::bigint AS objid FROM pg_locks "
                "WHERE locktype = 'advisory' AND objsubid = 1 AND granted"))}
        problems = []
        for name in [SYNC_COMMAND, *(step.name for step in STEPS)]:
            key = _advisory_key(schema, name) & 0xFFFFFFFFFFFFFFFF
            if (key >> 32, key & 0xFFFFFFFF) in held:
                problems.append(f"advisory lock for {name!r} is still held")
        return problems


def stuck(row: OutboxMessage) -> bool:
    """Pending after a clean run, though no lease holds it back (a lease of a killed run lasts its few minutes)."""
    return row.state == "pending" and (row.claimed_until is None or row.claimed_until <= datetime.now(UTC))


def outbox_problems(what: str, rows: Sequence[tuple[int, str]], delivered: Counter[int]) -> list[str]:
    """Each row's message handed over once if ``sent``; at most once if a run died sending it (``sending``,
    ``unknown``) or it was refused; never if it is still ``pending`` or ``failed``, since those may go again."""
    problems = []
    for key, state in rows:
        allowed = {"sent": (1,), "sending": (0, 1), "unknown": (0, 1), "refused": (0, 1)}.get(state, (0,))
        if delivered[key] not in allowed:
            problems.append(f"{what} {key} was handed over {delivered[key]} times and is {state}")
    return problems


@contextmanager
def pipeline_world(root: Path, database_url: str, *, sshd: SshServer,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineWorld]:
    """The shop in ``root`` on ``database_url`` (tables created), its servers running, its catalog stocked."""
    worlds: list[PipelineWorld] = []

    def now() -> datetime:
        """The fakes' clock: the world's simulated time."""
        return worlds[0].now if worlds else START

    with ExitStack() as stack:
        smtp = stack.enter_context(SmtpServer())
        webhook = stack.enter_context(FakeWebhook())
        printful = stack.enter_context(FakePrintful(token=PRINTFUL_TOKEN, now=now))
        carriers = {name: stack.enter_context(FakeCarrier(name, now=now)) for name in ("ups", "usps")}
        env = {"TEST_PRINTFUL_TOKEN": PRINTFUL_TOKEN, "TEST_CARRIER_ID": "id", "TEST_CARRIER_SECRET": "secret",
               "TEST_SLACK_WEBHOOK": webhook.webhook_url}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        remote = root / "stitch-sftp"
        for folder in (root / "inbox", *(base / sub for base in (root / "acme", remote)
                                         for sub in ("to_vendor", "from_vendor", "archive", "rejected"))):
            folder.mkdir(parents=True, exist_ok=True)
        settings = write_settings(
            root,
            vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0),
            vendor_block("STITCH", "csv", "sftp", host=sshd.host, port=sshd.port, username=sshd.username,
                         key_file=str(sshd.user_key_path), known_hosts=str(sshd.known_hosts_path),
                         remote_dir=str(remote), settle_seconds=0),
            vendor_block("PF", "printful", "http", kind="on_demand", base_url=printful.url,
                         token_env="TEST_PRINTFUL_TOKEN", timeout_seconds=5),
            f'[sources.{SOURCE}]\nkind = "inbox"\nformat = "shopify_csv"\npath = "inbox"\nsettle_seconds = 0\n',
            *(f'[carriers.{name}]\nbase_url = "{fake.url}"\nclient_id_env = "TEST_CARRIER_ID"\n'
              'client_secret_env = "TEST_CARRIER_SECRET"\n' for name, fake in carriers.items()),
            f'[email]\nhost = "{smtp.host}"\nport = {smtp.port}\nstarttls = false\nsender = "ops@teebarn.example"\n'
            'shop_name = "Tee Barn"\n[customers]\nsender = "Tee Barn <hello@teebarn.example>"\n'
            '[push]\ndigest_time = "08:00"\n[push.email]\nto = ["oncall@teebarn.example"]\n'
            '[push.webhook]\nurl_env = "TEST_SLACK_WEBHOOK"\n')
        engine = make_engine(database_url)
        stack.callback(engine.dispose)
        create_schema(engine)
        stock_catalog(engine, settings, START, [CatalogRow(f"SKU-{code}", code, f"{code}-1", on_demand=code == "PF")
                                                for code in ("ACME", "STITCH", "PF")])
        world = PipelineWorld(root=root, database_url=database_url, engine=engine, smtp=smtp, webhook=webhook,
                              printful=printful, carriers=carriers, env={**os.environ, **env})
        world.vendors = {"ACME": FileVendor("ACME", root / "acme", "ups"),
                         "STITCH": FileVendor("STITCH", remote, "usps")}
        printful.reject_when = lambda body: "Recipient address is invalid" \
            if body.get("external_id") in world.printful_rejects else None
        worlds.append(world)
        yield world
