"""the directory copy (users from the gateway's user_changed events), assignment rules with their
round-robin turns, and the rule that placed each customer

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmkit.db import bytewise

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_users",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("org_unit_id", sa.String(36), nullable=False),
        sa.Column("org_path", bytewise(400), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_directory_users_tenant_path", "directory_users", ["tenant_id", "org_path"])
    op.create_table(
        "assignment_rule_sets",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(36), nullable=False),
    )
    op.create_table(
        "assignment_cursors",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("rule_id", sa.String(36), primary_key=True),
        sa.Column("next_index", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("assigned_rule_id", sa.String(36), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("assigned_rule_id")
    op.drop_table("assignment_cursors")
    op.drop_table("assignment_rule_sets")
    op.drop_index("ix_directory_users_tenant_path", "directory_users")
    op.drop_table("directory_users")
