"""Imported orders' external ids (the key that makes an import idempotent, with the business
times the order table has no column for) and the order change log partner systems read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_order import Base


class OrderImport(Base):
    """One imported order: which client brought it in under which external id, and its business
    times as given. Never changed: a second import of the same id answers already_imported."""

    __tablename__ = "order_imports"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The importing partner client's id, or "console" for an admin's history file.
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(36), ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    # sha256 of the item as first imported: a later import with other content is flagged.
    content_hash: Mapped[str] = mapped_column(String(64))
    order_time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    imported_by: Mapped[str] = mapped_column(String(36))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class OrderChange(Base):
    """One order event, logged in the event's transaction: `seq` orders the changes, and is the
    cursor partners resume from. The order as the change left it is kept (serialized
    crm.order.v1.Order), so a reader sees each change, not only the latest state."""

    __tablename__ = "order_changes"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    order_id: Mapped[str] = mapped_column(String(36))
    order_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # PostgreSQL: the writing transaction's id. Sequence numbers are taken before commit, so a
    # reader returns only changes of transactions older than every one still running (no change
    # can then appear later below a cursor already handed out). SQLite has one writer: NULL.
    txid: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_order_changes_tenant_seq", "tenant_id", "seq"),)
