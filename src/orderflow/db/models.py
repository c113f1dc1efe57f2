"""The whole data model as SQLAlchemy 2.0 typed models.

States are short strings checked in code (the enums below), not database enums: a new state then needs no
type migration on PostgreSQL. Every timestamp is a :class:`UTCDateTime`, every price :class:`Money`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from orderflow.db.types import Money, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime, Decimal: Money, dict[str, Any]: JSON, list[Any]: JSON,
    }


class OrderState(enum.StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"
    FULFILLED_ELSEWHERE = "fulfilled_elsewhere"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


class LineState(enum.StrEnum):
    PENDING = "pending"
    UNROUTABLE = "unroutable"
    FULFILLED_ELSEWHERE = "fulfilled_elsewhere"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    BACKORDERED = "backordered"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class VendorOrderState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ON_HOLD = "on_hold"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    NEEDS_RECONCILE = "needs_reconcile"


class NotificationState(enum.StrEnum):
    PENDING = "pending"
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class JobOutcome(enum.StrEnum):
    RUNNING = "running"
    OK = "ok"
    REFUSED = "refused"
    PARTIAL = "partial"
    FAILED = "failed"
    ABANDONED = "abandoned"
    """The run ended without recording how (killed, host lost); closed by a later run of the same command."""


class Vendor(Base):
    """A vendor as configured; kept in the database so rows can refer to it and reports can name it."""

    __tablename__ = "vendors"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(16))
    transport: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]


class CatalogItem(Base):
    """The SKU crosswalk: our SKU to the vendor that makes or stocks it."""

    __tablename__ = "catalog"

    sku: Mapped[str] = mapped_column(String(100), primary_key=True)
    vendor_code: Mapped[str] = mapped_column(ForeignKey("vendors.code"), index=True)
    vendor_sku: Mapped[str] = mapped_column(String(100))
    upc: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(String(500))
    on_demand: Mapped[bool] = mapped_column(Boolean, default=False)
    vendor_variant_id: Mapped[str | None] = mapped_column(String(100))
    product: Mapped[str | None] = mapped_column(String(300))
    """For storefronts that sell without SKUs: the product title and variant title a line names this item by."""
    variant: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("source", "order_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    order_number: Mapped[str] = mapped_column(String(64), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64))
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    customer_email: Mapped[str] = mapped_column(String(320), default="")
    ship_name: Mapped[str] = mapped_column(String(200), default="")
    ship_company: Mapped[str] = mapped_column(String(200), default="")
    ship_address1: Mapped[str] = mapped_column(String(300), default="")
    ship_address2: Mapped[str] = mapped_column(String(300), default="")
    ship_city: Mapped[str] = mapped_column(String(120), default="")
    ship_province: Mapped[str] = mapped_column(String(120), default="")
    ship_zip: Mapped[str] = mapped_column(String(32), default="")
    ship_country: Mapped[str] = mapped_column(String(64), default="")
    ship_phone: Mapped[str] = mapped_column(String(64), default="")
    placed_at: Mapped[datetime] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total: Mapped[Decimal | None]
    financial_status: Mapped[str] = mapped_column(String(32), default="")
    fulfillment_status: Mapped[str] = mapped_column(String(32), default="")
    cancelled_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(24), default=OrderState.OPEN, index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.line_no")
    vendor_orders: Mapped[list[VendorOrder]] = relationship(back_populates="order", order_by="VendorOrder.id")


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    qty: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal]
    vendor_code: Mapped[str | None] = mapped_column(ForeignKey("vendors.code"))
    state: Mapped[str] = mapped_column(String(24), default=LineState.PENDING, index=True)
    unroutable_since: Mapped[datetime | None]

    order: Mapped[Order] = relationship(back_populates="lines")


class VendorOrder(Base):
    """One order's part for one vendor: id ``<po_prefix><order number>-<VENDOR>``, e.g. ``TB1042-ACME``."""

    __tablename__ = "vendor_orders"
    __table_args__ = (
        UniqueConstraint("order_id", "vendor_code"),
        # The due time after the state: the orders of a state waiting for an answer are found without going
        # through the index that orders all of a vendor's orders by their due time (a vendor's last ones).
        Index("ix_vendor_orders_vendor_code_state_ack_due_at", "vendor_code", "state", "ack_due_at"),
        Index("ix_vendor_orders_vendor_code_ack_due_at", "vendor_code", "ack_due_at"),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    vendor_code: Mapped[str] = mapped_column(ForeignKey("vendors.code"))
    state: Mapped[str] = mapped_column(String(24), default=VendorOrderState.PENDING, index=True)
    ship_by: Mapped[datetime | None]
    ack_due_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    vendor_reference: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    rejected_at: Mapped[datetime | None]
    rejection_code: Mapped[str | None] = mapped_column(String(64))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    cancel_requested_at: Mapped[datetime | None]
    cancel_confirmed_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    order: Mapped[Order] = relationship(back_populates="vendor_orders")
    lines: Mapped[list[VendorOrderLine]] = relationship(
        back_populates="vendor_order", order_by="VendorOrderLine.line_no"
    )
    shipments: Mapped[list[Shipment]] = relationship(back_populates="vendor_order", order_by="Shipment.id")


class VendorOrderLine(Base):
    """A line as the vendor sees it; ``line_no`` is the PO line number the vendor echoes back."""

    __tablename__ = "vendor_order_lines"
    __table_args__ = (UniqueConstraint("vendor_order_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_order_id: Mapped[str] = mapped_column(ForeignKey("vendor_orders.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), unique=True)
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(100))
    vendor_sku: Mapped[str] = mapped_column(String(100))
    qty: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(24), default=LineState.PENDING)
    qty_accepted: Mapped[int] = mapped_column(Integer, default=0)
    qty_rejected: Mapped[int] = mapped_column(Integer, default=0)
    qty_backordered: Mapped[int] = mapped_column(Integer, default=0)
    qty_shipped: Mapped[int] = mapped_column(Integer, default=0)
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    expected_at: Mapped[date | None] = mapped_column(Date)

    vendor_order: Mapped[VendorOrder] = relationship(back_populates="lines")


