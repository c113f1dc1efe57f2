"""``orderflow report daily``: the day's CSV files, and an email with a summary, for the shop's business day.

The day is a date in the shop's time zone (``timezone``), yesterday unless told: cron sends the report in the
morning, for the whole of the day before. The report judges everything *as of* the end of that day (or now, for
today so far). Five files:

- ``open_notifications.csv``: the staff queue as ``orderflow notifications`` ranks it (type, severity, age), with
  the fields of its JSON output and a ``rank``. It is the queue as it stood at the report's instant, rebuilt from
  the notifications' history (see :mod:`orderflow.reports.queue_then`), so a past day's is the same whenever made.
- ``shipped.csv``: parcels the carrier first scanned that day, and whether that was by the vendor's ship-by.
- ``late_vendor_orders.csv``: vendor orders the vendor has, past their ship-by, with units that have no carrier
  scan yet: how many vendor business days late, and the evidence.
- ``in_transit_aging.csv``: parcels scanned and not delivered: days since the first scan, the last status.
- ``vendor_scorecard.csv``: each vendor over the last ``scorecard_days`` (see :mod:`orderflow.reports.scorecard`).

With them go the charts (see :mod:`orderflow.reports.charts`) and ``report.json``, which says the instant the
report judges and whether its day was over by then: a folder written once the day was over is final and kept.
The email's summary compares the day's figures with the days before (see :mod:`orderflow.reports.trends`).

Every query is bounded by the day, the window or the active work (the states of open vendor orders, parcels
not delivered): a database with years of history is never read whole.

    >>> result = daily_report(engine=engine, settings=settings, now=now, email=True)  # doctest: +SKIP
    >>> result.counts  # doctest: +SKIP
    {'open_notifications': 12, 'shipped': 45, 'late_vendor_orders': 3, 'in_transit': 120, 'vendors': 5,
     'emailed': 1}
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, Engine, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from orderflow.carriers.status import TERMINAL_STATUSES, PackageStatus
from orderflow.config import Settings
from orderflow.db.engine import reader
from orderflow.db.models import (
    LineState,
    Order,
    OrderLine,
    Shipment,
    ShipmentLine,
    TrackingEvent,
    VendorOrder,
    VendorOrderLine,
)
from orderflow.errors import ConfigError, InputError
from orderflow.jobs import WorkResult
from orderflow.orders.lateness import LATE_STATES
from orderflow.orders.lifecycle import LIVE_ORDER_STATES
from orderflow.reports.business_days import vendor_business_days, with_ship_by
from orderflow.reports.cells import local_dates, local_times, money, one_decimal, read_frame, read_in
from orderflow.reports.charts import CHART_FILES, charts_available, draw_charts
from orderflow.reports.queue_then import queue_as_of
from orderflow.reports.report_day import FILES, DailyReport, ReportDay
from orderflow.reports.scorecard import format_scorecard, lines_then, vendor_scorecard
from orderflow.reports.summary import Chart, VendorStanding, summarize
from orderflow.reports.trends import daily_series
from orderflow.rules.queue import JSON_FIELDS

if TYPE_CHECKING:
    from orderflow.mail import Mailer

STAMP = "report.json"
TREND_DAYS = 14
"""Days of figures behind each report: the day, the one before, the week before it, and the charts' fortnight."""
IN_TRANSIT_STATUSES = tuple(status for status in PackageStatus if status not in TERMINAL_STATUSES)
_TIMES_IN_QUEUE = ("opened_at", "last_seen_at", "snoozed_until", "resolved_at", "pushed_at")


