"""indexes for the rules that look back: parcels by first scan and by status and carrier, a vendor's orders by
acknowledgement due

Revision ID: 0006_indexes_for_rules_at_scale
Revises: 0005_shipment_lines_inferred
Create Date: 2026-12-07 04:35:00.000000

On a shop with a million orders, ``vendor_late`` read every parcel ever shipped to learn each vendor's
upload lag of the last sixty days, ``not_acknowledged`` sorted every one of a vendor's orders to find its
last five due an answer (the due time after the state, in the vendor and state index, keeps its other
query off that new index), and ``carrier_not_configured`` went through every parcel of the carriers it asks
about (SQLite, without statistics, preferred the carrier's index to the status's).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_indexes_for_rules_at_scale"
down_revision: str | None = "0005_shipment_lines_inferred"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index("ix_shipments_first_scan_at", ["first_scan_at"], unique=False)
        batch_op.create_index("ix_shipments_status_carrier", ["status", "carrier"], unique=False)
        batch_op.drop_index("ix_shipments_status")

    with op.batch_alter_table("vendor_orders", schema=None) as batch_op:
        batch_op.create_index("ix_vendor_orders_vendor_code_ack_due_at", ["vendor_code", "ack_due_at"], unique=False)
        batch_op.create_index("ix_vendor_orders_vendor_code_state_ack_due_at", ["vendor_code", "state", "ack_due_at"],
                              unique=False)
        batch_op.drop_index("ix_vendor_orders_vendor_code_state")


def downgrade() -> None:
    with op.batch_alter_table("vendor_orders", schema=None) as batch_op:
        batch_op.create_index("ix_vendor_orders_vendor_code_state", ["vendor_code", "state"], unique=False)
        batch_op.drop_index("ix_vendor_orders_vendor_code_state_ack_due_at")
        batch_op.drop_index("ix_vendor_orders_vendor_code_ack_due_at")

    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index("ix_shipments_status", ["status"], unique=False)
        batch_op.drop_index("ix_shipments_status_carrier")
        batch_op.drop_index("ix_shipments_first_scan_at")
