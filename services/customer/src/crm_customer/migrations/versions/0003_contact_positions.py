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
    # Existing contacts keep the order they were shown in: by creation, and contacts entered
    # together (one created_at, random ids) in the order their rows were written, which is what
    # reads fell back to: the rowid on SQLite, the row's place in the table on PostgreSQL.
    written = "ctid" if op.get_bind().dialect.name == "postgresql" else "rowid"
    op.execute(
        f"""
        UPDATE contacts SET position = ranked.position
        FROM (
            SELECT id, row_number() OVER (PARTITION BY customer_id ORDER BY created_at, {written}) - 1 AS position
            FROM contacts
        ) AS ranked
        WHERE contacts.id = ranked.id
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("position")
