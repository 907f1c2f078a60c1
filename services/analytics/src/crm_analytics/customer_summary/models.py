"""Read model of customers, fed only by crm.customer.v1 events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_analytics import Base
from crmkit.db import bytewise


class CustomerFact(Base):
    """One row per customer: the dimensions the summary groups by, as of the latest event."""

    __tablename__ = "customer_facts"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_unit_id: Mapped[str] = mapped_column(String(36))
    org_path: Mapped[str] = mapped_column(bytewise(400))
    owner_id: Mapped[str] = mapped_column(String(36))
    lifecycle_stage: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(30))
    archived: Mapped[bool] = mapped_column(Boolean)
    # Asia/Shanghai calendar day the customer was created (business time, from the event).
    created_on: Mapped[dt.date] = mapped_column(Date)
    # Aggregate version last applied: an older event arriving late never overwrites a newer one.
    version: Mapped[int] = mapped_column(Integer)
    # The pool holding it ("" while someone owns it), and its latest follow-up.
    pool_id: Mapped[str] = mapped_column(String(36), default="", server_default="")
    last_interaction_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_customer_facts_scope", "tenant_id", "org_path"),
        Index("ix_customer_facts_owner", "tenant_id", "owner_id"),
        Index("ix_customer_facts_created", "tenant_id", "created_on"),
        Index("ix_customer_facts_pool", "tenant_id", "pool_id"),
    )


class PoolMovement(Base):
    """Customers claimed from, returned to or released into a pool, per Asia/Shanghai day; the
    org path is where the customer sat after the move (the pool's unit, or the claimant's)."""

    __tablename__ = "pool_movements"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    pool_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    org_path: Mapped[str] = mapped_column(bytewise(400), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
