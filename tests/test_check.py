"""``orderflow check``: a whole set-up against real servers (sshd, SMTP with STARTTLS and a login, carrier and
vendor APIs on loopback); each broken part reported on its own line with a fix, and nothing ever sent."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from orderflow.cli.main import app
from orderflow.db import migrate
from orderflow.db.engine import make_engine, session_factory
from orderflow.db.models import Shipment
from orderflow.errors import ExitCode
from orderflow.testing.carriers import FakeCarrier
from orderflow.testing.http_server import Answer, LocalHttpServer
from orderflow.testing.printful import FakePrintful
from orderflow.testing.smtp import SmtpServer
from orderflow.testing.sshd import SshServer
from tests.support.shop_with_vendors import vendor_block

runner = CliRunner()
SECRETS = {"CHECK_PF_TOKEN": "pf-token", "CHECK_API_TOKEN": "api-token", "CHECK_UPS_ID": "id",
           "CHECK_UPS_SECRET": "secret", "CHECK_SMTP_USER": "ops", "CHECK_SMTP_PASSWORD": "mail-pass"}


class JsonVendorApi(LocalHttpServer):
    """A JSON-over-HTTP vendor that refuses a wrong token; it counts what it is sent."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.posts = 0

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, b'{"error": "bad token"}', {"Content-Type": "application/json"}
        self.posts += method == "POST"
        return 200, b"[]", {"Content-Type": "application/json"}


@dataclass
class Remotes:
    sshd: SshServer
    smtp: SmtpServer
    ups: FakeCarrier
    printful: FakePrintful
    api: JsonVendorApi


@pytest.fixture(scope="module")
def remotes(sshd: SshServer) -> Iterator[Remotes]:
    for folder in ("to_vendor", "from_vendor"):
        (sshd.root / folder).mkdir(parents=True, exist_ok=True)
    with SmtpServer(tls="starttls") as smtp, FakeCarrier("ups") as ups, FakePrintful(token="pf-token") as printful, \
            JsonVendorApi("api-token") as api:
        smtp.require_auth("ops", "mail-pass")
        yield Remotes(sshd, smtp, ups, printful, api)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return SECRETS


def write_shop(folder: Path, remotes: Remotes, database_url: str, *, sftp: Mapping[str, object] | None = None,
               extra: str = "") -> Path:
    """A shop with one vendor of each kind, UPS, and mail with STARTTLS and a login, every part reachable."""
    server = remotes.sshd
    sftp_keys: dict[str, object] = {
        "host": server.host, "port": server.port, "username": server.username, "key_file": str(server.user_key_path),
        "known_hosts": str(server.known_hosts_path), "remote_dir": str(server.root), "timeout_seconds": 5,
        **(sftp or {})}
    config = folder / "orderflow.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n'
        + vendor_block("LOCL", "csv", "local", path="vendors/locl")
        + vendor_block("SFTP", "x12", "sftp", **sftp_keys)
        + vendor_block("PRNT", "printful", "http", base_url=remotes.printful.url, token_env="CHECK_PF_TOKEN")
        + vendor_block("JSON", "json", "http", base_url=remotes.api.url, token_env="CHECK_API_TOKEN")
        + f'[carriers.ups]\nbase_url = "{remotes.ups.url}"\nclient_id_env = "CHECK_UPS_ID"\n'
          'client_secret_env = "CHECK_UPS_SECRET"\n'
        + f'[email]\nhost = "{remotes.smtp.host}"\nport = {remotes.smtp.port}\nstarttls = true\n'
          f'tls_ca_file = "{remotes.smtp.ca_file}"\nusername_env = "CHECK_SMTP_USER"\n'
          'password_env = "CHECK_SMTP_PASSWORD"\n'
        + extra, encoding="utf-8")
    return config


def check(config: Path, *options: str) -> tuple[int, list[dict[str, object]]]:
    result = runner.invoke(app, ["--config", str(config), "check", "--json", *options])
    return result.exit_code, json.loads(result.stdout)


def problems(results: list[dict[str, object]]) -> dict[str, tuple[object, object]]:
    return {str(result["name"]): (result["problem"], result["fix"]) for result in results if not result["ok"]}


