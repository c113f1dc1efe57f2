"""Security checks: host keys, secrets kept out of every output, defanged CSV exports, parameterised SQL, and
the file modes of what orderflow writes.

Host-key verification of the SFTP transport itself is specified in ``test_file_transports.py``
(``TestHostKeyVerification``); here it is checked end to end, through the commands that use it.
"""

from __future__ import annotations

import ast
import base64
import csv
import io
import json
import logging
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner, Result

from orderflow.cli.main import app
from orderflow.db.engine import session_factory
from orderflow.db.models import Base, VendorOrder
from orderflow.errors import ExitCode
from orderflow.spreadsheets import FORMULA_STARTS
from orderflow.testing.http_server import Answer, LocalHttpServer
from orderflow.testing.smtp import SmtpServer
from orderflow.testing.sshd import SshServer
from orderflow.testing.webhook import FakeWebhook
from tests.support.shop_with_vendors import HEADER, place_orders, vendor_block, write_settings

ROOT = Path(__file__).resolve().parents[1]
NOW_DT = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
NOW = NOW_DT.isoformat()
runner = CliRunner()
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def run(folder: Path, database_url: str, *args: str, now: datetime = NOW_DT) -> Result:
    """One orderflow command against the shop in ``folder``, as cron would run it."""
    return runner.invoke(app, ["--config", str(folder / "orderflow.toml"), "--db", database_url,
                               "--now", now.isoformat(), *args])


# --- SSH host keys, end to end --------------------------------------------------------------------------------

def sftp_vendor(sshd: SshServer, known_hosts: Path) -> str:
    return vendor_block("STITCH", "csv", "sftp", host=sshd.host, port=sshd.port, username=sshd.username,
                        key_file=str(sshd.user_key_path), known_hosts=str(known_hosts), remote_dir=str(sshd.root),
                        settle_seconds=0)


class TestHostKeys:
    @sqlite_only
    @pytest.mark.parametrize("trust", ["unknown", "changed"])
    def test_dispatch_sends_nothing_to_an_untrusted_host(self, trust: str, tmp_path: Path, database_url: str,
                                                        engine: Engine, sshd: SshServer) -> None:
        """An unknown or changed host key stops dispatch before any byte of the order leaves; known_hosts is
        left as it was (never auto-accepted)."""
        known_hosts = tmp_path / "known_hosts"
        if trust == "changed":
            other = sshd.generate_key(f"imposter-{tmp_path.name}")
            known_hosts.write_text(sshd.known_hosts_line(Path(f"{other}.pub")))
        else:
            known_hosts.write_text("")
        before = known_hosts.read_bytes()
        settings = write_settings(tmp_path, sftp_vendor(sshd, known_hosts))
        place_orders(engine, settings, NOW_DT, tmp_path, orders={"7001": ["SKU-STITCH"]})
        sent_before = sorted((sshd.root / "to_vendor").iterdir())

        result = run(tmp_path, database_url, "dispatch")

        assert result.exit_code != ExitCode.OK
        expected = "CHANGED" if trust == "changed" else "is not in known_hosts"
        assert expected in result.stderr
        assert sorted((sshd.root / "to_vendor").iterdir()) == sent_before
        assert known_hosts.read_bytes() == before
        with session_factory(engine)() as session:
            assert session.scalars(select(VendorOrder.sent_at)).all() == [None]

    @sqlite_only
    @pytest.mark.parametrize("trust", ["unknown", "changed"])
    def test_fetch_reads_nothing_from_an_untrusted_host(self, trust: str, tmp_path: Path, database_url: str,
                                                       engine: Engine, sshd: SshServer) -> None:
        """An unknown or changed host key stops fetch: the vendor's files stay where they are, unread."""
        known_hosts = tmp_path / "known_hosts"
        if trust == "changed":
            other = sshd.generate_key(f"imposter-{tmp_path.name}")
            known_hosts.write_text(sshd.known_hosts_line(Path(f"{other}.pub")))
        else:
            known_hosts.write_text("")
        write_settings(tmp_path, sftp_vendor(sshd, known_hosts))
        before = known_hosts.read_bytes()
        dropped = sshd.root / "from_vendor" / f"inv_{tmp_path.name}.csv"
        dropped.write_text("sku,quantity_available\nSTC-1,5\n")
        try:
            result = run(tmp_path, database_url, "fetch")
            assert result.exit_code != ExitCode.OK
            assert ("CHANGED" if trust == "changed" else "is not in known_hosts") in result.stderr
            assert dropped.exists()
            assert known_hosts.read_bytes() == before
        finally:
            dropped.unlink(missing_ok=True)

    def test_no_code_path_auto_accepts_or_borrows_host_keys(self) -> None:
        """orderflow never uses paramiko's accepting policies nor the user's own ~/.ssh/known_hosts."""
        forbidden = ("AutoAddPolicy", "WarningPolicy", "load_system_host_keys")
        found = [(str(path.relative_to(ROOT)), name) for path in sorted((ROOT / "src").rglob("*.py"))
                 for name in forbidden if name in path.read_text()]
        assert found == []


