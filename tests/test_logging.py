"""Output for cron: quiet on success, one line per problem, --verbose for progress, and a JSON log format."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from orderflow.cli.context import JsonLogFormatter
from orderflow.cli.main import app
from orderflow.db.locks import command_lock
from orderflow.errors import ExitCode
from orderflow.sync import STEPS
from tests.support.shop_with_vendors import vendor_block, write_settings
from tests.support.sync import NOW, closed_port

runner = CliRunner()
STEP_NAMES = [step.name for step in STEPS]
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
Run = Callable[..., Result]


@pytest.fixture
def orderflow(tmp_path: Path, database_url: str, engine: Engine) -> Run:
    """Runs orderflow against a shop in ``tmp_path`` (nothing configured unless a test writes more)."""
    write_settings(tmp_path)

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        options = ["--config", str(tmp_path / "orderflow.toml"), "--db", database_url, "--now", NOW.isoformat()]
        return runner.invoke(app, [*options, *args], env=env)

    return run


@pytest.fixture
def vendor_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shop has one vendor, and its SFTP server is down."""
    monkeypatch.setenv("TEST_SFTP_PASSWORD", "pw")
    (tmp_path / "known_hosts").write_text("")
    write_settings(tmp_path, vendor_block("DOWN", "csv", "sftp", host="127.0.0.1", port=closed_port(),
                                          username="teebox", password_env="TEST_SFTP_PASSWORD",
                                          known_hosts="known_hosts"))


def json_lines(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines()]


@sqlite_only
class TestCronOutput:
    def test_a_clean_sync_says_nothing(self, orderflow: Run) -> None:
        """Under cron (no terminal) a run without problems prints nothing at all and exits 0."""
        result = orderflow("sync")
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")

    def test_problems_are_one_line_each_prefixed_with_the_step(self, orderflow: Run, vendor_down: None) -> None:
        """A failing vendor gives one line per problem, named by step, and no summary under cron."""
        result = orderflow("sync")
        assert result.exit_code == ExitCode.PARTIAL_FAILURE
        assert [line.split(": ")[:3] for line in result.stderr.splitlines()] == [
            ["orderflow", "dispatch", "vendor DOWN"], ["orderflow", "fetch", "vendor DOWN"]]

    def test_verbose_shows_each_step_then_the_sync(self, orderflow: Run) -> None:
        """--verbose adds one summary line per step as it ends, then the sync's own."""
        lines = orderflow("--verbose", "sync").stderr.splitlines()
        assert [line.split(": ")[0] for line in lines] == [*STEP_NAMES, "sync"]
        assert lines[-1] == "sync: 6 ok; exit code 0"

    def test_a_skipped_step_is_progress_not_a_problem(self, orderflow: Run, engine: Engine) -> None:
        """A step another run holds is silent under cron; --verbose names it as skipped, with the holder."""
        with command_lock(engine, "track"):
            quiet = orderflow("sync")
            verbose = orderflow("-v", "sync")
        assert (quiet.exit_code, quiet.stderr) == (0, "")
        [skipped] = [line for line in verbose.stderr.splitlines() if line.startswith("track: ")]
        assert skipped.startswith("track: skipped: another run holds the lock (host ")
        assert verbose.stderr.splitlines()[-1] == "sync: 5 ok, 1 skipped; exit code 0"

    def test_quiet_keeps_problems_and_drops_summaries(self, orderflow: Run, vendor_down: None) -> None:
        """--quiet still says every problem but nothing more, even from a single command."""
        result = orderflow("--quiet", "fetch")
        assert result.exit_code == ExitCode.PARTIAL_FAILURE
        assert [line.split(": ")[:3] for line in result.stderr.splitlines()] == [
            ["orderflow", "fetch", "vendor DOWN"]]


@sqlite_only
class TestJsonLog:
    def test_every_problem_line_is_one_json_object(self, orderflow: Run, vendor_down: None) -> None:
        """--log-format json: each stderr line is {time, level, command, message}; the text prefix is gone."""
        result = orderflow("--log-format", "json", "sync")
        assert result.exit_code == ExitCode.PARTIAL_FAILURE
        records = json_lines(result.stderr)
        assert [sorted(record) for record in records] == [["command", "level", "message", "time"]] * 2
        assert [(r["level"], r["command"], r["message"].split(": ")[0]) for r in records] == [
            ("error", "dispatch", "vendor DOWN"), ("error", "fetch", "vendor DOWN")]
        assert datetime.fromisoformat(records[0]["time"]).tzinfo is not None

    def test_the_environment_chooses_it_and_summaries_are_info(self, orderflow: Run) -> None:
        """ORDERFLOW_LOG_FORMAT=json works like the option; --verbose summaries come as level info."""
        result = orderflow("--verbose", "sync", env={"ORDERFLOW_LOG_FORMAT": "json"})
        records = json_lines(result.stderr)
        assert [(r["level"], r["command"]) for r in records] == [("info", name) for name in [*STEP_NAMES, "sync"]]
        assert records[-1]["message"] == "6 ok; exit code 0"

    def test_single_commands_report_the_same_way(self, orderflow: Run, vendor_down: None) -> None:
        """A command run alone gives its problem and its summary as JSON lines too."""
        records = json_lines(orderflow("--log-format", "json", "dispatch").stderr)
        assert [(r["level"], r["command"]) for r in records] == [("error", "dispatch"), ("info", "dispatch")]
        assert records[1]["message"].startswith("0 sent")

    def test_a_one_line_error_is_json_too(self, orderflow: Run, tmp_path: Path) -> None:
        """A broken configuration is one JSON line naming the command that was asked for."""
        (tmp_path / "orderflow.toml").write_text("bogus = 1\n")
        result = orderflow("--log-format", "json", "jobs")
        assert result.exit_code == ExitCode.CONFIG
        [record] = json_lines(result.stderr)
        assert (record["level"], record["command"]) == ("error", "jobs")
        assert record["message"] == f"{tmp_path / 'orderflow.toml'}: bogus: unknown key"

    def test_an_unknown_format_is_a_usage_error(self, orderflow: Run) -> None:
        """Only text and json are accepted."""
        assert orderflow("--log-format", "xml", "sync").exit_code == ExitCode.USAGE


class TestJsonLogFormatter:
    def test_python_log_records_take_the_same_shape(self) -> None:
        """A library's log record becomes the same one-line JSON object, its level named in lower case."""
        record = logging.LogRecord("httpx", logging.WARNING, __file__, 1, "slow answer from %s", ("UPS",), None)
        line = JsonLogFormatter("track").format(record)
        assert "\n" not in line
        assert {key: value for key, value in json.loads(line).items() if key != "time"} == {
            "level": "warning", "command": "track", "message": "slow answer from UPS"}
