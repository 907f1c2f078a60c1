"""the return date each customer's owner was last warned of, and which pool rule returned a
customer

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmkit.migration_ops import create_job_tables

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("return_warned_for", sa.Date(), nullable=True))
    with op.batch_alter_table("owner_changes") as batch:
        batch.add_column(sa.Column("pool_rule", sa.String(20), nullable=False, server_default=""))
    # The pool sweep is the service's first periodic job.
    create_job_tables()


def downgrade() -> None:
    op.drop_table("job_leases")
    with op.batch_alter_table("owner_changes") as batch:
        batch.drop_column("pool_rule")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("return_warned_for")
