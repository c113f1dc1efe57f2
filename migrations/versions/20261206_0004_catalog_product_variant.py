"""catalog.product and catalog.variant: route lines of stores that sell without SKUs by product and variant

Revision ID: 0004_catalog_product_variant
Revises: 0003_vendor_file_looks
Create Date: 2026-12-06 19:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_catalog_product_variant"
down_revision: str | None = "0003_vendor_file_looks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("catalog", schema=None) as batch_op:
        batch_op.add_column(sa.Column("product", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("variant", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("catalog", schema=None) as batch_op:
        batch_op.drop_column("variant")
        batch_op.drop_column("product")