def daily_report(*, engine: Engine, settings: Settings, now: datetime, day: date | None = None,
                 out_dir: Path | None = None, email: bool = False, resend: bool = False, force: bool = False,
                 mailer: Callable[[], Mailer] | None = None) -> WorkResult:
    """Build the day's report, write its files to ``out_dir`` (default ``<report.out_dir>/<date>``) and, with
    ``email``, send it to ``report.recipients`` once (again only with ``resend``).

    A folder written once the day was over holds the day's final report and is kept as it is (``force`` writes
    it again); one written while the day was still going is replaced, since the day had more to come."""
    if resend and not email:
        raise InputError("--resend re-sends the email: use it with --email")
    if email and (settings.email is None or not settings.report.recipients):
        raise ConfigError("--email needs an [email] section and report.recipients")
    report_day = ReportDay.of(settings, now, day)
    report = build_daily_report(engine=engine, settings=settings, day=report_day)
    folder = out_dir or settings.path(settings.report.out_dir) / report_day.day.isoformat()
    result = WorkResult(counts=report.counts())
    if final_report_in(folder) and not force:
        result.counts["kept"] = 1
        result.detail = [folder / name for name in report.files]
    else:
        result.detail = write_files(report.files | report.charts | {STAMP: _stamp(report_day)}, folder)[:-1]
    if email:
        from orderflow.reports.send import send_report

        sending = send_report(engine=engine, settings=settings, report=report, now=now, resend=resend,
                              mailer=mailer)
        result.counts[sending.outcome] = 1
        result.problems.extend(sending.problems)
        result.exit_code = sending.exit_code
    return result


def build_daily_report(*, engine: Engine, settings: Settings, day: ReportDay) -> DailyReport:
    """Every table from one consistent read of the database."""
    with snapshot(engine) as connection:
        notifications = open_notifications(connection, day)
        shipped = shipped_parcels(connection, settings, day)
        late = late_vendor_orders(connection, settings, day)
        in_transit = in_transit_aging(connection, day)
        scorecard = vendor_scorecard(connection, settings=settings, as_of=day.as_of,
                                     days=settings.report.scorecard_days)
        series = daily_series(connection, settings, day.run_of(TREND_DAYS))
    standings = _standings(scorecard, late, notifications, series.days[-1].blocked)
    ages = in_transit["days_since_first_scan"].astype(float)
    charts = draw_charts(series.days, series.parcels, ages, day.as_of) if charts_available() else {}
    summary = summarize(day=day.day, zone=day.zone, as_of=day.as_of, notifications=notifications,
                        shipped=len(shipped), late=len(late), standings=standings, in_transit=ages,
                        worst=settings.report.worst_vendors, scorecard_days=settings.report.scorecard_days,
                        files=FILES, days=series.days,
                        charts=[Chart(cid=f"{name.removesuffix('.png')}.{day.day.isoformat()}@orderflow",
                                      filename=name, title=title) for name, title in CHART_FILES.items()
                                if name in charts])
    tables = {"open_notifications.csv": notifications, "shipped.csv": shipped, "late_vendor_orders.csv": late,
              # Days are rounded for people only when written: the summary counts from the exact figures.
              "in_transit_aging.csv": in_transit.assign(
                  days_since_first_scan=one_decimal(in_transit["days_since_first_scan"])),
              "vendor_scorecard.csv": format_scorecard(scorecard)}
    return DailyReport(day=day, tables=tables, summary=summary, charts=charts)


