"""Read model of customers, fed only by crm.customer.v1 events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Index, Integer, String
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

    __table_args__ = (
        Index("ix_customer_facts_scope", "tenant_id", "org_path"),
        Index("ix_customer_facts_owner", "tenant_id", "owner_id"),
        Index("ix_customer_facts_created", "tenant_id", "created_on"),
    )
