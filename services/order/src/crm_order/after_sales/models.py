"""After-sales (售后), their lines and the per-day number counter; money in fen, quantities in
thousandths (crm_order.money)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_order import Base


class AfterSale(Base):
    __tablename__ = "after_sales"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    number: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[str] = mapped_column(String(36), ForeignKey("orders.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(String(36))
    customer_name: Mapped[str] = mapped_column(String(200))
    # The customer's owner and unit when the after-sale last changed; scope reads the order's
    # customer facts' current ones.
    owner_id: Mapped[str] = mapped_column(String(36))
    org_unit_id: Mapped[str] = mapped_column(String(36))
    # return_refund, refund_only, exchange, reissue.
    type: Mapped[str] = mapped_column(String(20))
    # requested, approved, rejected.
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500))
    refund_fen: Mapped[int] = mapped_column(BigInteger)
    # Customer attachment ids.
    photo_ids: Mapped[list[str]] = mapped_column(JSON)
    reissue_invoice: Mapped[bool] = mapped_column(Boolean)
    requested_by: Mapped[str] = mapped_column(String(36))
    decision: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str] = mapped_column(String(36))
    decision_comment: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    shipment_order_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)

    lines: Mapped[list[AfterSaleLine]] = relationship(
        order_by="AfterSaleLine.line_no", cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012  (read once)
    __table_args__ = (
        Index("ux_after_sales_number", "tenant_id", "number", unique=True),
        Index("ix_after_sales_order", "order_id", "state"),
        Index("ix_after_sales_customer", "tenant_id", "customer_id", "created_at"),
        Index("ix_after_sales_state", "tenant_id", "state", "created_at"),
    )


class AfterSaleLine(Base):
    """One order line an after-sale concerns, priced as the order line was."""

    __tablename__ = "after_sale_lines"

    after_sale_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("after_sales.id", ondelete="CASCADE"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(36))
    sku: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(10))
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    unit_cost_fen: Mapped[int] = mapped_column(BigInteger)


class AfterSaleNumber(Base):
    """The last number handed out per tenant and day (SH-20261203-0001, 0002, …)."""

    __tablename__ = "after_sale_numbers"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
