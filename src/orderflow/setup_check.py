"""``orderflow check``: a whole set-up validated end to end before the first cron run finds what is wrong.

Each check is one line of data: what was checked, whether it is fine, and if not, the problem and how to fix
it. Nothing is ever sent: SFTP vendors are logged in to and their folders listed, API vendors and carriers are
asked for a token or a lookup, the mail server is logged in to, and no order, purchase order or mail goes out.

>>> results = check_setup(settings, create=False)  # doctest: +SKIP
>>> [f"{r.name}: {r.problem}" for r in results if not r.ok]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orderflow.carriers.catalogue import CODES as CARRIERS
from orderflow.config import Settings, secret_references
from orderflow.errors import ConfigError, OrderflowError, RemoteRejected

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from orderflow.config import VendorSettings


@dataclass(frozen=True)
class CheckResult:
    """One line of ``orderflow check``."""

    name: str
    ok: bool
    problem: str = ""
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def passed(name: str) -> CheckResult:
    return CheckResult(name, True)


def failed(name: str, problem: str, fix: str) -> CheckResult:
    return CheckResult(name, False, problem, fix)


def check_setup(settings: Settings, *, create: bool = False) -> list[CheckResult]:
    """Every check, in the order a new shop would fix them: secrets, folders, database, then each remote."""
    results = [*check_secrets(settings), *check_folders(settings, create=create)]
    database, engine = check_database(settings)
    results.append(database)
    try:
        results += [check_vendor(vendor, settings) for vendor in settings.vendors if vendor.transport != "local"]
        results += [check_carrier(code, settings) for code in settings.carriers if settings.carriers[code].enabled]
        if settings.email is not None:
            results.append(check_email(settings))
        results += check_carriers_configured(settings, engine)
    finally:
        if engine is not None:
            engine.dispose()
    return results


def check_configuration(load: Callable[[], Settings]) -> tuple[Settings | None, CheckResult]:
    """Load the configuration; a broken file is the first (and only) problem worth reporting."""
    try:
        return load(), passed("configuration")
    except OrderflowError as exc:
        return None, failed("configuration", str(exc), "correct the key named in orderflow.toml")


def check_secrets(settings: Settings) -> list[CheckResult]:
    return [passed(f"secret {variable} ({where})") if os.environ.get(variable)
            else failed(f"secret {variable} ({where})", f"environment variable {variable} is not set",
                        f"export {variable}=... in cron's environment (the crontab or its wrapper script)")
            for where, variable in secret_references(settings)]


def configured_folders(settings: Settings) -> list[tuple[str, Path]]:
    """Every local folder the configuration names: (the setting, the folder on this machine)."""
    folders: list[tuple[str, Path]] = []
    for name, source in settings.sources.items():
        if source.kind == "inbox" and source.path is not None:
            inbox = settings.path(source.path)
            folders += [(f"sources.{name}.path", inbox), (f"sources.{name}.archive", inbox / source.archive),
                        (f"sources.{name}.rejected", inbox / source.rejected)]
    for vendor in settings.vendors:
        if vendor.path is not None and vendor.transport in ("local", "http"):
            root = settings.path(vendor.path)
            where = settings.vendor_setting(vendor, "")
            folders += [(f"{where}{key}", root / getattr(vendor, key))
                        for key in ("to_vendor", "from_vendor", "archive", "rejected")]
    folders.append(("report.out_dir", settings.path(settings.report.out_dir)))
    if settings.customers is not None and settings.customers.templates is not None:
        folders.append(("customers.templates", settings.path(settings.customers.templates)))
    database = _sqlite_file(settings.database.url)
    if database is not None:
        folders.append(("database.url", database.parent))
    return folders


def create_folders(settings: Settings) -> list[Path]:
    """Create every configured folder that is missing (``init``, ``check --create``); the ones made."""
    made = []
    for _, folder in configured_folders(settings):
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            made.append(folder)
    return made


def check_folders(settings: Settings, *, create: bool) -> list[CheckResult]:
    if create:
        create_folders(settings)
    results = []
    for where, folder in configured_folders(settings):
        name = f"folder {folder} ({where})"
        if not folder.is_dir():
            results.append(failed(name, "does not exist" if not folder.exists() else "is not a folder",
                                  "run `orderflow check --create`, or correct the setting"))
        elif not os.access(folder, os.W_OK | os.X_OK):
            results.append(failed(name, "not writable by this user",
                                  f"give the user cron runs as write access (chown or chmod {folder})"))
        else:
            results.append(passed(name))
    return results


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def check_database(settings: Settings) -> tuple[CheckResult, Engine | None]:
    """Reachable and at the latest schema; the engine is kept for the carrier check when it is reachable."""
    from orderflow.db.engine import DATABASE_ERRORS, database_error, display_url, make_engine
    from orderflow.db.migrate import schema_state

    name = f"database {display_url(settings.database.url)}"
    engine = make_engine(settings.database.url)
    try:
        state = schema_state(engine)
    except DATABASE_ERRORS as exc:
        engine.dispose()
        return failed(name, str(database_error(exc) or exc), "check [database] url and that the server is up"), None
    if state.problem:
        fix = "run `orderflow db upgrade`" if state.known else "install the orderflow that upgraded it"
        return failed(name, state.problem.split(";")[0], fix), engine
    return passed(name), engine


def check_vendor(vendor: VendorSettings, settings: Settings) -> CheckResult:
    name = f"vendor {vendor.code} ({vendor.format} over {vendor.transport})"
    try:
        if vendor.transport == "sftp":
            _check_sftp(vendor, settings)
        elif vendor.format == "printful":
            _check_printful(vendor, settings)
        else:
            _check_json_api(vendor, settings)
    except OrderflowError as exc:
        return failed(name, str(exc), _vendor_fix(vendor, exc))
    return passed(name)


def _fix(exc: OrderflowError, otherwise: str) -> str:
    """A problem of our own set-up is fixed here; anything else at the far end, as ``otherwise`` says."""
    if isinstance(exc, ConfigError):
        return ("set the variable in cron's environment" if "environment variable" in str(exc)
                else "correct the setting in orderflow.toml")
    return otherwise


def _vendor_fix(vendor: VendorSettings, exc: OrderflowError) -> str:
    if isinstance(exc, ConfigError):
        return _fix(exc, "")
    if "host key" in str(exc):
        return "add the vendor's host key to known_hosts (ask the vendor for its fingerprint)"
    if vendor.transport == "sftp" and isinstance(exc, RemoteRejected):
        return "check username, key_file/password_env and remote_dir with the vendor"
    if isinstance(exc, RemoteRejected):
        return "check the token with the vendor"
    return "check host/base_url and that the vendor's server is up"


def _check_sftp(vendor: VendorSettings, settings: Settings) -> None:
    from orderflow.vendors.channels import file_transport
    from orderflow.vendors.transports.sftp import SftpTransport

    with file_transport(vendor, settings) as transport:
        assert isinstance(transport, SftpTransport), "an sftp vendor's transport"
        transport.list_folders()


def _check_printful(vendor: VendorSettings, settings: Settings) -> None:
    from orderflow.vendors.channels import default_http_client, printful_client

    with default_http_client(vendor) as http:
        # Looking up an order nobody has made shows whether the token is accepted, and sends nothing.
        answer = printful_client(vendor, http, settings).get_order("orderflow-check")
    if answer.outcome == "unauthorized":
        raise RemoteRejected(f"{vendor.base_url}: token refused ({answer.reason or 'unauthorized'})")
    if answer.outcome not in ("found", "not_found"):
        raise RemoteRejected(f"{vendor.base_url}: {answer.outcome} {answer.reason}".strip())


def _check_json_api(vendor: VendorSettings, settings: Settings) -> None:
    import httpx

    from orderflow.vendors.channels import default_http_client, vendor_token

    headers = {"Authorization": f"Bearer {vendor_token(vendor, settings)}"} if vendor.token_env else {}
    with default_http_client(vendor) as http:
        try:
            response = http.get("/orders", headers=headers)
        except httpx.HTTPError as exc:
            raise RemoteRejected(f"{vendor.base_url}: cannot reach it ({type(exc).__name__})") from None
    if response.status_code in (401, 403):
        raise RemoteRejected(f"{vendor.base_url}: token refused (HTTP {response.status_code})")
    if response.status_code >= 500:
        raise RemoteRejected(f"{vendor.base_url}: server error (HTTP {response.status_code})")


def check_carrier(code: str, settings: Settings) -> CheckResult:
    """Ask the carrier for a token (DHL has none: its key is only checked to be set); nothing is tracked."""
    import httpx

    from orderflow.carriers.apis import API, credentials
    from orderflow.clock import Clock

    name = f"carrier {code}"
    configured = settings.carriers[code]
    api = API[code]
    try:
        creds = credentials(code, configured)
        if api.token_request is not None and api.parse_token is not None:
            request = api.token_request(creds)
            with httpx.Client(base_url=configured.base_url or api.carrier.base_url,
                              timeout=configured.timeout_seconds) as http:
                try:
                    response = http.request(request.method, request.path, params=request.params or None,
                                            headers=request.headers, json=request.json, data=request.form)
                except httpx.HTTPError as exc:
                    raise RemoteRejected(f"{api.name} token: cannot reach {http.base_url} "
                                         f"({type(exc).__name__})") from None
            api.parse_token(response.status_code, response.content, now=Clock().now(), headers=response.headers)
    except OrderflowError as exc:
        return failed(name, str(exc),
                      _fix(exc, f"check [carriers.{code}] base_url and the credentials with {api.name}"))
    return passed(name)


def check_email(settings: Settings) -> CheckResult:
    from orderflow.mail import Mailer

    assert settings.email is not None, "checked only when configured"
    name = f"email {settings.email.host}:{settings.email.port}"
    try:
        with Mailer.from_settings(settings) as mailer:
            mailer.check()
    except OrderflowError as exc:
        return failed(name, str(exc), _fix(exc, "check [email] host, port, starttls/ssl and the login with your "
                                                "mail provider"))
    return passed(name)


def check_carriers_configured(settings: Settings, engine: Engine | None) -> list[CheckResult]:
    """Every carrier parcels were seen with has a [carriers.X] section: otherwise they are never tracked."""
    seen = set(_carriers_in_tracking(engine)) if engine is not None else set()
    results = []
    for code in sorted(seen & set(CARRIERS)):
        name = f"carrier {code} in tracking"
        if code in settings.carriers and settings.carriers[code].enabled:
            results.append(passed(name))
        else:
            results.append(failed(name, f"parcels with {code} exist but [carriers.{code}] is missing or disabled",
                                  f"add a [carriers.{code}] section with its credentials (see the example)"))
    return results


def _carriers_in_tracking(engine: Engine) -> Iterator[str]:
    from sqlalchemy import select

    from orderflow.db.engine import DATABASE_ERRORS, session_factory
    from orderflow.db.models import Shipment

    try:
        with session_factory(engine)() as session:
            yield from (code for code in session.scalars(select(Shipment.carrier).distinct()) if code)
    except DATABASE_ERRORS:
        return