class Shipment(Base):
    """One parcel: a tracking number with a carrier, followed until delivered."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("carrier", "tracking_number"),
        Index("ix_shipments_next_check_at", "next_check_at"),
        Index("ix_shipments_first_scan_at", "first_scan_at"),
        # With the carrier beside the status, the parcels still followed of a few carriers are found through
        # this index, not through every parcel of those carriers, whether or not the database holds statistics.
        Index("ix_shipments_status_carrier", "status", "carrier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_order_id: Mapped[str] = mapped_column(ForeignKey("vendor_orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str | None] = mapped_column(String(16))
    carrier_named: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    tracking_valid: Mapped[bool] = mapped_column(Boolean, default=True)
    tracking_note: Mapped[str | None] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(String(100))
    shipped_at: Mapped[datetime | None]
    reported_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(24), default="label_created")
    first_scan_at: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
    estimated_delivery: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    exception_reason: Mapped[str | None] = mapped_column(String(64))
    last_checked_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(24))
    invalid_polls: Mapped[int] = mapped_column(Integer, default=0)
    first_invalid_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None]
    tracking_expired_at: Mapped[datetime | None]
    customer_notified_at: Mapped[datetime | None]
    lines_inferred: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The vendor listed no lines for this parcel, so it carries what no other parcel did; a later file that
    lists lines of the vendor order redistributes them."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    vendor_order: Mapped[VendorOrder] = relationship(back_populates="shipments")
    lines: Mapped[list[ShipmentLine]] = relationship(back_populates="shipment")


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (UniqueConstraint("shipment_id", "vendor_order_line_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    vendor_order_line_id: Mapped[int] = mapped_column(ForeignKey("vendor_order_lines.id", ondelete="CASCADE"))
    qty: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")


class TrackingEvent(Base):
    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("shipment_id", "occurred_at", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(24))
    code: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime]


class InventoryLevel(Base):
    __tablename__ = "inventory"
    __table_args__ = (UniqueConstraint("vendor_code", "vendor_sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_code: Mapped[str] = mapped_column(ForeignKey("vendors.code"))
    vendor_sku: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer)
    next_available: Mapped[date | None] = mapped_column(Date)
    as_of: Mapped[datetime]
    updated_at: Mapped[datetime]


class Notification(Base):
    """One alert per fingerprint ``hash(rule, subject)`` while it is not resolved; episodes count reopenings."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index(
            "uq_notifications_fingerprint_live",
            "fingerprint",
            unique=True,
            sqlite_where=text("state != 'resolved'"),
            postgresql_where=text("state != 'resolved'"),
        ),
        Index("ix_notifications_state_rule", "state", "rule"),
        # The order view lists an order's notifications, resolved ones included, out of years of them.
        Index("ix_notifications_order_number", "order_number"),
        Index("ix_notifications_vendor_order_id", "vendor_order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(16))
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[str] = mapped_column(String(200))
    order_number: Mapped[str | None] = mapped_column(String(64))
    vendor_code: Mapped[str | None] = mapped_column(String(32))
    vendor_order_id: Mapped[str | None] = mapped_column(String(100))
    shipment_id: Mapped[int | None] = mapped_column(Integer)
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    carrier: Mapped[str | None] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=NotificationState.PENDING)
    episode: Mapped[int] = mapped_column(Integer, default=1)
    pending_since: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    last_true_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    false_since: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(100))
    acked_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_how: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=1)
    pushed_at: Mapped[datetime | None]
    suppressed_by: Mapped[str | None] = mapped_column(String(200))


