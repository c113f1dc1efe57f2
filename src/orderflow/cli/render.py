"""Output at the command-line edge: Rich tables on a terminal, stable JSON and CSV for machines.

Every string shown here may have come from outside (a vendor's rejection reason, a carrier's event, a customer's
name, a file name), so it is data, never markup: the console parses no markup, emoji codes or highlighting,
every cell is a :class:`~rich.text.Text`, and every control or escape character is spelled out first
(:func:`orderflow.outside_text.inert`). Our own styling is applied to ``Text`` spans, never written as markup.

Every time shown to a person is in one zone and says which (:class:`Times`); JSON keeps ISO-8601 with offsets.
"""

from __future__ import annotations

import csv
import dataclasses
import enum
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from orderflow import spreadsheets
from orderflow.outside_text import inert, json_inert

FORMATS = ("table", "csv", "json")


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader went away (``| head -1``): stop writing and let the command line end the command with the
        closed-pipe status, as for any other write to stdout (Rich would exit 1 on its own)."""
        self.quiet = True
        raise BrokenPipeError


def console(*, stderr: bool = False, file: IO[str] | None = None, width: int | None = None) -> Console:
    """A console that shows text as it is: no markup, no emoji codes, no highlighting of numbers or URLs."""
    return _Console(stderr=stderr, file=file, width=width, markup=False, emoji=False, highlight=False)


@dataclass(frozen=True)
class Times:
    """How times are shown to a person: in one zone, each with its abbreviation (``2026-11-04 23:59 CST``)."""

    zone: tzinfo = UTC
    name: str = "UTC"

    def at(self, value: datetime | None, zone: tzinfo | None = None) -> str:
        """A time to the minute, in ``zone`` (default: this view's) and saying which."""
        return "" if value is None else value.astimezone(zone or self.zone).strftime("%Y-%m-%d %H:%M %Z")

    def day(self, value: datetime | None) -> str:
        """The day a time falls on in this view's zone, as ``05 Nov``."""
        return "" if value is None else value.astimezone(self.zone).strftime("%d %b")


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
    return json_inert(json.dumps(document, default=_jsonable, indent=2, ensure_ascii=False))


def print_json(document: Any) -> None:
    """One JSON document on stdout and nothing else."""
    sys.stdout.write(to_json(document) + "\n")


def defang(cell: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula (= + - @ tab CR at the start) and a terminal will
    not act on (control characters spelled out)."""
    text = "" if cell is None else str(_jsonable(cell) if isinstance(cell, datetime | date | Decimal) else cell)
    return spreadsheets.defang(inert(text))


def print_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([defang(row.get(column)) for column in columns])


def shown(value: Any, times: Times = Times()) -> Text:
    """One value as a person reads it, inert: times in the view's zone, yes/blank for booleans."""
    if isinstance(value, Text):
        return value
    if isinstance(value, datetime):
        return Text(times.at(value))
    if isinstance(value, bool):
        return Text("yes" if value else "")
    return Text(inert("" if value is None else str(value)))


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                out: Console | None = None, times: Times = Times()) -> None:
    table = Table(title=shown(title), title_justify="left", expand=False)
    for column in columns:
        table.add_column(shown(column), overflow="fold")
    for row in rows:
        table.add_row(*(shown(cell, times) for cell in row))
    (out or console()).print(table)


def print_rows(title: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]], output: str, *,
               times: Times = Times()) -> None:
    """A list of flat records as a table, CSV or JSON, by ``--format``."""
    if output == "json":
        print_json(list(rows))
    elif output == "csv":
        print_csv(columns, rows)
    else:
        print_table(title, columns, ([row.get(column) for column in columns] for row in rows), times=times)


def print_lines(lines: Iterable[str], *, out: Console | None = None) -> None:
    """Plain lines of text (some of it from outside) on stdout, inert."""
    target = out or console()
    for line in lines:
        target.print(shown(line), soft_wrap=True)


def first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0]


