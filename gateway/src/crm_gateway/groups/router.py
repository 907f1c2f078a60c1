"""/api/v1/customers/{id}/parent, /group and /relations: group accounts (集团客户) and relations
between customers (上下游, 推荐, 同集团), each showing only what the caller may see."""

from __future__ import annotations

import datetime as dt
from typing import Literal, cast

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from crm.customer.v1 import profile_pb2 as prpb
from crm_gateway.customers.router import get_customer
from crm_gateway.customers.schemas import CustomerOut, DecisionRole, Stage, shanghai
from crm_gateway.inputs import MAX_VERSION, ApiModel, path_id
from crm_gateway.web import Caller, State
from crmkit.enums import ProtoEnum

router = APIRouter(prefix="/api/v1", tags=["groups"])

RelationKind = Literal["upstream_supplier", "downstream_customer", "referred_by", "referred", "same_group"]
KINDS = ProtoEnum(prpb.RelationKind)
KIND_LABELS = {
    "upstream_supplier": "上游供应商",
    "downstream_customer": "下游客户",
    "referred_by": "推荐人",
    "referred": "推荐了",
    "same_group": "同集团",
}


class ParentIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    parent_customer_id: str | None = Field(
        max_length=36,
        description="The parent account (集团/总部), a customer you may see; null: the customer stands alone. A cycle"
        " or a group deeper than 5 levels is refused (400, field parent_customer_id).",
    )
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION, description="409 if the customer changed")


