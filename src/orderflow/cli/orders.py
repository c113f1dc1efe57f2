"""``orderflow import``, ``orderflow order`` and ``orderflow orders``."""

from __future__ import annotations

from pathlib import Path

import typer

from orderflow.cli import values
from orderflow.cli.context import app_context, run_as_job

ORDER_STATES = ("open", "cancelled", "fulfilled_elsewhere", "shipped", "delivered", "unroutable", "pending",
                "sending", "sent", "accepted", "rejected", "on_hold", "partially_shipped", "needs_reconcile")
"""What ``orders --state`` takes: an order state, ``unroutable``, or a vendor order state (a test ties them)."""
IMPORT_FORMATS = ("shopify_csv", "mapped_csv", "json")
"""What ``import --format`` takes (``orderflow.storefronts.formats.ORDER_FORMATS``; a test ties them)."""


def import_orders(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(None, help="Order files to import (Shopify export CSV, JSON, mapped CSV)."),
    source: str | None = typer.Option(None, "--source", help="A configured source; without FILES, import from it."),
    fmt: str | None = typer.Option(None, "--format", parser=values.one_of(*IMPORT_FORMATS, what="order format"),
                                   metavar=values.metavar(*IMPORT_FORMATS), help="The files' format [default: "
                                   "detected; mapped_csv needs a source's column mapping]."),
    retry_refused: bool = typer.Option(
        False, "--retry-refused", help="Inbox sources first move the files in rejected/ back, to be read again "
                                       "(fix the cause first)."),
) -> None:
    """Import orders from the storefront: the FILES given, one configured --source, or every configured source.

    Re-importing the same orders changes nothing. Refused rows are named by file, line and column; every
    other order is stored. Exit code 4 when anything was refused.
    """
    from orderflow.storefronts.importing import import_orders as run_import

    state = app_context(ctx)
    run_as_job(ctx, "import", lambda: run_import(
        engine=state.engine, settings=state.settings, now=state.clock.now(), paths=files or [],
        source=source, fmt=fmt, retry_refused=retry_refused))


def order(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="The order number as the storefront shows it (1042 or '#1042')."),
    source: str | None = typer.Option(None, "--source", help="The source, when two share an order number."),
    output: str = typer.Option("table", "--format", parser=values.one_of(*values.TABLE_JSON, what="format"),
                               metavar=values.metavar(*values.TABLE_JSON), help="For a person, or JSON."),
) -> None:
    """Show one order's whole story: lines, vendor orders, shipments, notifications.

    Times are in the shop's zone (--utc: UTC); a ship-by deadline is in its vendor's zone, the one it is judged
    by. Each says its zone."""
    from orderflow.cli import render
    from orderflow.db.engine import reader, session_factory
    from orderflow.orders.view import find_order, order_story

    context = app_context(ctx)
    with session_factory(reader(context.engine))() as session:
        story = order_story(find_order(session, number, source=source), session)
    if output == "json":
        render.print_json(story)
    else:
        render.print_order(story, times=context.times, vendor_zones=context.vendor_zones)


def orders(
    ctx: typer.Context,
    state: str | None = typer.Option(
        None, "--state", parser=values.one_of(*ORDER_STATES, what="state"), metavar="STATE",
        help="An order state (open, shipped, delivered, cancelled), unroutable, or a vendor order state "
             "(sent, rejected, ...)."),
    vendor: str | None = typer.Option(None, "--vendor", help="Only orders with a part for this configured vendor."),
    since: str | None = typer.Option(None, "--since", metavar="WHEN",
                                     help="Only placed since then: a day in the shop's zone, today, -2d, ..."),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many, newest first."),
    output: str = typer.Option("table", "--format", parser=values.one_of(*values.TABLE_CSV_JSON, what="format"),
                               metavar=values.metavar(*values.TABLE_CSV_JSON), help="How to print the list."),
) -> None:
    """List orders, newest first, with their vendor orders' states (times in the shop's zone; --utc: UTC)."""
    from orderflow.cli import render
    from orderflow.db.engine import reader, session_factory
    from orderflow.orders.view import list_orders

    context = app_context(ctx)
    after = values.when(since, now=context.clock.now(), zone=context.zone, option="--since") if since else None
    if vendor is not None:
        vendor = values.checked(vendor, [configured.code for configured in context.settings.vendors],
                                what="vendor", option="--vendor")
    with session_factory(reader(context.engine))() as session:
        listed = list_orders(session, state=state, vendor=vendor, since=after, limit=limit)
    render.print_orders(listed, output, times=context.times)
