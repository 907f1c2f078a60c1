"""The order service's own copy of customer facts, fed only by crm.customer.v1 events: what an
order needs to know about its customer without calling the customer service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_order import Base
from crmkit.db import bytewise


class CustomerFact(Base):
    """One row per customer as of the newest customer event applied (guarded by its version)."""

    __tablename__ = "customer_facts"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[str] = mapped_column(String(36))
    org_unit_id: Mapped[str] = mapped_column(String(36))
    org_path: Mapped[str] = mapped_column(bytewise(400))
    tier: Mapped[str] = mapped_column(String(20))
    archived: Mapped[bool] = mapped_column(Boolean)
    # [{"kind": "halal", "details": []}, {"kind": "allergens", "details": ["花生"]}]
    requirements: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # [{"weekday": 1, "start": "06:00", "end": "09:00"}]
    delivery_windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_customer_facts_scope", "tenant_id", "org_path"),
        Index("ix_customer_facts_owner", "tenant_id", "owner_id"),
    )


class CustomerClosure(Base):
    """A closure (停工/放假) of a customer; a removed one stays as a tombstone so a late
    closure_changed cannot bring it back."""

    __tablename__ = "customer_closures"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    closure_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    removed: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_customer_closures_customer", "tenant_id", "customer_id"),)


class CustomerLicence(Base):
    """A licence of a customer; removed ones stay as tombstones, like closures."""

    __tablename__ = "customer_licences"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    licence_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    # The last valid day; None never expires (长期有效).
    valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    removed: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_customer_licences_customer", "tenant_id", "customer_id"),)
