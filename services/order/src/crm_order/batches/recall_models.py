"""Recalls of batches (批次召回): one per batch and tenant, with the customers it reached. Kept
beside the batch lines' table (models.py), which dispatch owns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_order import Base


class BatchRecall(Base):
    __tablename__ = "batch_recalls"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    batch_no: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    raised_by: Mapped[str] = mapped_column(String(36))
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Every customer of the tenant that had received the batch when it was recalled.
    customer_count: Mapped[int] = mapped_column(Integer)

    customers: Mapped[list[RecallCustomer]] = relationship(
        order_by="RecallCustomer.position", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        # A batch is recalled once per tenant: the second raise is refused (already_recalled).
        Index("ux_batch_recalls_batch", "tenant_id", "batch_no", unique=True),
        Index("ix_batch_recalls_raised", "tenant_id", "raised_at"),
    )


class RecallCustomer(Base):
    """A customer a recall reached, as it was then: its owner and unit (whom to tell) and what
    it received of the batch. A row of its own so reading recalls applies the data scope in SQL."""

    __tablename__ = "batch_recall_customers"

    recall_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("batch_recalls.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    position: Mapped[int] = mapped_column(Integer)
    customer_name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[str] = mapped_column(String(36))
    org_unit_id: Mapped[str] = mapped_column(String(36))
    # [{"product_id", "sku", "product_name", "unit", "quantity_milli"}], per product.
    quantities: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    last_delivery_date: Mapped[str] = mapped_column(String(10))
    last_dispatched_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    order_count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_batch_recall_customers_customer", "tenant_id", "customer_id"),)
