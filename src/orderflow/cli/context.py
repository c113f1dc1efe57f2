"""What the root command parses once and every command uses: settings, clock, database, output style.

Settings and the engine are built on first use, so ``--help`` and ``init`` never need a configuration.

Every line orderflow writes on stderr goes through :func:`emit`, so ``--log-format json`` turns each of
them (problems, summaries, the one-line errors, Python log records) into one JSON object with the same keys.
"""

from __future__ import annotations

import enum
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from orderflow.clock import Clock
from orderflow.outside_text import inert, json_inert

if TYPE_CHECKING:
    from datetime import tzinfo

    from sqlalchemy import Engine

    from orderflow.cli.render import Times
    from orderflow.config import Settings
    from orderflow.jobs import WorkResult


Level = Literal["error", "warning", "info"]
SCHEMA_COMMANDS = frozenset({"db", "init", "check"})
"""Commands that run on a database whatever its schema revision: they create, migrate or inspect it."""


class LogFormat(enum.StrEnum):
    """How stderr lines are written: text for people and cron mail, JSON for log collectors."""

    TEXT = "text"
    JSON = "json"


@dataclass
class AppContext:
    config_path: Path | None = None
    database_url: str | None = None
    now: datetime | None = None
    quiet: bool = False
    verbose: bool = False
    debug: bool = False
    log_format: LogFormat = LogFormat.TEXT
    utc: bool = False
    """Show times in UTC instead of the shop's zone."""
    command: str | None = None
    """The command being run, for JSON lines that do not name their own."""
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def show_progress(self) -> bool:
        """Summaries and progress: on a terminal or with --verbose, never with --quiet or under cron."""
        return not self.quiet and (self.verbose or sys.stderr.isatty())

    @cached_property
    def settings(self) -> Settings:
        from orderflow.config import load_settings

        return load_settings(self.config_path, database_url=self.database_url)

    @cached_property
    def clock(self) -> Clock:
        return Clock(fixed=self.now)

    @cached_property
    def zone(self) -> tzinfo:
        """The shop's time zone: a day typed on the command line is a day here."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.settings.timezone)

    @cached_property
    def times(self) -> Times:
        """How this command shows times to a person: the shop's zone, or UTC with ``--utc``."""
        from orderflow.cli.render import Times

        return Times() if self.utc else Times(zone=self.zone, name=self.settings.timezone)

    @cached_property
    def vendor_zones(self) -> dict[str, tzinfo]:
        """Each vendor's own zone, the one its deadlines are judged in (UTC too with ``--utc``)."""
        from datetime import UTC
        from zoneinfo import ZoneInfo

        return {vendor.code: UTC if self.utc else ZoneInfo(vendor.calendar.timezone)
                for vendor in self.settings.vendors}

    @property
    def engine(self) -> Engine:
        """The database, refused (exit 3) when its schema is not this orderflow's latest, except for the
        commands that create, migrate or inspect it."""
        if self._engine is None:
            from orderflow.db.engine import make_engine
            from orderflow.db.migrate import require_latest

            engine = make_engine(self.settings.database.url)
            if self.command not in SCHEMA_COMMANDS:
                try:
                    require_latest(engine)
                except BaseException:
                    engine.dispose()
                    raise
            self._engine = engine
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def app_context(ctx: typer.Context) -> AppContext:
    """The :class:`AppContext` the root callback stored; a bare one when a command is invoked alone."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


def emit(state: AppContext, message: str, *, command: str | None = None, level: Level = "error") -> None:
    """Write one line on stderr.

    Text: ``orderflow: <command>: <problem>`` for errors and warnings, ``<command>: <summary>`` for info.
    JSON: ``{"time", "level", "command", "message"}`` on one line, whatever the level.
    """
    if state.log_format is LogFormat.JSON:
        typer.echo(json_line(level, command or state.command, message), err=True)
        return
    message = inert(message)
    if level == "info":
        typer.echo(f"{command}: {message}" if command else message, err=True)
    else:
        typer.echo(f"orderflow: {command}: {message}" if command else f"orderflow: {message}", err=True)


def json_line(level: str, command: str | None, message: str) -> str:
    """One JSON log line; ``time`` is when it was written (the real clock, even under --now)."""
    return json_inert(json.dumps({"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": level,
                                  "command": command, "message": message}, ensure_ascii=False))


class TextLogFormatter(logging.Formatter):
    """Python log records as ``orderflow: message``, inert: a message can quote outside text."""

    def __init__(self) -> None:
        super().__init__("orderflow: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(inert(line) for line in super().format(record).split("\n"))


class JsonLogFormatter(logging.Formatter):
    """Python log records (from orderflow's libraries) in the same JSON shape as :func:`emit`."""

    def __init__(self, command: str | None) -> None:
        super().__init__()
        self.command = command

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        level = {"WARNING": "warning", "INFO": "info", "DEBUG": "info"}.get(record.levelname, "error")
        return json_line(level, self.command, message)


def log_handler(state: AppContext) -> logging.Handler:
    """The stderr handler for Python logging, in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter(state.command) if state.log_format is LogFormat.JSON
                         else TextLogFormatter())
    return handler


def counts_text(counts: dict[str, int]) -> str:
    """``{"sent": 2, "needs_reconcile": 0}`` as ``2 sent, 0 needs reconcile``."""
    return ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())


def run_as_job(ctx: typer.Context, command: str, work: Callable[[], WorkResult], *,
               exclusive: bool = True) -> WorkResult:
    """Run ``work`` as the job ``command``, then report the cron way and exit with the job's code.

    Problems go to stderr, one line each. A summary of the counts follows on a terminal, with --verbose, or
    when there were problems; a successful cron run stays silent.
    """
    from orderflow.jobs import run_job

    state = app_context(ctx)
    result = run_job(command, engine=state.engine, clock=state.clock, work=work, exclusive=exclusive,
                     deadline_seconds=state.settings.limits.job_seconds)
    for problem in result.problems:
        emit(state, problem, command=command)
    if state.show_progress or (result.problems and not state.quiet):
        emit(state, counts_text(result.counts) or "done", command=command, level="info")
    if result.exit_code:
        raise typer.Exit(int(result.exit_code))
    return result
