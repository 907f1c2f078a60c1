"""Read model of revisit tasks (定期回访), fed only by the customer service's revisit events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_analytics import Base
from crmkit.db import bytewise


class RevisitTaskFact(Base):
    """One row per task, as of its newest event: whose it is, where, due when, and how it ended."""

    __tablename__ = "revisit_task_facts"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36))
    org_unit_id: Mapped[str] = mapped_column(String(36))
    org_path: Mapped[str] = mapped_column(bytewise(400))
    # "owner" or "service"; assignee_id "" for the service queue.
    assignee_kind: Mapped[str] = mapped_column(String(10))
    assignee_id: Mapped[str] = mapped_column(String(36))
    due_date: Mapped[dt.date] = mapped_column(Date)
    # "YYYY-MM" of the due date: what 回访率 groups by.
    due_month: Mapped[str] = mapped_column(String(7))
    # "open", "done" or "cancelled".
    status: Mapped[str] = mapped_column(String(10))
    on_time: Mapped[bool] = mapped_column(Boolean, default=False)
    satisfaction: Mapped[int] = mapped_column(Integer, default=0)
    # The task's version last applied: an older event arriving late never overwrites a newer one.
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # A supervisor's (or the tenant's) months, narrowed by org path.
        Index("ix_revisit_task_facts_month_scope", "tenant_id", "due_month", "org_path"),
        # A rep's own months.
        Index("ix_revisit_task_facts_assignee_month", "tenant_id", "assignee_id", "due_month"),
    )