@router.put("/customers/{customer_id}/parent", summary="Join a branch to its group, or detach it 设置上级客户")
async def set_parent(customer_id: str, body: ParentIn, state: State, identity: Caller) -> CustomerOut:
    customer_id = path_id(customer_id, "customer_id")
    await state.customers.SetParentCustomer(
        prpb.SetParentCustomerRequest(
            customer_id=customer_id,
            parent_customer_id=body.parent_customer_id or "",
            expected_version=body.expected_version or 0,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return await get_customer(customer_id, state, identity)


class GroupBranchOut(BaseModel):
    customer_id: str
    name: str
    parent_customer_id: str = Field(description="Its nearest ancestor you may see (the group's parent at worst)")
    depth: int = Field(description="1: a direct branch, 2: a branch of one, …")
    lifecycle_stage: Stage
    owner_id: str | None
    owner_name: str
    contact_count: int


class GroupContactOut(BaseModel):
    customer_id: str
    customer_name: str
    contact_id: str
    name: str
    title: str
    decision_role: DecisionRole | None
    primary: bool


class GroupOut(BaseModel):
    """The customer's group as you may see it: branches outside your data scope are neither counted
    nor named."""

    customer_id: str
    ancestor_customer_ids: list[str] = Field(description="Its own parents, nearest first, as far as you may see")
    branch_count: int
    contact_count: int = Field(description="Contacts of the customer and its branches")
    stages: dict[str, int] = Field(description="The branches by lifecycle stage")
    branches: list[GroupBranchOut] = Field(description="Level by level, each level by name")
    contacts: list[GroupContactOut] = Field(description="The decision chain across the group")


@router.get(
    "/customers/{customer_id}/group",
    summary="A group's rollup of its branches 集团汇总",
    description="Branches (recursively), their count, contacts and stages, and the contacts' decision roles across"
    " the group — only those you may see.",
)
async def group(customer_id: str, state: State, identity: Caller) -> GroupOut:
    found = await state.customers.GetGroupRollup(
        prpb.GetGroupRollupRequest(customer_id=path_id(customer_id, "customer_id")),
        metadata=state.identity_metadata.for_caller(identity),
    )
    rollup = found.rollup
    names = await state.display_names.lookup(
        tenant_id=identity.tenant_id, user_ids={b.owner_id for b in rollup.branches} - {""}
    )
    return GroupOut(
        customer_id=rollup.customer_id,
        ancestor_customer_ids=list(rollup.ancestor_customer_ids),
        branch_count=rollup.branch_count,
        contact_count=rollup.contact_count,
        stages={s.lifecycle_stage: s.count for s in rollup.stages},
        branches=[
            GroupBranchOut(
                customer_id=b.customer_id,
                name=b.name,
                parent_customer_id=b.parent_customer_id,
                depth=b.depth,
                lifecycle_stage=cast(Stage, b.lifecycle_stage),
                owner_id=b.owner_id or None,
                owner_name=names.get(b.owner_id, ""),
                contact_count=b.contact_count,
            )
            for b in rollup.branches
        ],
        contacts=[
            GroupContactOut(
                customer_id=c.customer_id,
                customer_name=c.customer_name,
                contact_id=c.contact_id,
                name=c.name,
                title=c.title,
                decision_role=cast(DecisionRole, c.decision_role) if c.decision_role else None,
                primary=c.primary,
            )
            for c in rollup.contacts
        ],
    )


class RelationOut(BaseModel):
    id: str
    related_customer_id: str
    related_customer_name: str
    kind: RelationKind = Field(description="How the related customer stands to this one, read from this side")
    kind_label: str = Field(description="e.g. 上游供应商; the other end shows the inverse (下游客户)")
    note: str
    created_by: str
    created_by_name: str
    created_at: dt.datetime = Field(description="Asia/Shanghai")


class RelationList(BaseModel):
    items: list[RelationOut]


class RelationIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    related_customer_id: str = Field(min_length=1, max_length=36, description="A customer you may see")
    kind: RelationKind = Field(
        description="upstream_supplier 上游供应商, downstream_customer 下游客户, referred_by 推荐人, referred 推荐了,"
        " same_group 同集团"
    )
    note: str = Field("", max_length=200)


async def _relations_out(state: State, identity: Caller, relations: list[prpb.CustomerRelation]) -> list[RelationOut]:
    names = await state.display_names.lookup(
        tenant_id=identity.tenant_id, user_ids={r.created_by for r in relations} - {""}
    )
    shown = []
    for relation in relations:
        kind = cast(RelationKind, KINDS.from_proto(relation.kind))
        shown.append(
            RelationOut(
                id=relation.id,
                related_customer_id=relation.related_customer_id,
                related_customer_name=relation.related_customer_name,
                kind=kind,
                kind_label=KIND_LABELS[kind],
                note=relation.note,
                created_by=relation.created_by,
                created_by_name=names.get(relation.created_by, ""),
                created_at=shanghai(relation.create_time),
            )
        )
    return shown


@router.get(
    "/customers/{customer_id}/relations",
    summary="A customer's relations to others 客户关系",
    description="Only relations whose other end you may also see, newest first.",
)
async def relations(customer_id: str, state: State, identity: Caller) -> RelationList:
    found = await state.customers.ListCustomerRelations(
        prpb.ListCustomerRelationsRequest(customer_id=path_id(customer_id, "customer_id")),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return RelationList(items=await _relations_out(state, identity, list(found.relations)))


@router.post(
    "/customers/{customer_id}/relations",
    status_code=201,
    summary="Relate a customer to another 添加客户关系",
    description="You must be able to change this customer and see the other; 409 if they already have that relation.",
)
async def add_relation(customer_id: str, body: RelationIn, state: State, identity: Caller) -> RelationOut:
    added = await state.customers.AddCustomerRelation(
        prpb.AddCustomerRelationRequest(
            customer_id=path_id(customer_id, "customer_id"),
            related_customer_id=body.related_customer_id,
            kind=KINDS.to_proto(body.kind),  # type: ignore[arg-type]
            note=body.note,
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return (await _relations_out(state, identity, [added.relation]))[0]


@router.delete(
    "/customers/{customer_id}/relations/{relation_id}", status_code=204, summary="Remove a relation 删除客户关系"
)
async def remove_relation(customer_id: str, relation_id: str, state: State, identity: Caller) -> None:
    await state.customers.RemoveCustomerRelation(
        prpb.RemoveCustomerRelationRequest(
            customer_id=path_id(customer_id, "customer_id"), relation_id=path_id(relation_id, "relation_id")
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
