"""/api/v1/org-units and /api/v1/users."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from crm.customer.v1 import ownership_pb2 as opb
from crm.customer.v1 import transfers_pb2 as tpb
from crm_gateway.directory import service
from crm_gateway.directory.models import OrgUnit, OrgUnitKind, User
from crm_gateway.inputs import ApiModel, path_id
from crm_gateway.transfers.router import MODES, Mode, TransferOut, transfers_out
from crm_gateway.web import Caller, DbSession, State
from crmkit.errors import FailedPrecondition, InvalidArgument
from crmkit.identity import Role

router = APIRouter(prefix="/api/v1", tags=["directory"])


class OrgUnitIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    parent_id: str = Field(min_length=1, max_length=64)


class UserIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-z][a-z0-9._-]{2,63}$")
    display_name: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=8, max_length=256)
    role: Role
    org_unit_id: str = Field(min_length=1, max_length=64)


class OrgUnitPatch(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)


class UserPatch(ApiModel):
    """Only the fields present change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    display_name: str | None = Field(None, min_length=1, max_length=50)
    role: Role | None = Field(None, description="Holds from the user's next token; not your own")


class OrgUnitOut(BaseModel):
    id: str
    name: str
    kind: OrgUnitKind
    parent_id: str | None
    path: str = Field(description="Ids from the root, each followed by /")


class OrgUnitList(BaseModel):
    items: list[OrgUnitOut]


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: Role
    org_unit_id: str
    org_unit_name: str
    active: bool


class UserList(BaseModel):
    items: list[UserOut]


def unit_out(unit: OrgUnit) -> OrgUnitOut:
    return OrgUnitOut(
        id=unit.id, name=unit.name, kind=cast(OrgUnitKind, unit.kind), parent_id=unit.parent_id, path=unit.path
    )


def user_out(user: User, unit: OrgUnit) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        org_unit_id=unit.id,
        org_unit_name=unit.name,
        active=user.active,
    )


@router.get("/org-units", summary="Org tree of the tenant 组织架构")
async def list_org_units(identity: Caller, session: DbSession) -> OrgUnitList:
    return OrgUnitList(items=[unit_out(u) for u in await service.list_org_units(session, identity=identity)])


@router.post("/org-units", status_code=201, summary="Add an org unit 新建组织")
async def create_org_unit(body: OrgUnitIn, identity: Caller, state: State) -> OrgUnitOut:
    async with state.sessions() as session, session.begin():
        unit = await service.create_org_unit(
            session, identity=identity, name=body.name, parent_id=body.parent_id, now=state.now()
        )
        return unit_out(unit)


@router.patch("/org-units/{org_unit_id}", summary="Rename an org unit (admin) 修改组织名称")
async def rename_org_unit(org_unit_id: str, body: OrgUnitPatch, identity: Caller, state: State) -> OrgUnitOut:
    async with state.sessions() as session, session.begin():
        unit = await service.rename_org_unit(
            session,
            identity=identity,
            org_unit_id=path_id(org_unit_id, "org_unit_id"),
            name=body.name,
            now=state.now(),
        )
        return unit_out(unit)


@router.get("/users", summary="Users you may see 用户列表")
async def list_users(identity: Caller, session: DbSession) -> UserList:
    return UserList(items=[user_out(u, o) for u, o in await service.list_users(session, identity=identity)])


@router.get(
    "/colleagues",
    summary="Colleagues who may collaborate on a customer 同事（可选协作人）",
    description="Active users of your tenant in the roles that may collaborate (sales, supervisor, service), "
    "for every role: a sales rep sees only themselves in /users.",
)
async def list_colleagues(identity: Caller, session: DbSession) -> UserList:
    return UserList(items=[user_out(u, o) for u, o in await service.list_colleagues(session, identity=identity)])


@router.get("/users/{user_id}", summary="One user 用户详情")
async def get_user(user_id: str, identity: Caller, session: DbSession) -> UserOut:
    user, unit = await service.get_user(session, identity=identity, user_id=path_id(user_id, "user_id"))
    return user_out(user, unit)


@router.post("/users", status_code=201, summary="Create a user (admin) 新建用户")
async def create_user(body: UserIn, identity: Caller, state: State) -> UserOut:
    async with state.sessions() as session, session.begin():
        user, unit = await service.create_user(
            session,
            identity=identity,
            username=body.username,
            display_name=body.display_name,
            password=body.password,
            passwords=state.passwords,
            role=body.role,
            org_unit_id=body.org_unit_id,
            now=state.now(),
            namespace=state.settings.event_namespace,
        )
        return user_out(user, unit)


