"""Output at the command-line edge: Rich tables on a terminal, stable JSON and CSV for machines."""

from __future__ import annotations

import csv
import dataclasses
import enum
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

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
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


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


def first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0]
