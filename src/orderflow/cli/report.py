"""``orderflow report``: reports for managers (the daily CSV files and their email)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from orderflow.cli.context import app_context, emit, run_as_job

app = typer.Typer(help="Reports for managers: the daily CSV files and their email, and trends over a period.",
                  no_args_is_help=True)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {value!r}", param_hint="--date") from None


@app.command()
def daily(
    ctx: typer.Context,
    day: str | None = typer.Option(None, "--date", help="The shop's day to report, YYYY-MM-DD "
                                   "[default: yesterday in the shop's time zone]."),
    out: Path | None = typer.Option(None, "--out", help="Write the CSV files into this folder "
                                    "[default: <report.out_dir>/<date>]."),
    email: bool = typer.Option(False, "--email", help="Email the summary and the files to report.recipients "
                               "(once per day: a second run does not send it again)."),
    resend: bool = typer.Option(False, "--resend", help="With --email: send the day's report again on purpose."),
    force: bool = typer.Option(False, "--force", help="Write the files again over a report written once the day "
                               "was over (kept as it is without it)."),
) -> None:
    """The day's CSV files: open notifications, parcels shipped, late vendor orders, parcels in transit, and the
    vendor scorecard; with --email, one message with an HTML summary and the files attached."""
    from orderflow.reports.daily import daily_report

    state, report_day = app_context(ctx), _day(day)
    result = run_as_job(ctx, "report daily", lambda: daily_report(
        engine=state.engine, settings=state.settings, now=state.clock.now(), day=report_day, out_dir=out,
        email=email, resend=resend, force=force))
    if state.show_progress and result.detail:
        folder = result.detail[0].parent
        emit(state, f"kept the report already in {folder} (written after the day was over; --force writes it "
             "again)" if result.counts.get("kept") else f"files in {folder}", command="report daily", level="info")


@app.command()
def trends(
    ctx: typer.Context,
    days: int = typer.Option(30, "--days", help="How many days, up to --date."),
    day: str | None = typer.Option(None, "--date", help="The last day, YYYY-MM-DD "
                                   "[default: yesterday in the shop's time zone]."),
    out: Path = typer.Option(..., "--out", help="Write the charts and daily_series.csv into this folder."),
) -> None:
    """The daily report's charts and a CSV of its figures day by day (orders received, vendor orders sent,
    parcels scanned and delivered, open problems by severity, value at risk, on-time rate), each day judged as
    of its own end."""
    from orderflow.reports.period import trends_report

    state, last = app_context(ctx), _day(day)
    result = run_as_job(ctx, "report trends", lambda: trends_report(
        engine=state.engine, settings=state.settings, now=state.clock.now(), days=days, out_dir=out, last=last),
        exclusive=False)
    if state.show_progress and result.detail:
        emit(state, f"files in {out}", command="report trends", level="info")
