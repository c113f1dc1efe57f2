"""The daily email's summary: the day's figures beside the day before's and the week's, open problems by type and
severity, on-time rates by vendor and carrier, and the vendors holding up the most business.

The same facts as HTML and as plain text, from Jinja2 templates a shop can replace (ours are in
``orderflow/reports/templates``; a shop puts its own in the folder named by ``[report] templates``, file by
file: ``daily.txt`` and ``daily.html``). Both get ``report`` (a :class:`Summary`), ``severities``
(:data:`SEVERITY_ORDER`), ``percent`` (``0.923`` → ``92.3%``), ``figure`` (a headline figure as people read it) and
``rate`` (``3 of 4 (75.0%)``). The HTML is escaped as it is rendered. Neither holds a link: the plain text is
what a careful mail client shows, and a summary people forward should not carry admin URLs.

    >>> summary = summarize(day=day, zone=zone, as_of=as_of, notifications=frame, ...)  # doctest: +SKIP
    >>> print(render(summary, templates)[0])  # doctest: +SKIP
    Daily report for Tue 3 Nov 2026 (times in America/New_York, as of 18:30)
    ...
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from orderflow.customers.messages import Templates
from orderflow.reports.cells import percent
from orderflow.reports.charts import NOT_INSTALLED
from orderflow.reports.trends import DayFigures, compare, rates
from orderflow.rules.queue import type_rank
from orderflow.rules.vocabulary import SEVERITY_ORDER

WEEK_DAYS = 7.0
TEMPLATE_NAMES = ("daily.txt", "daily.html")
HEADLINES = {"orders_received": "Orders received", "vendor_orders_sent": "Vendor orders sent",
             "first_scanned": "Parcels first scanned", "delivered": "Parcels delivered",
             **{f"open_{severity}": f"Open problems, {severity}" for severity in SEVERITY_ORDER},
             "value_at_risk": "Value of orders at risk"}
"""The headline figures' names as people read them, in the order shown."""


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
    blocked_orders: int = 0
    """Vendor orders it holds up: it cannot be reached, did not answer, rejected, is out of stock, or is late."""
    blocked_value: Decimal = Decimal(0)

    @property
    def troubled(self) -> bool:
        """Anything at all to worry about: a vendor with a clean record is never among the worst."""
        return bool(self.blocked_orders or self.late_now or self.open_problems or (self.rejection_rate or 0) > 0
                    or (self.on_time_rate is not None and self.on_time_rate < 1))

    def rank(self) -> tuple[Decimal, int, int, float, float, int, str]:
        """The business it holds up first (its value, then how many vendor orders), then late vendor orders now,
        the lowest on-time rate, most rejections, most problems: a vendor that has been unreachable for days
        comes before one with a few late parcels."""
        on_time = 1.0 if self.on_time_rate is None else self.on_time_rate
        return (-self.blocked_value, -self.blocked_orders, -self.late_now, on_time, -(self.rejection_rate or 0.0),
                -self.open_problems, self.code)

    @property
    def rejected(self) -> str:
        return f"{percent(self.rejection_rate)} of {self.vendor_orders}" if self.vendor_orders else "none sent"

    @property
    def on_time(self) -> str:
        return f"{percent(self.on_time_rate)} of {self.orders_due}" if self.on_time_rate is not None else "none due"


@dataclass(frozen=True)
class Headline:
    name: str
    label: str
    value: float
    day_before: float | None
    week_average: float | None


@dataclass(frozen=True)
class RateRow:
    """A vendor's or carrier's on-time parcels on the day and over the 7 days before: ``(on time, out of)``."""

    name: str
    day: tuple[int, int]
    week: tuple[int, int]


