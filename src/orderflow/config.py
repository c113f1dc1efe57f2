"""One typed settings object: ``orderflow.toml`` plus ``ORDERFLOW_*`` environment variables.

Secrets never live in the file: a setting ending in ``_env`` names the environment variable that holds the
secret. Loading checks the shape of everything and the value of no secret: a command reads a secret with
:func:`secret` when it is about to use it, so a staff member's shell without cron's secrets can still read the
queue. Unknown keys are refused, so a typo is an error and not a silently ignored setting.

Precedence, highest first: ``--db``; ``ORDERFLOW_DATABASE_URL``; ``ORDERFLOW_<SECTION>__<KEY>`` variables;
the TOML file; the defaults here.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date, time
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

from orderflow.carriers.catalogue import CODES as CARRIER_CODES
from orderflow.errors import ConfigError
from orderflow.rules.vocabulary import TYPE_ORDER as RULE_NAMES
from orderflow.vendors.formats.catalogue import FORMAT_NAMES, TRANSPORTS, formats_over
from orderflow.vendors.formats.purchase_order_columns import PO_CSV_COLUMNS

# The choices are the records' names (carriers, vendor formats); pydantic lists them when a value is unknown.
if TYPE_CHECKING:
    CarrierCode = str
    FormatName = str
    TransportName = str
else:
    CarrierCode = Literal[CARRIER_CODES]
    FormatName = Literal[FORMAT_NAMES]
    TransportName = Literal[TRANSPORTS]

DEFAULT_CONFIG_PATH = Path("orderflow.toml")
DEFAULT_DATABASE_URL = "sqlite:///orderflow.db"
FORMATS_BY_TRANSPORT = {transport: formats_over(transport) for transport in TRANSPORTS}
"""Which formats each transport can carry, from the format records."""


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


TimeZoneName = Annotated[str, Field(min_length=1)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(Section):
    url: str = DEFAULT_DATABASE_URL


class CalendarSettings(Section):
    """A vendor's working calendar: ship-by deadlines are counted in its business days."""

    timezone: TimeZoneName = "America/New_York"
    working_days: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = (
        "mon", "tue", "wed", "thu", "fri",
    )
    holidays: str | None = "US"
    subdivision: str | None = None
    extra_holidays: tuple[date, ...] = ()
    cutoff: time = time(14, 0)
    handling_days: int = Field(default=2, ge=0, le=60)
    ack_window_hours: float = Field(default=8.0, gt=0)
    opens: time = time(9, 0)
    closes: time = time(17, 0)

    _tz = field_validator("timezone")(_check_timezone)


class X12Settings(Section):
    sender_id: str = "ORDERFLOW"
    sender_qualifier: str = "ZZ"
    receiver_id: str = ""
    receiver_qualifier: str = "ZZ"
    usage: Literal["P", "T"] = "P"
    send_997: bool = False


