"""``orderflow sync``: the whole pipeline once, as cron runs it every few minutes."""

from __future__ import annotations

import traceback
from collections import Counter
from typing import TYPE_CHECKING

import typer

from orderflow.cli.context import AppContext, app_context, counts_text, emit

if TYPE_CHECKING:
    from orderflow.sync import StepReport


def sync(ctx: typer.Context) -> None:
    """Run import, dispatch, fetch, track, customers notify and rules run, each as its own job.

    A failing step is reported (one stderr line per problem, prefixed with the step) and the steps after it
    still run; a step that another host is running is skipped. The exit code is the worst step's: 4 input
    refused, 6 partial failure, 5 a remote unavailable, 8 a remote that refused us, 3 configuration, 1 internal
    error. With [sync] health_url_env set, that monitor is pinged at the start, on success and on failure.
    """
    from orderflow.schedule import SYNC_COMMAND
    from orderflow.sync import run_sync

    state = app_context(ctx)
    report = run_sync(engine=state.engine, settings=state.settings, clock=state.clock,
                      on_step=lambda step: _show_step(state, step))
    if not state.quiet:
        for warning in report.warnings:
            emit(state, warning, command=SYNC_COMMAND, level="warning")
    if state.show_progress:
        statuses: Counter[str] = Counter(step.status for step in report.steps)
        emit(state, f"{counts_text(dict(statuses))}; exit code {int(report.exit_code)}", command=SYNC_COMMAND,
             level="info")
    if report.exit_code:
        raise typer.Exit(int(report.exit_code))


def _show_step(state: AppContext, step: StepReport) -> None:
    if state.debug and step.error is not None:
        traceback.print_exception(step.error)
    for problem in step.problems:
        emit(state, problem, command=step.name)
    if not state.show_progress:
        return
    if step.status == "skipped":
        summary = f"skipped: {step.note}"
    elif step.status == "ok":
        summary = counts_text(step.counts) or "done"
    else:
        outcome = f"{step.status} (exit code {int(step.exit_code)})"
        summary = f"{counts_text(step.counts)}; {outcome}" if step.counts else outcome
    emit(state, summary, command=step.name, level="info")