def print_orders(orders: Sequence[Mapping[str, Any]], output: str, *, times: Times = Times()) -> None:
    if output == "json":
        print_json(list(orders))
        return
    flat = [{"order_number": order["order_number"], "placed_at": order["placed_at"], "state": order["state"],
             "vendor_orders": " ".join(f"{vo['vendor']}:{vo['state']}" for vo in order["vendor_orders"])}
            for order in orders]
    print_rows("Orders", ["order_number", "placed_at", "state", "vendor_orders"], flat, output, times=times)


def print_order(story: Mapping[str, Any], *, times: Times = Times(),
                vendor_zones: Mapping[str, tzinfo] | None = None, out: Console | None = None) -> None:
    """One order for a person: who, what, and where each vendor's part stands. Ship-by deadlines are shown in
    the vendor's own zone (the day it is judged by), every other time in the view's zone."""
    out = out or console()
    customer = story["customer"]
    out.print(Text.assemble((f"Order {inert(story['order_number'])}", "bold"),
                            f" ({inert(story['source'])}), placed {times.at(story['placed_at'])}, ",
                            (story["state"], "bold")))
    out.print(Text(inert(f"{customer['name'] or ''} <{customer['email'] or ''}>")))
    print_table("Lines", ["line", "sku", "qty", "vendor", "state"],
                ([line["line"], line["sku"], line["qty"], line["vendor"] or "", line["state"]]
                 for line in story["lines"]), out=out, times=times)
    zones = vendor_zones or {}
    for vendor_order in story["vendor_orders"]:
        ship_by = times.at(vendor_order["ship_by"], zones.get(vendor_order["vendor"])) or "not set"
        print_table(f"{vendor_order['id']}: {vendor_order['state']}, ship by {ship_by}",
                    ["line", "sku", "vendor_sku", "qty", "state", "reason"],
                    ([line["line"], line["sku"], line["vendor_sku"], line["qty"], line["state"],
                      line.get("reason", "")] for line in vendor_order["lines"]), out=out, times=times)
    if story["shipments"]:
        print_table("Parcels", ["vendor order", "parcel", "status", "first scan", "lines"],
                    ([parcel["vendor_order"], f"{(parcel['carrier'] or '?').upper()} {parcel['tracking_number']}",
                      (parcel["status"] if parcel["tracking_valid"] else "invalid").replace("_", " "),
                      times.at(parcel["first_scan_at"]) or "never",
                      ", ".join(f"{line['line']}×{line['qty']}" for line in parcel["lines"])]
                     for parcel in story["shipments"]), out=out, times=times)
    if story["notifications"]:
        print_table("Notifications", ["id", "rule", "state", "evidence"],
                    ([note["id"], note["rule"].replace("_", " "),
                      "hidden" if note["suppressed_by"] and note["state"] != "resolved" else note["state"],
                      note["evidence"]]
                     for note in story["notifications"]), out=out, times=times)


SEVERITY_STYLE = {"critical": "bold red", "high": "red", "warning": "yellow", "info": "dim"}
SEVERITY_SHORT = {"critical": "crit", "high": "high", "warning": "warn", "info": "info"}


@dataclass(frozen=True)
class QueueView:
    """What the queue's table needs besides the notifications: ages, zones, links and the last look."""

    age: Callable[[datetime], float]
    """Business days from a time to now."""
    times: Times
    order_url: str
    vendor_zones: Mapping[str, tzinfo] = dataclasses.field(default_factory=dict)
    show_hidden: bool = False
    limit: int = 0
    last_look: datetime | None = None


_CAPS = {"id": 6, "sev": 4, "age": 7, "order": 10, "vendor": 8, "state": 18, "due": 16}
_EVIDENCE_MIN = 24


def _state(doc: Mapping[str, Any], view: QueueView) -> str:
    if view.show_hidden and doc["suppressed_by"] and doc["state"] != "resolved":
        return "hidden"
    if doc["state"] == "acknowledged":
        return f"ack {doc['acked_by'] or ''}".strip()
    if doc["state"] == "snoozed":
        return f"snoozed to {view.times.day(doc['snoozed_until'])}"
    return "" if doc["state"] == "open" else str(doc["state"])


