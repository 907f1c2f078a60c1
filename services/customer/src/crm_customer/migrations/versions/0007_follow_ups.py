"""follow-ups: the interactions table, and each customer's last and next follow-up

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("author_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contact_ids", sa.JSON(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(500), nullable=False),
        sa.Column("next_follow_up_date", sa.Date(), nullable=True),
        sa.Column("corrects_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_interactions_customer_occurred", "interactions", ["customer_id", "occurred_at", "id"])
    op.create_index("ix_interactions_tenant_author_occurred", "interactions", ["tenant_id", "author_id", "occurred_at"])
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("last_interaction_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_follow_up_date", sa.Date(), nullable=True))
    op.create_index(
        "ix_customers_tenant_owner_follow_up", "customers", ["tenant_id", "owner_id", "next_follow_up_date"]
    )
    op.create_index("ix_customers_tenant_follow_up", "customers", ["tenant_id", "next_follow_up_date"])


def downgrade() -> None:
    op.drop_index("ix_customers_tenant_follow_up", table_name="customers")
    op.drop_index("ix_customers_tenant_owner_follow_up", table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("next_follow_up_date")
        batch.drop_column("last_interaction_at")
    op.drop_index("ix_interactions_tenant_author_occurred", table_name="interactions")
    op.drop_index("ix_interactions_customer_occurred", table_name="interactions")
    op.drop_table("interactions")
