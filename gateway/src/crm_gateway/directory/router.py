"""/api/v1/org-units and /api/v1/users."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from crm_gateway.directory import service
from crm_gateway.directory.models import OrgUnit, User
from crm_gateway.inputs import ApiModel, path_id
from crm_gateway.web import Caller, DbSession, State
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


def unit_out(unit: OrgUnit) -> dict[str, Any]:
    return {"id": unit.id, "name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id, "path": unit.path}


def user_out(user: User, unit: OrgUnit) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "org_unit_id": unit.id,
        "org_unit_name": unit.name,
        "active": user.active,
    }


@router.get("/org-units", summary="Org tree of the tenant 组织架构")
async def list_org_units(identity: Caller, session: DbSession) -> dict[str, Any]:
    return {"items": [unit_out(u) for u in await service.list_org_units(session, identity=identity)]}


@router.post("/org-units", status_code=201, summary="Add an org unit 新建组织")
async def create_org_unit(body: OrgUnitIn, identity: Caller, state: State) -> dict[str, Any]:
    async with state.sessions() as session, session.begin():
        unit = await service.create_org_unit(
            session, identity=identity, name=body.name, parent_id=body.parent_id, now=state.now()
        )
        return unit_out(unit)


@router.get("/users", summary="Users you may see 用户列表")
async def list_users(identity: Caller, session: DbSession) -> dict[str, Any]:
    return {"items": [user_out(u, o) for u, o in await service.list_users(session, identity=identity)]}


@router.get("/users/{user_id}", summary="One user 用户详情")
async def get_user(user_id: str, identity: Caller, session: DbSession) -> dict[str, Any]:
    user, unit = await service.get_user(session, identity=identity, user_id=path_id(user_id, "user_id"))
    return user_out(user, unit)


@router.post("/users", status_code=201, summary="Create a user (admin) 新建用户")
async def create_user(body: UserIn, identity: Caller, state: State) -> dict[str, Any]:
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
        )
        return user_out(user, unit)
