"""/api/v1/special-requirement-kinds, /api/v1/tier-labels and a customer's tier, grade and stage
history (/api/v1/customers/{id}/tier, /grade, /tier-changes, /stage-changes). A customer's
preferences and special requirements change through its own PATCH."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crm.customer.v1 import profile_pb2 as prpb
from crm_gateway.customers.router import get_customer
from crm_gateway.customers.schemas import CustomerOut, Stage, shanghai
from crm_gateway.inputs import MAX_VERSION, ApiModel, path_id
from crm_gateway.profile.schemas import Grade, Tier, TierChangeOut, TierSource
from crm_gateway.web import Caller, State

router = APIRouter(prefix="/api/v1", tags=["profile"])

DIMENSIONS = {"tier": prpb.TIER_DIMENSION_VALUE, "grade": prpb.TIER_DIMENSION_GRADE}
DIMENSION_NAMES = {value: name for name, value in DIMENSIONS.items()}
SOURCES = {prpb.TIER_SOURCE_MANUAL: "manual", prpb.TIER_SOURCE_AUTOMATIC: "automatic"}


# ------------------------------------------------------------------ special-requirement kinds


class RequirementKindIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,29}$", description="e.g. halal; what customers and orders name")
    label: str = Field(min_length=1, max_length=20, description="The alert's text, e.g. 清真")
    description: str = Field("", max_length=100, description="What it asks of deliveries")
    takes_details: bool = Field(False, description="Requirements of this kind list items (the allergens)")
    details_label: str = Field("", max_length=20, description="What the items are called, e.g. 过敏原")


class RequirementKindsIn(ApiModel):
    items: list[RequirementKindIn] = Field(min_length=1, max_length=30)


class RequirementKindsOut(BaseModel):
    items: list[RequirementKindIn]


def _kinds_out(kinds: list[prpb.SpecialRequirementKind]) -> RequirementKindsOut:
    return RequirementKindsOut(
        items=[
            RequirementKindIn(
                key=k.key,
                label=k.label,
                description=k.description,
                takes_details=k.takes_details,
                details_label=k.details_label,
            )
            for k in kinds
        ]
    )


@router.get(
    "/special-requirement-kinds",
    summary="The tenant's special-requirement kinds 特殊要求类型",
    description="Defaults until set: 清真 halal, 有机认证 organic, 过敏原 allergens (with the list), 不含猪肉 no_pork,"
    " 冷链 cold_chain.",
)
async def requirement_kinds(state: State, identity: Caller) -> RequirementKindsOut:
    found = await state.customers.ListSpecialRequirementKinds(
        prpb.ListSpecialRequirementKindsRequest(), metadata=state.identity_metadata.for_caller(identity)
    )
    return _kinds_out(list(found.kinds))


@router.put(
    "/special-requirement-kinds",
    summary="Replace the tenant's special-requirement kinds (admin, boss) 设置特殊要求类型",
    description="Customers may then name only these; a customer keeps a requirement whose kind is removed.",
)
async def set_requirement_kinds(body: RequirementKindsIn, state: State, identity: Caller) -> RequirementKindsOut:
    saved = await state.customers.SetSpecialRequirementKinds(
        prpb.SetSpecialRequirementKindsRequest(
            kinds=[prpb.SpecialRequirementKind(**kind.model_dump()) for kind in body.items]
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    state.profile_labels.forget(identity.tenant_id)
    return _kinds_out(list(saved.kinds))


# ------------------------------------------------------------------ tier and grade names

Label = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10)]


class TierLabelsBody(ApiModel):
    """The tenant's names; a value left out keeps its name, an empty name returns to the default."""

    model_config = ConfigDict(extra="forbid")
    tier: dict[Tier, Label] = Field(default_factory=dict, description='e.g. {"vip": "VIP", "key": "重点"}')
    grade: dict[Grade, Label] = Field(default_factory=dict, description='e.g. {"S": "S级"}')


def _labels_out(labels: list[prpb.TierLabel]) -> TierLabelsBody:
    body = TierLabelsBody()
    for label in labels:
        names = body.tier if label.dimension == prpb.TIER_DIMENSION_VALUE else body.grade
        names[label.value] = label.label  # type: ignore[index]
    return body


@router.get("/tier-labels", summary="The tenant's names of tiers and grades 客户分层分级名称")
async def tier_labels(state: State, identity: Caller) -> TierLabelsBody:
    found = await state.customers.ListTierLabels(
        prpb.ListTierLabelsRequest(), metadata=state.identity_metadata.for_caller(identity)
    )
    return _labels_out(list(found.labels))


