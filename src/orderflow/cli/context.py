"""What the root command parses once and every command uses: settings, clock, database, output style.

Settings and the engine are built on first use, so ``--help`` and ``init`` never need a configuration.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from orderflow.clock import Clock

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from orderflow.config import Settings
    from orderflow.jobs import WorkResult


@dataclass
class AppContext:
    config_path: Path | None = None
    database_url: str | None = None
    now: datetime | None = None
    quiet: bool = False
    verbose: bool = False
    debug: bool = False
    _engine: Engine | None = field(default=None, repr=False)

    @cached_property
    def settings(self) -> Settings:
        from orderflow.config import load_settings

        return load_settings(self.config_path, database_url=self.database_url)

    @cached_property
    def clock(self) -> Clock:
        return Clock(fixed=self.now)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from orderflow.db.engine import make_engine

            self._engine = make_engine(self.settings.database.url)
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


def run_as_job(ctx: typer.Context, command: str, work: Callable[[], WorkResult], *,
               exclusive: bool = True) -> WorkResult:
    """Run ``work`` as the job ``command``, then report the cron way and exit with the job's code.

    Problems go to stderr, one line each. A summary of the counts follows on a terminal, with --verbose, or
    when there were problems; a successful cron run stays silent.
    """
    from orderflow.jobs import run_job

    state = app_context(ctx)
    result = run_job(command, engine=state.engine, clock=state.clock, work=work, exclusive=exclusive)
    for problem in result.problems:
        typer.echo(f"orderflow: {command}: {problem}", err=True)
    if not state.quiet and (state.verbose or result.problems or sys.stderr.isatty()):
        summary = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in result.counts.items())
        typer.echo(f"{command}: {summary or 'done'}", err=True)
    if result.exit_code:
        raise typer.Exit(int(result.exit_code))
    return result
