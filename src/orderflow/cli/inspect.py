"""``orderflow inspect``: what orderflow reads from a vendor file, applying nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from orderflow.cli import values
from orderflow.cli.context import app_context


def inspect(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The vendor file (X12, CSV or JSON)."),
    vendor: str = typer.Option(..., "--vendor", help="The configured vendor the file comes from."),
    output: str = typer.Option("table", "--format", parser=values.one_of(*values.TABLE_JSON, what="format"),
                               metavar=values.metavar(*values.TABLE_JSON), help="How to print what was read."),
) -> None:
    """Show the acknowledgements, shipments, stock, refusals and warnings orderflow reads from FILE.

    Nothing is stored or sent, and envelope ids or purchase orders that do not match the vendor are warnings:
    run it when onboarding a vendor, or to see why a file was refused.
    """
    from orderflow.cli import render
    from orderflow.vendors.inspection import inspect_vendor_file

    settings = app_context(ctx).settings
    code = values.checked(vendor, settings.vendor_codes, what="vendor", option="--vendor")
    report = inspect_vendor_file(file.read_bytes(), file=file.name, vendor=settings.vendor(code))
    if output == "json":
        render.print_json(report)
        return
    for title, columns, rows in _tables(report):
        render.print_table(title, columns, rows)


def _tables(report: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The document as tables for a person: one row per acknowledged line, shipped item, stock level."""
    acks = [[ack["vendor_order"], ack["status"], line["line"], line["vendor_sku"] or line["sku"] or line["upc"],
             line["qty"], line["status"]] for ack in report["acknowledgements"] for line in ack["lines"] or [
                 {"line": None, "vendor_sku": "", "sku": "", "upc": "", "qty": None, "status": ""}]]
    shipped = [[shipment["vendor_order"], shipment["carrier"], "freight" if shipment["freight"] else "parcel",
                parcel["tracking_number"], item["line"], item["vendor_sku"] or item["upc"], item["qty"]]
               for shipment in report["shipments"]
               for parcel in shipment["parcels"] or [{"tracking_number": shipment["pro_number"],
                                                     "items": shipment["items"]}]
               for item in parcel["items"] or [{"line": None, "vendor_sku": "", "upc": "", "qty": None}]]
    return [
        ("Acknowledgements", ["vendor order", "status", "line", "item", "qty", "line status"], acks),
        ("Shipments", ["vendor order", "carrier", "kind", "tracking / PRO", "line", "item", "qty"], shipped),
        ("Stock", ["vendor sku", "upc", "qty", "next available"],
         [[level["vendor_sku"], level["upc"], level["qty"], level["next_available"]] for level in report["stock"]]),
        ("Refusals", ["where", "reason"], [[refusal["where"], refusal["reason"]] for refusal in report["refusals"]]),
        ("Warnings", ["warning"], [[warning] for warning in report["warnings"]]),
    ]