class NotificationEvent(Base):
    """The audit trail of a notification: every transition with its reason and who made it."""

    __tablename__ = "notification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="orderflow")


class Silence(Base):
    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(primary_key=True)
    matchers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class OutboxMessage(Base):
    """Anything sent to a person or system exactly once: customer emails, pushes, reports, storefront updates.

    The row is written in the same transaction as the decision to send; its ``dedupe_key`` is what makes a
    re-run or a crash after sending never send the same thing twice.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class IngestedFile(Base):
    """The exactly-once ledger of files taken in, keyed by where they came from and their content hash."""

    __tablename__ = "ingested_files"
    __table_args__ = (
        UniqueConstraint("origin", "sha256"),
        Index("ix_ingested_files_origin_ingested_at", "origin", "ingested_at"),
        # The refused-file rules read the last days of every origin: a time range, not a scan of the years.
        Index("ix_ingested_files_ingested_at", "ingested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(1000))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    rows_ok: Mapped[int] = mapped_column(Integer, default=0)
    rows_refused: Mapped[int] = mapped_column(Integer, default=0)
    refusals: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text)
    ingested_at: Mapped[datetime]


class VendorFileLook(Base):
    """What a vendor's server last showed of a file we have not taken yet: its size and modification time as
    the server states them, and when, by our clock, we looked. A file that shows the same on two looks
    ``settle_seconds`` apart has stopped growing, whatever the server's clock says."""

    __tablename__ = "vendor_file_looks"

    vendor_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(1000), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    modified_at: Mapped[datetime]
    looked_at: Mapped[datetime]


class JobRun(Base):
    """Cron's audit trail and heartbeat: one row per run of a data-changing command."""

    __tablename__ = "job_runs"
    __table_args__ = (
        Index("ix_job_runs_command_started_at", "command", "started_at"),
        # job_missing: a command's last completion, newest first, without reading every run it ever made.
        Index("ix_job_runs_command_finished_at", "command", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    command: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), default=JobOutcome.RUNNING)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class JobLock(Base):
    """A lease per command name on SQLite (PostgreSQL uses advisory locks). It expires, so a crash never blocks."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class CarrierToken(Base):
    """An OAuth access token cached until shortly before it expires, shared by every cron run."""

    __tablename__ = "carrier_tokens"

    carrier: Mapped[str] = mapped_column(String(16), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RateBudget(Base):
    """A token bucket that survives between cron runs (USPS and DHL quotas are small)."""

    __tablename__ = "rate_budgets"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    capacity: Mapped[float] = mapped_column(Float)
    refill_per_second: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]


class CircuitState(Base):
    """A breaker per remote (``vendor:ACME``, ``carrier:ups``): open after repeated failures, retried later."""

    __tablename__ = "circuit_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="closed")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None]
    retry_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class CarrierPollRun(Base):
    """Per carrier per track run: how the polls went, for ``tracking_feed_unhealthy``."""

    __tablename__ = "carrier_poll_runs"
    __table_args__ = (
        Index("ix_carrier_poll_runs_carrier_at", "carrier", "at"),
        # tracking_feed_unhealthy: the last day's runs of every carrier at once.
        Index("ix_carrier_poll_runs_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    outcomes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class ControlNumber(Base):
    """The last X12 interchange control number used per partner; never reused."""

    __tablename__ = "control_numbers"

    partner: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class SourceCursor(Base):
    """Where an HTTP storefront source left off (``updated_after``)."""

    __tablename__ = "source_cursors"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
