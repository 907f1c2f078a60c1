"""revisit plans (定期回访) and their tasks; the customers' (tenant, tier, id) index the job reads

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmkit.db import bytewise

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revisit_plans",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("tier", sa.String(10), primary_key=True),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("assignee", sa.String(10), nullable=False),
    )
    op.create_table(
        "revisit_tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("org_unit_id", sa.String(36), nullable=False),
        sa.Column("org_path", bytewise(400), nullable=False),
        sa.Column("assignee_kind", sa.String(10), nullable=False),
        sa.Column("assignee_id", sa.String(36), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("tier", sa.String(10), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.String(36), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("new_needs", sa.String(1000), nullable=False),
        sa.Column("interaction_id", sa.String(36), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("cancel_reason", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    is_open = sa.text("status = 'open'")
    op.create_index(
        "uq_revisit_tasks_open_customer",
        "revisit_tasks",
        ["customer_id"],
        unique=True,
        postgresql_where=is_open,
        sqlite_where=is_open,
    )
    op.create_index("ix_revisit_tasks_customer_due", "revisit_tasks", ["customer_id", "due_date", "id"])
    op.create_index(
        "ix_revisit_tasks_assignee_due", "revisit_tasks", ["tenant_id", "assignee_id", "status", "due_date", "id"]
    )
    op.create_index("ix_revisit_tasks_tenant_due", "revisit_tasks", ["tenant_id", "status", "due_date", "id"])
    unannounced = sa.text("status = 'open' AND overdue_at IS NULL")
    op.create_index(
        "ix_revisit_tasks_unannounced",
        "revisit_tasks",
        ["due_date", "id"],
        postgresql_where=unannounced,
        sqlite_where=unannounced,
    )
    op.create_index("ix_customers_tenant_tier", "customers", ["tenant_id", "tier", "id"])


def downgrade() -> None:
    op.drop_index("ix_customers_tenant_tier", table_name="customers")
    op.drop_table("revisit_tasks")
    op.drop_table("revisit_plans")
