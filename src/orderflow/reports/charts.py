"""The report's pictures, as PNG files: drawn with matplotlib (the ``charts`` extra) when it is installed.

- ``open_problems_by_type.png``: open problems at each day's end, day by day (the daily report's last 14),
  stacked by type;
- ``vendor_on_time.png``: each vendor's on-time ship rate and median days from sending to first scan, week by
  week over the last 8 weeks;
- ``in_transit_by_age.png``: parcels in transit at the report's instant, by days since their first scan;
- ``transit_days_by_carrier.png``: days from first scan to delivery of the parcels delivered in the last 8 weeks,
  by carrier.

Every chart reads in grayscale (shades of gray with hatching or marker shapes tell series apart, never colour
alone) and has a title, units on its value axis and dates on its time axis. Figures are drawn on the Agg canvas
directly, never through pyplot, so nothing needs a display and nothing is kept between charts.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from orderflow.reports.trends import WEEKS, DayFigures, weekly_vendors
from orderflow.rules.queue import type_rank

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CHART_FILES = {"open_problems_by_type.png": "Open problems by type, day by day",
               "vendor_on_time.png": "Vendors week by week: on-time ship rate and days to first scan",
               "in_transit_by_age.png": "Parcels in transit by days since first scan",
               "transit_days_by_carrier.png": "Transit days by carrier (first scan to delivery)"}
NOT_INSTALLED = ("Charts are off: matplotlib is not installed here (pip install 'orderflow[charts]' adds it).")
GRAYS = ("0.15", "0.45", "0.7", "0.9", "0.3", "0.6", "0.8")
HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
AGE_BUCKETS = ((0, 1, "<1"), (1, 2, "1-2"), (2, 3, "2-3"), (3, 5, "3-5"), (5, 7, "5-7"), (7, 14, "7-14"),
               (14, float("inf"), "14+"))


def charts_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def draw_charts(days: list[DayFigures], parcels: pd.DataFrame, in_transit_days: pd.Series[float],
                as_of: datetime) -> dict[str, bytes]:
    """Every chart as PNG bytes by file name (see :data:`CHART_FILES`)."""
    return {
        "open_problems_by_type.png": _chart(lambda axes: _problems_by_type(axes, days)),
        "vendor_on_time.png": _figure(lambda figure: _vendor_weeks(figure, parcels, as_of, days[-1].day),
                                      height=5.5),
        "in_transit_by_age.png": _chart(lambda axes: _in_transit_by_age(axes, in_transit_days)),
        "transit_days_by_carrier.png": _chart(lambda axes: _transit_by_carrier(axes, parcels, as_of)),
    }


def _figure(draw: Callable[[Figure], None], *, height: float = 3.6) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    draw(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _chart(draw: Callable[[Axes], None]) -> bytes:
    def one(figure: Figure) -> None:
        axes = figure.add_subplot()
        axes.grid(axis="y", color="0.85", linewidth=0.6)
        axes.set_axisbelow(True)
        draw(axes)

    return _figure(one)


def _dates(axes: Axes, days: list[date]) -> None:
    """Every day's date under its bar; over a longer period every few days', so they stay readable."""
    every = max(1, len(days) // 14)
    shown = range(len(days) - 1, -1, -every)
    axes.set_xticks(list(shown), [f"{days[index]:%a}\n{days[index].day} {days[index]:%b}" for index in shown],
                    fontsize=7)


def _problems_by_type(axes: Axes, days: list[DayFigures]) -> None:
    rules = sorted({rule for figures in days for rule in figures.open_by_type}, key=type_rank)
    bottom = [0] * len(days)
    for index, rule in enumerate(rules):
        counts = [figures.open_by_type.get(rule, 0) for figures in days]
        axes.bar(range(len(days)), counts, bottom=bottom, label=rule.replace("_", " "),
                 color=GRAYS[index % len(GRAYS)], hatch=HATCHES[index % len(HATCHES)], edgecolor="black",
                 linewidth=0.5)
        bottom = [below + count for below, count in zip(bottom, counts, strict=True)]
    _dates(axes, [figures.day for figures in days])
    axes.set_title(f"Open problems by type, last {len(days)} days (at each day's end)")
    axes.set_ylabel("open problems (count)")
    _whole_numbers(axes)
    axes.set_xlabel("day (shop time)")
    if rules:
        axes.legend(fontsize=7, loc="upper left", ncols=2)
    else:
        _nothing(axes, "no open problems in these days")


def _vendor_weeks(figure: Figure, parcels: pd.DataFrame, as_of: datetime, last_day: date) -> None:
    weekly = weekly_vendors(parcels, as_of)
    rate_axes, days_axes = figure.subplots(2, 1, sharex=True)
    ends = [last_day - timedelta(weeks=WEEKS - 1 - week) for week in range(WEEKS)]
    for index, (vendor, rows) in enumerate(weekly.groupby("vendor")):
        style: dict[str, Any] = {"marker": MARKERS[index % len(MARKERS)], "color": GRAYS[index % 4],
                                 "linestyle": ("-", "--", ":", "-.")[index % 4], "label": str(vendor)}
        rate_axes.plot(rows["week"], rows["on_time_rate"] * 100, **style)
        days_axes.plot(rows["week"], rows["median_days_to_first_scan"], **style)
    rate_axes.set_title(CHART_FILES["vendor_on_time.png"] + f", last {WEEKS} weeks")
    rate_axes.set_ylabel("on time (% of parcels)")
    rate_axes.set_ylim(-5, 105)
    days_axes.set_ylabel("median days to first scan")
    days_axes.set_xticks(range(WEEKS), [f"week to\n{end.day} {end:%b}" for end in ends], fontsize=7)
    days_axes.set_xlabel("week (ending on the day shown)")
    for axes in (rate_axes, days_axes):
        axes.grid(axis="y", color="0.85", linewidth=0.6)
    if weekly.empty:
        _nothing(rate_axes, "no parcels scanned in these weeks")
    else:
        rate_axes.legend(fontsize=7, loc="lower left", ncols=3)


def _in_transit_by_age(axes: Axes, ages: pd.Series[float]) -> None:
    counts = [int(((ages >= low) & (ages < high)).sum()) for low, high, _ in AGE_BUCKETS]
    axes.bar(range(len(AGE_BUCKETS)), counts, color="0.55", edgecolor="black", linewidth=0.5)
    axes.set_xticks(range(len(AGE_BUCKETS)), [label for _, _, label in AGE_BUCKETS])
    axes.set_title(CHART_FILES["in_transit_by_age.png"])
    axes.set_xlabel("days since first scan")
    axes.set_ylabel("parcels (count)")
    _whole_numbers(axes)
    if not ages.size:
        _nothing(axes, "no parcels in transit")


def _transit_by_carrier(axes: Axes, parcels: pd.DataFrame, as_of: datetime) -> None:
    delivered = parcels[(parcels["delivered_at"] <= as_of) & (parcels["delivered_at"] > as_of - timedelta(weeks=WEEKS))
                        & parcels["first_scan_at"].notna()]
    days = (delivered["delivered_at"] - delivered["first_scan_at"]).dt.total_seconds() / 86400
    carriers = sorted(set(delivered["carrier"]))
    groups = [days[delivered["carrier"] == carrier].to_numpy() for carrier in carriers]
    if groups:
        axes.boxplot(groups, tick_labels=[f"{carrier}\n({len(group)})" for carrier, group in
                                          zip(carriers, groups, strict=True)],
                     patch_artist=True, boxprops={"facecolor": "0.8"}, medianprops={"color": "black"})
    else:
        _nothing(axes, "no parcels delivered in these weeks")
    axes.set_title(CHART_FILES["transit_days_by_carrier.png"] + f", last {WEEKS} weeks")
    axes.set_xlabel("carrier (parcels delivered)")
    axes.set_ylabel("transit days")
    axes.set_ylim(bottom=0)


def _whole_numbers(axes: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _nothing(axes: Axes, words: str) -> None:
    axes.text(0.5, 0.5, words, transform=axes.transAxes, ha="center", va="center", color="0.3")
