"""indexes for listing customers most recently changed first and by the name's pinyin

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customers_tenant_updated", "customers", ["tenant_id", "updated_at", "id"])
    op.create_index("ix_customers_tenant_pinyin", "customers", ["tenant_id", "pinyin_full", "id"])


def downgrade() -> None:
    op.drop_index("ix_customers_tenant_pinyin", table_name="customers")
    op.drop_index("ix_customers_tenant_updated", table_name="customers")
