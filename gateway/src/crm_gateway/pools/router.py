"""/api/v1/pools and /api/v1/pool-claims: the public pool (公海), each call forwarded to the
customer service; the gateway adds the names of org units and people."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crm.customer.v1 import pools_pb2 as ppb
from crm_gateway.customers.schemas import Stage, Tier, shanghai
from crm_gateway.directory.service import get_org_unit, list_org_units
from crm_gateway.inputs import MAX_VERSION, ApiModel, path_id
from crm_gateway.profile.schemas import ALERTS_DESCRIPTION, AlertOut, ProfileLabels, row_alerts
from crm_gateway.web import Caller, DbSession, GatewayState, State
from crmkit.enums import ProtoEnum
from crmkit.identity import Identity

router = APIRouter(prefix="/api/v1", tags=["pools"])

ClaimStatus = Literal["pending", "approved", "rejected", "expired", "withdrawn"]
CLAIM_STATUSES = ProtoEnum(ppb.ClaimStatus)
Days = Annotated[int, Field(ge=0, le=3650)]


class PoolRulesModel(ApiModel):
    model_config = ConfigDict(extra="forbid")
    no_follow_up_days: dict[Tier, Days] = Field(
        default_factory=lambda: cast(dict[Tier, int], {"vip": 30, "key": 20, "normal": 15}),
        description="Days without a follow-up before an owned customer returns, by tier; a tier left out never does",
    )
    no_deal_days: Days = Field(0, description="Days an owner may hold a customer short of `signed`; 0: no rule")
    warn_days_before: Days = Field(3, description="Warn the owner this many days before a return")
    cooldown_days: Days = Field(30, description="Days before a rep may claim again a customer that left them")
    claims_per_day: Days = Field(0, description="Claims a rep may make here per day; 0: no limit")
    first_visit_days: Days = Field(7, description="Days a new owner has to visit or call; 0: no deadline")
    exempt_active_contract: bool = Field(True, description="Customers under contract today never return by rule")
    no_order_days: Days = Field(
        0, description="Days without a confirmed order before an owned customer returns (不下单回收); 0: no rule"
    )


class PoolIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=50, description="e.g. 华东公海")
    org_unit_id: str = Field(min_length=1, max_length=36, description="Its users' subtree may claim from it")
    requires_approval: bool = False
    rules: PoolRulesModel = Field(default_factory=PoolRulesModel)


class PoolPatch(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=50)
    requires_approval: bool
    rules: PoolRulesModel
    expected_version: int | None = Field(
        None, ge=1, le=MAX_VERSION, description="Fail with 409 if the pool changed meanwhile"
    )


class PoolOut(BaseModel):
    id: str
    name: str
    org_unit_id: str
    org_unit_name: str
    requires_approval: bool
    rules: PoolRulesModel
    version: int
    customer_count: int


class PoolList(BaseModel):
    items: list[PoolOut]


class PoolCustomerOut(BaseModel):
    id: str
    name: str
    short_name: str
    type: str
    tier: Tier
    lifecycle_stage: Stage
    tags: list[str]
    region: str = Field(description="Province, city and district of its first address")
    entered_at: dt.datetime | None = Field(description="When it entered the pool (Asia/Shanghai)")
    enter_kind: str = Field(description="released, returned_by_rule or created")
    enter_reason: str
    last_interaction_at: dt.datetime | None
    claim_pending: bool = Field(description="A claim awaits approval: nobody else may claim it meanwhile")
    tier_label: str = Field("", description="The tenant's name of the tier, e.g. VIP, 重点, 一般")
    alerts: list[AlertOut] = Field(default_factory=list, description=ALERTS_DESCRIPTION)


class PoolCustomerPage(BaseModel):
    items: list[PoolCustomerOut]
    next_page_token: str | None


class ReleaseIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=200, description="Why the customer goes to the pool")
    pool_id: str | None = Field(
        None, max_length=36, description="Default: the pool of its org unit or the nearest above"
    )


class ClaimIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    customer_id: str = Field(min_length=1, max_length=36)
    reason: str = Field(min_length=1, max_length=200, description="Why you claim it, e.g. 客户主动来电询价")
    request_id: str | None = Field(None, max_length=64, description="Idempotency key: a retry returns the first result")


class DecisionIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    approve: bool
    comment: str = Field("", max_length=200, description="Required when rejecting")


class ClaimOut(BaseModel):
    id: str
    pool_id: str
    customer_id: str
    customer_name: str
    claimant_id: str
    claimant_name: str
    reason: str
    status: ClaimStatus
    decider_id: str | None
    decider_name: str
    comment: str
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    decided_at: dt.datetime | None
    alerts: list[AlertOut] = Field(default_factory=list, description=ALERTS_DESCRIPTION)


class ClaimPage(BaseModel):
    items: list[ClaimOut]
    next_page_token: str | None


def _rules_to_proto(rules: PoolRulesModel) -> ppb.PoolRules:
    return ppb.PoolRules(**rules.model_dump())


def _pool_out(pool: ppb.Pool, unit_names: dict[str, str]) -> PoolOut:
    rules = pool.rules
    return PoolOut(
        id=pool.id,
        name=pool.name,
        org_unit_id=pool.org_unit_id,
        org_unit_name=unit_names.get(pool.org_unit_id, ""),
        requires_approval=pool.requires_approval,
        rules=PoolRulesModel(
            no_follow_up_days=cast(dict[Tier, int], dict(rules.no_follow_up_days)),
            no_deal_days=rules.no_deal_days,
            warn_days_before=rules.warn_days_before,
            cooldown_days=rules.cooldown_days,
            claims_per_day=rules.claims_per_day,
            first_visit_days=rules.first_visit_days,
            exempt_active_contract=rules.exempt_active_contract,
            no_order_days=rules.no_order_days,
        ),
        version=pool.version,
        customer_count=pool.customer_count,
    )


async def _unit_names(session: DbSession, identity: Identity) -> dict[str, str]:
    return {unit.id: unit.name for unit in await list_org_units(session, identity=identity)}


async def _claims_out(state: GatewayState, identity: Identity, claims: list[ppb.PoolClaim]) -> list[ClaimOut]:
    people = {c.claimant_id for c in claims} | {c.decider_id for c in claims}
    names = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids=people - {""})
    labels = await state.profile_labels.for_caller(state, identity)
    return [
        ClaimOut(
            id=c.id,
            pool_id=c.pool_id,
            customer_id=c.customer_id,
            customer_name=c.customer_name,
            claimant_id=c.claimant_id,
            claimant_name=names.get(c.claimant_id, ""),
            reason=c.reason,
            status=cast(ClaimStatus, CLAIM_STATUSES.from_proto(c.status)),
            decider_id=c.decider_id or None,
            decider_name=names.get(c.decider_id, ""),
            comment=c.comment,
            created_at=shanghai(c.create_time),
            decided_at=shanghai(c.decide_time) if c.HasField("decide_time") else None,
            alerts=row_alerts(c.special_requirements, labels),
        )
        for c in claims
    ]


def _pool_customer_out(customer: ppb.PoolCustomer, labels: ProfileLabels) -> PoolCustomerOut:
    return PoolCustomerOut(
        id=customer.id,
        name=customer.name,
        short_name=customer.short_name,
        type=customer.type,
        tier=cast(Tier, customer.tier or "normal"),
        lifecycle_stage=cast(Stage, customer.lifecycle_stage),
        tags=list(customer.tags),
        region=customer.region,
        entered_at=shanghai(customer.enter_time) if customer.HasField("enter_time") else None,
        enter_kind=customer.enter_kind,
        enter_reason=customer.enter_reason,
        last_interaction_at=shanghai(customer.last_interaction_time)
        if customer.HasField("last_interaction_time")
        else None,
        claim_pending=customer.claim_pending,
        tier_label=labels.tier("value", customer.tier or "normal"),
        alerts=row_alerts(customer.special_requirements, labels),
    )


@router.get("/pools", summary="The pools you may claim from or decide for 公海列表")
async def list_pools(state: State, identity: Caller, session: DbSession) -> PoolList:
    found = await state.customers.ListPools(
        ppb.ListPoolsRequest(), metadata=state.identity_metadata.for_caller(identity)
    )
    names = await _unit_names(session, identity)
    return PoolList(items=[_pool_out(p, names) for p in found.pools])


@router.post("/pools", status_code=201, summary="Create a pool for an org unit (admin, boss) 新建公海")
async def create_pool(body: PoolIn, state: State, identity: Caller, session: DbSession) -> PoolOut:
    unit = await get_org_unit(session, identity=identity, org_unit_id=body.org_unit_id, field="org_unit_id")
    created = await state.customers.CreatePool(
        ppb.CreatePoolRequest(
            pool=ppb.Pool(
                name=body.name,
                org_unit_id=unit.id,
                org_path=unit.path,
                requires_approval=body.requires_approval,
                rules=_rules_to_proto(body.rules),
            )
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return _pool_out(created.pool, {unit.id: unit.name})


@router.put("/pools/{pool_id}", summary="Change a pool's name, approval and rules (admin, boss) 修改公海规则")
async def update_pool(pool_id: str, body: PoolPatch, state: State, identity: Caller, session: DbSession) -> PoolOut:
    updated = await state.customers.UpdatePool(
        ppb.UpdatePoolRequest(
            pool=ppb.Pool(
                id=path_id(pool_id, "pool_id"),
                name=body.name,
                requires_approval=body.requires_approval,
                rules=_rules_to_proto(body.rules),
            ),
            expected_version=body.expected_version or 0,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return _pool_out(updated.pool, await _unit_names(session, identity))


@router.get("/pools/{pool_id}/customers", summary="Customers in a pool, longest there first 公海客户")
async def pool_customers(
    pool_id: str,
    state: State,
    identity: Caller,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> PoolCustomerPage:
    found = await state.customers.ListPoolCustomers(
        ppb.ListPoolCustomersRequest(pool_id=path_id(pool_id, "pool_id"), page_size=page_size, page_token=page_token),
        metadata=state.identity_metadata.for_caller(identity),
    )
    labels = await state.profile_labels.for_caller(state, identity)
    return PoolCustomerPage(
        items=[_pool_customer_out(c, labels) for c in found.customers],
        next_page_token=found.next_page_token or None,
    )


@router.post("/customers/{customer_id}/release", summary="Release a customer to the pool, with a reason 释放到公海")
async def release(customer_id: str, body: ReleaseIn, state: State, identity: Caller) -> PoolCustomerOut:
    released = await state.customers.ReleaseToPool(
        ppb.ReleaseToPoolRequest(
            customer_id=path_id(customer_id, "customer_id"), reason=body.reason, pool_id=body.pool_id or ""
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return _pool_customer_out(released.customer, await state.profile_labels.for_caller(state, identity))


@router.post(
    "/pools/{pool_id}/claims",
    status_code=201,
    summary="Claim a customer from a pool 领取公海客户",
    description="`approved` at once (you own it) unless the pool asks for approval, then `pending`. Refused with "
    "412 customer_cap_reached, claim_cooldown or claim_limit_reached; 409 when another claim got there first.",
)
async def claim(pool_id: str, body: ClaimIn, state: State, identity: Caller) -> ClaimOut:
    made = await state.customers.ClaimCustomer(
        ppb.ClaimCustomerRequest(
            request_id=body.request_id or str(uuid.uuid4()),
            pool_id=path_id(pool_id, "pool_id"),
            customer_id=body.customer_id,
            reason=body.reason,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return (await _claims_out(state, identity, [made.claim]))[0]


@router.get("/pool-claims", summary="Claims: yours (申请记录) or awaiting your decision (审核记录)")
async def list_claims(
    state: State,
    identity: Caller,
    view: Literal["mine", "to_decide"] = "mine",
    status: ClaimStatus | None = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> ClaimPage:
    found = await state.customers.ListClaims(
        ppb.ListClaimsRequest(
            view=ppb.CLAIM_VIEW_MINE if view == "mine" else ppb.CLAIM_VIEW_TO_DECIDE,
            status=CLAIM_STATUSES.to_proto(status or ""),  # type: ignore[arg-type]
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return ClaimPage(
        items=await _claims_out(state, identity, list(found.claims)), next_page_token=found.next_page_token or None
    )


@router.post("/pool-claims/{claim_id}/decision", summary="Approve or reject a claim (supervisor) 审批领取申请")
async def decide(claim_id: str, body: DecisionIn, state: State, identity: Caller) -> ClaimOut:
    decided = await state.customers.DecideClaim(
        ppb.DecideClaimRequest(claim_id=path_id(claim_id, "claim_id"), approve=body.approve, comment=body.comment),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return (await _claims_out(state, identity, [decided.claim]))[0]


@router.post("/pool-claims/{claim_id}/withdraw", summary="Withdraw your pending claim 撤回领取申请")
async def withdraw(claim_id: str, state: State, identity: Caller) -> ClaimOut:
    withdrawn = await state.customers.WithdrawClaim(
        ppb.WithdrawClaimRequest(claim_id=path_id(claim_id, "claim_id")),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return (await _claims_out(state, identity, [withdrawn.claim]))[0]
