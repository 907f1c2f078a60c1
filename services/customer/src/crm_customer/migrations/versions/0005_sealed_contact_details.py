"""contacts' mobiles, WeChat ids and emails sealed at rest, found by blind indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:10:00

Existing details are sealed with the service's keyring (`alembic.context.config.attributes`,
which the kit fills from CRM_CUSTOMER_PERSONAL_DATA_KEYS_FILE), and the search terms of their
mobiles replaced by blind terms; then the plaintext columns are dropped. A database holding no
personal details migrates without a keyring. On SQLite the dropped values' pages are zeroed
(secure_delete); on PostgreSQL the old row versions stay in the table files and WAL until a
VACUUM FULL of contacts and customer_search_terms (docs/architecture.md, "Personal data").

There is no downgrade: it would write personal data back in clear.
"""

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from crm_customer.contacts.personal import ContactDetails, PersonalData
from crmkit.pii import Keyring

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
# Before this revision a mobile was indexed under itself (rank 0) and its last four digits (rank 5).
OLD_MOBILE_RANK, OLD_TAIL_RANK = 0, 5
SEALED_COLUMNS = ("mobile_sealed", "mobile_index", "wechat_id_sealed", "wechat_id_index", "email_sealed", "key_id")


def upgrade() -> None:
    bind = op.get_bind()
    # Before any change: SQLite's DDL is not transactional, so a refusal later would leave half of it.
    personal = _personal_data(bind)
    if bind.dialect.name == "sqlite":
        # Zero the pages the plaintext leaves when the table is rebuilt without it.
        op.execute("PRAGMA secure_delete = ON")
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("mobile_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("mobile_index", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("wechat_id_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("wechat_id_index", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("email_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("key_id", sa.String(length=8), nullable=True))
    if personal is not None:
        _seal_existing_details(bind, personal)
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("uq_contacts_tenant_mobile")
        batch.drop_index("uq_contacts_tenant_wechat")
        batch.drop_column("mobile")
        batch.drop_column("wechat_id")
        batch.drop_column("email")
        batch.create_index("uq_contacts_tenant_mobile_index", ["tenant_id", "mobile_index"], unique=True)
        batch.create_index("uq_contacts_tenant_wechat_index", ["tenant_id", "wechat_id_index"], unique=True)


def _personal_data(bind: sa.engine.Connection) -> PersonalData | None:
    holding = bind.execute(
        sa.text("SELECT 1 FROM contacts WHERE mobile IS NOT NULL OR wechat_id IS NOT NULL OR email <> '' LIMIT 1")
    ).first()
    if holding is None:
        return None
    keyring = context.config.attributes.get("keyring")
    if not isinstance(keyring, Keyring):
        raise RuntimeError(
            "contacts hold personal details to seal: run this migration through the customer service "
            "(python -m crm_customer migrate) with CRM_CUSTOMER_PERSONAL_DATA_KEYS_FILE set"
        )
    return PersonalData(keyring)


def _seal_existing_details(bind: sa.engine.Connection, personal: PersonalData) -> None:
    select_batch = sa.text(
        "SELECT k.id, k.tenant_id, k.customer_id, k.mobile, k.wechat_id, k.email, c.owner_id"
        " FROM contacts k JOIN customers c ON c.id = k.customer_id"
        " WHERE k.id > :after ORDER BY k.id LIMIT :limit"
    )
    after = ""
    while True:
        rows = bind.execute(select_batch, {"after": after, "limit": BATCH}).all()
        if not rows:
            return
        _seal_batch(bind, personal, rows)
        after = rows[-1].id


def _seal_batch(bind: sa.engine.Connection, personal: PersonalData, rows: Sequence[Any]) -> None:
    sealed: list[dict[str, Any]] = []
    old_terms: list[dict[str, Any]] = []
    new_terms: list[dict[str, Any]] = []
    for row in rows:
        contact = SimpleNamespace(id=row.id, tenant_id=row.tenant_id)
        personal.seal(contact, ContactDetails(mobile=row.mobile, wechat_id=row.wechat_id, email=row.email or ""))
        sealed.append({"id": row.id, **{name: getattr(contact, name) for name in SEALED_COLUMNS}})
        if row.mobile:
            place = {"tenant_id": row.tenant_id, "customer_id": row.customer_id}
            old_terms.append({**place, "term": row.mobile, "rank": OLD_MOBILE_RANK})
            old_terms.append({**place, "term": row.mobile[-4:], "rank": OLD_TAIL_RANK})
            for term, rank in personal.mobile_search_terms(row.tenant_id, [row.mobile]).items():
                new_terms.append({**place, "term": term, "rank": rank, "owner_id": row.owner_id})
    assignments = ", ".join(f"{name} = :{name}" for name in SEALED_COLUMNS)
    bind.execute(sa.text(f"UPDATE contacts SET {assignments} WHERE id = :id"), sealed)
    if old_terms:
        bind.execute(
            sa.text(
                "DELETE FROM customer_search_terms WHERE tenant_id = :tenant_id AND term = :term"
                " AND rank = :rank AND customer_id = :customer_id"
            ),
            old_terms,
        )
        # Two contacts of one customer may share an ending, and so a bucket.
        bind.execute(
            sa.text(
                "INSERT INTO customer_search_terms (tenant_id, term, rank, customer_id, owner_id)"
                " VALUES (:tenant_id, :term, :rank, :customer_id, :owner_id) ON CONFLICT DO NOTHING"
            ),
            new_terms,
        )


def downgrade() -> None:
    raise NotImplementedError("0005 has no downgrade: it would write contacts' personal data back in clear")
