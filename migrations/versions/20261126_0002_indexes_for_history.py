"""indexes that keep rules run to the live work on a database with years of history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("carrier_poll_runs", schema=None) as batch_op:
        batch_op.create_index("ix_carrier_poll_runs_at", ["at"], unique=False)

    with op.batch_alter_table("ingested_files", schema=None) as batch_op:
        batch_op.create_index("ix_ingested_files_ingested_at", ["ingested_at"], unique=False)

    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index("ix_job_runs_command_finished_at", ["command", "finished_at"], unique=False)

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_order_number", ["order_number"], unique=False)
        batch_op.create_index("ix_notifications_vendor_order_id", ["vendor_order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_vendor_order_id")
        batch_op.drop_index("ix_notifications_order_number")

    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_runs_command_finished_at")

    with op.batch_alter_table("ingested_files", schema=None) as batch_op:
        batch_op.drop_index("ix_ingested_files_ingested_at")

    with op.batch_alter_table("carrier_poll_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_carrier_poll_runs_at")
