"""``orderflow init`` and ``orderflow db upgrade|downgrade|current``."""

from __future__ import annotations

from pathlib import Path

import typer

from orderflow.cli.context import app_context

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
def downgrade(ctx: typer.Context, revision: str = typer.Argument(..., help="Target revision, or 'base'.")) -> None:
    """Downgrade the database to REVISION ('base' removes every table)."""
    from orderflow.db import migrate
    from orderflow.db.engine import display_url

    url = app_context(ctx).settings.database.url
    migrate.downgrade(url, revision)
    typer.echo(f"{display_url(url)}: at revision {migrate.current(url) or 'base'}", err=True)


@app.command()
def current(ctx: typer.Context) -> None:
    """Print the database's schema revision ('base' when empty) and whether it is the latest."""
    from orderflow.db import migrate

    revision = migrate.current(app_context(ctx).settings.database.url)
    latest = migrate.head()
    typer.echo(f"{revision or 'base'}{' (head)' if revision == latest else f' (head is {latest})'}")


def init(
    ctx: typer.Context,
    path: Path = typer.Option(Path("orderflow.toml"), "--path", help="Where to write the example configuration."),
) -> None:
    """Write an example orderflow.toml (never overwriting one) and create or upgrade the database."""
    from orderflow.setup import write_example_config

    state = app_context(ctx)
    written = write_example_config(path)
    typer.echo(f"{path}: {'written' if written else 'exists, kept as it is'}", err=True)
    if state.config_path is None:
        state.config_path = path
    upgrade(ctx, "head")
