"""vendor_file_looks: what a vendor's server showed of each waiting file, to tell a growing file without
trusting the server's clock

Revision ID: 0003_vendor_file_looks
Revises: 0002
Create Date: 2026-12-06 19:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import orderflow.db.types

revision: str = "0003_vendor_file_looks"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vendor_file_looks",
        sa.Column("vendor_code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("modified_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("looked_at", orderflow.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vendor_code", "name"),
    )


def downgrade() -> None:
    op.drop_table("vendor_file_looks")
