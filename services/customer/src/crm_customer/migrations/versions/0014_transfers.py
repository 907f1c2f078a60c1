"""transfers (离职交接): a departing rep's customers moved by a job, with progress

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 18:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmkit.db import bytewise

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("from_user_id", sa.String(36), nullable=False),
        sa.Column("from_org_unit_id", sa.String(36), nullable=False),
        sa.Column("from_org_path", bytewise(400), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("to_user_ids", sa.JSON(), nullable=False),
        sa.Column("pool_id", sa.String(36), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("skips", sa.JSON(), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("cursor", sa.String(36), nullable=False),
        sa.Column("error", sa.String(300), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_transfers_tenant_created", "transfers", ["tenant_id", "created_at", "id"])
    op.create_index("ix_transfers_status_created", "transfers", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_transfers_status_created", "transfers")
    op.drop_index("ix_transfers_tenant_created", "transfers")
    op.drop_table("transfers")