class VendorSettings(Section):
    code: str = Field(pattern=r"^[A-Z0-9]{1,16}$")
    name: str
    kind: Literal["stocked", "on_demand"] = "stocked"
    format: FormatName = "csv"
    transport: TransportName = "local"
    # transport "local":
    path: Path | None = None
    # transport "sftp":
    host: str | None = None
    port: int = Field(default=22, ge=1, le=65535)
    username: str | None = None
    key_file: Path | None = None
    key_passphrase_env: str | None = None
    password_env: str | None = None
    known_hosts: Path | None = None
    host_key_fingerprint: str | None = None
    remote_dir: str = "."
    # folder names, for "local" and "sftp":
    to_vendor: str = "to_vendor"
    from_vendor: str = "from_vendor"
    archive: str = "archive"
    rejected: str = "rejected"
    # transport "http":
    base_url: str | None = None
    token_env: str | None = None
    store_id: str | None = None
    confirm: bool = True
    # every transport but local: an HTTP call's deadline, or each SFTP operation's (connecting gets at most 10 s)
    timeout_seconds: float = Field(default=30.0, gt=0)
    acknowledges: bool | Literal["auto"] = "auto"
    """Whether the vendor answers each purchase order (an 855, an ack row, an API answer). ``auto``: expected
    once it has acknowledged one order, so a vendor that never does is never waited for."""
    calendar: CalendarSettings = CalendarSettings()
    x12: X12Settings = X12Settings()
    csv_columns: tuple[str, ...] | None = None
    feedback_columns: dict[str, str] = {}
    """The vendor's own headers for our feedback columns, e.g. ``{tracking_number = "Waybill"}``."""
    after_ingest: Literal["archive", "delete"] = "archive"
    settle_seconds: float = Field(default=30.0, ge=0)
    """A file modified this recently may still be growing: it is left for the next run."""
    poll_limit: int = Field(default=100, ge=0)
    """API vendors: at most this many open vendor orders are looked up per run (least recently looked first)."""

    def model_post_init(self, _context: Any) -> None:
        needs = {"local": ("path",), "sftp": ("host", "username"), "http": ("base_url",)}[self.transport]
        for key in needs:
            if getattr(self, key) in (None, ""):
                raise ValueError(f"transport {self.transport!r} needs {key!r}")
        if self.transport == "sftp" and not (self.key_file or self.password_env):
            raise ValueError("transport 'sftp' needs key_file or password_env to log in")
        if self.transport == "sftp" and not (self.known_hosts or self.host_key_fingerprint):
            raise ValueError("transport 'sftp' needs known_hosts or host_key_fingerprint: host keys are never "
                             "accepted blindly")
        if self.format not in FORMATS_BY_TRANSPORT[self.transport]:
            raise ValueError(f"format {self.format!r} does not go over transport {self.transport!r} "
                             f"(use {' or '.join(FORMATS_BY_TRANSPORT[self.transport])})")
        unknown = [column for column in self.csv_columns or () if column not in PO_CSV_COLUMNS]
        if unknown:
            raise ValueError(f"csv_columns: unknown column(s) {', '.join(unknown)}; "
                             f"choose from {', '.join(PO_CSV_COLUMNS)}")


class EmailSettings(Section):
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False
    username_env: str | None = None
    password_env: str | None = None
    sender: str = "orderflow@localhost"
    reply_to: str | None = None
    shop_name: str = "Our shop"
    timeout_seconds: float = Field(default=30.0, gt=0)
    tls_ca_file: Path | None = None
    """Trust this CA bundle (PEM) instead of the system's, e.g. a private relay's own certificate authority."""


class ReportSettings(Section):
    """``orderflow report daily``: who gets it, where its files go, how far back the vendor scorecard looks."""

    recipients: tuple[str, ...] = ()
    out_dir: Path = Path("reports")
    """Each day's files go to ``<out_dir>/<YYYY-MM-DD>/`` (relative to the configuration file's folder)."""
    scorecard_days: int = Field(default=30, ge=1, le=366)
    """The vendor scorecard judges vendor orders of the orders placed in this many days up to the report."""
    worst_vendors: int = Field(default=5, ge=0, le=100)
    """How many of the most troubled vendors the email summary names."""
    templates: Path | None = None
    """A folder of the shop's own templates for the report's email (either of daily.txt, daily.html)."""


class PushEmailSettings(Section):
    to: tuple[str, ...] = ()


class PushWebhookSettings(Section):
    url_env: str


class PushSettings(Section):
    email: PushEmailSettings | None = None
    webhook: PushWebhookSettings | None = None
    digest_time: time = time(8, 0)


class StorefrontNoticeSettings(Section):
    """Where ``customers notify`` POSTs each parcel when ``channel = "storefront"``."""

    url: str = Field(pattern=r"^https?://")
    auth_header: str = "Authorization"
    token_env: str | None = None
    """Sent as ``<auth_header>: <the secret>``; for ``Authorization`` a bare token is sent as ``Bearer <token>``."""
    timeout_seconds: float = Field(default=15.0, gt=0)


