"""Customer summary queries over the read model, within the caller's data scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_analytics.customer_summary.models import CustomerFact
from crmkit.identity import Identity
from crmkit.scope import scope_clause


@dataclass(frozen=True)
class CountCell:
    org_unit_id: str
    owner_id: str
    lifecycle_stage: str
    type: str
    count: int


@dataclass(frozen=True)
class CustomerSummary:
    total: int
    counts: list[CountCell]
    new_per_day: list[tuple[dt.date, int]]


def scope_condition(identity: Identity) -> ColumnElement[bool]:
    return scope_clause(
        identity, tenant=CustomerFact.tenant_id, org_path=CustomerFact.org_path, owner=CustomerFact.owner_id
    )


async def customer_summary(
    session: AsyncSession,
    *,
    identity: Identity,
    org_unit_id: str | None,
    owner_id: str | None,
    from_date: dt.date,
    to_date: dt.date,
) -> CustomerSummary:
    where = [scope_condition(identity)]
    if org_unit_id:
        where.append(CustomerFact.org_path.contains(f"/{org_unit_id}/", autoescape=True))
    if owner_id:
        where.append(CustomerFact.owner_id == owner_id)
    count = func.count().label("n")
    cells = (
        await session.execute(
            select(
                CustomerFact.org_unit_id,
                CustomerFact.owner_id,
                CustomerFact.lifecycle_stage,
                CustomerFact.type,
                count,
            )
            .where(*where, CustomerFact.archived.is_(False))
            .group_by(CustomerFact.org_unit_id, CustomerFact.owner_id, CustomerFact.lifecycle_stage, CustomerFact.type)
            .order_by(CustomerFact.org_unit_id, CustomerFact.owner_id, CustomerFact.lifecycle_stage, CustomerFact.type)
        )
    ).all()
    days = (
        await session.execute(
            select(CustomerFact.created_on, func.count())
            .where(*where, CustomerFact.created_on >= from_date, CustomerFact.created_on <= to_date)
            .group_by(CustomerFact.created_on)
            .order_by(CustomerFact.created_on)
        )
    ).all()
    counts = [CountCell(r[0], r[1], r[2], r[3], int(r[4])) for r in cells]
    return CustomerSummary(
        total=sum(c.count for c in counts),
        counts=counts,
        new_per_day=[(day, int(n)) for day, n in days],
    )
