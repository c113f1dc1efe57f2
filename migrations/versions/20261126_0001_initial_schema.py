"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 10:34:16.520310
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import orderflow.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "carrier_poll_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=16), nullable=False),
        sa.Column("at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_poll_runs")),
    )
    with op.batch_alter_table("carrier_poll_runs", schema=None) as batch_op:
        batch_op.create_index("ix_carrier_poll_runs_carrier_at", ["carrier", "at"], unique=False)

    op.create_table(
        "carrier_tokens",
        sa.Column("carrier", sa.String(length=16), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("expires_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("carrier", name=op.f("pk_carrier_tokens")),
    )
    op.create_table(
        "circuit_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("opened_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retry_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_circuit_state")),
    )
    op.create_table(
        "control_numbers",
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("partner", name=op.f("pk_control_numbers")),
    )
    op.create_table(
        "ingested_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("rows_ok", sa.Integer(), nullable=False),
        sa.Column("rows_refused", sa.Integer(), nullable=False),
        sa.Column("refusals", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("ingested_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingested_files")),
        sa.UniqueConstraint("origin", "sha256", name=op.f("uq_ingested_files_origin_sha256")),
    )
    with op.batch_alter_table("ingested_files", schema=None) as batch_op:
        batch_op.create_index("ix_ingested_files_origin_ingested_at", ["origin", "ingested_at"], unique=False)

    op.create_table(
        "job_locks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_locks")),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("command", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index("ix_job_runs_command_started_at", ["command", "started_at"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=48), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("subject_type", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=True),
        sa.Column("vendor_code", sa.String(length=32), nullable=True),
        sa.Column("vendor_order_id", sa.String(length=100), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("tracking_number", sa.String(length=64), nullable=True),
        sa.Column("carrier", sa.String(length=16), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("pending_since", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_true_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("false_since", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acked_by", sa.String(length=100), nullable=True),
        sa.Column("acked_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_how", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("pushed_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suppressed_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_fingerprint"), ["fingerprint"], unique=False)
        batch_op.create_index("ix_notifications_state_rule", ["state", "rule"], unique=False)
        batch_op.create_index(
            "uq_notifications_fingerprint_live",
            ["fingerprint"],
            unique=True,
            sqlite_where=sa.text("state != 'resolved'"),
            postgresql_where=sa.text("state != 'resolved'"),
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("customer_email", sa.String(length=320), nullable=False),
        sa.Column("ship_name", sa.String(length=200), nullable=False),
        sa.Column("ship_company", sa.String(length=200), nullable=False),
        sa.Column("ship_address1", sa.String(length=300), nullable=False),
        sa.Column("ship_address2", sa.String(length=300), nullable=False),
        sa.Column("ship_city", sa.String(length=120), nullable=False),
        sa.Column("ship_province", sa.String(length=120), nullable=False),
        sa.Column("ship_zip", sa.String(length=32), nullable=False),
        sa.Column("ship_country", sa.String(length=64), nullable=False),
        sa.Column("ship_phone", sa.String(length=64), nullable=False),
        sa.Column("placed_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", orderflow.db.types.Money(precision=12, scale=2), nullable=True),
        sa.Column("financial_status", sa.String(length=32), nullable=False),
        sa.Column("fulfillment_status", sa.String(length=32), nullable=False),
        sa.Column("cancelled_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("created_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("source", "order_number", name=op.f("uq_orders_source_order_number")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_order_number"), ["order_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_placed_at"), ["placed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_state"), ["state"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_until", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_state"), ["state"], unique=False)

    op.create_table(
        "rate_budgets",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("capacity", sa.Float(), nullable=False),
        sa.Column("refill_per_second", sa.Float(), nullable=False),
        sa.Column("updated_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_budgets")),
    )
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("starts_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silences")),
    )
    op.create_table(
        "source_cursors",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.String(length=200), nullable=False),
        sa.Column("updated_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_source_cursors")),
    )
    op.create_table(
        "vendors",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_vendors")),
    )
    op.create_table(
        "catalog",
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("vendor_code", sa.String(length=32), nullable=False),
        sa.Column("vendor_sku", sa.String(length=100), nullable=False),
        sa.Column("upc", sa.String(length=20), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("on_demand", sa.Boolean(), nullable=False),
        sa.Column("vendor_variant_id", sa.String(length=100), nullable=True),
        sa.Column("updated_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vendor_code"], ["vendors.code"], name=op.f("fk_catalog_vendor_code_vendors")),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_catalog")),
    )
    with op.batch_alter_table("catalog", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_vendor_code"), ["vendor_code"], unique=False)

    op.create_table(
        "inventory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_code", sa.String(length=32), nullable=False),
        sa.Column("vendor_sku", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("next_available", sa.Date(), nullable=True),
        sa.Column("as_of", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vendor_code"], ["vendors.code"], name=op.f("fk_inventory_vendor_code_vendors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory")),
        sa.UniqueConstraint("vendor_code", "vendor_sku", name=op.f("uq_inventory_vendor_code_vendor_sku")),
    )
    op.create_table(
        "notification_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_events_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_events")),
    )
    with op.batch_alter_table("notification_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_events_notification_id"), ["notification_id"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("price", orderflow.db.types.Money(precision=12, scale=2), nullable=False),
        sa.Column("vendor_code", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("unroutable_since", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["vendor_code"], ["vendors.code"], name=op.f("fk_order_lines_vendor_code_vendors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
        sa.UniqueConstraint("order_id", "line_no", name=op.f("uq_order_lines_order_id_line_no")),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_lines_sku"), ["sku"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_lines_state"), ["state"], unique=False)

    op.create_table(
        "vendor_orders",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("vendor_code", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("ship_by", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ack_due_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_until", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("vendor_reference", sa.String(length=100), nullable=True),
        sa.Column("sent_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejection_code", sa.String(length=64), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("cancel_requested_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_confirmed_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_vendor_orders_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["vendor_code"], ["vendors.code"], name=op.f("fk_vendor_orders_vendor_code_vendors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_orders")),
        sa.UniqueConstraint("order_id", "vendor_code", name=op.f("uq_vendor_orders_order_id_vendor_code")),
    )
    with op.batch_alter_table("vendor_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_orders_state"), ["state"], unique=False)
        batch_op.create_index("ix_vendor_orders_vendor_code_state", ["vendor_code", "state"], unique=False)

    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_order_id", sa.String(length=100), nullable=False),
        sa.Column("carrier", sa.String(length=16), nullable=True),
        sa.Column("carrier_named", sa.String(length=64), nullable=True),
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("tracking_valid", sa.Boolean(), nullable=False),
        sa.Column("tracking_note", sa.Text(), nullable=True),
        sa.Column("service", sa.String(length=100), nullable=True),
        sa.Column("shipped_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reported_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("first_scan_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("estimated_delivery", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exception_reason", sa.String(length=64), nullable=True),
        sa.Column("last_checked_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=24), nullable=True),
        sa.Column("invalid_polls", sa.Integer(), nullable=False),
        sa.Column("first_invalid_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tracking_expired_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("customer_notified_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_order_id"],
            ["vendor_orders.id"],
            name=op.f("fk_shipments_vendor_order_id_vendor_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("carrier", "tracking_number", name=op.f("uq_shipments_carrier_tracking_number")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index("ix_shipments_next_check_at", ["next_check_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipments_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipments_tracking_number"), ["tracking_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipments_vendor_order_id"), ["vendor_order_id"], unique=False)

    op.create_table(
        "vendor_order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_order_id", sa.String(length=100), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("vendor_sku", sa.String(length=100), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("qty_accepted", sa.Integer(), nullable=False),
        sa.Column("qty_rejected", sa.Integer(), nullable=False),
        sa.Column("qty_backordered", sa.Integer(), nullable=False),
        sa.Column("qty_shipped", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("expected_at", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_vendor_order_lines_order_line_id_order_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_order_id"],
            ["vendor_orders.id"],
            name=op.f("fk_vendor_order_lines_vendor_order_id_vendor_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_order_lines")),
        sa.UniqueConstraint("order_line_id", name=op.f("uq_vendor_order_lines_order_line_id")),
        sa.UniqueConstraint("vendor_order_id", "line_no", name=op.f("uq_vendor_order_lines_vendor_order_id_line_no")),
    )
    op.create_table(
        "shipment_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("vendor_order_line_id", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_lines_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_order_line_id"],
            ["vendor_order_lines.id"],
            name=op.f("fk_shipment_lines_vendor_order_line_id_vendor_order_lines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_lines")),
        sa.UniqueConstraint(
            "shipment_id",
            "vendor_order_line_id",
            name=op.f("uq_shipment_lines_shipment_id_vendor_order_line_id"),
        ),
    )
    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_tracking_events_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
        sa.UniqueConstraint(
            "shipment_id", "occurred_at", "code", name=op.f("uq_tracking_events_shipment_id_occurred_at_code")
        ),
    )


def downgrade() -> None:
    op.drop_table("tracking_events")
    op.drop_table("shipment_lines")
    op.drop_table("vendor_order_lines")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_vendor_order_id"))
        batch_op.drop_index(batch_op.f("ix_shipments_tracking_number"))
        batch_op.drop_index(batch_op.f("ix_shipments_status"))
        batch_op.drop_index("ix_shipments_next_check_at")

    op.drop_table("shipments")
    with op.batch_alter_table("vendor_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_vendor_orders_vendor_code_state")
        batch_op.drop_index(batch_op.f("ix_vendor_orders_state"))

    op.drop_table("vendor_orders")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_lines_state"))
        batch_op.drop_index(batch_op.f("ix_order_lines_sku"))

    op.drop_table("order_lines")
    with op.batch_alter_table("notification_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_events_notification_id"))

    op.drop_table("notification_events")
    op.drop_table("inventory")
    with op.batch_alter_table("catalog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_vendor_code"))

    op.drop_table("catalog")
    op.drop_table("vendors")
    op.drop_table("source_cursors")
    op.drop_table("silences")
    op.drop_table("rate_budgets")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_state"))

    op.drop_table("outbox")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_state"))
        batch_op.drop_index(batch_op.f("ix_orders_placed_at"))
        batch_op.drop_index(batch_op.f("ix_orders_order_number"))

    op.drop_table("orders")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_notifications_fingerprint_live",
            sqlite_where=sa.text("state != 'resolved'"),
            postgresql_where=sa.text("state != 'resolved'"),
        )
        batch_op.drop_index("ix_notifications_state_rule")
        batch_op.drop_index(batch_op.f("ix_notifications_fingerprint"))

    op.drop_table("notifications")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_runs_command_started_at")

    op.drop_table("job_runs")
    op.drop_table("job_locks")
    with op.batch_alter_table("ingested_files", schema=None) as batch_op:
        batch_op.drop_index("ix_ingested_files_origin_ingested_at")

    op.drop_table("ingested_files")
    op.drop_table("control_numbers")
    op.drop_table("circuit_state")
    op.drop_table("carrier_tokens")
    with op.batch_alter_table("carrier_poll_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_carrier_poll_runs_carrier_at")

    op.drop_table("carrier_poll_runs")
