"""An order's delivery (配送): the dispatch details it left with and the confirmation it came back
with, one row per order, and the photos uploaded for it (bytes in object storage)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_order import Base


class OrderDelivery(Base):
    """Written at dispatch, completed at delivery; never changed afterwards. The batches
    themselves are in `order_line_batches` (crm_order.batches), which recall reads."""

    __tablename__ = "order_deliveries"

    order_id: Mapped[str] = mapped_column(String(36), ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    vehicle: Mapped[str] = mapped_column(String(20))
    driver_name: Mapped[str] = mapped_column(String(50))
    driver_phone: Mapped[str] = mapped_column(String(20))
    planned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    dispatched_by: Mapped[str] = mapped_column(String(36))
    dispatched_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # The confirmation: empty / null until the order is delivered.
    signed_by: Mapped[str] = mapped_column(String(50), default="")
    signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    photo_id: Mapped[str] = mapped_column(String(36), default="")
    # "" (delivered in full), "partial", "refused" or "damaged".
    exception: Mapped[str] = mapped_column(String(10), default="")
    exception_reason: Mapped[str] = mapped_column(String(200), default="")
    # [{"line_no", "quantity_milli", "note"}]: delivered (partial) or damaged quantities.
    exception_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    confirmed_by: Mapped[str] = mapped_column(String(36), default="")
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DeliveryPhoto(Base):
    """A photo uploaded for an order's delivery; its key is random, so no URL can be guessed."""

    __tablename__ = "order_delivery_photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    order_id: Mapped[str] = mapped_column(String(36), ForeignKey("orders.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(String(200))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_order_delivery_photos_order", "order_id", "created_at"),)
