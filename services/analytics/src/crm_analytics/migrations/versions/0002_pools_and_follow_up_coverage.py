"""pools and follow-up coverage: each customer's pool and latest follow-up, and pool movements
per day

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmkit.db import bytewise

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_facts") as batch:
        batch.add_column(sa.Column("pool_id", sa.String(36), nullable=False, server_default=""))
        batch.add_column(sa.Column("last_interaction_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_customer_facts_pool", "customer_facts", ["tenant_id", "pool_id"])
    op.create_table(
        "pool_movements",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("pool_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("org_path", bytewise(400), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pool_movements")
    op.drop_index("ix_customer_facts_pool", table_name="customer_facts")
    with op.batch_alter_table("customer_facts") as batch:
        batch.drop_column("last_interaction_at")
        batch.drop_column("pool_id")