def _due(doc: Mapping[str, Any], view: QueueView) -> str:
    """A lateness's deadline as the vendor's day, and how late it is in business days."""
    due_at = doc.get("due_at")
    if isinstance(due_at, str):
        due_at = datetime.fromisoformat(due_at)
    if not isinstance(due_at, datetime):
        return ""
    zone = view.vendor_zones.get(doc.get("vendor") or "", view.times.zone)
    late = doc.get("late_business_days")
    return f"{due_at.astimezone(zone):%d %b}" + (f" +{late:.1f}bd" if isinstance(late, int | float) else "")


def _queue_row(doc: Mapping[str, Any], view: QueueView) -> dict[str, Text]:
    order = Text(inert(doc["order_number"] or ""))
    if doc["order_number"]:
        order.stylize(f"link {view.order_url.format(order_number=doc['order_number'])}")
    evidence = doc["evidence"] + (f" [hidden: {doc['suppressed_by']}]" if view.show_hidden and
                                  doc["suppressed_by"] else "")
    return {
        "id": Text(str(doc["id"])),
        "sev": Text(SEVERITY_SHORT.get(doc["severity"], doc["severity"]),
                    style=SEVERITY_STYLE.get(doc["severity"], "")),
        "age": Text(f"{view.age(doc['opened_at']):.1f}bd" if doc["opened_at"] else ""),
        "order": order, "vendor": Text(inert(doc["vendor"] or "")),
        "state": Text(inert(_state(doc, view))), "due": Text(_due(doc, view)),
        "evidence": Text(inert(evidence)),
    }


def queue_summary(documents: Sequence[Mapping[str, Any]], view: QueueView) -> str:
    """One line on top: how many by severity, the oldest, and what is new since the last look."""
    counts = {severity: sum(doc["severity"] == severity for doc in documents) for severity in SEVERITY_STYLE}
    parts = [f"{len(documents)} in the queue: " + ", ".join(f"{count} {severity}"
                                                            for severity, count in counts.items() if count)]
    opened = [doc["opened_at"] for doc in documents if doc["opened_at"]]
    if opened:
        parts.append(f"oldest {view.age(min(opened)):.1f} business days")
    if view.last_look is not None:
        last_look = view.last_look
        new = sum(1 for moment in opened if moment > last_look)
        parts.append(f"{new} new since your last look ({view.times.at(last_look)})")
    return " · ".join(parts)


def print_queue(documents: Sequence[Mapping[str, Any]], view: QueueView, *, out: Console | None = None) -> None:
    """The queue as a person reads it: a summary line, then one aligned table with a group row per type and
    its count, at most ``view.limit`` rows a type (0: all) and a line saying how to see the rest. Evidence
    takes the width that is left and at most two lines; ``why`` and JSON have it whole."""
    from itertools import groupby

    out = out or console()
    if not documents:
        out.print("Nothing needs a person right now.")
        return
    out.print(Text(queue_summary(documents, view), style="bold"))
    groups = [(rule, list(items)) for rule, items in groupby(documents, key=lambda doc: doc["rule"])]
    rows = {doc["id"]: _queue_row(doc, view) for _, items in groups for doc in items[:view.limit or None]}
    columns = [name for name in _CAPS if name in ("id", "sev", "age", "order", "vendor")
               or any(row[name].plain for row in rows.values())]
    widths = {name: min(_CAPS[name], max([len(name)] + [row[name].cell_len for row in rows.values()]))
              for name in columns}
    evidence_width = max(_EVIDENCE_MIN, out.width - sum(widths.values()) - len(widths))
    indent = sum(widths.values()) + len(widths)
    # Each run of cropped lines goes to the console at once: a print per line costs more than the lines.
    cropped = [Text(" ".join(name.ljust(widths[name]) for name in columns) + " evidence", style="bold")]
    for rule, items in groups:
        title = f"── {rule.replace('_', ' ')} ({len(items)}) "
        cropped.append(Text(title + "─" * max(0, min(out.width, indent + evidence_width) - len(title)),
                            style="bold"))
        for doc in items[:view.limit or None]:
            row = rows[doc["id"]]
            line = Text(" ").join(_fitted(row[name], widths[name]) for name in columns)
            evidence = _two_lines(row["evidence"], evidence_width, out)
            cropped.append(Text.assemble(line, " ", evidence[0]))
            if len(evidence) > 1:
                cropped.append(Text.assemble(" " * indent, evidence[1]))
        out.print(Text("\n").join(cropped), no_wrap=True, overflow="crop")
        cropped = []
        if view.limit and len(items) > view.limit:
            out.print(Text(f"... and {len(items) - view.limit} more: --type {rule} --limit 0 lists them all",
                           style="dim"))
    legend = ["age: business days since it opened"]
    if "due" in columns:
        legend.append("due: the vendor's deadline day and how late")
    out.print(Text("; ".join([*legend, f"times in {view.times.name}"]), style="dim"))


