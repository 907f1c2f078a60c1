"""/api/v1/api-clients: an admin's partner systems and their keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ConfigDict, Field

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


def client_out(client: ApiClient) -> dict[str, Any]:
    limit = None
    if client.rate_burst is not None:
        limit = {"burst": client.rate_burst, "per_minute": client.rate_per_minute}
    return {
        "id": client.id,
        "name": client.name,
        "role": client.role,
        "org_unit_id": client.org_unit_id,
        "key_hint": client.key_hint,
        "rate_limit": limit,
        "active": client.active,
        "created_at": as_utc(client.created_at).astimezone(SHANGHAI).isoformat(),
        "revoked_at": as_utc(client.revoked_at).astimezone(SHANGHAI).isoformat() if client.revoked_at else None,
    }


@router.post(
    "/api-clients",
    status_code=201,
    summary="Register a partner system (admin) 新建接口客户端",
    description="Answers with the key once (`key`); only its digest is kept. The partner sends it as "
    "`Authorization: Bearer <key>`. 密钥仅在创建时显示一次。",
)
async def create_api_client(body: ApiClientIn, request: Request, identity: Caller, state: State) -> dict[str, Any]:
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
    return {**answer, "key": key}


@router.get("/api-clients", summary="Partner systems of the tenant (admin) 接口客户端列表")
async def list_api_clients(identity: Caller, session: DbSession) -> dict[str, Any]:
    return {"items": [client_out(c) for c in await service.list_clients(session, identity=identity)]}


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
