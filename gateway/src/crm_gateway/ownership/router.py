"""/api/v1/customers/{id}/owner-changes, /api/v1/customers/{id}/collaborators and
/api/v1/customer-caps: a customer's ownership history and collaborators, and how many customers
each rep may hold."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crm.customer.v1 import ownership_pb2 as opb
from crm_gateway.customers.router import CUSTOMER_OWNER_ROLES
from crm_gateway.customers.schemas import shanghai
from crm_gateway.directory.service import COLLABORATOR_ROLES, list_users, user_in_tenant
from crm_gateway.inputs import ApiModel, path_id
from crm_gateway.web import Caller, DbSession, State
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument
from crmkit.identity import Placement, Role

router = APIRouter(prefix="/api/v1", tags=["ownership"])

OwnerChangeKind = Literal[
    "created", "assigned_by_rule", "claimed", "approved", "transferred", "released", "returned_by_rule"
]
KINDS = ProtoEnum(opb.OwnerChangeKind)
MAX_CAP = 100_000


class OwnerChangeOut(BaseModel):
    id: str
    kind: OwnerChangeKind
    from_owner_id: str | None = Field(description="null: the customer came from a pool or was new")
    from_owner_name: str
    to_owner_id: str | None = Field(description="null: the customer went to a pool")
    to_owner_name: str
    reason: str
    actor_id: str | None = Field(description="null: a scheduled rule made the change")
    actor_name: str
    rule_id: str | None
    pool_id: str | None
    occurred_at: dt.datetime = Field(description="Asia/Shanghai")


class OwnerChangePage(BaseModel):
    items: list[OwnerChangeOut]
    next_page_token: str | None


class UserCapOut(BaseModel):
    user_id: str
    user_name: str
    cap: int | None = Field(description="The user's own cap; null: the tenant's default applies")
    held: int = Field(description="Active customers the user owns now")


class CustomerCapsOut(BaseModel):
    default_cap: int | None = Field(description="The tenant's cap per user; null: no cap")
    users: list[UserCapOut]


class UserCapIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(min_length=1, max_length=36)
    cap: int | None = Field(ge=1, le=MAX_CAP, description="null: back to the tenant's default")


class CustomerCapsIn(ApiModel):
    """Fields present change: `default_cap` (null for no cap) and the users listed."""

    model_config = ConfigDict(extra="forbid")
    default_cap: int | None = Field(None, ge=1, le=MAX_CAP)
    users: list[UserCapIn] = Field(default_factory=list, max_length=500)


@router.get("/customers/{customer_id}/owner-changes", summary="A customer's ownership history 负责人变更记录")
async def owner_changes(
    customer_id: str,
    state: State,
    identity: Caller,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str, Query(max_length=500)] = "",
) -> OwnerChangePage:
    found = await state.customers.ListOwnerChanges(
        opb.ListOwnerChangesRequest(
            customer_id=path_id(customer_id, "customer_id"), page_size=page_size, page_token=page_token
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    people = {c.from_owner_id for c in found.changes} | {c.to_owner_id for c in found.changes}
    people |= {c.actor_id for c in found.changes}
    names = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids=people - {""})
    return OwnerChangePage(
        items=[
            OwnerChangeOut(
                id=c.id,
                kind=cast(OwnerChangeKind, KINDS.from_proto(c.kind)),
                from_owner_id=c.from_owner_id or None,
                from_owner_name=names.get(c.from_owner_id, ""),
                to_owner_id=c.to_owner_id or None,
                to_owner_name=names.get(c.to_owner_id, ""),
                reason=c.reason,
                actor_id=c.actor_id or None,
                actor_name=names.get(c.actor_id, ""),
                rule_id=c.rule_id or None,
                pool_id=c.pool_id or None,
                occurred_at=shanghai(c.occur_time),
            )
            for c in found.changes
        ],
        next_page_token=found.next_page_token or None,
    )


async def _caps_out(state: State, identity: Caller, caps: opb.CustomerCaps) -> CustomerCapsOut:
    names = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids={u.user_id for u in caps.users})
    return CustomerCapsOut(
        default_cap=caps.default_cap or None,
        users=[
            UserCapOut(user_id=u.user_id, user_name=names.get(u.user_id, ""), cap=u.cap or None, held=u.held)
            for u in caps.users
        ],
    )


@router.get(
    "/customer-caps",
    summary="How many customers each person may hold 客户保有量上限",
    description="The tenant's default and, for every user you may see who can own customers, their own cap "
    "and how many active customers they hold now.",
)
async def customer_caps(state: State, identity: Caller, session: DbSession) -> CustomerCapsOut:
    owners = [
        user.id for user, _ in await list_users(session, identity=identity) if Role(user.role) in CUSTOMER_OWNER_ROLES
    ]
    found = await state.customers.GetCustomerCaps(
        opb.GetCustomerCapsRequest(user_ids=owners[:500]), metadata=state.identity_metadata.for_caller(identity)
    )
    return await _caps_out(state, identity, found.caps)


@router.put("/customer-caps", summary="Set customer caps (admin, boss) 设置客户保有量上限")
async def set_customer_caps(
    body: CustomerCapsIn, state: State, identity: Caller, session: DbSession
) -> CustomerCapsOut:
    for index, user in enumerate(body.users):
        await user_in_tenant(session, identity=identity, user_id=user.user_id, field=f"users[{index}].user_id")
    present = body.model_fields_set
    saved = await state.customers.SetCustomerCaps(
        opb.SetCustomerCapsRequest(
            default_cap=body.default_cap or 0,
            set_default="default_cap" in present,
            users=[opb.UserCustomerCap(user_id=u.user_id, cap=u.cap or 0) for u in body.users],
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return await _caps_out(state, identity, saved.caps)


CollaboratorAccess = Literal["read", "read_write"]
ACCESS = ProtoEnum(opb.CollaboratorAccess)


class CollaboratorOut(BaseModel):
    user_id: str
    user_name: str
    access: CollaboratorAccess = Field(
        description="read: sees the customer, its contacts and follow-ups; read_write: also edits them and logs"
        " follow-ups (never the owner, the pool or the collaborators)"
    )
    expires_at: dt.datetime | None = Field(description="Asia/Shanghai; null: until removed")
    added_by: str
    added_by_name: str
    added_at: dt.datetime = Field(description="Asia/Shanghai")


class CollaboratorList(BaseModel):
    items: list[CollaboratorOut]


class CollaboratorIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    access: CollaboratorAccess
    expires_at: dt.datetime | None = Field(None, description="With its offset; null or absent: until removed")


async def _collaborators_out(state: State, identity: Caller, rows: list[opb.Collaborator]) -> CollaboratorList:
    people = {c.user_id for c in rows} | {c.added_by for c in rows}
    names = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids=people - {""})
    return CollaboratorList(
        items=[
            CollaboratorOut(
                user_id=c.user_id,
                user_name=names.get(c.user_id, ""),
                access=cast(CollaboratorAccess, ACCESS.from_proto(c.access)),
                expires_at=shanghai(c.expire_time) if c.HasField("expire_time") else None,
                added_by=c.added_by,
                added_by_name=names.get(c.added_by, ""),
                added_at=shanghai(c.add_time),
            )
            for c in rows
        ]
    )


@router.get("/customers/{customer_id}/collaborators", summary="A customer's collaborators 协作人")
async def collaborators(customer_id: str, state: State, identity: Caller) -> CollaboratorList:
    found = await state.customers.ListCollaborators(
        opb.ListCollaboratorsRequest(customer_id=path_id(customer_id, "customer_id")),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return await _collaborators_out(state, identity, list(found.collaborators))


@router.put(
    "/customers/{customer_id}/collaborators/{user_id}",
    summary="Add a collaborator or change their access 添加或修改协作人",
    description="The owner, or a supervisor, admin or boss over the customer. A sales rep then finds the customer"
    " in their list and search until the access expires or is removed; it also ends when the customer goes to a"
    " pool or the collaborator becomes its owner.",
)
async def put_collaborator(
    customer_id: str, user_id: str, body: CollaboratorIn, state: State, identity: Caller, session: DbSession
) -> CollaboratorList:
    customer_id, user_id = path_id(customer_id, "customer_id"), path_id(user_id, "user_id")
    if body.expires_at is not None and body.expires_at.tzinfo is None:
        raise InvalidArgument("expires_at", "needs its offset, e.g. +08:00 / 须带时区")
    user, unit = await user_in_tenant(
        session, identity=identity, user_id=user_id, field="user_id", roles=COLLABORATOR_ROLES
    )
    access = cast(opb.CollaboratorAccess.ValueType, ACCESS.to_proto(body.access))
    request = opb.PutCollaboratorRequest(customer_id=customer_id, user_id=user.id, access=access)
    if body.expires_at is not None:
        request.expire_time.FromDatetime(body.expires_at.astimezone(dt.UTC))
    # The directory vouches for the collaborator, checked just now, for this call only.
    vouched = replace(identity, placement=Placement(user.id, unit.id, unit.path))
    await state.customers.PutCollaborator(request, metadata=state.identity_metadata.for_caller(vouched))
    return await collaborators(customer_id, state, identity)


@router.delete(
    "/customers/{customer_id}/collaborators/{user_id}", summary="Remove a collaborator 移除协作人", status_code=204
)
async def remove_collaborator(customer_id: str, user_id: str, state: State, identity: Caller) -> None:
    await state.customers.RemoveCollaborator(
        opb.RemoveCollaboratorRequest(
            customer_id=path_id(customer_id, "customer_id"), user_id=path_id(user_id, "user_id")
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
