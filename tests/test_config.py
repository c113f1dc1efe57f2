"""Settings: one typed object from orderflow.toml and ORDERFLOW_* variables; bad config refused clearly."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_args, get_origin

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from orderflow.cli.main import app
from orderflow.config import Settings, load_settings, secret, secret_references
from orderflow.errors import ConfigError, ExitCode

EXAMPLE = Path(__file__).resolve().parents[1] / "orderflow.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "orderflow.toml"
    path.write_text(text, encoding="utf-8")
    return path


def settings_fields(model: type[BaseModel], where: str = "") -> Iterator[tuple[str, str]]:
    """(section, key) of every setting, through nested sections; a table of sections by name (``[carriers.ups]``,
    ``[rules.vendor_late]``) is the section ``carriers.*``."""
    for name, field in model.model_fields.items():
        yield where, name
        named = get_origin(field.annotation) is dict
        for inner in _models_in(field.annotation):
            yield from settings_fields(inner, f"{where}.{name}{'.*' if named else ''}".lstrip("."))


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in get_args(annotation) for model in _models_in(argument)]


def example_keys(text: str, named_tables: set[str]) -> set[tuple[str, str]]:
    """(section, key) of every key the example shows, set or commented out."""
    shown: set[tuple[str, str]] = set()
    section = ""
    for line in text.splitlines():
        body = line.lstrip("#").strip()
        if header := re.match(r"\[\[?([\w.]+)\]\]?", body):
            parts: list[str] = []
            for part in header.group(1).split("."):
                parts.append("*" if ".".join(parts) in named_tables else part)
            section = ".".join(parts)
            shown |= {(".".join(parts[:index]), part) for index, part in enumerate(parts)}
        elif key := re.match(r"(\w+)\s*=", body):
            shown.add((section, key.group(1)))
    return shown


class TestExampleConfig:
    def test_every_setting_is_shown_in_the_example(self) -> None:
        """Each key of each section appears in orderflow.example.toml, set or commented out, so the example
        really shows everything a shop can set."""
        fields = set(settings_fields(Settings)) - {("", "base_dir")}  # the file's own folder, not a setting
        named_tables = {section.removesuffix(".*") for section, _ in fields if section.endswith(".*")}
        missing = fields - example_keys(EXAMPLE.read_text(encoding="utf-8"), named_tables)
        assert sorted(f"{section}.{key}".lstrip(".") for section, key in missing) == []


class TestLoadSettings:
    def test_defaults_without_a_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """With no orderflow.toml in the working directory, the embedded SQLite default is used."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("ORDERFLOW_CONFIG", raising=False)
        monkeypatch.delenv("ORDERFLOW_DATABASE_URL", raising=False)
        settings = load_settings()
        assert settings.database.url == "sqlite:///orderflow.db"
        assert settings.po_prefix == "TB"
        assert settings.vendors == ()

    def test_example_config_parses(self) -> None:
        """The committed example configuration is valid as it stands."""
        settings = load_settings(EXAMPLE)
        assert settings.vendor_codes == ["ACME"]
        acme = settings.vendor("acme")
        assert acme.calendar.timezone == "America/Chicago"
        assert acme.calendar.handling_days == 2
        assert str(acme.calendar.cutoff) == "14:00:00"
        assert settings.sources["shopify"].format == "shopify_csv"

    def test_explicit_missing_file_is_refused(self, tmp_path: Path) -> None:
        """A --config that does not exist is an error, not a silent default."""
        with pytest.raises(ConfigError, match="configuration file not found"):
            load_settings(tmp_path / "nope.toml")

    def test_unknown_key_is_named_with_its_path(self, tmp_path: Path) -> None:
        """A typo is refused with the key's full path, not ignored."""
        path = write(tmp_path, '[[vendors]]\ncode = "ACME"\nname = "Acme"\npath = "v"\nhandlng_days = 2\n')
        with pytest.raises(ConfigError) as caught:
            load_settings(path)
        assert str(caught.value) == f"{path}: vendors[0].handlng_days: unknown key"
        assert caught.value.exit_code is ExitCode.CONFIG

    def test_wrong_type_is_named(self, tmp_path: Path) -> None:
        """A value of the wrong type names the key and what was expected."""
        path = write(tmp_path, '[[vendors]]\ncode = "ACME"\nname = "Acme"\npath = "v"\n'
                               '[vendors.calendar]\nhandling_days = "two"\n')
        expected = r"vendors\[0\]\.calendar\.handling_days: Input should be a valid integer"
        with pytest.raises(ConfigError, match=expected):
            load_settings(path)

    def test_bad_toml_names_the_line(self, tmp_path: Path) -> None:
        """Broken TOML syntax is reported with its line."""
        path = write(tmp_path, 'po_prefix = "TB"\n[database\nurl = "x"\n')
        with pytest.raises(ConfigError, match=r"not valid TOML: .*line 2"):
            load_settings(path)

    def test_a_missing_secret_is_no_concern_of_loading(self, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
        """Loading checks shapes only: a staff shell without cron's secrets still gets its settings."""
        monkeypatch.delenv("ORDERFLOW_TEST_SMTP_PASSWORD", raising=False)
        path = write(tmp_path, '[email]\npassword_env = "ORDERFLOW_TEST_SMTP_PASSWORD"\n')
        settings = load_settings(path)
        assert secret_references(settings) == [("email.password_env", "ORDERFLOW_TEST_SMTP_PASSWORD")]

    def test_a_missing_secret_is_named_where_it_is_used(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Reading an unset secret names the setting and the variable in one line."""
        monkeypatch.delenv("ORDERFLOW_TEST_SMTP_PASSWORD", raising=False)
        with pytest.raises(ConfigError) as caught:
            secret("ORDERFLOW_TEST_SMTP_PASSWORD", setting="email.password_env")
        assert str(caught.value) == "email.password_env: environment variable ORDERFLOW_TEST_SMTP_PASSWORD is not set"

    def test_a_secret_pasted_into_an_env_key_is_never_repeated(self) -> None:
        """password_env = "hunter2!pass": the error names the setting and says what to do, never the value."""
        with pytest.raises(ConfigError) as caught:
            secret("hunter2!pass", setting="email.password_env")
        assert str(caught.value) == (
            "email.password_env: environment variable (not a variable name, so not shown: put the secret in the "
            "environment and its name here) is not set")

    def test_secret_value_never_appears_in_settings(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Settings keep the variable's name; the secret itself stays in the environment."""
        monkeypatch.setenv("ORDERFLOW_TEST_SMTP_PASSWORD", "hunter2-secret")
        path = write(tmp_path, '[email]\npassword_env = "ORDERFLOW_TEST_SMTP_PASSWORD"\n')
        settings = load_settings(path)
        assert "hunter2-secret" not in settings.model_dump_json()

    def test_a_password_in_the_file_is_refused(self, tmp_path: Path) -> None:
        """Secrets cannot be written into the file: there is no key for them."""
        path = write(tmp_path, '[email]\npassword = "hunter2"\n')
        with pytest.raises(ConfigError, match=r"email\.password: unknown key"):
            load_settings(path)

    def test_database_url_precedence(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """--db beats ORDERFLOW_DATABASE_URL, which beats the file."""
        path = write(tmp_path, '[database]\nurl = "sqlite:///file.db"\n')
        monkeypatch.delenv("ORDERFLOW_DATABASE_URL", raising=False)
        assert load_settings(path).database.url == f"sqlite:///{tmp_path}/file.db"
        monkeypatch.setenv("ORDERFLOW_DATABASE_URL", "sqlite:///env.db")
        assert load_settings(path).database.url == "sqlite:///env.db"
        assert load_settings(path, database_url="sqlite:///flag.db").database.url == "sqlite:///flag.db"

    def test_relative_paths_resolve_beside_the_config(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Relative folders and a relative SQLite file in the config live beside it, whatever the working dir."""
        monkeypatch.delenv("ORDERFLOW_DATABASE_URL", raising=False)
        path = write(tmp_path, '[database]\nurl = "sqlite:///shop.db"\n')
        monkeypatch.chdir("/")
        settings = load_settings(path)
        assert settings.database.url == f"sqlite:///{tmp_path}/shop.db"
        assert settings.path("vendors/acme") == tmp_path / "vendors/acme"
        assert settings.path("/srv/acme") == Path("/srv/acme")

    def test_nested_environment_override(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """ORDERFLOW_<SECTION>__<KEY> overrides one key of the file."""
        path = write(tmp_path, 'po_prefix = "TB"\n[report]\nout_dir = "r"\n')
        monkeypatch.setenv("ORDERFLOW_PO_PREFIX", "XY")
        monkeypatch.setenv("ORDERFLOW_REPORT__OUT_DIR", "elsewhere")
        settings = load_settings(path)
        assert settings.po_prefix == "XY"
        assert str(settings.report.out_dir) == "elsewhere"

    def test_unknown_time_zone_is_refused(self, tmp_path: Path) -> None:
        """A time zone name must exist in the tz database."""
        path = write(tmp_path, 'timezone = "America/Atlantis"\n')
        with pytest.raises(ConfigError, match="timezone: unknown time zone 'America/Atlantis'"):
            load_settings(path)

    def test_duplicate_vendor_codes_are_refused(self, tmp_path: Path) -> None:
        """Two vendors with one code would mix their orders."""
        block = '[[vendors]]\ncode = "ACME"\nname = "Acme"\npath = "v"\n'
        with pytest.raises(ConfigError, match="vendor code 'ACME' appears twice"):
            load_settings(write(tmp_path, block * 2))

    def test_transport_needs_its_keys(self, tmp_path: Path) -> None:
        """An SFTP vendor without a host cannot work, so it is refused at load."""
        path = write(tmp_path, '[[vendors]]\ncode = "ACME"\nname = "Acme"\ntransport = "sftp"\nusername = "u"\n')
        with pytest.raises(ConfigError, match="transport 'sftp' needs 'host'"):
            load_settings(path)

    def test_sftp_never_trusts_an_unknown_host_key(self, tmp_path: Path) -> None:
        """An SFTP vendor must say how its host key is checked: known_hosts or a pinned fingerprint."""
        path = write(tmp_path, '[[vendors]]\ncode = "ACME"\nname = "Acme"\ntransport = "sftp"\nhost = "h"\n'
                               'username = "u"\nkey_file = "k"\n')
        with pytest.raises(ConfigError, match="needs known_hosts or host_key_fingerprint"):
            load_settings(path)

    @pytest.mark.parametrize(("name", "hint"), [("vendor_lat", "did you mean 'vendor_late'"),
                                                ("everything", "known: cancel_not_confirmed, ")])
    def test_a_rule_setting_must_name_a_rule(self, tmp_path: Path, name: str, hint: str) -> None:
        """A misspelt ``[rules.NAME]`` would switch nothing off and say nothing, so it is refused at load."""
        with pytest.raises(ConfigError, match=f"rules: no rule is named '{name}' \\({hint}"):
            load_settings(write(tmp_path, f"[rules.{name}]\nenabled = false\n"))

    def test_unknown_vendor_lookup(self) -> None:
        """Asking for a vendor that is not configured names the ones that are."""
        with pytest.raises(ConfigError, match=r"vendor 'NOPE' is not configured \(known: ACME\)"):
            load_settings(EXAMPLE).vendor("NOPE")


class TestUnreadableConfigAtTheCommandLine:
    """A configuration that cannot be read is a configuration problem (exit 3) naming the file, never a usage
    error (2) or an internal one (1), whoever runs the command."""

    def unreadable(self, tmp_path: Path) -> list[Path]:
        folder = tmp_path / "orderflow.toml.d"
        folder.mkdir()
        paths = [folder]  # a folder where the file should be: unreadable as a file, even for root
        if os.geteuid() != 0:  # root reads a file whatever its mode
            locked = write(tmp_path, 'po_prefix = "TB"\n')
            locked.chmod(0)
            paths.append(locked)
        return paths

    def test_it_exits_3_naming_the_file(self, tmp_path: Path) -> None:
        for path in self.unreadable(tmp_path):
            result = CliRunner().invoke(app, ["--config", str(path), "notifications"])
            assert result.exit_code == ExitCode.CONFIG, result.output
            assert f"{path}: cannot read" in result.output
