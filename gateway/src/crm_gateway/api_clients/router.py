"""/api/v1/api-clients: an admin's partner systems and their keys."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from crm_gateway.api_clients import service
from crm_gateway.api_clients.models import ApiClient
from crm_gateway.inputs import ApiModel, path_id
from crm_gateway.settings import RateLimit
from crm_gateway.web import Caller, DbSession, State, client_address
from crmkit.clock import SHANGHAI, as_utc
from crmkit.identity import Role

router = APIRouter(prefix="/api/v1", tags=["api clients"])


class RateLimitIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    burst: int = Field(ge=1, le=100_000)
    per_minute: float = Field(gt=0, le=1_000_000)


class ApiClientIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100, description="e.g. 用友ERP对接")
    role: Role = Field(description="The client acts as a user of this role: same data scope and field views")
    org_unit_id: str | None = Field(None, min_length=1, max_length=64, description="Default: your own org unit")
    rate_limit: RateLimitIn | None = Field(None, description="Its own token bucket; default: the partners group's")


class RateLimitOut(BaseModel):
    burst: int
    per_minute: float


class ApiClientOut(BaseModel):
    id: str
    name: str
    role: Role
    org_unit_id: str
    key_hint: str = Field(description="The key's first characters, to tell keys apart")
    rate_limit: RateLimitOut | None = Field(description="Its own token bucket; null: the partners group's")
    active: bool
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    revoked_at: dt.datetime | None = Field(description="Asia/Shanghai")


class NewApiClientOut(ApiClientOut):
    key: str = Field(description="Shown once: only its digest is kept 密钥仅显示一次")


class ApiClientList(BaseModel):
    items: list[ApiClientOut]


def _shanghai(moment: dt.datetime) -> dt.datetime:
    return as_utc(moment).astimezone(SHANGHAI)


def client_out(client: ApiClient) -> ApiClientOut:
    limit = None
    if client.rate_burst is not None and client.rate_per_minute is not None:
        limit = RateLimitOut(burst=client.rate_burst, per_minute=client.rate_per_minute)
    return ApiClientOut(
        id=client.id,
        name=client.name,
        role=Role(client.role),
        org_unit_id=client.org_unit_id,
        key_hint=client.key_hint,
        rate_limit=limit,
        active=client.active,
        created_at=_shanghai(client.created_at),
        revoked_at=_shanghai(client.revoked_at) if client.revoked_at else None,
    )


@router.post(
    "/api-clients",
    status_code=201,
    summary="Register a partner system (admin) 新建接口客户端",
    description="Answers with the key once (`key`); only its digest is kept. The partner sends it as "
    "`Authorization: Bearer <key>`. 密钥仅在创建时显示一次。",
)
async def create_api_client(body: ApiClientIn, request: Request, identity: Caller, state: State) -> NewApiClientOut:
    limit = RateLimit(**body.rate_limit.model_dump()) if body.rate_limit else None
    async with state.sessions() as session, session.begin():
        client, key = await service.create_client(
            session,
            identity=identity,
            name=body.name,
            role=body.role,
            org_unit_id=body.org_unit_id,
            limit=limit,
            now=state.now(),
            address=client_address(request),
        )
        answer = client_out(client)
    return NewApiClientOut(**answer.model_dump(), key=key)


@router.get("/api-clients", summary="Partner systems of the tenant (admin) 接口客户端列表")
async def list_api_clients(identity: Caller, session: DbSession) -> ApiClientList:
    return ApiClientList(items=[client_out(c) for c in await service.list_clients(session, identity=identity)])


@router.delete("/api-clients/{client_id}", status_code=204, summary="Revoke a partner's key (admin) 吊销接口密钥")
async def revoke_api_client(client_id: str, request: Request, identity: Caller, state: State) -> Response:
    async with state.sessions() as session, session.begin():
        client = await service.revoke_client(
            session,
            identity=identity,
            client_id=path_id(client_id, "client_id"),
            now=state.now(),
            address=client_address(request),
        )
    state.api_keys.forget(client.id)
    return Response(status_code=204)
