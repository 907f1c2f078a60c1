"""/api/v1/analytics: read models from the analytics service, with the names of owners and org
units from the gateway's directory."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from crm.analytics.v1 import analytics_pb2 as pb
from crm.analytics.v1 import revisit_rate_pb2 as rpb
from crm.customer.v1 import pools_pb2 as ppb
from crm_gateway.customers.schemas import Stage
from crm_gateway.directory.service import list_org_units
from crm_gateway.web import Caller, DbSession, State

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


class CustomerCountOut(BaseModel):
    org_unit_id: str
    org_unit_name: str = Field(description="Empty if the org unit is gone")
    owner_id: str
    owner_name: str = Field(description="Empty if the user is gone")
    lifecycle_stage: Stage
    type: str
    count: int


class DailyCountOut(BaseModel):
    date: dt.date = Field(description="A day in Asia/Shanghai")
    count: int


class CustomerSummaryOut(BaseModel):
    total: int = Field(description="Active (not archived) customers you may see")
    counts: list[CustomerCountOut] = Field(description="One cell per org unit, owner, stage and type")
    new_per_day: list[DailyCountOut]


@router.get("/customer-summary", summary="Customer counts and new customers per day 客户概况")
async def customer_summary(
    state: State,
    identity: Caller,
    session: DbSession,
    org_unit_id: Annotated[str | None, Query(max_length=64)] = None,
    owner_id: Annotated[str | None, Query(max_length=64)] = None,
    from_date: Annotated[dt.date | None, Query(alias="from", description="YYYY-MM-DD, Asia/Shanghai")] = None,
    to_date: Annotated[dt.date | None, Query(alias="to", description="YYYY-MM-DD, Asia/Shanghai")] = None,
) -> CustomerSummaryOut:
    summary = await state.analytics.GetCustomerSummary(
        pb.GetCustomerSummaryRequest(
            org_unit_id=org_unit_id or "",
            owner_id=owner_id or "",
            from_date=from_date.isoformat() if from_date else "",
            to_date=to_date.isoformat() if to_date else "",
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    owners = await state.display_names.lookup(
        tenant_id=identity.tenant_id, user_ids={c.owner_id for c in summary.counts}
    )
    units = {unit.id: unit.name for unit in await list_org_units(session, identity=identity)}
    return CustomerSummaryOut(
        total=summary.total,
        counts=[
            CustomerCountOut(
                org_unit_id=cell.org_unit_id,
                org_unit_name=units.get(cell.org_unit_id, ""),
                owner_id=cell.owner_id,
                owner_name=owners.get(cell.owner_id, ""),
                lifecycle_stage=cell.lifecycle_stage,
                type=cell.type,
                count=cell.count,
            )
            for cell in summary.counts
        ],
        new_per_day=[
            DailyCountOut(date=dt.date.fromisoformat(day.date), count=day.count) for day in summary.new_per_day
        ],
    )


class PoolSizeOut(BaseModel):
    pool_id: str
    pool_name: str = Field(description="Empty for a pool you may not open")
    customers: int


class PoolMovementOut(BaseModel):
    date: dt.date = Field(description="A day in Asia/Shanghai")
    pool_id: str
    kind: Literal["claimed", "returned", "released"]
    count: int


class CoverageOut(BaseModel):
    owner_id: str
    owner_name: str
    customers: int = Field(description="Active customers the owner holds")
    contacted_30d: int = Field(description="Of them, followed up in the last 30 days")
    share: float = Field(description="contacted_30d / customers, 0 to 1")


class OwnershipSummaryOut(BaseModel):
    pools: list[PoolSizeOut]
    movements: list[PoolMovementOut]
    coverage: list[CoverageOut]


@router.get("/ownership", summary="Pools, claims and returns, follow-up coverage 公海与跟进覆盖率")
async def ownership_summary(
    state: State,
    identity: Caller,
    org_unit_id: Annotated[str | None, Query(max_length=64)] = None,
    from_date: Annotated[dt.date | None, Query(alias="from", description="YYYY-MM-DD, Asia/Shanghai")] = None,
    to_date: Annotated[dt.date | None, Query(alias="to", description="YYYY-MM-DD, Asia/Shanghai")] = None,
) -> OwnershipSummaryOut:
    metadata = state.identity_metadata.for_caller(identity)
    summary = await state.analytics.GetOwnershipSummary(
        pb.GetOwnershipSummaryRequest(
            org_unit_id=org_unit_id or "",
            from_date=from_date.isoformat() if from_date else "",
            to_date=to_date.isoformat() if to_date else "",
        ),
        metadata=metadata,
    )
    pools = {p.id: p.name for p in (await state.customers.ListPools(ppb.ListPoolsRequest(), metadata=metadata)).pools}
    owners = await state.display_names.lookup(
        tenant_id=identity.tenant_id, user_ids={c.owner_id for c in summary.coverage}
    )
    return OwnershipSummaryOut(
        pools=[
            PoolSizeOut(pool_id=p.pool_id, pool_name=pools.get(p.pool_id, ""), customers=p.customers)
            for p in summary.pools
        ],
        movements=[
            PoolMovementOut(
                date=dt.date.fromisoformat(m.date),
                pool_id=m.pool_id,
                kind=cast(Literal["claimed", "returned", "released"], m.kind),
                count=m.count,
            )
            for m in summary.movements
        ],
        coverage=[
            CoverageOut(
                owner_id=c.owner_id,
                owner_name=owners.get(c.owner_id, ""),
                customers=c.customers,
                contacted_30d=c.contacted_30d,
                share=round(c.contacted_30d / c.customers, 4) if c.customers else 0.0,
            )
            for c in summary.coverage
        ],
    )


# revisits (issue 12)


class RevisitRateOut(BaseModel):
    month: str = Field(description="应回访日期所在月份 YYYY-MM（Asia/Shanghai）")
    due: int = Field(description="应回访数：已过应回访日或已完成的任务（已取消的不计）")
    done_on_time: int = Field(description="按期完成数")
    done_late: int = Field(description="逾期完成数")
    rate: float = Field(description="回访率 = 按期完成 / 应回访，0 到 1")


class AssigneeRevisitRateOut(RevisitRateOut):
    assignee_kind: Literal["owner", "service"] = Field(description="owner 负责人，service 客服队列")
    assignee_id: str = Field(description="Empty for the service queue")
    assignee_name: str = Field(description="Empty for the service queue or a user who is gone")


class OrgUnitRevisitRateOut(RevisitRateOut):
    org_unit_id: str = Field(description="客户所在组织")
    org_unit_name: str = Field(description="Empty if the org unit is gone")


class RevisitRateSummaryOut(BaseModel):
    by_assignee: list[AssigneeRevisitRateOut] = Field(description="每位负责人（及客服队列）每月一行")
    by_org_unit: list[OrgUnitRevisitRateOut] = Field(description="每个组织每月一行")
    totals: list[RevisitRateOut] = Field(description="你可见范围内每月合计")


@router.get(
    "/revisit-rate",
    summary="回访率 per rep and org unit, by month 回访率",
    description="Revisit tasks done on time out of those due, by month of the due date. A rep sees their own tasks, "
    "a supervisor their subtree's, admins and bosses the tenant's.",
)
async def revisit_rate(
    state: State,
    identity: Caller,
    session: DbSession,
    from_month: Annotated[
        str | None,
        Query(alias="from", pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM; default 5 months back"),
    ] = None,
    to_month: Annotated[
        str | None, Query(alias="to", pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM; default this month")
    ] = None,
    org_unit_id: Annotated[str | None, Query(max_length=64)] = None,
    assignee_id: Annotated[str | None, Query(max_length=64)] = None,
) -> RevisitRateSummaryOut:
    found = await state.analytics.GetRevisitRate(
        rpb.GetRevisitRateRequest(
            from_month=from_month or "",
            to_month=to_month or "",
            org_unit_id=org_unit_id or "",
            assignee_id=assignee_id or "",
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    names = await state.display_names.lookup(
        tenant_id=identity.tenant_id, user_ids={r.assignee_id for r in found.by_assignee if r.assignee_id}
    )
    units = {unit.id: unit.name for unit in await list_org_units(session, identity=identity)}

    def figures(row: rpb.RevisitRate) -> dict[str, Any]:
        return {
            "month": row.month,
            "due": row.due,
            "done_on_time": row.done_on_time,
            "done_late": row.done_late,
            "rate": round(row.rate, 4),
        }

    return RevisitRateSummaryOut(
        by_assignee=[
            AssigneeRevisitRateOut(
                **figures(r),
                assignee_kind=cast(Literal["owner", "service"], r.assignee_kind),
                assignee_id=r.assignee_id,
                assignee_name=names.get(r.assignee_id, ""),
            )
            for r in found.by_assignee
        ],
        by_org_unit=[
            OrgUnitRevisitRateOut(**figures(r), org_unit_id=r.org_unit_id, org_unit_name=units.get(r.org_unit_id, ""))
            for r in found.by_org_unit
        ],
        totals=[RevisitRateOut(**figures(r)) for r in found.totals],
    )
