"""The order service's own copy of customer facts, fed only by crm.customer.v1 events: what an
order needs to know about its customer without calling the customer service."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_order import Base
from crmkit.db import bytewise
from crmkit.scope import Shares


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
    # The group's parent account (集团) of a branch, whose agreement prices it inherits; "" alone.
    parent_customer_id: Mapped[str] = mapped_column(String(36), default="", server_default="")

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


class CustomerShare(Base):
    """A collaborator (协作人) of a customer: a user who sees it without owning it. A removed one
    stays, inactive, so an older collaborator_added arriving late cannot bring it back."""

    __tablename__ = "customer_shares"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # "read" or "read_write"; "" once removed.
    access: Mapped[str] = mapped_column(String(12))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The business time of the event that last changed it: a later one wins.
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_customer_shares_user", "tenant_id", "user_id"),)


READ_SHARES = Shares(
    record_id=CustomerFact.customer_id,
    tenant=CustomerShare.tenant_id,
    record=CustomerShare.customer_id,
    user=CustomerShare.user_id,
    expires_at=CustomerShare.expires_at,
    owned=CustomerFact.owner_id != "",
    only=CustomerShare.access != "",
)
# Placing and changing orders needs read-write access (as changing the customer does).
WRITE_SHARES = replace(READ_SHARES, only=CustomerShare.access == "read_write")
