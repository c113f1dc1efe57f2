"""``orderflow rules run`` and ``orderflow rules list``."""

from __future__ import annotations

import typer

from orderflow.cli import values
from orderflow.cli.context import app_context, run_as_job

app = typer.Typer(help="Notification rules: evaluate them, or list them with their settings.",
                  no_args_is_help=True)


@app.command("run")
def run(ctx: typer.Context) -> None:
    """Evaluate every rule now: open, update and resolve notifications. Same --now twice changes nothing."""
    from orderflow.rules.run import run_rules

    state = app_context(ctx)
    run_as_job(ctx, "rules run", lambda: run_rules(engine=state.engine, settings=state.settings, clock=state.clock))


@app.command("list")
def list_rules(ctx: typer.Context,
               output: str = typer.Option("table", "--format",
                                          parser=values.one_of(*values.TABLE_CSV_JSON, what="format"),
                                          metavar=values.metavar(*values.TABLE_CSV_JSON),
                                          help="How to print the list.")) -> None:
    """Every rule, whether it is enabled, its severity override, and when it fires."""
    from orderflow.cli import render
    from orderflow.rules.catalogue import RULES, describe

    settings = app_context(ctx).settings
    rows = [{"rule": name, "enabled": settings.rules[name].enabled if name in settings.rules else True,
             "severity": (settings.rules[name].severity if name in settings.rules else None) or "default",
             "fires when": describe(name)} for name in RULES]
    render.print_rows("Rules", ["rule", "enabled", "severity", "fires when"], rows, output)
