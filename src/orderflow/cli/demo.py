"""``orderflow demo``: a week of a simulated shop, then the staff queue, one order's story and the daily report."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from orderflow.cli.context import app_context, emit

if TYPE_CHECKING:
    from orderflow.demo import DemoResult


def demo(
    ctx: typer.Context,
    directory: Path = typer.Option(Path("orderflow-demo"), "--dir", help="The demo's folder: configuration, "
                                   "database, vendors' files, reports. An earlier demo's folder is replaced; any "
                                   "other folder that is not empty is refused."),
    days: int = typer.Option(5, "--days", min=1, max=28, help="Days to simulate, from a Monday."),
    orders_per_day: int = typer.Option(12, "--orders-per-day", min=1, max=200, help="Orders the shop takes a day."),
    seed: int = typer.Option(7, "--seed", help="The same seed gives the same week."),
) -> None:
    """Simulate a shop with seven vendors and four carriers on 127.0.0.1, running the real pipeline (sync)
    every simulated hour; then show the staff queue, one order's story and the daily report."""
    from orderflow.demo import DemoOptions, run_demo

    state = app_context(ctx)
    with _progress(enabled=sys.stderr.isatty() and not state.quiet) as on_tick:
        result = run_demo(DemoOptions(directory=directory, days=days, orders_per_day=orders_per_day, seed=seed),
                          on_tick=on_tick)
    _show(result)
    for problem in result.internal_errors:
        emit(state, problem, command="demo")
    if result.internal_errors:
        raise typer.Exit(1)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr on a terminal (gone when done); nothing otherwise."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("hours"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("simulating", total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def _show(result: DemoResult) -> None:
    """The end of the demo on stdout: what ran, the queue, one order, the report, the score, what next."""
    from zoneinfo import ZoneInfo

    from orderflow.cli import render
    from orderflow.config import load_settings
    from orderflow.db.engine import make_engine, reader, session_factory
    from orderflow.demo.world import SHOP_ZONE
    from orderflow.orders.view import find_order, order_story
    from orderflow.rules.engine import shop_calendar
    from orderflow.rules.queue import queue_documents

    start, end = result.start.astimezone(SHOP_ZONE), result.end.astimezone(SHOP_ZONE)
    typer.echo(f"Simulated {start:%a} {start.day} {start:%b} to {end:%a} {end.day} {end:%b %Y}: {result.orders} "
               f"orders, {result.vendor_orders} vendor orders,\n{result.parcels} parcels; `orderflow sync` ran "
               f"{result.runs} times, every simulated hour.\n")
    settings = load_settings(result.config_path)
    engine = make_engine(settings.database.url)
    try:
        with session_factory(reader(engine))() as session:
            documents = queue_documents(session)
            story = order_story(find_order(session, result.story_order), session) if result.story_order else None
    finally:
        engine.dispose()
    calendar = shop_calendar(settings)
    times = render.Times(zone=SHOP_ZONE, name=settings.timezone)
    vendor_zones = {vendor.code: ZoneInfo(vendor.calendar.timezone) for vendor in settings.vendors}
    typer.echo(f"The staff queue at {end:%a %H:%M} (orderflow notifications --sort type):")
    render.print_queue(documents, render.QueueView(
        age=lambda opened: calendar.business_days_between(opened, result.end), times=times,
        order_url=settings.order_url, vendor_zones=vendor_zones))
    if story is not None:
        typer.echo(f"\nOne order's story (orderflow order {result.story_order}):")
        render.print_order(story, times=times, vendor_zones=vendor_zones)
    typer.echo("")
    for line in _closing_lines(result, first_id=documents[0]["id"] if documents else None):
        typer.echo(line)


def _closing_lines(result: DemoResult, *, first_id: int | None) -> list[str]:
    end = result.end
    lines = []
    if result.report_folder is not None:
        files = len(list(result.report_folder.glob("*.csv")))
        lines.append(f"The daily report ({files} CSV files): {_shown(result.report_folder)}")
    if result.emails:
        lines.append("Mail (local server only): " + ", ".join(f"{count} {kind}"
                                                           for kind, count in result.emails.items()))
    if result.score is not None:
        lines.append(result.score.line)
    lines.append(f"orderflow check, while the demo's servers ran: {result.set_up_checks} checks, "
                 f"{len(result.set_up_problems) or 'no'} problems")
    lines += [f"  {problem}" for problem in result.set_up_problems]
    if result.unshown:
        lines.append("Not shown this time (a longer or busier week shows them all):")
        lines += textwrap.wrap(", ".join(result.unshown), width=80, initial_indent="  ", subsequent_indent="  ")
    config = f"orderflow --config {_shown(result.config_path)}"
    lines += ["", f"Explore further (the simulated clock stopped at {end:%Y-%m-%dT%H:%MZ}):",
              f"  export ORDERFLOW_NOW={end:%Y-%m-%dT%H:%M:%SZ}",
              f"  {config} notifications --sort type"]
    if first_id is not None:
        lines.append(f"  {config} notifications why {first_id}")
    if result.story_order:
        lines.append(f"  {config} order {result.story_order}")
    lines += [f"  {config} orders", f"  {config} vendors", f"  {config} jobs"]
    return lines


def _shown(path: Path) -> str:
    """A path as short as it can be said: relative to the working folder when it lies inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
