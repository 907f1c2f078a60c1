"""Customer summary queries over the read model, within the caller's data scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_analytics.customer_summary.models import CustomerFact, PoolMovement
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


@dataclass(frozen=True)
class OwnershipSummary:
    pools: list[tuple[str, int]]
    movements: list[tuple[dt.date, str, str, int]]
    # owner, customers, contacted in the last 30 days
    coverage: list[tuple[str, int, int]]


COVERAGE_DAYS = 30


async def ownership_summary(
    session: AsyncSession,
    *,
    identity: Identity,
    org_unit_id: str | None,
    from_date: dt.date,
    to_date: dt.date,
    now: dt.datetime,
) -> OwnershipSummary:
    where = [scope_condition(identity), CustomerFact.archived.is_(False)]
    if org_unit_id:
        where.append(CustomerFact.org_path.contains(f"/{org_unit_id}/", autoescape=True))
    pools = (
        await session.execute(
            select(CustomerFact.pool_id, func.count())
            .where(*where, CustomerFact.pool_id != "")
            .group_by(CustomerFact.pool_id)
            .order_by(CustomerFact.pool_id)
        )
    ).all()
    since = now - dt.timedelta(days=COVERAGE_DAYS)
    contacted = func.sum(case((CustomerFact.last_interaction_at >= since, 1), else_=0))
    coverage = (
        await session.execute(
            select(CustomerFact.owner_id, func.count(), contacted)
            .where(*where, CustomerFact.owner_id != "")
            .group_by(CustomerFact.owner_id)
            .order_by(CustomerFact.owner_id)
        )
    ).all()
    moves = [
        scope_clause(identity, tenant=PoolMovement.tenant_id, org_path=PoolMovement.org_path, owner=literal("")),
        PoolMovement.day >= from_date,
        PoolMovement.day <= to_date,
    ]
    if org_unit_id:
        moves.append(PoolMovement.org_path.contains(f"/{org_unit_id}/", autoescape=True))
    movements = (
        await session.execute(
            select(PoolMovement.day, PoolMovement.pool_id, PoolMovement.kind, func.sum(PoolMovement.count))
            .where(*moves)
            .group_by(PoolMovement.day, PoolMovement.pool_id, PoolMovement.kind)
            .order_by(PoolMovement.day, PoolMovement.pool_id, PoolMovement.kind)
        )
    ).all()
    return OwnershipSummary(
        pools=[(pool_id, int(n)) for pool_id, n in pools],
        movements=[(day, pool_id, kind, int(n)) for day, pool_id, kind, n in movements],
        coverage=[(owner, int(n), int(c or 0)) for owner, n, c in coverage],
    )