def final_report_in(folder: Path) -> bool:
    """Whether ``folder`` holds a report written after its day was over (or one from before reports said when
    they were made: any report file at all)."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return any((folder / name).exists() for name in FILES)
    except (OSError, ValueError):
        return True  # an unreadable stamp: keep the folder rather than guess
    return bool(stamp.get("final", True))


def _stamp(day: ReportDay) -> bytes:
    """What the folder holds: the day, the instant it is judged at, and whether the day was over by then."""
    final = day.as_of >= day.ends - timedelta(microseconds=1)
    return json.dumps({"day": day.day.isoformat(), "as_of": day.as_of.isoformat(), "final": final},
                      indent=2).encode("utf-8") + b"\n"


def write_files(files: dict[str, bytes], folder: Path) -> list[Path]:
    """Each file written whole under a temporary name, then renamed: a reader never sees half a file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, content in files.items():
            path, partial = folder / name, folder / f".{name}.partial"
            try:
                partial.write_bytes(content)
                os.replace(partial, path)
            except OSError:
                with contextlib.suppress(OSError):  # a full disk leaves no half-written file behind
                    partial.unlink(missing_ok=True)
                raise
            paths.append(path)
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {folder}: {exc.strerror or exc}") from exc
    return paths


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only connection whose queries all see the same moment (REPEATABLE READ on PostgreSQL; one read
    transaction is already a snapshot on SQLite)."""
    options: dict[str, Any] = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with reader(engine).connect().execution_options(**options) as connection, connection.begin():
        yield connection


# --- the queue ---------------------------------------------------------------------------------------------------

def open_notifications(connection: Connection, day: ReportDay) -> pd.DataFrame:
    """The queue at the report's instant, ranked as ``orderflow notifications`` ranks it, with its JSON fields
    and times in the shop's zone (see :mod:`orderflow.reports.queue_then`)."""
    frame = pd.DataFrame(queue_as_of(connection, day.as_of), columns=list(JSON_FIELDS))
    frame.insert(0, "rank", range(1, len(frame) + 1))
    for column in _TIMES_IN_QUEUE:
        frame[column] = local_times(pd.to_datetime(frame[column], utc=True), day.zone)
    return frame


# --- parcels scanned that day ------------------------------------------------------------------------------------

def shipped_parcels(connection: Connection, settings: Settings, day: ReportDay) -> pd.DataFrame:
    """Parcels whose first carrier scan fell on the day, earliest first, each judged against its ship-by: those
    whose tracking had reached us by the report's instant, with the status of their last event by then."""
    query = (select(Shipment.id.label("shipment"), Shipment.first_scan_at, Order.order_number,
                    VendorOrder.id.label("vendor_order"),
                    VendorOrder.vendor_code.label("vendor"), Shipment.carrier, Shipment.tracking_number,
                    Shipment.service, Shipment.shipped_at.label("vendor_shipped_at"),
                    Shipment.reported_at.label("tracking_received_at"), VendorOrder.ship_by,
                    Shipment.status, Order.ship_city, Order.ship_province, Order.ship_country)
             .join(VendorOrder, VendorOrder.id == Shipment.vendor_order_id)
             .join(Order, Order.id == VendorOrder.order_id)
             .where(Shipment.first_scan_at >= day.starts, Shipment.first_scan_at <= day.as_of,
                    Shipment.reported_at <= day.as_of)
             .order_by(Shipment.first_scan_at, Shipment.id))
    frame = read_frame(connection, query)
    events = _latest_events(connection, frame["shipment"].tolist(), day.as_of)
    then = frame["shipment"].map(events["event_status"])
    frame["status"] = then.where(then.notna(), PackageStatus.IN_TRANSIT.value)
    frame = frame.drop(columns="shipment")
    frame.insert(list(frame.columns).index("ship_by") + 1, "on_time",
                 _yes_no(frame["first_scan_at"] <= frame["ship_by"], frame["ship_by"].notna()))
    for column in ("first_scan_at", "vendor_shipped_at", "tracking_received_at", "ship_by"):
        frame[column] = local_times(frame[column], day.zone)
    frame["carrier"] = frame["carrier"].fillna("").str.upper()
    return frame


def _yes_no(condition: pd.Series[bool], known: pd.Series[bool]) -> pd.Series[str]:
    return condition.map({True: "yes", False: "no"}).where(known, "").astype(str)


# --- late vendor orders ------------------------------------------------------------------------------------------

