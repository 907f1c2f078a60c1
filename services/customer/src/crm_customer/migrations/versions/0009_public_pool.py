"""the public pool: pools bound to org units, claims on their customers, and each customer's
tier, pool and ownership dates

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:00:00

Existing customers are "normal" tier and held by their owners since they were created.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmkit.db import bytewise

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pools",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("org_unit_id", sa.String(36), nullable=False),
        sa.Column("org_path", bytewise(400), nullable=False),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("uq_pools_tenant_org_unit", "pools", ["tenant_id", "org_unit_id"], unique=True)
    op.create_table(
        "pool_claims",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("pool_id", sa.String(36), sa.ForeignKey("pools.id"), nullable=False),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("claimant_id", sa.String(36), nullable=False),
        sa.Column("claimant_org_unit_id", sa.String(36), nullable=False),
        sa.Column("claimant_org_path", bytewise(400), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("decider_id", sa.String(36), nullable=False),
        sa.Column("comment", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    pending = sa.text("status = 'pending'")
    op.create_index(
        "uq_pool_claims_pending_customer",
        "pool_claims",
        ["customer_id"],
        unique=True,
        postgresql_where=pending,
        sqlite_where=pending,
    )
    op.create_index("ix_pool_claims_claimant_created", "pool_claims", ["tenant_id", "claimant_id", "created_at", "id"])
    op.create_index("ix_pool_claims_pool_created", "pool_claims", ["pool_id", "created_at", "id"])
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("tier", sa.String(10), nullable=False, server_default="normal"))
        batch.add_column(sa.Column("pool_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("pool_entered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("pool_enter_kind", sa.String(20), nullable=False, server_default=""))
        batch.add_column(sa.Column("pool_enter_reason", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("owned_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_visit_due", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE customers SET owned_since = created_at")
    op.create_index("ix_customers_pool_entered", "customers", ["pool_id", "pool_entered_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_customers_pool_entered", table_name="customers")
    with op.batch_alter_table("customers") as batch:
        for column in (
            "first_visit_due",
            "owned_since",
            "pool_enter_reason",
            "pool_enter_kind",
            "pool_entered_at",
            "pool_id",
            "tier",
        ):
            batch.drop_column(column)
    op.drop_table("pool_claims")
    op.drop_table("pools")
