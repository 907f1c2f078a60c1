"""indexes for listing customers by lifecycle stage or type

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 02:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customers_tenant_stage", "customers", ["tenant_id", "lifecycle_stage", "created_at", "id"])
    op.create_index("ix_customers_tenant_type", "customers", ["tenant_id", "type", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_customers_tenant_type", table_name="customers")
    op.drop_index("ix_customers_tenant_stage", table_name="customers")
