"""calendar (issue 12): customers' closures (停工/放假) with the tenant's templates (校历), and
licences (资质证照) with the tenant's kinds

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "closure_templates",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("ranges", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("uq_closure_templates_tenant_name", "closure_templates", ["tenant_id", "name"], unique=True)
    op.create_table(
        "closure_template_members",
        sa.Column("template_id", sa.String(36), sa.ForeignKey("closure_templates.id"), primary_key=True),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("applied_by", sa.String(36), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_closure_template_members_customer", "closure_template_members", ["customer_id"])
    op.create_table(
        "customer_closures",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("template_id", sa.String(36), nullable=True),
        sa.Column("template_range_id", sa.String(36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_customer_closures_customer_start", "customer_closures", ["customer_id", "start_date", "end_date"]
    )
    op.create_index("ix_customer_closures_template", "customer_closures", ["template_id", "customer_id"])
    op.create_table(
        "licence_kinds",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(30), primary_key=True),
        sa.Column("required_for", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_table(
        "licences",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("issuer", sa.String(100), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("attachment_id", sa.String(64), nullable=False),
        sa.Column("notes", sa.String(500), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notice_stage", sa.Integer(), nullable=False),
        sa.Column("next_notice_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_licences_customer_kind", "licences", ["customer_id", "kind", "valid_until"])
    op.create_index("ix_licences_next_notice", "licences", ["next_notice_on", "id"])
    op.create_index("ix_licences_tenant_valid_until", "licences", ["tenant_id", "valid_until", "id"])


def downgrade() -> None:
    op.drop_index("ix_licences_tenant_valid_until", "licences")
    op.drop_index("ix_licences_next_notice", "licences")
    op.drop_index("ix_licences_customer_kind", "licences")
    op.drop_table("licences")
    op.drop_table("licence_kinds")
    op.drop_index("ix_customer_closures_template", "customer_closures")
    op.drop_index("ix_customer_closures_customer_start", "customer_closures")
    op.drop_table("customer_closures")
    op.drop_index("ix_closure_template_members_customer", "closure_template_members")
    op.drop_table("closure_template_members")
    op.drop_index("uq_closure_templates_tenant_name", "closure_templates")
    op.drop_table("closure_templates")