@dataclass(frozen=True)
class Chart:
    """A picture in the email: ``cid`` is its ``Content-ID`` (without brackets), ``filename`` its file."""

    cid: str
    filename: str
    title: str


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
    headlines: list[Headline] = field(default_factory=list)
    vendor_rates: list[RateRow] = field(default_factory=list)
    carrier_rates: list[RateRow] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    charts_note: str = ""
    """Why there are no charts, when there are none."""

    @property
    def open_problems(self) -> int:
        return sum(sum(counts.values()) for _, counts in self.by_type)

    def by_severity(self) -> dict[str, int]:
        return {severity: sum(counts.get(severity, 0) for _, counts in self.by_type) for severity in SEVERITY_ORDER}

    @property
    def severities(self) -> str:
        """``1 critical, 2 warning``: the severities that have any."""
        return ", ".join(f"{count} {severity}" for severity, count in self.by_severity().items() if count)

    @property
    def title(self) -> str:
        return f"Daily report for {self.day:%a} {self.day.day} {self.day:%b %Y}"

    @property
    def facts(self) -> list[str]:
        return [f"Parcels first scanned that day: {self.shipped}",
                f"Vendor orders late (past ship-by, not scanned): {self.late}",
                f"Parcels in transit: {self.in_transit}, {self.in_transit_week} of them for a week or more"]


def summarize(*, day: date, zone: ZoneInfo, as_of: datetime, notifications: pd.DataFrame, shipped: int, late: int,
              in_transit: pd.Series[float], standings: Sequence[VendorStanding], worst: int, scorecard_days: int,
              files: Sequence[str], days: Sequence[DayFigures] = (), charts: Sequence[Chart] = ()) -> Summary:
    """The summary's facts: ``notifications`` is the queue (``rule`` and ``severity`` columns), ``in_transit`` the
    days each parcel in transit has been on the way, ``days`` the figures of the days up to the report's (the
    last), from which each headline figure is compared with the day before and the week before."""
    counts: dict[str, Counter[str]] = {}
    for rule, severity in zip(notifications["rule"].tolist(), notifications["severity"].tolist(), strict=True):
        counts.setdefault(str(rule), Counter())[str(severity)] += 1
    by_type = [(rule, dict(counts[rule])) for rule in sorted(counts, key=type_rank)]
    troubled = sorted((standing for standing in standings if standing.troubled), key=VendorStanding.rank)
    return Summary(day=day, zone=str(zone), as_of=as_of.astimezone(zone), by_type=by_type, shipped=shipped, late=late,
                   in_transit=len(in_transit), in_transit_week=int((in_transit >= WEEK_DAYS).sum()),
                   worst_vendors=troubled[:worst], scorecard_days=scorecard_days, files=tuple(files),
                   headlines=[Headline(name, HEADLINES[name], value, before, week)
                              for name, value, before, week in compare(list(days))] if days else [],
                   vendor_rates=[RateRow(name, *counts) for name, counts in rates(list(days), "vendor").items()]
                   if days else [],
                   carrier_rates=[RateRow(name, *counts) for name, counts in rates(list(days), "carrier").items()]
                   if days else [], charts=list(charts), charts_note="" if charts else NOT_INSTALLED)


def subject(summary: Summary) -> str:
    problems = summary.open_problems
    return (f"[orderflow] {summary.title}: {problems} open problem{'s' if problems != 1 else ''}, "
            f"{summary.shipped} shipped, {summary.late} late")


def report_templates(folder: Path | None) -> Templates:
    """The shop's report templates (``[report] templates``) over ours."""
    return Templates(folder, package="orderflow.reports", names=TEMPLATE_NAMES, what="report template",
                     setting="report.templates")


def render(summary: Summary, templates: Templates) -> tuple[str, str]:
    """The plain text and the HTML of the summary."""
    text, html = templates.render_each({"report": summary, "severities": SEVERITY_ORDER, "percent": percent,
                                        "figure": figure, "rate": rate})
    return text, html


def figure(headline: Headline, value: float | None) -> str:
    """A headline figure as people read it: money with two decimals, an average with one, a count whole."""
    if value is None:
        return ""
    if headline.name == "value_at_risk":
        return f"{value:,.2f}"
    return f"{value:.1f}" if value != int(value) else f"{int(value)}"


def rate(counted: tuple[int, int]) -> str:
    """``3 of 4 (75.0%)``, or ``none`` when nothing was judged."""
    good, out_of = counted
    return f"{good} of {out_of} ({percent(good / out_of)})" if out_of else "none"