@pytest.fixture
def shop(tmp_path: Path, remotes: Remotes, database_url: str, secrets: dict[str, str]) -> Path:
    migrate.upgrade(database_url)
    config = write_shop(tmp_path, remotes, database_url)
    assert runner.invoke(app, ["--config", str(config), "check", "--create"]).exit_code == 0
    return config


class TestAGoodSetUp:
    def test_every_check_passes_and_nothing_is_sent(self, shop: Path, remotes: Remotes) -> None:
        """A working shop: every line ok, exit 0; no mail, no purchase order, no order posted."""
        code, results = check(shop)
        assert (code, problems(results)) == (0, {})
        names = [str(result["name"]) for result in results]
        assert names[0] == "configuration"
        for expected in ("secret CHECK_PF_TOKEN (vendors[2].token_env)", "vendor SFTP (x12 over sftp)",
                         "vendor PRNT (printful over http)", "vendor JSON (json over http)", "carrier ups",
                         f"email {remotes.smtp.host}:{remotes.smtp.port}"):
            assert expected in names
        assert remotes.smtp.messages == []
        assert list((remotes.sshd.root / "to_vendor").iterdir()) == []
        assert remotes.api.posts == 0

    def test_the_text_form_is_one_line_per_check(self, shop: Path) -> None:
        """Without --json: one `ok  <name>` line per check."""
        result = runner.invoke(app, ["--config", str(shop), "check"])
        assert result.exit_code == 0
        assert all(line.startswith("ok       ") for line in result.stdout.splitlines())