def _fitted(cell: Text, width: int) -> Text:
    fitted = cell.copy()
    fitted.truncate(width, overflow="ellipsis", pad=True)
    return fitted


def _two_lines(text: Text, width: int, out: Console) -> list[Text]:
    lines = list(text.wrap(out, width, overflow="fold"))
    if len(lines) > 2:
        second = lines[1].copy()
        second.truncate(width - 1, overflow="crop")
        second.rstrip()
        lines = [lines[0], Text.assemble(second, "…")]
    return [line.copy() for line in lines] or [Text("")]


def print_history(notification: Any, events: Sequence[Any], *, times: Times) -> None:
    """``why``: the notification named as staff know it (order number, vendor order id, tracking number), the
    threshold its rule found crossed, then every transition with when, who and why."""
    lines = [f"#{notification.id} {notification.rule} ({notification.severity}, {notification.state}) on "
             f"{staff_names(notification)}: {notification.evidence}"]
    crossed = threshold(notification, times)
    if crossed:
        lines.append(f"threshold crossed: {crossed}")
    if notification.acked_by and notification.state == "acknowledged":
        lines.append(f"acknowledged by {notification.acked_by}")
    if notification.suppressed_by:
        lines.append(f"hidden: {notification.suppressed_by}")
    lines += [f"{times.at(event.at)}  {event.from_state or '-':>12} -> {event.to_state:<12} "
              f"{event.actor}: {event.reason}" for event in events]
    print_lines(lines)


SUBJECTS_BY_DATABASE_ID = frozenset({"order", "order_line", "shipment"})
"""Subjects whose id is a database row number, which staff never see: they are named by what they belong to."""


def staff_names(notification: Any) -> str:
    """``order 1042, vendor order TB1042-ACME, tracking 1Z...``: what staff call the subject and what it
    belongs to, never a database id; a carrier, job, vendor or file by its own name."""
    names = []
    if notification.order_number:
        names.append(f"order {notification.order_number}")
    if notification.vendor_order_id:
        line = f" line {notification.subject_id.rsplit(':', 1)[-1]}" \
            if notification.subject_type == "vendor_order_line" else ""
        names.append(f"vendor order {notification.vendor_order_id}{line}")
    if notification.tracking_number:
        names.append(f"tracking {notification.tracking_number}")
    if not names and notification.subject_type not in SUBJECTS_BY_DATABASE_ID:
        names.append(f"{notification.subject_type.replace('_', ' ')} {notification.subject_id}")
    return ", ".join(names) or notification.subject_type.replace("_", " ")


def threshold(notification: Any, times: Times) -> str:
    """Which threshold the rule found crossed and by how much, as of its last run: the rule's own words, or
    for a notification from before it gave them, its deadline and lateness."""
    labels = notification.labels or {}
    seen = f" (as of {times.at(notification.last_seen_at)})" if notification.last_seen_at else ""
    if labels.get("threshold"):
        return f"{labels['threshold']}{seen}"
    if labels.get("due_at") and labels.get("late_business_days"):
        due = datetime.fromisoformat(str(labels["due_at"]))
        return f"past its deadline {times.at(due)} by {labels['late_business_days']} business days{seen}"
    return ""
