"""``orderflow init`` and ``orderflow db upgrade|downgrade|current``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from orderflow.cli.context import app_context
from orderflow.errors import ConfigError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from orderflow.db.copy import Progress

app = typer.Typer(help="Create, upgrade or inspect the database schema (Alembic).", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context, revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Upgrade the database to the latest schema (or REVISION)."""
    from orderflow.db import migrate
    from orderflow.db.engine import display_url

    url = app_context(ctx).settings.database.url
    migrate.upgrade(url, revision)
    typer.echo(f"{display_url(url)}: at revision {migrate.current(url) or 'base'}", err=True)


@app.command()
def downgrade(
    ctx: typer.Context,
    revision: str = typer.Argument(..., help="Target revision, or 'base'."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask; required when not on a terminal."),
) -> None:
    """Downgrade the database to REVISION ('base' removes every table and all their data).

    Asks first on a terminal; elsewhere (cron, scripts) it refuses without --yes. Back up first:
    orderflow db backup PATH.
    """
    from orderflow.db import migrate
    from orderflow.db.engine import display_url

    url = app_context(ctx).settings.database.url
    if not yes:
        if not sys.stdin.isatty():
            raise ConfigError("db downgrade drops tables or columns and their data; "
                              "run it on a terminal to be asked, or pass --yes")
        typer.confirm(f"Downgrade {display_url(url)} from {migrate.current(url) or 'base'} to {revision}? "
                      "Tables or columns and their data will be dropped", abort=True)
    migrate.downgrade(url, revision)
    typer.echo(f"{display_url(url)}: at revision {migrate.current(url) or 'base'}", err=True)


@app.command()
def current(ctx: typer.Context) -> None:
    """Print the database's schema revision ('base' when empty) and whether it is the latest.

    Exits 3 when it is not the latest (run orderflow db upgrade), so a script can check before it starts.
    """
    from orderflow.db import migrate

    state = migrate.state(app_context(ctx).settings.database.url)
    typer.echo(f"{state.current or 'base'}{' (head)' if state.latest else f' (head is {state.head})'}")
    if state.problem:
        raise ConfigError(state.problem)


@app.command()
def backup(ctx: typer.Context, path: Path = typer.Argument(..., help="The backup file to write (never overwritten).")
           ) -> None:
    """Back the database up to PATH, safely while cron runs.

    SQLite: a consistent copy through SQLite's online backup API; restore by stopping cron and copying it over
    the database file (removing its -wal and -shm files). PostgreSQL: runs pg_dump (custom format; restore
    with pg_restore --no-owner --dbname URL PATH into an empty database), or prints the pg_dump command when
    pg_dump is not installed here.
    """
    import shlex

    from orderflow.db.backup import backup as back_up

    done = back_up(app_context(ctx).settings.database.url, path)
    if not done.written:
        typer.echo(shlex.join(done.command))
        raise ConfigError("pg_dump is not installed here: run the command above where it is")
    typer.echo(f"{done.path}: written", err=True)


@app.command()
def copy(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", help="The empty database to copy into, e.g. postgresql+psycopg://..."),
) -> None:
    """Copy every table to the empty database at --to (e.g. from SQLite to PostgreSQL), then verify it.

    The target is migrated to the latest schema first, and refused if any table has rows. Ids are kept and
    PostgreSQL sequences moved past them; row counts and a checksum per table are compared at the end.
    Stop cron while it runs, then point [database] url at the new database.
    """
    from orderflow.db.copy import copy_database
    from orderflow.db.engine import display_url

    state = app_context(ctx)
    with _copy_progress(enabled=state.show_progress and sys.stderr.isatty()) as progress:
        copies = copy_database(source=state.engine, target_url=to, progress=progress)
    for copied in copies:
        typer.echo(f"{copied.table}: {copied.rows} rows, checksum {copied.checksum[:16]} (equal)")
    typer.echo(f"{display_url(to)}: copy verified", err=True)


@contextmanager
def _copy_progress(*, enabled: bool) -> Iterator[Progress | None]:
    """One progress bar per table on stderr on a terminal; nothing otherwise."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
    from rich.progress import Progress as ProgressBars

    with ProgressBars(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=Console(stderr=True)) as bars:
        tasks: dict[str, TaskID] = {}

        def advance(table: str, copied: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bars.add_task(table, total=total)
            bars.update(tasks[table], completed=copied)

        yield advance


def init(
    ctx: typer.Context,
    path: Path = typer.Option(Path("orderflow.toml"), "--path", help="Where to write the example configuration."),
) -> None:
    """Write an example orderflow.toml (never overwriting one), create the folders it names and the database,
    and print the next steps."""
    from orderflow.setup import next_steps, write_example_config
    from orderflow.setup_check import create_folders

    state = app_context(ctx)
    written = write_example_config(path)
    typer.echo(f"{path}: {'written' if written else 'exists, kept as it is'}", err=True)
    if state.config_path is None:
        state.config_path = path
    for folder in create_folders(state.settings):
        typer.echo(f"{folder}: created", err=True)
    _create_sqlite_file_owner_only(state.settings.database.url)
    upgrade(ctx, "head")
    typer.echo("\n".join(["Next steps:", *next_steps(state.config_path)]))


def _create_sqlite_file_owner_only(url: str) -> None:
    """Create a new SQLite database file with mode 0600 before the migrations open it.

    It holds carrier access tokens and customers' addresses; SQLite would create it (and, after it, its -wal
    and -shm files, which take the database file's mode) readable by every local user. An existing file, or
    one whose folder is missing (the upgrade then says so), is left as it is.
    """
    import os

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        return