@router.patch("/users/{user_id}", summary="Change a user's name or role (admin) 修改用户")
async def update_user(user_id: str, body: UserPatch, identity: Caller, state: State) -> UserOut:
    present = body.model_dump(exclude_unset=True)
    if not present:
        raise InvalidArgument("body", "names no fields to change / 未指定要修改的字段")
    for required in present:
        if present[required] is None:
            raise InvalidArgument(required, "cannot be null / 不能为空")
    async with state.sessions() as session, session.begin():
        user, unit = await service.update_user(
            session,
            identity=identity,
            user_id=path_id(user_id, "user_id"),
            display_name=body.display_name,
            role=body.role,
            now=state.now(),
            namespace=state.settings.event_namespace,
        )
        state.display_names.forget(tenant_id=identity.tenant_id, user_id=user.id)
        return user_out(user, unit)


class HandoverIn(ApiModel):
    """Where a departing user's customers go (离职交接): the transfer started before they are
    deactivated (see POST /api/v1/transfers for the modes)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    mode: Mode
    to_user_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(default_factory=list, max_length=50)
    pool_id: str | None = Field(None, max_length=36)
    reason: str = Field("离职交接", min_length=1, max_length=200)


class DeactivateIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    handover: HandoverIn | None = Field(None, description="Required while the user holds customers")


class DeactivatedOut(BaseModel):
    user: UserOut
    transfer: TransferOut | None = Field(description="The handover's transfer; null when they held no customers")


class HandoverRequired(FailedPrecondition):
    code = "handover_required"

    def __init__(self, held: int) -> None:
        super().__init__(
            f"该用户还负责{held}位客户，请先选择交接方式 / the user still holds {held} customers: say where they go",
            field="handover",
            details={"held": str(held)},
        )


@router.post(
    "/users/{user_id}/deactivate",
    summary="Deactivate a user, handing their customers over first (admin) 停用用户",
    description="While the user holds customers a `handover` is required (else 412 handover_required with `held`): "
    "the transfer starts first (202-style: poll GET /api/v1/transfers/{id}), then the user is deactivated: no "
    "sign-in or refresh, refresh tokens revoked, and the services told (user_changed).",
)
async def deactivate_user(user_id: str, body: DeactivateIn, identity: Caller, state: State) -> DeactivatedOut:
    identity.require_role(Role.ADMIN)
    user_id = path_id(user_id, "user_id")
    async with state.sessions() as session:
        user, unit = await service.get_user(session, identity=identity, user_id=user_id)
    if user.id == identity.principal_id:
        raise InvalidArgument("user_id", "you cannot deactivate yourself / 不能停用自己")
    if not user.active:
        # Done already (its handover, if any, was started by the call that deactivated them).
        return DeactivatedOut(user=user_out(user, unit), transfer=None)
    metadata = state.identity_metadata.for_caller(identity)
    caps = await state.customers.GetCustomerCaps(opb.GetCustomerCapsRequest(user_ids=[user.id]), metadata=metadata)
    held = caps.caps.users[0].held if caps.caps.users else 0
    transfer = None
    if held and body.handover is None:
        raise HandoverRequired(held)
    if held and body.handover is not None:
        handover = body.handover
        started = await state.customers.StartTransfer(
            tpb.StartTransferRequest(
                # One handover per deactivation: a retry after a failure below starts nothing new.
                request_id=f"deactivate-{user.id}-{user.version}",
                from_user_id=user.id,
                mode=cast(tpb.TransferMode.ValueType, MODES.to_proto(handover.mode)),
                to_user_ids=handover.to_user_ids,
                pool_id=handover.pool_id or "",
                reason=handover.reason,
            ),
            metadata=metadata,
        )
        transfer = (await transfers_out(state, identity, [started.transfer]))[0]
    async with state.sessions() as session, session.begin():
        user, unit = await service.set_user_active(
            session,
            identity=identity,
            user_id=user_id,
            active=False,
            now=state.now(),
            namespace=state.settings.event_namespace,
        )
        return DeactivatedOut(user=user_out(user, unit), transfer=transfer)


@router.post("/users/{user_id}/activate", summary="Reactivate a user (admin) 启用用户")
async def activate_user(user_id: str, identity: Caller, state: State) -> UserOut:
    async with state.sessions() as session, session.begin():
        user, unit = await service.set_user_active(
            session,
            identity=identity,
            user_id=path_id(user_id, "user_id"),
            active=True,
            now=state.now(),
            namespace=state.settings.event_namespace,
        )
        return user_out(user, unit)
