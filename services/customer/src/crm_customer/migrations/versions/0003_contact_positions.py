"""contacts keep the order they were entered in

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("position", sa.Integer(), server_default="0", nullable=False))
    # Existing contacts keep the order they were shown in: by creation, ties by id.
    op.execute(
        """
        UPDATE contacts SET position = (
            SELECT count(*) FROM contacts AS earlier
            WHERE earlier.customer_id = contacts.customer_id
              AND (earlier.created_at < contacts.created_at
                   OR (earlier.created_at = contacts.created_at AND earlier.id < contacts.id))
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("position")
