"""``orderflow dispatch`` and ``orderflow vendors``."""

from __future__ import annotations

import typer

from orderflow.cli import values
from orderflow.cli.context import AppContext, app_context, run_as_job


def configured_vendor(context: AppContext, vendor: str | None) -> str | None:
    """``--vendor`` checked against the configured vendors (a typo must not look like "nothing to do")."""
    if vendor is None:
        return None
    return values.checked(vendor, [configured.code for configured in context.settings.vendors], what="vendor",
                          option="--vendor")


def dispatch(
    ctx: typer.Context,
    vendor: str | None = typer.Option(None, "--vendor", help="Only this vendor."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be sent; send and change nothing."),
) -> None:
    """Send every pending vendor order to its vendor (files over SFTP or folders, or their API).

    Safe to run at any time, from several hosts at once: each vendor order is claimed before it is sent and
    is never sent twice. A vendor that cannot be reached is retried in later runs and paused after repeated
    failures; the others carry on (exit code 6).
    """
    from orderflow.cli import render

    state = app_context(ctx)
    vendor = configured_vendor(state, vendor)
    if dry_run:
        from orderflow.db.engine import reader, session_factory
        from orderflow.vendors.overview import dispatch_preview

        with session_factory(reader(state.engine))() as session:
            preview = dispatch_preview(session, state.settings, now=state.clock.now(), vendor=vendor)
        render.print_rows("Would send", ["vendor_order", "vendor", "format", "transport", "as", "attempts"],
                          preview, "table")
        return
    from orderflow.vendors.dispatch import dispatch as run_dispatch

    run_as_job(ctx, "dispatch", lambda: run_dispatch(engine=state.engine, settings=state.settings,
                                                     clock=state.clock, vendor=vendor), exclusive=False)


def vendors(
    ctx: typer.Context,
    output: str = typer.Option("table", "--format", parser=values.one_of(*values.TABLE_CSV_JSON, what="format"),
                               metavar=values.metavar(*values.TABLE_CSV_JSON), help="How to print the list."),
) -> None:
    """List the configured vendors with their vendor orders counted by state, any paused vendor, and each
    vendor's habits over its last 60 days: ack lag, handling and tracking upload lag after the first scan
    (median / 90th percentile, in its business days)."""
    from dataclasses import asdict

    from orderflow.cli import render
    from orderflow.db.engine import reader, session_factory
    from orderflow.rules.history import vendor_history
    from orderflow.vendors.overview import vendor_overview

    state = app_context(ctx)
    with session_factory(reader(state.engine))() as session:
        overview = vendor_overview(session, state.settings)
        history = vendor_history(session, state.settings, state.clock.now())
    if output == "json":
        render.print_json([v | {"history": asdict(history[v["code"]])} for v in overview])
        return
    render.print_rows("Vendors", ["code", "name", "via", "work", "breaker", "ack lag", "handling", "upload lag"], [
        {"code": v["code"], "name": v["name"], "via": f"{v['format']}/{v['transport']}",
         "work": ", ".join(f"{count} {name}" for name, count in v["vendor_orders"].items() if count) or "none",
         "breaker": v["breaker"] if v["paused_until"] is None
         else f"paused until {state.times.at(v['paused_until'])}",
         **{column: spread.text if spread else "-" for column, spread in (
             ("ack lag", history[v["code"]].ack_lag), ("handling", history[v["code"]].handling),
             ("upload lag", history[v["code"]].upload_lag))}}
        for v in overview], output)


def fetch(
    ctx: typer.Context,
    vendor: str | None = typer.Option(None, "--vendor", help="Only this vendor."),
    retry_refused: bool = typer.Option(
        False, "--retry-refused", help="First move the files in rejected/ back, to be read again (fix the cause "
                                       "first)."),
) -> None:
    """Bring back what vendors say: acknowledgements, rejections, parcels and tracking numbers, stock levels.

    Each vendor file is taken exactly once (by content), applied whole or not at all, and only then archived;
    a file that cannot be read at all is moved to rejected/ (exit code 4); a vendor that cannot be reached is
    retried later and the others carry on (exit code 6). A refused file is not taken: once its cause is fixed,
    --retry-refused (or moving it back by hand) has it read again.
    """
    from orderflow.vendors.fetch import fetch as run_fetch

    state = app_context(ctx)
    vendor = configured_vendor(state, vendor)
    run_as_job(ctx, "fetch", lambda: run_fetch(engine=state.engine, settings=state.settings, clock=state.clock,
                                               vendor=vendor, retry_refused=retry_refused))
