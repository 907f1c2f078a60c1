"""customer profile: preferences and special requirements, tier and grade with their sources and
history, lifecycle stage history, group parents and relations between customers

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("preferences", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("special_requirements", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("tier_manual", sa.String(10), nullable=True))
        batch.add_column(sa.Column("tier_automatic", sa.String(10), nullable=True))
        batch.add_column(sa.Column("grade", sa.String(10), nullable=False, server_default=""))
        batch.add_column(sa.Column("grade_manual", sa.String(10), nullable=True))
        batch.add_column(sa.Column("grade_automatic", sa.String(10), nullable=True))
        batch.add_column(sa.Column("parent_customer_id", sa.String(36), nullable=True))
    # Until now every tier was set by a person (at creation or by an edit); the default "normal"
    # stays unset, so an automatic tier can apply to it.
    op.execute("UPDATE customers SET tier_manual = tier WHERE tier <> 'normal'")
    op.create_index("ix_customers_parent", "customers", ["parent_customer_id"])

    op.create_table(
        "special_requirement_kinds",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("key", sa.String(30), primary_key=True),
        sa.Column("label", sa.String(20), nullable=False),
        sa.Column("description", sa.String(100), nullable=False),
        sa.Column("takes_details", sa.Boolean(), nullable=False),
        sa.Column("details_label", sa.String(20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "tier_labels",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("dimension", sa.String(10), primary_key=True),
        sa.Column("value", sa.String(10), primary_key=True),
        sa.Column("label", sa.String(10), nullable=False),
    )
    op.create_table(
        "tier_changes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("dimension", sa.String(10), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("from_value", sa.String(10), nullable=False),
        sa.Column("to_value", sa.String(10), nullable=False),
        sa.Column("effective_value", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tier_changes_customer_occurred", "tier_changes", ["customer_id", "occurred_at", "id"])
    op.create_table(
        "stage_changes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("from_stage", sa.String(16), nullable=False),
        sa.Column("to_stage", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_stage_changes_customer_occurred", "stage_changes", ["customer_id", "occurred_at", "id"])
    op.create_table(
        "customer_relations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("related_customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "uq_customer_relations_pair", "customer_relations", ["customer_id", "related_customer_id", "kind"], unique=True
    )
    op.create_index("ix_customer_relations_related", "customer_relations", ["related_customer_id"])


def downgrade() -> None:
    op.drop_table("customer_relations")
    op.drop_table("stage_changes")
    op.drop_table("tier_changes")
    op.drop_table("tier_labels")
    op.drop_table("special_requirement_kinds")
    op.drop_index("ix_customers_parent", table_name="customers")
    with op.batch_alter_table("customers") as batch:
        for column in (
            "parent_customer_id",
            "grade_automatic",
            "grade_manual",
            "grade",
            "tier_automatic",
            "tier_manual",
            "special_requirements",
            "preferences",
        ):
            batch.drop_column(column)