# --- secrets never leave the environment ----------------------------------------------------------------------

MARK = "LEAKCHECK"
CARRIER_ID = "carrier-client-id"
SECRETS = {
    "ORDERFLOW_SMTP_PASSWORD": f"{MARK}-smtp-password",
    "ORDERFLOW_PRINTFUL_TOKEN": f"{MARK}-printful-token",
    "ORDERFLOW_SHOP_TOKEN": f"{MARK}-shop-token",
    "ORDERFLOW_CARRIER_SECRET": f"{MARK}-carrier-secret",
    "ORDERFLOW_DHL_KEY": f"{MARK}-dhl-key",
    "ORDERFLOW_SFTP_PASSWORD": f"{MARK}-sftp-password",
    "ORDERFLOW_STOREFRONT_TOKEN": f"{MARK}-storefront-token",
}
"""Every secret the shop names, each carrying the marker the grep looks for."""
WEBHOOK_PATH = f"/services/T0/B0/{MARK}-webhook-token"
"""A Slack webhook URL is a secret: its last part is the token."""


def leak_markers() -> list[bytes]:
    """The marker, and the encoded forms a secret travels in (HTTP Basic credentials are base64)."""
    basic = base64.b64encode(f"{CARRIER_ID}:{SECRETS['ORDERFLOW_CARRIER_SECRET']}".encode())
    return [MARK.encode(), basic]


class EchoingRemote(LocalHttpServer):
    """A hostile API: every request is refused with 401, and the whole request (path, headers with their
    credentials, body) is echoed back in every error field the clients read."""

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        echo = f"refused {method} {target} headers={dict(headers)} body={body.decode('utf-8', 'replace')}"
        document = {"error": {"code": "401", "message": echo}, "errors": [{"code": "401", "message": echo}],
                    "response": {"errors": [{"code": "250002", "message": echo}]}, "title": echo,
                    "detail": echo, "result": echo, "error_description": echo}
        return 401, json.dumps(document).encode(), {"Content-Type": "application/json"}