class CustomerSettings(Section):
    """Shipment notices to customers (``orderflow customers notify``): one per parcel, never two."""

    notify_when: Literal["scanned", "tracking"] = "scanned"
    """``scanned``: once the carrier has scanned the parcel; ``tracking``: as soon as valid tracking arrives."""
    channel: Literal["email", "storefront"] = "email"
    sender: str | None = None
    """The From of customer emails; default ``email.sender``."""
    reply_to: str | None = None
    """Default ``email.reply_to``."""
    templates: Path | None = None
    """A folder of the shop's own templates (any of shipment_subject.txt, shipment.txt, shipment.html)."""
    tracking_urls: dict[str, str] = {}
    """Per carrier (``ups``, ``fedex``, ...), a tracking page with ``{number}``; default: the carrier's own page."""
    max_age_days: float = Field(default=14.0, gt=0)
    """A parcel reported and first scanned longer ago is never announced (turning notices on mails no old news)."""
    storefront: StorefrontNoticeSettings | None = None

    def model_post_init(self, _context: Any) -> None:
        if self.channel == "storefront" and self.storefront is None:
            raise ValueError("channel 'storefront' needs a [customers.storefront] section with 'url'")
        for carrier, template in self.tracking_urls.items():
            if "{number}" not in template:
                raise ValueError(f"tracking_urls.{carrier}: the URL needs {{number}} where the tracking number goes")


class CarrierSettings(Section):
    enabled: bool = True
    base_url: str | None = None
    client_id_env: str | None = None
    client_secret_env: str | None = None
    api_key_env: str | None = None
    concurrency: int = Field(default=4, ge=1, le=64)
    requests_per_hour: float | None = Field(default=None, gt=0)
    requests_per_day: float | None = Field(default=None, gt=0)
    timeout_seconds: float = Field(default=20.0, gt=0)


class TrackingSettings(Section):
    """How often a parcel is checked, by what it is doing (hours), and when a silent number is given up on."""

    out_for_delivery_hours: float = Field(default=1.0, gt=0)
    in_transit_hours: float = Field(default=4.0, gt=0)
    label_created_hours: float = Field(default=6.0, gt=0)
    exception_hours: float = Field(default=4.0, gt=0)
    pickup_hours: float = Field(default=12.0, gt=0)
    not_found_hours: float = Field(default=2.0, gt=0)
    not_found_later_hours: float = Field(default=6.0, gt=0)
    not_found_later_after_hours: float = Field(default=24.0, gt=0)
    carrier_failure_minutes: float = Field(default=30.0, gt=0)
    expire_after_days: float = Field(default=30.0, gt=0)
    limit_per_run: int = Field(default=5000, ge=1)


class SyncSettings(Section):
    """``orderflow sync``: an outside monitor (healthchecks.io style) pinged at its start, success and failure."""

    health_url_env: str | None = None
    """The environment variable holding the ping URL; it is a secret (whoever has it can report for you)."""
    health_timeout_seconds: float = Field(default=5.0, gt=0, le=60)


class RuleSettings(Section):
    enabled: bool = True
    severity: Literal["critical", "high", "warning", "info"] | None = None


class SourceSettings(Section):
    """A storefront source: an inbox folder of export files, or the website's own order API."""

    kind: Literal["inbox", "http"] = "inbox"
    format: Literal["shopify_csv", "mapped_csv", "json"] | None = None
    path: Path | None = None
    archive: str = "archive"
    rejected: str = "rejected"
    settle_seconds: float = Field(default=5.0, ge=0)
    columns: dict[str, str] = {}
    date_format: str = "iso"
    timezone: TimeZoneName = "UTC"
    url: str | None = None
    auth_header: str = "Authorization"
    token_env: str | None = None
    page_size: int = Field(default=100, ge=1, le=1000)
    timeout_seconds: float = Field(default=30.0, gt=0)

    _tz = field_validator("timezone")(_check_timezone)

    def model_post_init(self, _context: Any) -> None:
        if self.kind == "inbox" and self.path is None:
            raise ValueError("an inbox source needs 'path'")
        if self.kind == "http" and not self.url:
            raise ValueError("an http source needs 'url'")
        if self.format == "mapped_csv" and not self.columns:
            raise ValueError("format 'mapped_csv' needs 'columns'")


