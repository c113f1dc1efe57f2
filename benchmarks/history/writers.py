"""Rows to tables in big batches: ``executemany`` on SQLite, ``COPY`` on PostgreSQL."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer

from orderflow.db.engine import make_engine
from orderflow.db.models import Base

COLUMNS: dict[str, tuple[str, ...]] = {
    "vendors": ("code", "name", "kind", "format", "transport", "active", "updated_at"),
    "catalog": ("sku", "vendor_code", "vendor_sku", "upc", "description", "on_demand", "vendor_variant_id",
                "updated_at", "product", "variant"),
    "inventory": ("id", "vendor_code", "vendor_sku", "quantity", "next_available", "as_of", "updated_at"),
    "orders": ("id", "source", "order_number", "external_id", "customer_name", "customer_email", "ship_name",
               "ship_company", "ship_address1", "ship_address2", "ship_city", "ship_province", "ship_zip",
               "ship_country", "ship_phone", "placed_at", "currency", "total", "financial_status",
               "fulfillment_status", "cancelled_at", "state", "content_hash", "raw", "created_at", "updated_at"),
    "order_lines": ("id", "order_id", "line_no", "sku", "name", "qty", "price", "vendor_code", "state",
                    "unroutable_since"),
    "vendor_orders": ("id", "order_id", "vendor_code", "state", "ship_by", "ack_due_at", "attempts", "last_error",
                      "last_attempt_at", "next_attempt_at", "claimed_by", "claimed_until", "vendor_reference",
                      "sent_at", "acknowledged_at", "rejected_at", "rejection_code", "rejection_reason",
                      "hold_reason", "cancel_requested_at", "cancel_confirmed_at", "shipped_at", "delivered_at",
                      "last_polled_at", "created_at", "updated_at"),
    "vendor_order_lines": ("id", "vendor_order_id", "order_line_id", "line_no", "sku", "vendor_sku", "qty", "state",
                           "qty_accepted", "qty_rejected", "qty_backordered", "qty_shipped", "reason_code",
                           "reason", "expected_at"),
    "shipments": ("id", "vendor_order_id", "carrier", "carrier_named", "tracking_number", "tracking_valid",
                  "tracking_note", "service", "shipped_at", "reported_at", "status", "first_scan_at",
                  "last_event_at", "estimated_delivery", "delivered_at", "exception_reason", "last_checked_at",
                  "last_outcome", "invalid_polls", "first_invalid_at", "next_check_at", "tracking_expired_at",
                  "customer_notified_at", "created_at", "updated_at", "lines_inferred"),
    "shipment_lines": ("id", "shipment_id", "vendor_order_line_id", "qty"),
    "tracking_events": ("id", "shipment_id", "occurred_at", "status", "code", "description", "location",
                        "recorded_at"),
    "notifications": ("id", "fingerprint", "rule", "severity", "subject_type", "subject_id", "order_number",
                      "vendor_code", "vendor_order_id", "shipment_id", "tracking_number", "carrier", "labels",
                      "evidence", "state", "episode", "pending_since", "opened_at", "last_true_at", "last_seen_at",
                      "false_since", "acked_by", "acked_at", "snoozed_until", "resolved_at", "resolved_how", "note",
                      "count", "pushed_at", "suppressed_by"),
    "notification_events": ("id", "notification_id", "at", "from_state", "to_state", "reason", "actor"),
    "outbox": ("id", "kind", "dedupe_key", "payload", "state", "attempts", "last_error", "claimed_until",
               "created_at", "sent_at"),
    "job_runs": ("id", "command", "host", "pid", "started_at", "finished_at", "outcome", "exit_code", "counts",
                 "error"),
    "carrier_poll_runs": ("id", "carrier", "at", "outcomes", "polls", "failures"),
    "ingested_files": ("id", "origin", "path", "size", "sha256", "kind", "rows_ok", "rows_refused", "refusals",
                       "error", "ingested_at"),
}
"""Every column of every table written, in the order the rows give them (checked against the models)."""



class Writer:
    """Rows to tables, in big batches; counts what it wrote."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        for table, columns in COLUMNS.items():
            expected = set(Base.metadata.tables[table].columns.keys())
            if set(columns) != expected:
                raise SystemExit(f"history/writers.py COLUMNS is out of date for {table}: "
                                 f"model columns {sorted(expected)}")

    def write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self._write(table, rows)
            self.counts[table] += len(rows)

    def _write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        self.commit()

    def close(self) -> None:
        raise NotImplementedError


def _sqlite_time(moment: datetime) -> str:
    # SQLAlchemy's SQLite format for UTCDateTime (naive UTC, always with microseconds): rules compare it as text.
    return moment.isoformat(" ", "microseconds")


class SqliteWriter(Writer):
    def __init__(self, path: str) -> None:
        super().__init__()
        sqlite3.register_adapter(datetime, _sqlite_time)
        sqlite3.register_adapter(date, date.isoformat)
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=OFF")  # a failed generation is simply made again
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.execute("PRAGMA cache_size=-1000000")
        self.connection.execute("PRAGMA foreign_keys=OFF")  # ids are consistent by construction
        # The schema's own secondary indexes are dropped for the load and made again at the end (a sort each,
        # several times faster than keeping them up to date row by row); the database ends up the same.
        self.indexes = self.connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall()
        for name, _ in self.indexes:
            self.connection.execute(f"DROP INDEX {name}")
        self.connection.execute("BEGIN")
        self.statements = {table: f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608 - our names
                                  f"({', '.join('?' * len(columns))})" for table, columns in COLUMNS.items()}

    def _write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        self.connection.executemany(self.statements[table], rows)

    def commit(self) -> None:
        self.connection.execute("COMMIT")
        self.connection.execute("BEGIN")

    def finish(self) -> None:
        for _, sql in self.indexes:
            self.connection.execute(sql)
        self.connection.execute("COMMIT")
        self.connection.execute("PRAGMA journal_mode=WAL")  # as orderflow runs it

    def close(self) -> None:
        self.connection.close()


class PostgresWriter(Writer):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.engine = make_engine(url)
        self.raw = self.engine.raw_connection()
        self.connection: Any = self.raw.driver_connection
        self.connection.execute("SET TIME ZONE 'UTC'")  # the naive UTC times below are read in this zone

    def _write(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        with self.connection.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self.connection.commit()

    def finish(self) -> None:
        with self.connection.cursor() as cursor:
            for table, columns in COLUMNS.items():  # ids were given, so the sequences must catch up
                if "id" in columns and self.counts[table] and isinstance(
                        Base.metadata.tables[table].c.id.type, Integer):
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our names
                                   f"(SELECT max(id) FROM {table}))")
        self.connection.commit()
        self.connection.autocommit = True
        self.connection.execute("ANALYZE")

    def close(self) -> None:
        self.raw.close()
        self.engine.dispose()


def open_writer(url: str) -> Writer:
    if url.startswith("sqlite:///"):
        return SqliteWriter(url.removeprefix("sqlite:///"))
    return PostgresWriter(url)