@dataclass
class Outputs:
    """Everything the runs left anywhere a person or a log collector could read."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, where: str, text: str | bytes) -> None:
        # latin-1 maps every byte to one character, so binary files (the SQLite database) are searched too.
        self.texts[where] = text if isinstance(text, str) else text.decode("latin-1")

    def leaks(self) -> dict[str, list[str]]:
        """Where each output holds a secret, with the text around it."""
        found: dict[str, list[str]] = {}
        for where, text in self.texts.items():
            for marker in leak_markers():
                needle = marker.decode("latin-1")
                at = text.find(needle)
                if at >= 0:
                    found.setdefault(where, []).append(text[max(0, at - 120):at + 60])
        return found


@dataclass
class HostileShop:
    """A shop whose every remote is hostile or refusing, and the outputs of the commands run against it."""

    folder: Path
    database_url: str
    engine: Engine
    smtp: SmtpServer
    outputs: Outputs = field(default_factory=Outputs)

    def run(self, *args: str) -> Result:
        """Run a command; leading ``NAME=value`` arguments set environment variables for it, as in a shell."""
        assignments = [arg for arg in args if "=" in arg and arg.split("=", 1)[0].isupper()]
        env = dict(arg.split("=", 1) for arg in assignments)
        result = runner.invoke(app, ["--config", str(self.folder / "orderflow.toml"), "--db", self.database_url,
                                     "--now", NOW, *args[len(assignments):]], env=env)
        label = " ".join(args)
        self.outputs.add(f"stdout of {label}", result.stdout)
        self.outputs.add(f"stderr of {label}", result.stderr)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            self.outputs.add(f"exception of {label}", repr(result.exception))
        return result

    def collect(self, caplog: pytest.LogCaptureFixture) -> Outputs:
        """Add the database (every table), every file written, every mail and log record to the outputs."""
        with self.engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                rows = connection.execute(select(table)).all()
                # Plain tuples: a Row's repr cuts long values short, just where a leak would hide.
                self.outputs.add(f"table {table.name}", "\n".join(repr(tuple(row)) for row in rows))
        for path in sorted(self.folder.rglob("*")):
            if path.is_file():
                self.outputs.add(f"file {path.relative_to(self.folder)}", path.read_bytes())
        for index, mail in enumerate(self.smtp.received):
            self.outputs.add(f"email {index} to {', '.join(mail.recipients)}", mail.message.as_bytes())
        self.outputs.add("log records", "\n".join(
            f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records
            if not record.name.startswith(TEST_SERVER_LOGGERS)))
        return self.outputs


# The commands run against the hostile shop; a new command that talks to the outside world is one line here.
FAILING_RUNS: list[tuple[str, ...]] = [
    ("import", "--source", "web"),
    ("dispatch",),
    ("--verbose", "--log-format", "json", "dispatch"),
    ("fetch", "--vendor", "ACME"),
    ("customers", "notify"),
    ("fetch", "--vendor", "BETA"),
    ("ORDERFLOW_CUSTOMERS__CHANNEL=storefront", "customers", "notify"),
    ("track",),
    ("--debug", "import", "--source", "web"),
    ("rules", "run"),
    ("report", "daily", "--email"),
    ("sync",),
]
ACCEPTED_RUNS: list[tuple[str, ...]] = [
    ("customers", "notify"),
    ("rules", "run"),
    ("report", "daily", "--email", "--resend"),
]
VIEWS: list[tuple[str, ...]] = [
    ("jobs", "--format", "json"),
    ("notifications", "--all", "--state", "all", "--format", "json"),
    ("notifications", "--all", "--state", "all", "--format", "csv"),
    ("notifications", "--all", "--state", "all"),
    ("orders", "--format", "csv"),
    ("orders", "--format", "json"),
    ("order", "7001", "--format", "json"),
    ("vendors", "--format", "json"),
]
TEST_SERVER_LOGGERS = ("mail.log",)
"""The test SMTP server's own log (what it received): not an orderflow output."""
TRACKING = {"ACME": {"UPS": "1Z5R89390357567127", "FedEx": "986578788855"},
            "BETA": {"USPS": "9400111206206406260787", "DHL": "3318810025"}}
"""The parcels each local vendor reports for order 7001: ACME's are announced by email, BETA's through the
storefront (a notice keeps the channel it was planned with)."""


