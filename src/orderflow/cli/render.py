"""Output at the command-line edge: Rich tables on a terminal, stable JSON and CSV for machines."""

from __future__ import annotations

import csv
import dataclasses
import enum
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from orderflow import spreadsheets

FORMATS = ("table", "csv", "json")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot put {type(value).__name__} in JSON")


def to_json(document: Any) -> str:
    return json.dumps(document, default=_jsonable, indent=2, ensure_ascii=False)


def print_json(document: Any) -> None:
    """One JSON document on stdout and nothing else."""
    sys.stdout.write(to_json(document) + "\n")


def defang(cell: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula (= + - @ tab CR at the start)."""
    text = "" if cell is None else str(_jsonable(cell) if isinstance(cell, datetime | date | Decimal) else cell)
    return spreadsheets.defang(text)


def print_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([defang(row.get(column)) for column in columns])


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                console: Console | None = None) -> None:
    table = Table(title=title, title_justify="left", expand=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    (console or Console()).print(table)


def short_time(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def short_date(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%d %b")


def first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0]


def print_rows(title: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]], output: str) -> None:
    """A list of flat records as a table, CSV or JSON, by ``--format``."""
    if output == "json":
        print_json(list(rows))
    elif output == "csv":
        print_csv(columns, rows)
    elif output == "table":
        print_table(title, columns, ([_cell(row.get(column)) for column in columns] for row in rows))
    else:
        raise ValueError(output)


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return short_time(value)
    if isinstance(value, bool):
        return "yes" if value else ""
    return "" if value is None else str(value)


def print_orders(orders: Sequence[Mapping[str, Any]], output: str) -> None:
    if output == "json":
        print_json(list(orders))
        return
    flat = [{"order_number": order["order_number"], "placed_at": order["placed_at"], "state": order["state"],
             "vendor_orders": " ".join(f"{vo['vendor']}:{vo['state']}" for vo in order["vendor_orders"])}
            for order in orders]
    print_rows("Orders", ["order_number", "placed_at", "state", "vendor_orders"], flat, output)


def print_order(story: Mapping[str, Any]) -> None:
    """One order for a person: who, what, and where each vendor's part stands."""
    console = Console()
    customer = story["customer"]
    console.print(f"[bold]Order {story['order_number']}[/bold] ({story['source']}), placed "
                  f"{short_time(story['placed_at'])} UTC, [bold]{story['state']}[/bold]")
    console.print(f"{customer['name']} <{customer['email']}>")
    print_table("Lines", ["line", "sku", "qty", "vendor", "state"],
                ([line["line"], line["sku"], line["qty"], line["vendor"] or "", line["state"]]
                 for line in story["lines"]), console=console)
    for vendor_order in story["vendor_orders"]:
        ship_by = short_time(vendor_order["ship_by"]) or "not set"
        print_table(f"{vendor_order['id']}: {vendor_order['state']}, ship by {ship_by}",
                    ["line", "sku", "vendor_sku", "qty", "state", "reason"],
                    ([line["line"], line["sku"], line["vendor_sku"], line["qty"], line["state"],
                      line.get("reason", "")] for line in vendor_order["lines"]), console=console)
    if story["shipments"]:
        print_table("Parcels", ["vendor order", "parcel", "status", "scanned", "lines"],
                    ([parcel["vendor_order"], f"{(parcel['carrier'] or '?').upper()} {parcel['tracking_number']}",
                      (parcel["status"] if parcel["tracking_valid"] else "invalid").replace("_", " "),
                      short_date(parcel["first_scan_at"]) or "never",
                      ", ".join(f"{line['line']}×{line['qty']}" for line in parcel["lines"])]
                     for parcel in story["shipments"]), console=console)
    if story["notifications"]:
        print_table("Notifications", ["id", "rule", "state", "evidence"],
                    ([note["id"], note["rule"].replace("_", " "),
                      "hidden" if note["suppressed_by"] and note["state"] != "resolved" else note["state"],
                      note["evidence"]]
                     for note in story["notifications"]), console=console)


SEVERITY_STYLE = {"critical": "bold red", "high": "red", "warning": "yellow", "info": "dim"}


def print_queue(documents: Sequence[Mapping[str, Any]], *, age: Callable[[datetime], str], order_url: str,
                show_hidden: bool, limit: int = 0) -> None:
    """The queue as a person reads it: one table per type with its count, order numbers as links, at most
    ``limit`` rows a type (0: all) and a line saying how to see the rest."""
    from itertools import groupby

    from rich.text import Text

    console = Console()
    if not documents:
        console.print("Nothing needs a person right now.")
        return
    for rule, group in groupby(documents, key=lambda doc: doc["rule"]):
        items = list(group)
        table = Table(title=f"{rule.replace('_', ' ')} ({len(items)})", title_justify="left")
        for column in ("id", "sev", "age", "order", "vendor", "evidence"):
            table.add_column(column, overflow="fold", no_wrap=column in ("id", "sev", "age"))
        for doc in items[:limit or None]:
            order = Text(doc["order_number"] or "")
            if doc["order_number"]:
                order.stylize(f"link {order_url.format(order_number=doc['order_number'])}")
            evidence = doc["evidence"] + (f" [hidden: {doc['suppressed_by']}]" if show_hidden and
                                          doc["suppressed_by"] else "")
            state = "" if doc["state"] == "open" else f" ({doc['state']})"
            table.add_row(str(doc["id"]), Text(doc["severity"], style=SEVERITY_STYLE.get(doc["severity"], "")),
                          age(doc["opened_at"]) if doc["opened_at"] else "", order, doc["vendor"] or "",
                          evidence + state)
        console.print(table)
        if limit and len(items) > limit:
            console.print(f"[dim]... and {len(items) - limit} more: --type {rule} --limit 0 lists them all[/dim]")

