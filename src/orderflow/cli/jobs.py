"""``orderflow jobs``: cron's audit trail."""

from __future__ import annotations

import typer

from orderflow.cli import values
from orderflow.cli.context import app_context


def jobs(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", min=1, help="How many runs to show."),
    command: str | None = typer.Option(None, "--command", help="Only runs of this command."),
    output: str = typer.Option("table", "--format", parser=values.one_of(*values.TABLE_CSV_JSON, what="format"),
                               metavar=values.metavar(*values.TABLE_CSV_JSON), help="How to print the list."),
) -> None:
    """List recent runs of data-changing commands: when (shop's zone; --utc: UTC), where, outcome, counts,
    error."""
    from orderflow.cli import render
    from orderflow.db.engine import reader
    from orderflow.jobs import recent_runs

    context = app_context(ctx)
    runs = recent_runs(reader(context.engine), limit=limit, command=command)
    if output == "json":
        render.print_json([
            {"id": run.id, "command": run.command, "host": run.host, "pid": run.pid,
             "started_at": run.started_at, "finished_at": run.finished_at, "outcome": run.outcome,
             "exit_code": run.exit_code, "counts": run.counts, "error": run.error}
            for run in runs
        ])
        return
    render.print_rows("Recent runs", ["id", "command", "started", "took", "outcome", "counts", "error"], [
        {"id": run.id, "command": run.command, "started": run.started_at,
         "took": "" if run.finished_at is None else f"{(run.finished_at - run.started_at).total_seconds():.1f}s",
         "outcome": run.outcome, "counts": ", ".join(f"{k}={v}" for k, v in run.counts.items()),
         "error": render.first_line(run.error) if output == "table" else run.error}
        for run in runs], output, times=context.times)