@pytest.fixture
def hostile_shop(tmp_path: Path, database_url: str, engine: Engine, sshd: SshServer,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[HostileShop]:
    """Vendors over Printful's API, SFTP and a local folder; an HTTP storefront; the four carriers; SMTP and a
    webhook: every secret set, every remote refusing (the APIs echoing the request back)."""
    with EchoingRemote() as remote, SmtpServer() as smtp:
        for name, value in SECRETS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ORDERFLOW_CARRIER_ID", CARRIER_ID)
        monkeypatch.setenv("ORDERFLOW_SMTP_USER", "ops")
        monkeypatch.setenv("ORDERFLOW_SLACK_WEBHOOK", remote.url + WEBHOOK_PATH)
        smtp.require_auth("ops", "the-right-password")
        carriers = "".join(
            f'[carriers.{code}]\nbase_url = "{remote.url}"\nclient_id_env = "ORDERFLOW_CARRIER_ID"\n'
            'client_secret_env = "ORDERFLOW_CARRIER_SECRET"\napi_key_env = "ORDERFLOW_DHL_KEY"\n'
            for code in ("ups", "fedex", "usps", "dhl"))
        settings = write_settings(
            tmp_path,
            vendor_block("PF", "printful", "http", base_url=remote.url, token_env="ORDERFLOW_PRINTFUL_TOKEN",
                         kind="on_demand"),
            vendor_block("STITCH", "csv", "sftp", host=sshd.host, port=sshd.port, username=sshd.username,
                         password_env="ORDERFLOW_SFTP_PASSWORD", known_hosts=str(sshd.known_hosts_path),
                         remote_dir=str(sshd.root)),
            vendor_block("ACME", "csv", "local", path="acme", settle_seconds=0),
            vendor_block("BETA", "csv", "local", path="beta", settle_seconds=0),
            f'[sources.web]\nkind = "http"\nurl = "{remote.url}/orders"\ntoken_env = "ORDERFLOW_SHOP_TOKEN"\n',
            carriers,
            f'[email]\nhost = "{smtp.host}"\nport = {smtp.port}\nstarttls = false\n'
            'username_env = "ORDERFLOW_SMTP_USER"\npassword_env = "ORDERFLOW_SMTP_PASSWORD"\n'
            'sender = "ops@shop.example"\n',
            '[report]\nrecipients = ["owner@shop.example"]\nout_dir = "reports"\n',
            '[push.email]\nto = ["oncall@shop.example"]\n[push.webhook]\nurl_env = "ORDERFLOW_SLACK_WEBHOOK"\n',
            '[customers]\nnotify_when = "tracking"\n'
            f'[customers.storefront]\nurl = "{remote.url}/notices"\ntoken_env = "ORDERFLOW_STOREFRONT_TOKEN"\n',
        )
        place_orders(engine, settings, NOW_DT, tmp_path, orders={"7001": ["SKU-PF", "SKU-STITCH", "SKU-ACME",
                                                                               "SKU-BETA"]})
        yield HostileShop(folder=tmp_path, database_url=database_url, engine=engine, smtp=smtp)


def drop_tracking_files(shop: HostileShop) -> None:
    """Each local vendor reports its parcels for its part of order 7001."""
    for vendor, parcels in TRACKING.items():
        inbound = shop.folder / vendor.lower() / "from_vendor"
        inbound.mkdir(parents=True, exist_ok=True)
        rows = "".join(f"TB7001-{vendor},{number},{carrier}\n" for carrier, number in parcels.items())
        (inbound / "shipped.csv").write_text("po_number,tracking_number,carrier\n" + rows)


@sqlite_only
class TestSecretsNeverLeak:
    def test_no_secret_reaches_any_output(self, hostile_shop: HostileShop, caplog: pytest.LogCaptureFixture,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
        """With every remote refusing and echoing the credentials it was sent, no secret value appears in
        stdout, stderr, logs, any table (job_runs, notifications, outbox...), any file written, or any email."""
        caplog.set_level(logging.DEBUG)
        shop = hostile_shop
        drop_tracking_files(shop)
        for args in FAILING_RUNS:
            shop.run(*args)
        # The hostile remotes were really asked, or the check would prove nothing.
        assert "auth_error" in shop.outputs.texts["stderr of track"]
        assert "Traceback" in shop.outputs.texts["stderr of --debug import --source web"]
        assert "401" in shop.outputs.texts["stderr of ORDERFLOW_CUSTOMERS__CHANNEL=storefront customers notify"]
        with FakeWebhook(path=WEBHOOK_PATH) as webhook:
            monkeypatch.setenv("ORDERFLOW_SLACK_WEBHOOK", webhook.webhook_url)
            shop.smtp.require_auth("ops", SECRETS["ORDERFLOW_SMTP_PASSWORD"])
            for args in ACCEPTED_RUNS:
                shop.run(*args)
            for index, post in enumerate(webhook.posts):
                shop.outputs.add(f"webhook post {index}", json.dumps(post))
        for args in VIEWS:
            shop.run(*args)
        outputs = shop.collect(caplog)

        assert shop.smtp.received, "no email went out: the check would prove nothing"
        leaks = outputs.leaks()
        assert not leaks, "\n".join(f"{where}: ...{snippets[0]!r}..." for where, snippets in leaks.items())


# --- CSV exports a spreadsheet opens ---------------------------------------------------------------------------

FORMULAS = ("=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1")


def risky_cells(text: str) -> list[str]:
    """The cells of a CSV (header aside) that a spreadsheet would run as a formula."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return [cell for row in rows[1:] for cell in row if cell[:1] in FORMULA_STARTS]


@sqlite_only
class TestCsvExportsAreDefanged:
    @pytest.fixture
    def shop(self, tmp_path: Path, database_url: str, engine: Engine) -> Path:
        """Orders whose numbers, customer names and SKUs start like spreadsheet formulas (no vendor carries
        those SKUs, so each line is also an unroutable-line notification)."""
        settings = write_settings(tmp_path, vendor_block("ACME", "csv", "local", path="acme"))
        place_orders(engine, settings, NOW_DT, tmp_path, orders={"7100": ["SKU-ACME"]})
        columns = HEADER.split(",")
        rows = []
        for index, formula in enumerate(FORMULAS):
            row = {"Name": formula if index % 2 else f"#{7200 + index}", "Email": "x@example.com",
                   "Lineitem quantity": "1", "Lineitem price": "5.00", "Lineitem sku": formula,
                   "Lineitem name": formula, "Financial Status": "paid", "Created at": "2026-11-02 10:04:00 -0500",
                   "Billing Name": formula, "Shipping Name": formula, "Shipping Address1": formula,
                   "Shipping City": "Portland", "Shipping Country": "US"}
            rows.append([row.get(column, "") for column in columns])
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows([columns, *rows])
        (tmp_path / "formulas.csv").write_text(out.getvalue())
        assert run(tmp_path, database_url, "import", str(tmp_path / "formulas.csv")).exit_code == 0
        # Unroutable lines become notifications once they have waited a quarter of an hour.
        assert run(tmp_path, database_url, "rules", "run", now=NOW_DT + timedelta(hours=1)).exit_code == 0
        return tmp_path

    @pytest.mark.parametrize("command", [("orders", "--format", "csv"),
                                         ("notifications", "--all", "--state", "all", "--format", "csv")])
    def test_cells_starting_like_formulas_are_made_text(self, shop: Path, database_url: str,
                                                        command: tuple[str, ...]) -> None:
        """An order number, customer name or SKU starting with = + - @ (or a tab or CR before one) is exported
        as text: a leading quote, which the spreadsheet shows as plain text."""
        result = run(shop, database_url, *command, now=NOW_DT + timedelta(hours=1))

        assert result.exit_code == 0, result.stderr
        assert "'@SUM(A1:A9)" in result.stdout
        assert "'+1+cmd" in result.stdout
        assert risky_cells(result.stdout) == []

    def test_the_daily_report_files_are_defanged(self, shop: Path, database_url: str) -> None:
        """Every CSV file of the daily report holds no cell a spreadsheet would run."""
        result = run(shop, database_url, "report", "daily", "--out", str(shop / "daily"),
                     now=NOW_DT + timedelta(days=1))

        assert result.exit_code == 0, result.stderr
        texts = {path.name: path.read_text(encoding="utf-8-sig") for path in sorted((shop / "daily").glob("*.csv"))}
        assert any("'@SUM(A1:A9)" in text for text in texts.values()), texts
        assert {name: risky_cells(text) for name, text in texts.items()} == {name: [] for name in texts}


# --- SQL is always parameterised --------------------------------------------------------------------------------

SQL_CALLS = frozenset({"text", "exec_driver_sql", "execute", "executemany", "executescript", "literal_column"})
ALLOWED_DYNAMIC_SQL = {
    ("src/orderflow/db/bulk.py", "compiled.string"):
        "SQL compiled by SQLAlchemy from an insert() construct; the values go as bound parameters",
    ("src/orderflow/db/engine.py", "f'PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}'"):
        "a code constant; PRAGMA statements cannot take bound parameters",
}
"""The only SQL strings not written as literals in the code, each with the reason it is safe."""


def _literal_sql(node: ast.expr) -> bool:
    """A string literal, literals joined with +, or a choice between literals."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_sql(node.left) and _literal_sql(node.right)
    if isinstance(node, ast.IfExp):
        return _literal_sql(node.body) and _literal_sql(node.orelse)
    return False


def _imports_sqlalchemy_text(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
               and any(alias.name == "text" for alias in node.names) for node in ast.walk(tree))


def _is_sqlalchemy_text(function: ast.expr, imported: bool) -> bool:
    """``text(...)`` imported from SQLAlchemy, or ``sa.text(...)``; not a method that happens to be named text."""
    if isinstance(function, ast.Name):
        return imported
    return isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) \
        and function.value.id in {"sa", "sqlalchemy"}


def dynamic_sql(paths: list[Path], root: Path) -> set[tuple[str, str]]:
    """Every SQL call in ``paths`` whose statement is built at run time: (file under ``root``, statement code)."""
    found: set[tuple[str, str]] = set()
    for path in paths:
        tree = ast.parse(path.read_text(), filename=str(path))
        sqlalchemy_text = _imports_sqlalchemy_text(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else \
                node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if name not in SQL_CALLS or (name == "text" and not _is_sqlalchemy_text(node.func, sqlalchemy_text)):
                continue
            statement = node.args[0]
            if _literal_sql(statement):
                continue
            # execute() also takes Core constructs (select(...)): there only strings built at run time count.
            built = isinstance(statement, ast.JoinedStr | ast.BinOp) or (
                isinstance(statement, ast.Call) and isinstance(statement.func, ast.Attribute)
                and statement.func.attr == "format")
            if built or name in {"text", "exec_driver_sql", "literal_column"}:
                found.add((str(path.relative_to(root)), ast.unparse(statement)))
    return found


class TestSqlIsParameterised:
    def test_no_statement_is_built_from_values(self) -> None:
        """No f-string, %, + or .format() builds SQL text in src/ or migrations/, except the listed code constants."""
        paths = sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "migrations").rglob("*.py")])
        assert dynamic_sql(paths, ROOT) == set(ALLOWED_DYNAMIC_SQL)

    def test_the_scan_finds_values_pasted_into_sql(self, tmp_path: Path) -> None:
        """The scan is not blind: statements built from values are found; Core constructs and look-alikes are not."""
        module = tmp_path / "queries.py"
        module.write_text(
            "from sqlalchemy import select, text\n"
            "a = text(f\"SELECT * FROM orders WHERE id = {order_id}\")\n"
            "b = connection.exec_driver_sql(\"DELETE FROM orders WHERE id = %s\" % order_id)\n"
            "c = cursor.execute(\"SELECT \" + column)\n"
            "d = session.execute(select(Order).where(Order.id == order_id))\n"
            "e = text(\"SELECT * FROM orders WHERE id = :id\")\n"
            "f = fields.text(order, 'sku', path)\n"
            "g = cursor.execute(\"SELECT {}\".format(column))\n")

        assert dynamic_sql([module], tmp_path) == {
            ("queries.py", "f'SELECT * FROM orders WHERE id = {order_id}'"),
            ("queries.py", "'DELETE FROM orders WHERE id = %s' % order_id"),
            ("queries.py", "'SELECT ' + column"),
            ("queries.py", "'SELECT {}'.format(column)"),
        }


