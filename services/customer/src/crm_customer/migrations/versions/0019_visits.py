"""visits: customers' location, attachments (files in object storage), visits' check-ins and photos

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("latitude", sa.Double(), nullable=True))
        batch.add_column(sa.Column("longitude", sa.Double(), nullable=True))
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(120), nullable=False),
        sa.Column("thumbnail_key", sa.String(120), nullable=True),
        sa.Column("uploader_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_attachments_customer_created", "attachments", ["customer_id", "created_at", "id"])
    op.create_index("ix_attachments_customer_kind_created", "attachments", ["customer_id", "kind", "created_at", "id"])
    op.create_table(
        "visit_records",
        sa.Column("interaction_id", sa.String(36), sa.ForeignKey("interactions.id"), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("accuracy_m", sa.Double(), nullable=True),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("distance_m", sa.Double(), nullable=True),
        sa.Column("photo_attachment_ids", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("visit_records")
    op.drop_index("ix_attachments_customer_kind_created", table_name="attachments")
    op.drop_index("ix_attachments_customer_created", table_name="attachments")
    op.drop_table("attachments")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
