"""``orderflow jobs``: cron's audit trail."""

from __future__ import annotations

import typer

from orderflow.cli.context import app_context


def jobs(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", min=1, help="How many runs to show."),
    command: str | None = typer.Option(None, "--command", help="Only runs of this command."),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """List recent runs of data-changing commands: when, where, outcome, counts, error."""
    from orderflow.cli import render
    from orderflow.db.engine import reader
    from orderflow.jobs import recent_runs

    if output not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json")
    runs = recent_runs(reader(app_context(ctx).engine), limit=limit, command=command)
    if output == "json":
        render.print_json([
            {"id": run.id, "command": run.command, "host": run.host, "pid": run.pid,
             "started_at": run.started_at, "finished_at": run.finished_at, "outcome": run.outcome,
             "exit_code": run.exit_code, "counts": run.counts, "error": run.error}
            for run in runs
        ])
        return
    render.print_table(
        "Recent runs", ["id", "command", "started", "took", "outcome", "counts", "error"],
        ([run.id, run.command, render.short_time(run.started_at),
          "" if run.finished_at is None else f"{(run.finished_at - run.started_at).total_seconds():.1f}s",
          run.outcome, ", ".join(f"{k}={v}" for k, v in run.counts.items()), render.first_line(run.error)]
         for run in runs),
    )
