"""The day a report is for, and the report built for it: shared by the report's writer and its mailer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from orderflow.config import Settings
from orderflow.errors import InputError
from orderflow.reports.cells import csv_bytes
from orderflow.reports.summary import Summary
from orderflow.reports.trends import Bounds

FILES = ("open_notifications.csv", "shipped.csv", "late_vendor_orders.csv", "in_transit_aging.csv",
         "vendor_scorecard.csv")


@dataclass(frozen=True)
class ReportDay:
    """The shop's day a report is for: its local date, its bounds in UTC, and the instant it is judged at."""

    day: date
    zone: ZoneInfo
    starts: datetime
    ends: datetime
    as_of: datetime
    """The end of the day (its last microsecond), or now when the day is not over yet."""

    @classmethod
    def of(cls, settings: Settings, now: datetime, day: date | None = None) -> ReportDay:
        """``day``, by default yesterday in the shop's zone (cron sends the report the next morning); a day that
        has not begun yet is refused."""
        zone = ZoneInfo(settings.timezone)
        today = now.astimezone(zone).date()
        day = day or today - timedelta(days=1)
        if day > today:
            raise InputError(f"--date {day.isoformat()} has not begun yet in {settings.timezone} (today is "
                             f"{today.isoformat()})")
        return cls.of_zone(zone, day, now)

    def earlier(self, days: int) -> ReportDay:
        """The day ``days`` before this one, judged at its end."""
        return ReportDay.of_zone(self.zone, self.day - timedelta(days=days), self.ends)

    @classmethod
    def of_zone(cls, zone: ZoneInfo, day: date, now: datetime) -> ReportDay:
        starts = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        ends = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        return cls(day=day, zone=zone, starts=starts, ends=ends, as_of=min(now, ends - timedelta(microseconds=1)))

    @property
    def bounds(self) -> Bounds:
        return Bounds(day=self.day, starts=self.starts, as_of=self.as_of)

    def run_of(self, days: int) -> list[Bounds]:
        """``days`` days ending with this one, oldest first, each judged at its end (this one at its instant)."""
        return [self.earlier(back).bounds for back in range(days - 1, 0, -1)] + [self.bounds]


@dataclass
class DailyReport:
    """The report's tables, ready for people (text cells), and the summary the email leads with."""

    day: ReportDay
    tables: dict[str, pd.DataFrame]
    summary: Summary
    charts: dict[str, bytes] = field(default_factory=dict)
    """PNG files by name; none when matplotlib is not installed."""
    files: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.files = {name: csv_bytes(self.tables[name]) for name in FILES}

    def counts(self) -> dict[str, int]:
        return {"open_notifications": len(self.tables["open_notifications.csv"]),
                "shipped": len(self.tables["shipped.csv"]),
                "late_vendor_orders": len(self.tables["late_vendor_orders.csv"]),
                "in_transit": len(self.tables["in_transit_aging.csv"]),
                "vendors": len(self.tables["vendor_scorecard.csv"])}
