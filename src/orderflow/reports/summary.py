"""The daily email's summary: open problems counted by type and severity, the day's numbers, the worst vendors.

The same facts as HTML and as plain text. Neither holds a link: the plain text is what a careful mail client
shows, and a summary people forward should not carry admin URLs.

    >>> summary = summarize(day=day, zone=zone, as_of=as_of, notifications=frame, ...)  # doctest: +SKIP
    >>> print(text(summary))  # doctest: +SKIP
    Daily report for Tue 3 Nov 2026 (times in America/New_York, as of 18:30)
    ...
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from zoneinfo import ZoneInfo

import pandas as pd

from orderflow.reports.cells import percent
from orderflow.rules.queue import type_rank
from orderflow.rules.vocabulary import SEVERITY_ORDER

WEEK_DAYS = 7.0


@dataclass(frozen=True)
class VendorStanding:
    """One vendor's figures that decide how worrying it is."""

    code: str
    name: str
    vendor_orders: int
    orders_due: int
    on_time_rate: float | None
    rejection_rate: float | None
    late_now: int
    open_problems: int

    @property
    def troubled(self) -> bool:
        """Anything at all to worry about: a vendor with a clean record is never among the worst."""
        return bool(self.late_now or self.open_problems or (self.rejection_rate or 0) > 0
                    or (self.on_time_rate is not None and self.on_time_rate < 1))

    def rank(self) -> tuple[int, float, float, int, str]:
        """Most late vendor orders now first, then the lowest on-time rate, most rejections, most problems."""
        on_time = 1.0 if self.on_time_rate is None else self.on_time_rate
        return (-self.late_now, on_time, -(self.rejection_rate or 0.0), -self.open_problems, self.code)


@dataclass(frozen=True)
class Summary:
    day: date
    zone: str
    as_of: datetime
    """Local time of the instant the report judges."""
    by_type: list[tuple[str, dict[str, int]]]
    """Open problems per rule in queue order, counted per severity."""
    shipped: int
    late: int
    in_transit: int
    in_transit_week: int
    """Parcels on the way for a week or more."""
    worst_vendors: list[VendorStanding]
    scorecard_days: int
    files: tuple[str, ...]

    @property
    def open_problems(self) -> int:
        return sum(sum(counts.values()) for _, counts in self.by_type)

    def by_severity(self) -> dict[str, int]:
        return {severity: sum(counts.get(severity, 0) for _, counts in self.by_type) for severity in SEVERITY_ORDER}

    @property
    def title(self) -> str:
        return f"Daily report for {self.day:%a} {self.day.day} {self.day:%b %Y}"


def summarize(*, day: date, zone: ZoneInfo, as_of: datetime, notifications: pd.DataFrame, shipped: int, late: int,
              in_transit: pd.Series[float], standings: Sequence[VendorStanding], worst: int, scorecard_days: int,
              files: Sequence[str]) -> Summary:
    """The summary's facts: ``notifications`` is the queue (``rule`` and ``severity`` columns), ``in_transit`` the
    days each parcel in transit has been on the way."""
    counts: dict[str, Counter[str]] = {}
    for rule, severity in zip(notifications["rule"].tolist(), notifications["severity"].tolist(), strict=True):
        counts.setdefault(str(rule), Counter())[str(severity)] += 1
    by_type = [(rule, dict(counts[rule])) for rule in sorted(counts, key=type_rank)]
    troubled = sorted((standing for standing in standings if standing.troubled), key=VendorStanding.rank)
    return Summary(day=day, zone=str(zone), as_of=as_of.astimezone(zone), by_type=by_type, shipped=shipped, late=late,
                   in_transit=len(in_transit), in_transit_week=int((in_transit >= WEEK_DAYS).sum()),
                   worst_vendors=troubled[:worst], scorecard_days=scorecard_days, files=tuple(files))


def subject(summary: Summary) -> str:
    problems = summary.open_problems
    return (f"[orderflow] {summary.title}: {problems} open problem{'s' if problems != 1 else ''}, "
            f"{summary.shipped} shipped, {summary.late} late")


def _severities(summary: Summary) -> str:
    return ", ".join(f"{count} {severity}" for severity, count in summary.by_severity().items() if count)


