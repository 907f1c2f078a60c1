"""Revisit plans (定期回访) and the tasks they generate: tables, defaults and proto mapping."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from crm.customer.v1 import revisits_pb2 as rpb
from crm_customer.customers.models import Customer
from crm_customer.database import Base
from crmkit.clock import as_utc
from crmkit.db import bytewise
from crmkit.enums import ProtoEnum
from crmkit.events import timestamp_of

TIERS = ("vip", "key", "normal")
ASSIGNEES = ProtoEnum(rpb.RevisitAssignee)
STATUSES = ProtoEnum(rpb.RevisitTaskStatus)
OPEN, DONE, CANCELLED = "open", "done", "cancelled"
MAX_INTERVAL_DAYS = 365


@dataclass(frozen=True)
class Plan:
    """A tier's plan: days between revisits (0: none) and who does them ("owner" or "service")."""

    interval_days: int
    assignee: str = "owner"


# VIP every 14 days, 重点 30, 一般 60, each by the customer's owner.
DEFAULT_PLANS = {"vip": Plan(14), "key": Plan(30), "normal": Plan(60)}


class RevisitPlanRow(Base):
    """A tenant's plan for one tier; a tier without a row follows DEFAULT_PLANS."""

    __tablename__ = "revisit_plans"

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tier: Mapped[str] = mapped_column(String(10), primary_key=True)
    interval_days: Mapped[int] = mapped_column(Integer)
    assignee: Mapped[str] = mapped_column(String(10))


class RevisitTask(Base):
    """One revisit of a customer due on an Asia/Shanghai day. At most one is open per customer:
    the job schedules the next only once the last is done or cancelled."""

    __tablename__ = "revisit_tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    # Where the customer sits: supervisors' scope and the service queue follow it.
    org_unit_id: Mapped[str] = mapped_column(String(36))
    org_path: Mapped[str] = mapped_column(bytewise(400))
    # "owner" (assignee_id the owner) or "service" (assignee_id "": the unit's service queue).
    assignee_kind: Mapped[str] = mapped_column(String(10))
    assignee_id: Mapped[str] = mapped_column(String(36), default="")
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    # The tier and the plan's days it was scheduled under.
    tier: Mapped[str] = mapped_column(String(10))
    interval_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # When the job announced it overdue (once).
    overdue_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    completed_by: Mapped[str] = mapped_column(String(36), default="")
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    new_needs: Mapped[str] = mapped_column(String(1000), default="")
    interaction_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # "pool" or "archived" when cancelled.
    cancel_reason: Mapped[str] = mapped_column(String(20), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        # Exactly one open task per customer, whoever schedules it.
        Index(
            "uq_revisit_tasks_open_customer",
            "customer_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        # A customer's history, latest due first; its last completed revisit.
        Index("ix_revisit_tasks_customer_due", "customer_id", "due_date", "id"),
        # A rep's own tasks by due date.
        Index("ix_revisit_tasks_assignee_due", "tenant_id", "assignee_id", "status", "due_date", "id"),
        # A supervisor's subtree and the service queue by due date (narrowed by org path).
        Index("ix_revisit_tasks_tenant_due", "tenant_id", "status", "due_date", "id"),
        # The open tasks the job has not announced overdue yet: a small index it walks by day.
        Index(
            "ix_revisit_tasks_unannounced",
            "due_date",
            "id",
            postgresql_where=text("status = 'open' AND overdue_at IS NULL"),
            sqlite_where=text("status = 'open' AND overdue_at IS NULL"),
        ),
    )


# The job's pass over a tenant's customers of one tier, in id order (keyset). Declared here, on
# the customers table, so the revisit feature keeps its own index next to the query that needs it.
CUSTOMERS_BY_TIER = Index("ix_customers_tenant_tier", Customer.tenant_id, Customer.tier, Customer.id)


def plan_to_proto(tier: str, plan: Plan) -> rpb.RevisitPlan:
    return rpb.RevisitPlan(
        tier=tier,
        interval_days=plan.interval_days,
        assignee=ASSIGNEES.to_proto(plan.assignee),  # type: ignore[arg-type]
    )


def task_to_proto(task: RevisitTask, customer_name: str = "") -> rpb.RevisitTask:
    return rpb.RevisitTask(
        id=task.id,
        customer_id=task.customer_id,
        customer_name=customer_name,
        org_unit_id=task.org_unit_id,
        org_path=task.org_path,
        assignee_kind=ASSIGNEES.to_proto(task.assignee_kind),  # type: ignore[arg-type]
        assignee_id=task.assignee_id,
        due_date=task.due_date.isoformat(),
        status=STATUSES.to_proto(task.status),  # type: ignore[arg-type]
        tier=task.tier,
        interval_days=task.interval_days,
        create_time=timestamp_of(as_utc(task.created_at)),
        overdue_time=timestamp_of(as_utc(task.overdue_at)) if task.overdue_at else None,
        complete_time=timestamp_of(as_utc(task.completed_at)) if task.completed_at else None,
        completed_by=task.completed_by,
        satisfaction=task.satisfaction or 0,
        new_needs=task.new_needs,
        interaction_id=task.interaction_id or "",
        on_time=bool(task.on_time),
        cancel_reason=task.cancel_reason,
        version=task.version,
    )