@router.put("/tier-labels", summary="Rename tiers and grades (admin, boss) 设置分层分级名称")
async def set_tier_labels(body: TierLabelsBody, state: State, identity: Caller) -> TierLabelsBody:
    labels = [prpb.TierLabel(dimension=prpb.TIER_DIMENSION_VALUE, value=v, label=n) for v, n in body.tier.items()]
    labels += [prpb.TierLabel(dimension=prpb.TIER_DIMENSION_GRADE, value=v, label=n) for v, n in body.grade.items()]
    saved = await state.customers.SetTierLabels(
        prpb.SetTierLabelsRequest(labels=labels), metadata=state.identity_metadata.for_caller(identity)
    )
    state.profile_labels.forget(identity.tenant_id)
    return _labels_out(list(saved.labels))


# ------------------------------------------------------------------ a customer's tier and grade


class ManualTierIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    value: str | None = Field(
        description="The manual value (tier: vip, key, normal; grade: S, A, B, C); null clears it and the automatic"
        " value applies again"
    )
    reason: str = Field(min_length=1, max_length=200, description="Why; kept in the history")
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION, description="409 if the customer changed")


async def _set_tier(
    dimension: Literal["tier", "grade"], customer_id: str, body: ManualTierIn, state: State, identity: Caller
) -> CustomerOut:
    customer_id = path_id(customer_id, "customer_id")
    await state.customers.SetCustomerTier(
        prpb.SetCustomerTierRequest(
            customer_id=customer_id,
            dimension=DIMENSIONS[dimension],
            value=body.value or "",
            reason=body.reason,
            expected_version=body.expected_version or 0,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return await get_customer(customer_id, state, identity)


@router.put(
    "/customers/{customer_id}/tier",
    summary="Set or clear the manual value tier 设置客户分层",
    description="Whoever may change the customer. A manual tier wins over the automatic one until cleared"
    " (`value: null`). The pool rules read the tier the customer carries.",
)
async def set_tier(customer_id: str, body: ManualTierIn, state: State, identity: Caller) -> CustomerOut:
    return await _set_tier("tier", customer_id, body, state, identity)


@router.put(
    "/customers/{customer_id}/grade",
    summary="Set or clear the manual grade 设置客户分级",
    description="Like the tier: a manual grade (S/A/B/C) wins over the automatic one until cleared.",
)
async def set_grade(customer_id: str, body: ManualTierIn, state: State, identity: Caller) -> CustomerOut:
    return await _set_tier("grade", customer_id, body, state, identity)


class TierChangePage(BaseModel):
    items: list[TierChangeOut]
    next_page_token: str | None


@router.get("/customers/{customer_id}/tier-changes", summary="A customer's tier and grade history 分层分级记录")
async def tier_changes(
    customer_id: str,
    state: State,
    identity: Caller,
    dimension: Literal["tier", "grade"] | None = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> TierChangePage:
    found = await state.customers.ListTierChanges(
        prpb.ListTierChangesRequest(
            customer_id=path_id(customer_id, "customer_id"),
            dimension=DIMENSIONS[dimension] if dimension else prpb.TIER_DIMENSION_UNSPECIFIED,
            page_size=page_size,
            page_token=page_token,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    names = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids={c.actor_id for c in found.changes})
    return TierChangePage(
        items=[
            TierChangeOut(
                id=c.id,
                dimension=cast(Literal["tier", "grade"], DIMENSION_NAMES[c.dimension]),
                source=cast(TierSource, SOURCES[c.source]),
                from_value=c.from_value or None,
                to_value=c.to_value or None,
                effective_value=c.effective_value or None,
                reason=c.reason,
                actor_id=c.actor_id,
                actor_name=names.get(c.actor_id, ""),
                occurred_at=shanghai(c.occur_time),
            )
            for c in found.changes
        ],
        next_page_token=found.next_page_token or None,
    )


# ------------------------------------------------------------------ lifecycle stage history


class StageChangeOut(BaseModel):
    id: str
    from_stage: Stage | None = Field(description="null: the customer was created in to_stage")
    to_stage: Stage
    actor_id: str
    actor_name: str
    occurred_at: dt.datetime = Field(description="Asia/Shanghai")


class StageChangePage(BaseModel):
    items: list[StageChangeOut]
    next_page_token: str | None


@router.get(
    "/customers/{customer_id}/stage-changes",
    summary="A customer's lifecycle stage history 客户阶段变更记录",
    description="Every stage it entered, newest first, with who and when: lead → prospect → signed and the time"
    " each conversion took.",
)
async def stage_changes(
    customer_id: str,
    state: State,
    identity: Caller,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> StageChangePage:
    found = await state.customers.ListStageChanges(
        prpb.ListStageChangesRequest(
            customer_id=path_id(customer_id, "customer_id"), page_size=page_size, page_token=page_token
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    names = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids={c.actor_id for c in found.changes})
    return StageChangePage(
        items=[
            StageChangeOut(
                id=c.id,
                from_stage=cast(Stage, c.from_stage) if c.from_stage else None,
                to_stage=cast(Stage, c.to_stage),
                actor_id=c.actor_id,
                actor_name=names.get(c.actor_id, ""),
                occurred_at=shanghai(c.occur_time),
            )
            for c in found.changes
        ],
        next_page_token=found.next_page_token or None,
    )