class TestEachBrokenPart:
    def test_a_broken_configuration_is_the_one_line(self, tmp_path: Path) -> None:
        """An unknown key: one problem line naming it, exit 3."""
        config = tmp_path / "orderflow.toml"
        config.write_text("bogus = 1\n")
        code, results = check(config)
        assert code == ExitCode.CONFIG
        assert problems(results) == {"configuration": (f"{config}: bogus: unknown key",
                                                       "correct the key named in orderflow.toml")}

    def test_an_unset_secret_is_named_with_its_setting(self, shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The API vendor's token variable unset: its secret line and its vendor line say so."""
        monkeypatch.delenv("CHECK_API_TOKEN")
        code, results = check(shop)
        assert code == ExitCode.CONFIG
        assert problems(results) == {
            "secret CHECK_API_TOKEN (vendors[3].token_env)": (
                "environment variable CHECK_API_TOKEN is not set",
                "export CHECK_API_TOKEN=... in cron's environment (the crontab or its wrapper script)"),
            "vendor JSON (json over http)": (
                "vendors[3].token_env: environment variable CHECK_API_TOKEN is not set",
                "set the variable in cron's environment")}

    def test_a_missing_folder_is_reported_and_create_makes_it(self, shop: Path) -> None:
        """A vendor's folder removed: a problem until --create makes it again."""
        folder = shop.parent / "vendors" / "locl" / "archive"
        folder.rmdir()
        code, results = check(shop)
        assert (code, problems(results)) == (ExitCode.CONFIG, {
            f"folder {folder} (vendors[0].archive)": (
                "does not exist", "run `orderflow check --create`, or correct the setting")})
        assert check(shop, "--create")[0] == 0
        assert folder.is_dir()

    @pytest.mark.skipif(os.geteuid() == 0, reason="root writes to any folder, so none is unwritable")
    def test_an_unwritable_folder(self, shop: Path) -> None:
        """A folder cron's user cannot write to is a problem."""
        folder = shop.parent / "reports"
        folder.chmod(0o500)
        try:
            assert "not writable by this user" in str(problems(check(shop)[1]))
        finally:
            folder.chmod(0o700)

    def test_a_database_behind_the_code(self, shop: Path, database_url: str) -> None:
        """The schema one revision behind: the database line says so and how to upgrade."""
        migrate.downgrade(database_url, "0001")
        from orderflow.db.engine import display_url

        code, results = check(shop)
        assert (code, problems(results)) == (ExitCode.CONFIG, {f"database {display_url(database_url)}": (
            f"database schema is at revision 0001, behind this orderflow's {migrate.head()}",
            "run `orderflow db upgrade`")})

    def test_an_unknown_sftp_host_key(self, tmp_path: Path, remotes: Remotes, secrets: dict[str, str]) -> None:
        """known_hosts without the server's key: refused, and the fix is to add it."""
        other = tmp_path / "known_hosts"
        other.write_text("")
        found = self._sftp_problem(tmp_path, remotes, known_hosts=str(other))
        assert "host key" in found[0]
        assert found[1] == "add the vendor's host key to known_hosts (ask the vendor for its fingerprint)"

    def test_a_refused_sftp_login(self, tmp_path: Path, remotes: Remotes, secrets: dict[str, str]) -> None:
        """A key the server does not accept: login refused, and the fix names the login settings."""
        stranger = remotes.sshd.generate_key("stranger_key")
        found = self._sftp_problem(tmp_path, remotes, key_file=str(stranger))
        assert "refused" in found[0]
        assert found[1] == "check username, key_file/password_env and remote_dir with the vendor"

    def test_an_sftp_folder_that_cannot_be_listed(self, tmp_path: Path, remotes: Remotes,
                                                  secrets: dict[str, str]) -> None:
        """A remote_dir without the exchange folders: cannot list to_vendor."""
        found = self._sftp_problem(tmp_path, remotes, remote_dir=str(tmp_path))
        assert found[0].endswith("cannot list to_vendor: no such file or folder")

    def _sftp_problem(self, folder: Path, remotes: Remotes, **sftp: object) -> tuple[str, str]:
        url = f"sqlite:///{folder / 'orderflow.db'}"
        migrate.upgrade(url)
        config = write_shop(folder, remotes, url, sftp=sftp)
        code, results = check(config, "--create")
        assert code == ExitCode.CONFIG
        [(name, (problem, fix))] = problems(results).items()
        assert name == "vendor SFTP (x12 over sftp)"
        return str(problem), str(fix)

    def test_refused_tokens_for_vendors_and_carriers(self, shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrong Printful, JSON-API and UPS credentials: three lines, each saying the token was refused."""
        for name in ("CHECK_PF_TOKEN", "CHECK_API_TOKEN", "CHECK_UPS_SECRET"):
            monkeypatch.setenv(name, "wrong")
        found = problems(check(shop)[1])
        assert set(found) == {"vendor PRNT (printful over http)", "vendor JSON (json over http)", "carrier ups"}
        assert "token refused" in str(found["vendor PRNT (printful over http)"][0])
        assert "token refused (HTTP 401)" in str(found["vendor JSON (json over http)"][0])
        assert found["vendor JSON (json over http)"][1] == "check the token with the vendor"
        assert str(found["carrier ups"][0]).startswith("UPS")
        assert found["carrier ups"][1] == "check [carriers.ups] base_url and the credentials with UPS"

    def test_a_refused_mail_login(self, shop: Path, remotes: Remotes, monkeypatch: pytest.MonkeyPatch) -> None:
        """A wrong SMTP password: the mail line says the login was refused."""
        monkeypatch.setenv("CHECK_SMTP_PASSWORD", "wrong")
        found = problems(check(shop)[1])
        [(name, (problem, fix))] = found.items()
        assert name == f"email {remotes.smtp.host}:{remotes.smtp.port}"
        assert "login refused" in str(problem)
        assert fix == "check [email] host, port, starttls/ssl and the login with your mail provider"

    def test_a_carrier_seen_in_tracking_without_its_section(self, shop: Path, database_url: str) -> None:
        """A FedEx parcel in the database and no [carriers.fedex]: its parcels would never be tracked."""
        engine = make_engine(database_url)
        try:
            _fedex_parcel(engine, shop)
        finally:
            engine.dispose()
        assert problems(check(shop)[1]) == {"carrier fedex in tracking": (
            "parcels with fedex exist but [carriers.fedex] is missing or disabled",
            "add a [carriers.fedex] section with its credentials (see the example)")}


def _fedex_parcel(engine: Engine, config: Path) -> None:
    from datetime import UTC, datetime

    from orderflow.config import load_settings
    from tests.support.shop_with_vendors import place_orders, vendor_orders

    settings = load_settings(config)
    now = datetime(2026, 11, 3, 15, tzinfo=UTC)
    place_orders(engine, settings, now, config.parent, orders={"7001": ["SKU-LOCL"]})
    [vendor_order_id] = vendor_orders(engine)
    with session_factory(engine)() as session, session.begin():
        session.add(Shipment(vendor_order_id=vendor_order_id, carrier="fedex", tracking_number="123456789012",
                             reported_at=now, created_at=now, updated_at=now))
