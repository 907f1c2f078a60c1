"""revisit rate (回访率): a fact row per revisit task, from the customer service's revisit events

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmkit.db import bytewise

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revisit_task_facts",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("task_id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("org_unit_id", sa.String(36), nullable=False),
        sa.Column("org_path", bytewise(400), nullable=False),
        sa.Column("assignee_kind", sa.String(10), nullable=False),
        sa.Column("assignee_id", sa.String(36), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("due_month", sa.String(7), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_revisit_task_facts_month_scope", "revisit_task_facts", ["tenant_id", "due_month", "org_path"])
    op.create_index(
        "ix_revisit_task_facts_assignee_month", "revisit_task_facts", ["tenant_id", "assignee_id", "due_month"]
    )


def downgrade() -> None:
    op.drop_table("revisit_task_facts")
