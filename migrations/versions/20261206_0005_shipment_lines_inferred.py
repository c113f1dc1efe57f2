"""shipments.lines_inferred: a parcel the vendor listed no lines for carries what no other parcel did

Revision ID: 0005_shipment_lines_inferred
Revises: 0004_catalog_product_variant
Create Date: 2026-12-06 19:35:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_shipment_lines_inferred"
down_revision: str | None = "0004_catalog_product_variant"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lines_inferred", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_column("lines_inferred")
