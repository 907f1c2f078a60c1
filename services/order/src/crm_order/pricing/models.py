"""Agreement prices (协议价) and the tenant's pricing settings; money in fen (crm_order.money)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_order import Base


class AgreementPrice(Base):
    """A price agreed with a customer (or a group's parent account, which its branches inherit)
    for one product from `valid_from` to `valid_until` (both days included; None: no end)."""

    __tablename__ = "agreement_prices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(String(36))
    product_id: Mapped[str] = mapped_column(String(36))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012  (read once)
    __table_args__ = (
        # Price resolution and the overlap check: one customer's (and its parent's) prices of a
        # few products.
        Index("ix_agreement_prices_customer", "tenant_id", "customer_id", "product_id", "valid_from"),
    )


class PricingSettings(Base):
    """A tenant's pricing settings, written by an admin here: the quote path reads them without
    a call. A tenant without a row has the defaults."""

    __tablename__ = "pricing_settings"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Percent in hundredths (9000 = 90.00%).
    approval_threshold_bp: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(36))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)