class LimitSettings(Section):
    """Bounds on one vendor file, inbox file or storefront page, so one huge input never holds the run, and on
    how long one run goes on taking new work, so a backlog never holds a command's lock past its next turn."""

    file_bytes: int = Field(default=20_000_000, ge=1)
    file_rows: int = Field(default=100_000, ge=1)
    refusals_listed: int = Field(default=20, ge=1)
    job_minutes: float = Field(default=30.0, gt=0)
    """After this long a data-changing run starts no new unit of work; the rest waits for the next run."""

    @property
    def job_seconds(self) -> float:
        return self.job_minutes * 60


class Settings(BaseSettings):
    """Everything orderflow is told. Built once at the command-line edge and passed down."""

    model_config = SettingsConfigDict(
        env_prefix="ORDERFLOW_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    po_prefix: str = Field(default="TB", pattern=r"^[A-Z0-9]{0,8}$")
    timezone: TimeZoneName = "America/New_York"
    order_url: str = "https://admin.example.com/orders/{order_number}"
    database: DatabaseSettings = DatabaseSettings()
    vendors: tuple[VendorSettings, ...] = ()
    email: EmailSettings | None = None
    report: ReportSettings = ReportSettings()
    push: PushSettings = PushSettings()
    customers: CustomerSettings | None = None
    """Absent: no shipment notices at all (``customers notify`` says so; ``sync`` passes over it)."""
    carriers: dict[CarrierCode, CarrierSettings] = {}
    tracking: TrackingSettings = TrackingSettings()
    rules: dict[str, RuleSettings] = {}
    sources: dict[str, SourceSettings] = {}
    sync: SyncSettings = SyncSettings()
    limits: LimitSettings = LimitSettings()
    base_dir: Path = Path()
    """Relative folders in the file are relative to this: the configuration file's own folder."""

    _tz = field_validator("timezone")(_check_timezone)

    def path(self, relative: Path | str) -> Path:
        """A configured folder, resolved against the configuration's folder (cron's working directory varies)."""
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    def source(self, name: str) -> SourceSettings:
        if name not in self.sources:
            raise ConfigError(f"source {name!r} is not configured (known: {', '.join(self.sources) or 'none'})")
        return self.sources[name]

    @field_validator("vendors")
    @classmethod
    def _unique_vendor_codes(cls, vendors: tuple[VendorSettings, ...]) -> tuple[VendorSettings, ...]:
        seen: set[str] = set()
        for vendor in vendors:
            if vendor.code in seen:
                raise ValueError(f"vendor code {vendor.code!r} appears twice")
            seen.add(vendor.code)
        return vendors

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML arrives as init arguments; environment variables override it.
        return (env_settings, init_settings)

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, rules: dict[str, RuleSettings]) -> dict[str, RuleSettings]:
        # A misspelt [rules.NAME] would otherwise switch nothing off and say nothing.
        for name in rules:
            if name not in RULE_NAMES:
                near = get_close_matches(name, RULE_NAMES, n=1)
                hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(sorted(RULE_NAMES))}"
                raise ValueError(f"no rule is named {name!r} ({hint})")
        return rules

    def vendor(self, code: str) -> VendorSettings:
        for vendor in self.vendors:
            if vendor.code == code.upper():
                return vendor
        raise ConfigError(f"vendor {code!r} is not configured (known: {', '.join(self.vendor_codes) or 'none'})")

    def vendor_setting(self, vendor: VendorSettings, key: str) -> str:
        """Where a vendor's setting is in the file, as errors name it: ``vendors[4].token_env``."""
        codes = self.vendor_codes
        place = f"vendors[{codes.index(vendor.code)}]" if vendor.code in codes else f"vendor {vendor.code}"
        return f"{place}.{key}"

    @property
    def vendor_codes(self) -> list[str]:
        return [vendor.code for vendor in self.vendors]


