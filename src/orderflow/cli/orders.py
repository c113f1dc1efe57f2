"""``orderflow import``, ``orderflow order`` and ``orderflow orders``."""

from __future__ import annotations

from pathlib import Path

import typer

from orderflow.cli.context import app_context, run_as_job


def import_orders(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(None, help="Order files to import (Shopify export CSV, JSON, mapped CSV)."),
    source: str | None = typer.Option(None, "--source", help="A configured source; without FILES, import from it."),
    fmt: str | None = typer.Option(None, "--format", help="shopify_csv, json or mapped_csv [default: detected]."),
) -> None:
    """Import orders from the storefront: the FILES given, one configured --source, or every configured source.

    Re-importing the same orders changes nothing. Refused rows are named by file, line and column; every
    other order is stored. Exit code 4 when anything was refused.
    """
    from orderflow.orders.importing import import_orders as run_import

    state = app_context(ctx)
    run_as_job(ctx, "import", lambda: run_import(
        engine=state.engine, settings=state.settings, now=state.clock.now(), paths=files or [],
        source=source, fmt=fmt))


def order(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="The order number as the storefront shows it (1042 or '#1042')."),
    source: str | None = typer.Option(None, "--source", help="The source, when two share an order number."),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Show one order's whole story: lines, vendor orders, shipments, notifications."""
    from orderflow.cli import render
    from orderflow.db.engine import reader, session_factory
    from orderflow.orders.view import find_order, order_story

    with session_factory(reader(app_context(ctx).engine))() as session:
        story = order_story(find_order(session, number, source=source), session)
    if output == "json":
        render.print_json(story)
    else:
        render.print_order(story)


def orders(
    ctx: typer.Context,
    state: str | None = typer.Option(
        None, "--state",
        help="An order state (open, shipped, delivered, cancelled), unroutable, or a vendor order state (sent, ...)."),
    vendor: str | None = typer.Option(None, "--vendor", help="Only orders with a part for this vendor."),
    since: str | None = typer.Option(None, "--since", help="Only orders placed on or after this date/time."),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many, newest first."),
    output: str = typer.Option("table", "--format", help="table, csv or json."),
) -> None:
    """List orders, newest first, with their vendor orders' states."""
    from orderflow.cli import render
    from orderflow.clock import parse_instant
    from orderflow.db.engine import reader, session_factory
    from orderflow.orders.view import list_orders

    after = parse_instant(since, what="--since") if since else None
    with session_factory(reader(app_context(ctx).engine))() as session:
        listed = list_orders(session, state=state, vendor=vendor, since=after, limit=limit)
    render.print_orders(listed, output)
