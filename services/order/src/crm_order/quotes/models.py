"""Quotes (报价单), their lines and the per-day number counter; money in fen, quantities in
thousandths (crm_order.money)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_order import Base


class Quote(Base):
    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    number: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[str] = mapped_column(String(36))
    customer_name: Mapped[str] = mapped_column(String(200))
    # The customer's owner and unit when the quote last changed; scope reads the facts' current ones.
    owner_id: Mapped[str] = mapped_column(String(36))
    org_unit_id: Mapped[str] = mapped_column(String(36))
    # Stored: draft, pending_approval, approved, rejected, converted. "expired" is read from
    # valid_until against today, so no job has to flip rows at midnight.
    state: Mapped[str] = mapped_column(String(20))
    valid_until: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(String(500))
    # Percent in hundredths (9000 = 90.00%) as it was when the quote was last priced.
    threshold_bp: Mapped[int] = mapped_column(Integer)
    submitted_by: Mapped[str] = mapped_column(String(36))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str] = mapped_column(String(36))
    decision_comment: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    order_id: Mapped[str] = mapped_column(String(36))
    created_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)

    lines: Mapped[list[QuoteLine]] = relationship(
        order_by="QuoteLine.line_no", cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012  (read once)
    __table_args__ = (
        Index("ux_quotes_number", "tenant_id", "number", unique=True),
        Index("ix_quotes_customer", "tenant_id", "customer_id", "created_at"),
        Index("ix_quotes_state", "tenant_id", "state", "created_at"),
    )


class QuoteLine(Base):
    __tablename__ = "quote_lines"

    quote_id: Mapped[str] = mapped_column(String(36), ForeignKey("quotes.id", ondelete="CASCADE"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(36))
    sku: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(100))
    specification: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(10))
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    list_price_fen: Mapped[int] = mapped_column(BigInteger)
    quoted_price_fen: Mapped[int] = mapped_column(BigInteger)
    unit_cost_fen: Mapped[int] = mapped_column(BigInteger)


class QuoteNumber(Base):
    """The last number handed out per tenant and day (BJ-20261203-0001, 0002, …)."""

    __tablename__ = "quote_numbers"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
