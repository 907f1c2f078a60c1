"""Products of the light catalogue; money in fen, rates in ten-thousandths (crm_order.money)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_order import Base
from crmkit.db import bytewise


class Product(Base):
    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    sku: Mapped[str] = mapped_column(bytewise(64))
    name: Mapped[str] = mapped_column(String(100))
    # Search keys of the name: compact text, full pinyin and initials (crmkit.cn).
    name_key: Mapped[str] = mapped_column(String(100))
    name_pinyin: Mapped[str] = mapped_column(String(600))
    name_initials: Mapped[str] = mapped_column(String(100))
    # "冷冻肉品/牛肉": a prefix match finds a category and everything under it.
    category: Mapped[str] = mapped_column(bytewise(100))
    specification: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(10))
    list_price_fen: Mapped[int] = mapped_column(BigInteger)
    cost_fen: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[int] = mapped_column(Integer)
    halal: Mapped[bool] = mapped_column(Boolean)
    organic: Mapped[bool] = mapped_column(Boolean)
    contains_pork: Mapped[bool] = mapped_column(Boolean)
    cold_chain: Mapped[bool] = mapped_column(Boolean)
    allergens: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012  (read once)
    __table_args__ = (
        Index("ux_products_sku", "tenant_id", "sku", unique=True),
        Index("ix_products_category", "tenant_id", "category"),
    )