def load_settings(path: Path | None = None, *, database_url: str | None = None) -> Settings:
    """Read the configuration. ``path=None`` means ``ORDERFLOW_CONFIG`` or ``./orderflow.toml`` if present.

    >>> load_settings(Path("orderflow.toml")).database.url  # doctest: +SKIP
    'sqlite:///orderflow.db'
    """
    env = os.environ
    explicit = path is not None or bool(env.get("ORDERFLOW_CONFIG"))
    config_path = path or Path(env.get("ORDERFLOW_CONFIG") or DEFAULT_CONFIG_PATH)
    data = _read_toml(config_path) if explicit or config_path.exists() else {}
    # Keyword arguments starting with "_" steer the settings library itself (_env_prefix, _secrets_dir, ...).
    for key in data:
        if key.startswith("_"):
            raise ConfigError(f"{config_path}: {key}: unknown key")
    data.setdefault("base_dir", str(config_path.resolve().parent))
    url = database_url or env.get("ORDERFLOW_DATABASE_URL")
    if url:
        database = data.get("database", {})
        # A [database] that is not a table is left for validation to refuse by name.
        data = {**data, "database": {**database, "url": url} if isinstance(database, dict) else database}
    elif isinstance(data.get("database"), dict) and isinstance(data["database"].get("url"), str):
        # A relative SQLite file in the configuration lives beside it, whatever cron's working directory.
        data["database"]["url"] = _anchored_sqlite_url(data["database"]["url"], Path(data["base_dir"]))
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"{config_path}: {_describe(exc)}") from None
    except SettingsError as exc:  # an ORDERFLOW_<SECTION> variable whose value is not the JSON it needs
        raise ConfigError(f"{config_path}: {exc} (an ORDERFLOW_ environment variable)") from None
    return settings


def _anchored_sqlite_url(url: str, base_dir: Path) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.startswith(prefix + "/") or url == prefix or ":memory:" in url:
        return url
    return prefix + str(base_dir / url.removeprefix(prefix))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found (run `orderflow init` to write one)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text (byte {exc.start + 1})") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        problems.append(f"{where or 'top level'}: {message}")
    return "; ".join(problems)


def secret_references(settings: Settings) -> list[tuple[str, str]]:
    """Every ``*_env`` setting in use: (where it is set, e.g. ``vendors[4].token_env``; the variable it names)."""
    return _secret_references(settings.model_dump(), "")


def _secret_references(node: Any, where: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and key.endswith("_env") and isinstance(value, str):
                found.append((path, value))
            else:
                found.extend(_secret_references(value, path))
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            found.extend(_secret_references(value, f"{where}[{index}]"))
    return found


def missing_secret(setting: str, variable: str) -> str:
    """The one line that says a secret is missing: ``vendors[4].token_env: environment variable X is not set``."""
    return f"{setting}: environment variable {_shown(variable)} is not set"


def secret(variable: str, *, setting: str) -> str:
    """The value of the secret the ``*_env`` setting ``setting`` names, read when it is about to be used.

    >>> secret(vendor.token_env, setting=settings.vendor_setting(vendor, "token_env"))  # doctest: +SKIP
    """
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(missing_secret(setting, variable))
    return value


def _shown(variable: str) -> str:
    """A variable's name fit for a message: a value that cannot be a name may be the secret itself, pasted into
    the ``*_env`` key by mistake, and is never repeated."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        return variable
    return "(not a variable name, so not shown: put the secret in the environment and its name here)"
