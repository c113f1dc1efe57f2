"""``orderflow check``: validate a set-up end to end before the first cron run."""

from __future__ import annotations

import typer

from orderflow.cli.context import app_context
from orderflow.errors import ExitCode


def check(
    ctx: typer.Context,
    create: bool = typer.Option(False, "--create", help="Create the local folders that are missing."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document: a list of {name, ok, problem, fix}."),
) -> None:
    """Check the set-up: configuration, secrets, folders, database, vendors, carriers and mail.

    One line per check, ok or the problem and how to fix it; exit 3 when anything failed. Nothing is sent:
    servers are logged in to and asked for tokens, never given an order or a mail.
    """
    from orderflow.cli import render
    from orderflow.setup_check import check_configuration, check_setup

    state = app_context(ctx)
    settings, configuration = check_configuration(lambda: state.settings)
    results = [configuration, *(check_setup(settings, create=create) if settings is not None else [])]
    if as_json:
        render.print_json([result.as_dict() for result in results])
    else:  # problems quote servers' replies: printed inert
        render.print_lines(f"ok       {result.name}" if result.ok
                           else f"problem  {result.name}: {result.problem}; fix: {result.fix}" for result in results)
    if not all(result.ok for result in results):
        raise typer.Exit(int(ExitCode.CONFIG))