def late_vendor_orders(connection: Connection, settings: Settings, day: ReportDay) -> pd.DataFrame:
    """Vendor orders the vendor has, past their ship-by, with units no carrier has scanned; most late first.

    Evidence of shipping is a carrier scan or a delivery up to the report's instant, as for ``vendor_late``: a
    label is not evidence. A parcel whose contents the vendor did not list counts for every line.
    """
    as_of = day.as_of
    candidates = read_frame(connection, _late_candidates(as_of))
    candidates = with_ship_by(candidates, settings)
    candidates = candidates[candidates["ship_by"] < as_of]
    ids = candidates["vendor_order"].tolist()
    lines = read_in(connection, ids, lambda chunk: (
        select(VendorOrderLine.id, VendorOrderLine.vendor_order_id.label("vendor_order"), VendorOrderLine.qty,
               VendorOrderLine.qty_rejected, VendorOrderLine.state, OrderLine.price)
        .join(OrderLine, OrderLine.id == VendorOrderLine.order_line_id)
        .where(VendorOrderLine.vendor_order_id.in_(chunk))))
    parcels = read_in(connection, ids, lambda chunk: (
        select(Shipment.id, Shipment.vendor_order_id.label("vendor_order"), Shipment.tracking_number,
               Shipment.tracking_valid, Shipment.last_outcome, Shipment.status, Shipment.first_scan_at,
               Shipment.delivered_at, Shipment.shipped_at, Shipment.reported_at)
        .where(Shipment.vendor_order_id.in_(chunk))))
    contents = read_in(connection, parcels["id"].tolist(), lambda chunk: (
        select(ShipmentLine.shipment_id, ShipmentLine.vendor_order_line_id, ShipmentLine.qty)
        .where(ShipmentLine.shipment_id.in_(chunk))))

    lines = lines_then(lines, candidates, as_of)  # lines rejected after the instant were still to ship then
    lines["due"] = _units_to_ship(lines)
    lines["value"] = [qty * price for qty, price in zip(lines["qty"], lines["price"], strict=True)]
    scanned = ((parcels["first_scan_at"] <= as_of) | (parcels["delivered_at"] <= as_of)).astype(bool)
    listed_parcels = set(contents["shipment_id"])
    # A scanned parcel with no contents listed may hold anything: the vendor order counts as shipped.
    shipped_whole = set(parcels.loc[scanned & ~parcels["id"].isin(listed_parcels), "vendor_order"])
    proven = (contents[contents["shipment_id"].isin(set(parcels.loc[scanned, "id"]))]
              .groupby("vendor_order_line_id")["qty"].sum())
    lines["scanned"] = lines["id"].map(proven).fillna(0).clip(upper=lines["due"]).astype(int)
    per_order = lines.groupby("vendor_order").agg(units_due=("due", "sum"), units_scanned=("scanned", "sum"),
                                                  value=("value", "sum"))
    frame = candidates.join(per_order, on="vendor_order")
    frame = frame[~frame["vendor_order"].isin(shipped_whole)
                  & (frame["units_scanned"].fillna(0) < frame["units_due"].fillna(0))].copy()
    frame["evidence"] = _lateness_evidence(frame, parcels[~scanned], day.zone)
    frame["business_days_late"] = vendor_business_days(settings, frame, "ship_by", as_of)
    frame = frame.sort_values(["business_days_late", "vendor_order"], ascending=[False, True])
    frame["business_days_late"] = one_decimal(frame["business_days_late"])
    frame["value"] = frame["value"].map(money)
    for column in ("placed_at", "sent_at", "ship_by"):
        frame[column] = local_times(frame[column], day.zone)
    frame[["units_due", "units_scanned"]] = frame[["units_due", "units_scanned"]].astype(int)
    return frame[["vendor_order", "order_number", "vendor", "placed_at", "sent_at", "ship_by",
                  "business_days_late", "units_due", "units_scanned", "value", "currency", "evidence"]]


