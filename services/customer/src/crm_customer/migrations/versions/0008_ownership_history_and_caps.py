"""ownership: each customer's ownership history, and caps on the customers a user may hold

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:30:00

Existing customers get one "created" entry each, dated when they were created, so every
customer's history starts with how it came to be.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "owner_changes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("from_owner_id", sa.String(36), nullable=False),
        sa.Column("to_owner_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=False),
        sa.Column("rule_id", sa.String(36), nullable=True),
        sa.Column("pool_id", sa.String(36), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_owner_changes_customer_occurred", "owner_changes", ["customer_id", "occurred_at", "id"])
    op.create_table(
        "customer_caps",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("cap", sa.Integer(), nullable=False),
    )
    # The customer's own id serves as its "created" entry's id: unique, and no UUID function is
    # needed on either backend.
    op.execute(
        "INSERT INTO owner_changes (id, tenant_id, customer_id, from_owner_id, to_owner_id, kind, reason,"
        " actor_id, occurred_at)"
        " SELECT id, tenant_id, id, '', owner_id, 'created', '', owner_id, created_at FROM customers"
    )


def downgrade() -> None:
    op.drop_table("customer_caps")
    op.drop_index("ix_owner_changes_customer_occurred", table_name="owner_changes")
    op.drop_table("owner_changes")