# --- file modes ----------------------------------------------------------------------------------------------------

def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class TestFileModes:
    @pytest.fixture
    def initialised(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Result]]:
        """``orderflow init`` in an empty folder, with the permissive umask many servers have."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("ORDERFLOW_CONFIG", raising=False)
        monkeypatch.delenv("ORDERFLOW_DATABASE_URL", raising=False)
        previous = os.umask(0o022)
        try:
            yield lambda: runner.invoke(app, ["init"])
        finally:
            os.umask(previous)

    def test_init_writes_the_configuration_and_the_database_owner_only(self, tmp_path: Path,
                                                                       initialised: Callable[[], Result]) -> None:
        """orderflow.toml (config) and orderflow.db (carrier tokens, customers' addresses) are mode 0600."""
        result = initialised()

        assert result.exit_code == 0, result.stderr
        assert mode(tmp_path / "orderflow.toml") == 0o600
        database_files = sorted(tmp_path.glob("orderflow.db*"))  # with any -wal and -shm SQLite left
        assert database_files
        assert {path.name: mode(path) for path in database_files} == {path.name: 0o600 for path in database_files}

    def test_a_second_init_keeps_the_files_owner_only(self, tmp_path: Path,
                                                      initialised: Callable[[], Result]) -> None:
        """Running init again (to upgrade) leaves both files owner-only."""
        initialised()
        result = initialised()

        assert result.exit_code == 0, result.stderr
        assert (mode(tmp_path / "orderflow.toml"), mode(tmp_path / "orderflow.db")) == (0o600, 0o600)