def _late_candidates(as_of: datetime) -> Any:
    """Vendor orders that could be late: the vendor had them at ``as_of``, and some unit is not counted shipped
    or some parcel had no scan by then. Indexed states keep this to open work, plus the vendor orders changed
    since ``as_of`` (shipped, rejected or cancelled since: they may still have been late then)."""
    unshipped_line = exists().where(
        VendorOrderLine.vendor_order_id == VendorOrder.id, VendorOrderLine.state != LineState.CANCELLED,
        VendorOrderLine.qty_shipped < VendorOrderLine.qty - VendorOrderLine.qty_rejected)
    unscanned_parcel = exists().where(
        Shipment.vendor_order_id == VendorOrder.id,
        or_(Shipment.first_scan_at.is_(None), Shipment.first_scan_at > as_of),
        or_(Shipment.delivered_at.is_(None), Shipment.delivered_at > as_of))
    changed_since = and_(VendorOrder.updated_at > as_of, VendorOrder.sent_at <= as_of,
                         or_(VendorOrder.rejected_at.is_(None), VendorOrder.rejected_at > as_of),
                         or_(VendorOrder.cancel_confirmed_at.is_(None), VendorOrder.cancel_confirmed_at > as_of))
    return (select(VendorOrder.id.label("vendor_order"), Order.order_number, VendorOrder.vendor_code.label("vendor"),
                   Order.placed_at, VendorOrder.sent_at, VendorOrder.ship_by, Order.currency,
                   VendorOrder.rejected_at)
            .join(Order, Order.id == VendorOrder.order_id)
            .where(or_(VendorOrder.state.in_(LATE_STATES), changed_since),
                   or_(Order.state.in_(LIVE_ORDER_STATES), Order.cancelled_at > as_of),
                   or_(VendorOrder.ship_by.is_(None), VendorOrder.ship_by < as_of),
                   or_(unshipped_line, unscanned_parcel, changed_since))
            .order_by(VendorOrder.id))


def _units_to_ship(lines: pd.DataFrame) -> pd.Series[int]:
    """Units a line must ship: none when cancelled or rejected whole (a rejection without a quantity)."""
    nothing = (lines["state"] == LineState.CANCELLED) | ((lines["state"] == LineState.REJECTED)
                                                          & (lines["qty_rejected"] == 0))
    return (lines["qty"] - lines["qty_rejected"]).clip(lower=0).where(~nothing, 0).astype(int)


def _lateness_evidence(frame: pd.DataFrame, waiting: pd.DataFrame, zone: ZoneInfo) -> pd.Series[str]:
    """``no tracking``, ``label created Wed 4 Nov, never scanned (1Z...)``, or ``2 of 5 units scanned; ...``."""
    texts = {vendor_order: "; ".join(dict.fromkeys(_parcel_evidence(parcel, zone) for parcel in group.itertuples()))
             for vendor_order, group in waiting.groupby("vendor_order")}
    evidence = []
    for vendor_order, due, scanned in zip(frame["vendor_order"], frame["units_due"], frame["units_scanned"],
                                          strict=True):
        parcels = texts.get(vendor_order, "")
        if not scanned:
            evidence.append(parcels or "no tracking")
        else:
            evidence.append(f"{int(scanned)} of {int(due)} units scanned" + (f"; {parcels}" if parcels else ""))
    return pd.Series(evidence, index=frame.index, dtype=str)


def _parcel_evidence(parcel: Any, zone: ZoneInfo) -> str:
    if not parcel.tracking_valid:
        return f"tracking {parcel.tracking_number} invalid"
    if parcel.last_outcome == "not_found":
        return f"tracking {parcel.tracking_number} not found by the carrier"
    created = parcel.shipped_at if pd.notna(parcel.shipped_at) else parcel.reported_at
    day = created.tz_convert(zone)
    cancelled = " then cancelled" if parcel.status == PackageStatus.CANCELLED else ""
    return f"label created {day:%a} {day.day} {day:%b}{cancelled}, never scanned ({parcel.tracking_number})"


# --- parcels in transit ------------------------------------------------------------------------------------------

