"""Lifecycle stage history: every stage a customer entered, when and by whom (the funnel
lead → prospect → signed with its conversion times)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.events import timestamp_of


class StageChangeRow(Base):
    """The customer entered `to_stage` (from `from_stage`, "" when it was created)."""

    __tablename__ = "stage_changes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    from_stage: Mapped[str] = mapped_column(String(16), default="")
    to_stage: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(36), default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_stage_changes_customer_occurred", "customer_id", "occurred_at", "id"),)


def stage_change_to_proto(row: StageChangeRow) -> prpb.StageChange:
    return prpb.StageChange(
        id=row.id,
        customer_id=row.customer_id,
        from_stage=row.from_stage,
        to_stage=row.to_stage,
        actor_id=row.actor_id,
        occur_time=timestamp_of(as_utc(row.occurred_at)),
    )
