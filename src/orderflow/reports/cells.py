"""Frames from SQL, and cells as people read them: local dates and times, money, rates, and defanged text.

Every timestamp in the database is UTC; a report shows it in the shop's time zone as ``2026-11-03 14:05``
(a date as ``2026-11-03``), money with its two decimals (``1234.50``, never ``1234.5`` or a float's
``1234.4999``), rates in files as decimal fractions a spreadsheet takes for numbers (``0.925``), in the email
as percentages (``92.5%``), durations with one decimal. Empty means "none" or "not known", never ``nan``,
``NaT`` or a rate of nothing.

    >>> frame = read_frame(connection, select(Shipment.tracking_number, Shipment.first_scan_at))  # doctest: +SKIP
    >>> frame["first_scan_at"] = local_times(frame["first_scan_at"], zone)  # doctest: +SKIP
    >>> csv_bytes(frame)  # doctest: +SKIP
    b'\\xef\\xbb\\xbftracking_number,first_scan_at\\r\\n1Z999AA10123456784,2026-11-03 14:05\\r\\n'
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, Select, type_coerce
from sqlalchemy.types import NullType

from orderflow.db.bulk import chunked
from orderflow.db.types import UTCDateTime
from orderflow.outside_text import inert
from orderflow.spreadsheets import defang

CENT = Decimal("0.01")


def read_frame(connection: Connection, query: Select[*tuple[Any, ...]]) -> pd.DataFrame:
    """The rows of ``query`` as a frame: timestamps as UTC ``datetime64`` (even when every one is empty),
    money as ``Decimal`` (never a float)."""
    times = [column.name for column in query.selected_columns if isinstance(column.type, UTCDateTime)]
    # Timestamps come raw (SQLite's text, PostgreSQL's aware datetimes) and are parsed a column at a time, which
    # is many times faster than the column type's own conversion of each value.
    raw = query.with_only_columns(*(type_coerce(column, NullType()).label(column.name) if column.name in times
                                    else column for column in query.selected_columns), maintain_column_froms=True)
    frame = pd.read_sql(raw, connection, coerce_float=False)
    for name in times:
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame


def read_in(connection: Connection, ids: Sequence[Any], query: Callable[[list[Any]], Any]) -> pd.DataFrame:
    """``query(chunk)`` for the ids in chunks (databases limit bound parameters), as one frame."""
    frames = [read_frame(connection, query(chunk)) for chunk in chunked(ids, 1000)]
    return pd.concat(frames, ignore_index=True) if frames else read_frame(connection, query([]))


def local_times(moments: pd.Series[Any], zone: ZoneInfo) -> pd.Series[str]:
    """``2026-11-03 14:05`` in ``zone``; empty where there is no time."""
    text: pd.Series[str] = moments.dt.tz_convert(zone).dt.strftime("%Y-%m-%d %H:%M").fillna("").astype(str)
    return text


def local_dates(moments: pd.Series[Any], zone: ZoneInfo) -> pd.Series[str]:
    """``2026-11-03``: the day in ``zone``; empty where there is no time."""
    text: pd.Series[str] = moments.dt.tz_convert(zone).dt.strftime("%Y-%m-%d").fillna("").astype(str)
    return text


def money(amount: Any) -> str:
    """``1234.50`` from a ``Decimal``: two decimals, no float on the way; empty for none."""
    return "" if not isinstance(amount, Decimal) else str(amount.quantize(CENT))


def one_decimal(values: pd.Series[Any]) -> pd.Series[str]:
    """``2.5``: durations and counts of days with one decimal; empty where unknown."""
    return values.astype(float).map(lambda value: "" if pd.isna(value) else f"{value:.1f}").astype(str)


def fraction(value: float | None) -> str:
    """``0.923``: a rate as a spreadsheet reads a number, three decimals; empty when there was nothing to judge."""
    return "" if value is None or pd.isna(value) else f"{value:.3f}"


def percent(value: float | None) -> str:
    """``92.5%``; empty when there was nothing to judge."""
    return "" if value is None or pd.isna(value) else f"{100 * value:.1f}%"


def _cell(value: Any) -> str:
    """A value as CSV text: empty for none (``None``, NaN, NaT, NA); outside text with its control characters
    spelled out, as on a terminal, so a manager's spreadsheet shows what came rather than hiding it."""
    if value is None or value is pd.NA or value != value:  # noqa: PLR0124 - NaN and NaT are not equal to themselves
        return ""
    return defang(inert(str(value)))


def csv_bytes(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> bytes:
    """The frame as a spreadsheet-safe CSV file: UTF-8 with a byte-order mark (so Excel reads accents right),
    a header row, CRLF line ends, every cell defanged."""
    chosen = frame[list(columns)] if columns is not None else frame
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([defang(str(name)) for name in chosen.columns])
    writer.writerows(zip(*([_cell(value) for value in chosen[name].tolist()] for name in chosen.columns), strict=True))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
