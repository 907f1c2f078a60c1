"""imports: customer imports with their problems, rejected rows, stored files and row marks; the
username in the directory copy; customers by name

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crmkit.db import bytewise

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_imports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=False),
        sa.Column("org_unit_id", sa.String(36), nullable=False),
        sa.Column("org_path", bytewise(400), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("actor_name", sa.String(100), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("received_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("encoding", sa.String(16), nullable=False),
        sa.Column("update_existing", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("dry_run", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(300), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("header_row", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_customer_imports_tenant_created", "customer_imports", ["tenant_id", "created_at", "id"])
    op.create_index(
        "ix_customer_imports_tenant_actor_created", "customer_imports", ["tenant_id", "actor_id", "created_at", "id"]
    )
    op.create_index("ix_customer_imports_status_created", "customer_imports", ["status", "created_at"])
    op.create_table(
        "customer_import_files",
        sa.Column("import_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "customer_import_rows",
        sa.Column("import_id", sa.String(36), primary_key=True),
        sa.Column("row_number", sa.Integer(), primary_key=True),
        sa.Column("cells", sa.JSON(), nullable=False),
    )
    op.create_table(
        "customer_import_problems",
        sa.Column("import_id", sa.String(36), primary_key=True),
        sa.Column("pass", sa.String(8), primary_key=True),
        sa.Column("row_number", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("header", sa.String(100), nullable=False),
        sa.Column("code", sa.String(30), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("existing_customer_id", sa.String(36), nullable=False),
        sa.Column("existing_customer_name", sa.String(200), nullable=False),
        sa.Column("existing_visible", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "customer_import_rejected_rows",
        sa.Column("import_id", sa.String(36), primary_key=True),
        sa.Column("pass", sa.String(8), primary_key=True),
        sa.Column("row_number", sa.Integer(), primary_key=True),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
    )
    op.create_table(
        "customer_import_marks",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("row_number", sa.Integer(), primary_key=True),
        sa.Column("import_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
    )
    with op.batch_alter_table("directory_users") as batch:
        batch.add_column(sa.Column("username", sa.String(100), nullable=False, server_default=""))
    op.create_index("ix_directory_users_tenant_username", "directory_users", ["tenant_id", "username"])
    op.create_index("ix_directory_users_tenant_display_name", "directory_users", ["tenant_id", "display_name"])
    op.create_index("ix_customers_tenant_name", "customers", ["tenant_id", "name"])


def downgrade() -> None:
    op.drop_index("ix_customers_tenant_name", "customers")
    op.drop_index("ix_directory_users_tenant_display_name", "directory_users")
    op.drop_index("ix_directory_users_tenant_username", "directory_users")
    with op.batch_alter_table("directory_users") as batch:
        batch.drop_column("username")
    op.drop_table("customer_import_marks")
    op.drop_table("customer_import_rejected_rows")
    op.drop_table("customer_import_problems")
    op.drop_table("customer_import_rows")
    op.drop_table("customer_import_files")
    op.drop_index("ix_customer_imports_status_created", "customer_imports")
    op.drop_index("ix_customer_imports_tenant_actor_created", "customer_imports")
    op.drop_index("ix_customer_imports_tenant_created", "customer_imports")
    op.drop_table("customer_imports")
