"""``orderflow report trends``: the daily report's charts and a CSV of its daily figures, for any run of days.

For people who want the trends outside the email: ``--days`` days (30 by default) up to a day (yesterday by
default), each judged as of its own end, as the daily report judges its day. The folder gets the charts (see
:mod:`orderflow.reports.charts`; the fortnight's chart of problems covers the whole period) and
``daily_series.csv``, one row per day:

- ``day``; ``orders_received``, ``vendor_orders_sent``, ``first_scanned``, ``delivered``;
- ``open_critical``, ``open_high``, ``open_warning``, ``open_info`` and ``open_total``: the queue at the day's end;
- ``value_at_risk``: what the vendor orders with an open late, rejected, out-of-stock or exception problem were
  worth (two decimals);
- ``on_time_rate`` and ``on_time_out_of``: of the parcels first scanned that day whose ship-by is known, the
  share scanned by it (a decimal fraction, empty when none), and how many that is out of.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from orderflow.config import Settings
from orderflow.errors import InputError
from orderflow.jobs import WorkResult
from orderflow.reports.cells import csv_bytes, fraction, money
from orderflow.reports.charts import NOT_INSTALLED, charts_available, draw_charts
from orderflow.reports.daily import in_transit_aging, snapshot, write_files
from orderflow.reports.report_day import ReportDay
from orderflow.reports.trends import DayFigures, daily_series
from orderflow.rules.vocabulary import SEVERITY_ORDER

SERIES_FILE = "daily_series.csv"
MOST_DAYS = 366


def trends_report(*, engine: Engine, settings: Settings, now: datetime, days: int, out_dir: Path,
                  last: date | None = None) -> WorkResult:
    """Write the charts and ``daily_series.csv`` for ``days`` days up to ``last`` into ``out_dir``."""
    if not 1 <= days <= MOST_DAYS:
        raise InputError(f"--days must be from 1 to {MOST_DAYS}, not {days}")
    report_day = ReportDay.of(settings, now, last)
    with snapshot(engine) as connection:
        series = daily_series(connection, settings, report_day.run_of(days))
        ages = in_transit_aging(connection, report_day)["days_since_first_scan"].astype(float)
    files = {SERIES_FILE: csv_bytes(series_frame(series.days))}
    result = WorkResult(counts={"days": len(series.days)})
    if charts_available():
        files |= draw_charts(series.days, series.parcels, ages, report_day.as_of)
    else:
        result.problems.append(NOT_INSTALLED)
    result.counts["charts"] = len(files) - 1
    result.detail = write_files(files, out_dir)
    return result


def series_frame(days: list[DayFigures]) -> pd.DataFrame:
    """One row per day, as :data:`SERIES_FILE` has it."""
    rows = []
    for figures in days:
        good = sum(on_time for on_time, _ in figures.on_time_by_vendor.values())
        out_of = sum(judged for _, judged in figures.on_time_by_vendor.values())
        rows.append({"day": figures.day.isoformat(), "orders_received": figures.orders_received,
                     "vendor_orders_sent": figures.vendor_orders_sent, "first_scanned": figures.first_scanned,
                     "delivered": figures.delivered,
                     **{f"open_{severity}": figures.open_by_severity.get(severity, 0) for severity in SEVERITY_ORDER},
                     "open_total": sum(figures.open_by_severity.values()),
                     "value_at_risk": money(figures.value_at_risk),
                     "on_time_rate": fraction(good / out_of if out_of else None), "on_time_out_of": out_of})
    return pd.DataFrame(rows)
