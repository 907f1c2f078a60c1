"""Batch / lot numbers (批次) recorded on order lines at dispatch: the table batch recall reads
("which customers received batch X"). Written by dispatch, never changed afterwards."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_order import Base


class OrderLineBatch(Base):
    """One batch of one order line, with the quantity of the line that came from it (a line may
    be filled from several batches). Customer and product are copied so a recall reads one index."""

    __tablename__ = "order_line_batches"

    order_id: Mapped[str] = mapped_column(String(36), ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(String(36))
    customer_name: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[str] = mapped_column(String(36))
    sku: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(10))
    # Thousandths of the unit (crm_order.money), as order lines.
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    # The order's delivery date (Asia/Shanghai) and when it was dispatched.
    delivery_date: Mapped[dt.date] = mapped_column(Date)
    dispatched_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # Recall: every line of a batch in a tenant, newest dispatch first.
        Index("ix_order_line_batches_batch", "tenant_id", "batch_no", "dispatched_at"),
    )