def in_transit_aging(connection: Connection, day: ReportDay) -> pd.DataFrame:
    """Parcels scanned and not delivered at the report's instant, longest on the way first, with their last
    carrier event up to that instant."""
    as_of = day.as_of
    query = (select(Shipment.id.label("shipment"), Shipment.tracking_number, Shipment.carrier,
                    VendorOrder.id.label("vendor_order"), Order.order_number, VendorOrder.vendor_code.label("vendor"),
                    Shipment.first_scan_at, Shipment.status, Shipment.last_event_at, Shipment.delivered_at,
                    Shipment.estimated_delivery)
             .join(VendorOrder, VendorOrder.id == Shipment.vendor_order_id)
             .join(Order, Order.id == VendorOrder.order_id)
             .where(Shipment.first_scan_at <= as_of, Shipment.reported_at <= as_of,
                    or_(Shipment.delivered_at.is_(None), Shipment.delivered_at > as_of),
                    or_(Shipment.status.in_(IN_TRANSIT_STATUSES), Shipment.delivered_at > as_of,
                        Shipment.last_event_at > as_of)))
    frame = read_frame(connection, query)
    events = _latest_events(connection, frame["shipment"].tolist(), as_of)
    frame = frame.join(events, on="shipment")
    # A parcel that moved on after the report's instant had the status of its last event by then (scanned and
    # not delivered: in transit, when no event of that time was kept).
    moved_on = (frame["last_event_at"] > as_of) | (frame["delivered_at"] > as_of)
    then = frame["event_status"].where(frame["event_status"].notna(), PackageStatus.IN_TRANSIT.value)
    frame["last_status"] = frame["status"].where(~moved_on, then)
    frame["last_event_at"] = frame["event_at"].where(frame["event_at"].notna(), frame["last_event_at"])
    frame["days_since_first_scan"] = (pd.Timestamp(as_of) - frame["first_scan_at"]).dt.total_seconds() / 86400
    frame = frame.sort_values(["days_since_first_scan", "tracking_number"], ascending=[False, True])
    for column in ("first_scan_at", "last_event_at"):
        frame[column] = local_times(frame[column], day.zone)
    frame["estimated_delivery"] = local_dates(frame["estimated_delivery"], day.zone)
    frame["carrier"] = frame["carrier"].fillna("").str.upper()
    frame["last_event"] = frame["event_text"].fillna("")
    return frame[["tracking_number", "carrier", "vendor_order", "order_number", "vendor", "first_scan_at",
                  "days_since_first_scan", "last_status", "last_event_at", "last_event", "estimated_delivery"]]


def _latest_events(connection: Connection, shipment_ids: Sequence[int], as_of: datetime) -> pd.DataFrame:
    """Each parcel's last carrier event at or before ``as_of`` (status, time, ``text — location``)."""
    other = aliased(TrackingEvent)
    latest = (select(func.max(other.occurred_at))
              .where(other.shipment_id == TrackingEvent.shipment_id, other.occurred_at <= as_of).scalar_subquery())
    events = read_in(connection, shipment_ids, lambda chunk: (
        select(TrackingEvent.id, TrackingEvent.shipment_id.label("shipment"),
               TrackingEvent.occurred_at.label("event_at"), TrackingEvent.status.label("event_status"),
               TrackingEvent.description, TrackingEvent.location)
        .where(TrackingEvent.shipment_id.in_(chunk), TrackingEvent.occurred_at == latest)))
    events = events.sort_values("id").drop_duplicates("shipment", keep="last")
    events["event_text"] = [" — ".join(part for part in (description, location) if part)
                            for description, location in zip(events["description"], events["location"], strict=True)]
    return events.set_index("shipment")[["event_at", "event_status", "event_text"]]


# --- helpers -----------------------------------------------------------------------------------------------------

def _standings(scorecard: pd.DataFrame, late: pd.DataFrame, notifications: pd.DataFrame,
               blocked: dict[str, tuple[int, Decimal]]) -> list[VendorStanding]:
    late_now = late["vendor"].value_counts()
    problems = notifications["vendor"].dropna().value_counts()
    return [VendorStanding(code=row["vendor"], name=row["name"], vendor_orders=int(row["vendor_orders"]),
                           orders_due=int(row["orders_due"]), on_time_rate=_fraction(row["on_time_ship_rate"]),
                           rejection_rate=_fraction(row["rejection_rate"]),
                           late_now=int(late_now.get(row["vendor"], 0)),
                           open_problems=int(problems.get(row["vendor"], 0)),
                           blocked_orders=blocked.get(row["vendor"], (0, Decimal(0)))[0],
                           blocked_value=blocked.get(row["vendor"], (0, Decimal(0)))[1])
            for row in scorecard.to_dict("records")]


def _fraction(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)