def _on_time(vendor: VendorStanding) -> str:
    return f"{percent(vendor.on_time_rate)} of {vendor.orders_due}" if vendor.on_time_rate is not None else "none due"


def _rejected(vendor: VendorStanding) -> str:
    return f"{percent(vendor.rejection_rate)} of {vendor.vendor_orders}" if vendor.vendor_orders else "none sent"


def _facts(summary: Summary) -> list[str]:
    return [f"Parcels first scanned that day: {summary.shipped}",
            f"Vendor orders late (past ship-by, not scanned): {summary.late}",
            f"Parcels in transit: {summary.in_transit}, {summary.in_transit_week} of them for a week or more"]


def text(summary: Summary) -> str:
    """The plain-text summary (no links)."""
    lines = [f"{summary.title} (times in {summary.zone}, as of {summary.as_of:%Y-%m-%d %H:%M})", ""]
    severities = _severities(summary)
    lines.append(f"Open problems: {summary.open_problems}" + (f" ({severities})" if severities else ""))
    if summary.by_type:
        lines.append(f"  {'type':<26}" + "".join(f"{severity:>10}" for severity in SEVERITY_ORDER) + f"{'total':>8}")
        for rule, counts in summary.by_type:
            lines.append(f"  {rule.replace('_', ' '):<26}" + "".join(f"{counts.get(severity, 0):>10}"
                                                                    for severity in SEVERITY_ORDER)
                         + f"{sum(counts.values()):>8}")
    lines += ["", *_facts(summary), ""]
    if summary.worst_vendors:
        lines.append(f"Worst vendors (last {summary.scorecard_days} days):")
        for vendor in summary.worst_vendors:
            lines.append(f"  {vendor.code} ({vendor.name}): on time {_on_time(vendor)}, {vendor.late_now} late now, "
                         f"rejected {_rejected(vendor)}, "
                         f"{vendor.open_problems} open problems")
    else:
        lines.append(f"No vendor gave trouble in the last {summary.scorecard_days} days.")
    lines += ["", "Attached: " + ", ".join(summary.files), ""]
    return "\n".join(lines)


_TABLE = 'style="border-collapse:collapse;margin:0.5em 0"'
_CELL = 'style="border:1px solid #ccc;padding:2px 8px;text-align:{align}"'


def _row(cells: Sequence[object], *, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(
        f"<{tag} {_CELL.format(align='left' if index == 0 else 'right')}>{escape(str(cell))}</{tag}>"
        for index, cell in enumerate(cells)) + "</tr>"


def html(summary: Summary) -> str:
    """The HTML summary: the same facts as :func:`text`, in tables."""
    severities = _severities(summary)
    parts = [f"<h2>{escape(summary.title)}</h2>",
             f"<p>Times in {escape(summary.zone)}, as of {summary.as_of:%Y-%m-%d %H:%M}.</p>",
             f"<h3>Open problems: {summary.open_problems}" + (f" ({escape(severities)})" if severities else "")
             + "</h3>"]
    if summary.by_type:
        parts.append(f"<table {_TABLE}>" + _row(["type", *SEVERITY_ORDER, "total"], header=True) + "".join(
            _row([rule.replace("_", " "), *(counts.get(severity, 0) for severity in SEVERITY_ORDER),
                  sum(counts.values())]) for rule, counts in summary.by_type) + "</table>")
    parts.append("<ul>" + "".join(f"<li>{escape(fact)}</li>" for fact in _facts(summary)) + "</ul>")
    if summary.worst_vendors:
        parts.append(f"<h3>Worst vendors (last {summary.scorecard_days} days)</h3>")
        parts.append(f"<table {_TABLE}>" + _row(["vendor", "on time", "late now", "rejected", "open problems"],
                                                header=True) + "".join(
            _row([f"{vendor.code} ({vendor.name})", _on_time(vendor), vendor.late_now,
                  _rejected(vendor), vendor.open_problems])
            for vendor in summary.worst_vendors) + "</table>")
    else:
        parts.append(f"<p>No vendor gave trouble in the last {summary.scorecard_days} days.</p>")
    parts.append(f"<p>Attached: {escape(', '.join(summary.files))}</p>")
    return "<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif\">\n" + "\n".join(parts) + "\n</body></html>\n"
