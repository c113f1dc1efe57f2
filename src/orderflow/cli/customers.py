"""``orderflow customers notify``."""

from __future__ import annotations

import typer

from orderflow.cli.context import app_context, run_as_job

app = typer.Typer(help="Customers: shipment notices, by email or through the storefront.", no_args_is_help=True)


@app.command("notify")
def notify(ctx: typer.Context) -> None:
    """Tell each customer when a parcel of their order ships: items, carrier, tracking link, what is still to come.

    One notice per parcel, never two: not on a re-run, not after a crash, not with several hosts running at once.
    When a parcel is due follows [customers] notify_when (default: once the carrier has scanned it). Failures are
    retried in later runs (exit code 6, or 5 when nothing could be sent); a customer without a usable address is
    reported once (exit code 4).
    """
    from orderflow.customers.notify import notify_customers
    from orderflow.errors import ConfigError

    state = app_context(ctx)
    if state.settings.customers is None:
        raise ConfigError("customer notices are not configured: add a [customers] section (see orderflow.example.toml)")
    run_as_job(ctx, "customers notify", lambda: notify_customers(engine=state.engine, settings=state.settings,
                                                                 clock=state.clock), exclusive=False)
