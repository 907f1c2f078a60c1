"""回访率 (revisit rate) over the read model, within the caller's data scope: tasks done on time
out of those due, per assignee, per org unit and in total, by month of the due date.

A task is due once its due date has passed (Asia/Shanghai) or it is done, whichever comes first:
a task still open on or before its due date is not missed yet. Cancelled tasks (the customer went
to a pool or was archived) never count."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_analytics.revisit_rate.models import RevisitTaskFact
from crmkit.identity import Identity
from crmkit.scope import scope_clause


@dataclass(frozen=True)
class RateRow:
    month: str
    assignee_kind: str
    assignee_id: str
    org_unit_id: str
    due: int
    done_on_time: int
    done_late: int

    @property
    def rate(self) -> float:
        return round(self.done_on_time / self.due, 4) if self.due else 0.0


@dataclass(frozen=True)
class RevisitRate:
    by_assignee: list[RateRow]
    by_org_unit: list[RateRow]
    totals: list[RateRow]


async def revisit_rate(
    session: AsyncSession,
    *,
    identity: Identity,
    from_month: str,
    to_month: str,
    org_unit_id: str | None,
    assignee_id: str | None,
    today: dt.date,
) -> RevisitRate:
    """A rep sees their own tasks (assignee), a supervisor their subtree's, admins the tenant's."""
    fact = RevisitTaskFact
    where: list[ColumnElement[bool]] = [
        scope_clause(identity, tenant=fact.tenant_id, org_path=fact.org_path, owner=fact.assignee_id),
        fact.due_month >= from_month,
        fact.due_month <= to_month,
        fact.status != "cancelled",
        or_(fact.status == "done", fact.due_date < today),
    ]
    if org_unit_id:
        where.append(fact.org_path.contains(f"/{org_unit_id}/", autoescape=True))
    if assignee_id:
        where.append(fact.assignee_id == assignee_id)
    counts = (
        func.count(),
        func.sum(case((and_(fact.status == "done", fact.on_time.is_(True)), 1), else_=0)),
        func.sum(case((and_(fact.status == "done", fact.on_time.is_(False)), 1), else_=0)),
    )

    async def grouped(*columns: Any) -> list[Any]:
        statement = select(fact.due_month, *columns, *counts).where(*where).group_by(fact.due_month, *columns)
        return list((await session.execute(statement.order_by(fact.due_month, *columns))).all())

    def row(month: str, due: Any, on_time: Any, late: Any, **keys: str) -> RateRow:
        values = {"assignee_kind": "", "assignee_id": "", "org_unit_id": ""} | keys
        return RateRow(month=month, due=int(due), done_on_time=int(on_time or 0), done_late=int(late or 0), **values)

    return RevisitRate(
        by_assignee=[
            row(m, due, ok, late, assignee_kind=kind, assignee_id=who)
            for m, kind, who, due, ok, late in await grouped(fact.assignee_kind, fact.assignee_id)
        ],
        by_org_unit=[
            row(m, due, ok, late, org_unit_id=unit) for m, unit, due, ok, late in await grouped(fact.org_unit_id)
        ],
        totals=[row(m, due, ok, late) for m, due, ok, late in await grouped()],
    )
