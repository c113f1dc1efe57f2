"""``orderflow catalog``: list the SKU crosswalk, or import it from a CSV file."""

from __future__ import annotations

from pathlib import Path

import typer

from orderflow.cli import values
from orderflow.cli.context import app_context, run_as_job

app = typer.Typer(help="The SKU crosswalk: which vendor makes or stocks each SKU.", invoke_without_command=True)


@app.callback()
def catalog(
    ctx: typer.Context,
    output: str = typer.Option("table", "--format", parser=values.one_of(*values.TABLE_CSV_JSON, what="format"),
                               metavar=values.metavar(*values.TABLE_CSV_JSON), help="How to print the list."),
) -> None:
    """List the catalog (or use `catalog import FILE`)."""
    if ctx.invoked_subcommand is not None:
        return
    from orderflow.catalog import catalog_items
    from orderflow.cli import render
    from orderflow.db.engine import reader, session_factory

    columns = ["sku", "vendor", "vendor_sku", "upc", "description", "on_demand", "vendor_variant_id", "product",
               "variant"]
    with session_factory(reader(app_context(ctx).engine))() as session:
        rows = [dict(zip(columns, (item.sku, item.vendor_code, item.vendor_sku, item.upc, item.description,
                                   item.on_demand, item.vendor_variant_id, item.product, item.variant),
                         strict=True))
                for item in catalog_items(session)]
    render.print_rows("Catalog", columns, rows, output)


@app.command("import")
def import_catalog(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV with sku, vendor, vendor_sku [, upc, description, on_demand, "
                                          "vendor_variant_id, product, variant]."),
) -> None:
    """Upsert the catalog from FILE, then route order lines that were waiting for these SKUs.

    Rows naming an unconfigured vendor, a SKU twice, or a malformed value are refused with their line; the
    good rows are kept. Exit code 4 when anything was refused.
    """
    from orderflow.catalog import import_catalog_file

    state = app_context(ctx)
    run_as_job(ctx, "catalog import", lambda: import_catalog_file(
        engine=state.engine, settings=state.settings, path=file, now=state.clock.now()))


@app.command("suggest")
def suggest(
    ctx: typer.Context,
    export: Path = typer.Argument(..., exists=True, dir_okay=False, help="A storefront export (Shopify CSV, ...)."),
) -> None:
    """Print, as CSV ready to fill in and import, the product/variant pairs of EXPORT's lines that have no SKU
    and that the catalog does not cover yet (stores that sell without SKUs route by product and variant)."""
    from orderflow.catalog import SUGGESTION_COLUMNS, suggest_catalog_rows
    from orderflow.cli import render
    from orderflow.db.engine import reader, session_factory

    with session_factory(reader(app_context(ctx).engine))() as session:
        rows = suggest_catalog_rows(session=session, path=export)
    render.print_csv(SUGGESTION_COLUMNS, rows)
