"""``orderflow init`` and ``orderflow db upgrade|downgrade|current``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from orderflow.cli.context import app_context
from orderflow.errors import ConfigError

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
