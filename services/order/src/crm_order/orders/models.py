"""Orders, their lines and their revisions (订单变更记录); money in fen, quantities in
thousandths (crm_order.money)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_order import Base


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(String(36))
    customer_name: Mapped[str] = mapped_column(String(200))
    # The customer's owner and unit when the order last changed; data scope reads the customer
    # facts' current ones.
    owner_id: Mapped[str] = mapped_column(String(36))
    org_unit_id: Mapped[str] = mapped_column(String(36))
    payment_mode: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    delivery_date: Mapped[dt.date] = mapped_column(Date)
    delivery_address: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str] = mapped_column(String(500))
    urgent: Mapped[bool] = mapped_column(Boolean)
    # [{"code": ..., "message": ...}] from the latest checks against the customer's facts.
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # [{"line_no", "sku", "requirement", "overridden_by", "reason"}], kept for good.
    overrides: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    cancel_reason: Mapped[str] = mapped_column(String(200))
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)

    lines: Mapped[list[OrderLine]] = relationship(
        order_by="OrderLine.line_no", cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012  (read once)
    __table_args__ = (
        # Work lists: urgent first, then newest (per customer, and per state).
        Index("ix_orders_customer", "tenant_id", "customer_id", "urgent", "created_at"),
        Index("ix_orders_state", "tenant_id", "state", "urgent", "created_at"),
    )


class OrderLine(Base):
    __tablename__ = "order_lines"

    order_id: Mapped[str] = mapped_column(String(36), ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(36))
    sku: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(10))
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[int] = mapped_column(Integer)
    unit_cost_fen: Mapped[int] = mapped_column(BigInteger)


class OrderRevision(Base):
    """A change after confirmation: who, when, why and the diff; never changed or deleted."""

    __tablename__ = "order_revisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    order_id: Mapped[str] = mapped_column(String(36), ForeignKey("orders.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(200))
    diff_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_order_revisions_order", "order_id", "version"),)
