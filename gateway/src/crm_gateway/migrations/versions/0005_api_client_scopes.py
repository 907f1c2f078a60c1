"""api client scopes and last use: partner systems calling the services' gRPC with
client-credentials tokens (crmkit.partners)

Clients registered before this revision have no scopes: their REST keys work as before, and an
admin grants scopes before they take tokens for gRPC.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("scopes", sa.String(200), server_default="", nullable=False))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("scopes")
