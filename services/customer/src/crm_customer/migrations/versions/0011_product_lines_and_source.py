"""product lines (per tenant, multi-valued on customers) and how a customer came (source)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "product_lines",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(30), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("product_lines", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("source", sa.String(20), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("source")
        batch.drop_column("product_lines")
    op.drop_table("product_lines")
