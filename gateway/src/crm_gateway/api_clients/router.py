"""/api/v1/api-clients: an admin's partner systems, their keys and scopes; /api/v1/oauth/token:
a partner's client-credentials token for the services' gRPC."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from crm_gateway.api_clients import service
from crm_gateway.api_clients.models import ApiClient
from crm_gateway.inputs import ApiModel, path_id
from crm_gateway.settings import RateLimit
from crm_gateway.web import Caller, DbSession, State, anonymous_client, client_address
from crmkit.clock import SHANGHAI, as_utc
from crmkit.errors import InvalidArgument, Unauthenticated
from crmkit.identity import Role
from crmkit.partners import PartnerScope

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
    scopes: list[PartnerScope] = Field(
        default_factory=list, max_length=len(PartnerScope), description="What its tokens may call on the services' gRPC"
    )


class ScopesIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    scopes: list[PartnerScope] = Field(max_length=len(PartnerScope))


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
    scopes: list[PartnerScope] = Field(description="What its tokens may call on the services' gRPC")
    active: bool
    created_at: dt.datetime = Field(description="Asia/Shanghai")
    revoked_at: dt.datetime | None = Field(description="Asia/Shanghai")
    last_used_at: dt.datetime | None = Field(description="Its last token, Asia/Shanghai")


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
        scopes=sorted(service.scopes_of(client)),
        active=client.active,
        created_at=_shanghai(client.created_at),
        revoked_at=_shanghai(client.revoked_at) if client.revoked_at else None,
        last_used_at=_shanghai(client.last_used_at) if client.last_used_at else None,
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
            scopes=frozenset(body.scopes),
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


@router.put("/api-clients/{client_id}/scopes", summary="Grant a partner's scopes (admin) 设置接口权限范围")
async def set_api_client_scopes(
    client_id: str, body: ScopesIn, request: Request, identity: Caller, state: State
) -> ApiClientOut:
    async with state.sessions() as session, session.begin():
        client = await service.grant_scopes(
            session,
            identity=identity,
            client_id=path_id(client_id, "client_id"),
            scopes=frozenset(body.scopes),
            now=state.now(),
            address=client_address(request),
        )
        return client_out(client)


@router.post(
    "/api-clients/{client_id}/rotate",
    summary="Give a partner a new key (admin) 更换接口密钥",
    description="Answers with the new key once; the old key stops working (on every replica within 30 s).",
)
async def rotate_api_client_key(client_id: str, request: Request, identity: Caller, state: State) -> NewApiClientOut:
    async with state.sessions() as session, session.begin():
        client, key = await service.rotate_key(
            session,
            identity=identity,
            client_id=path_id(client_id, "client_id"),
            now=state.now(),
            address=client_address(request),
        )
        answer = client_out(client)
    state.api_keys.forget(client.id)
    return NewApiClientOut(**answer.model_dump(), key=key)


class TokenOut(BaseModel):
    access_token: str = Field(description="Send to the services' gRPC as `authorization: Bearer <token>`")
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds")
    scope: str = Field(description="Space-separated scopes the token carries")


class OAuthError(BaseModel):
    error: str = Field(
        description="RFC 6749 §5.2: invalid_request, invalid_client, invalid_scope, unsupported_grant_type"
    )
    error_description: str


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="keyuan"'} if status == 401 else None
    body = OAuthError(error=error, error_description=description)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """client_id and client_secret from `Authorization: Basic` (RFC 6749 §2.3.1: form-encoded, then base64)."""
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[len("Basic ") :], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if colon else None


@router.post(
    "/oauth/token",
    tags=["api clients"],
    summary="A partner's token for the services' gRPC (OAuth 2 client credentials) 获取接口令牌",
    description="Form-encoded `grant_type=client_credentials`, the client's id and key as `client_id` and "
    "`client_secret` (or HTTP Basic), and optionally `scope` (space-separated, a subset of those granted). "
    "Errors follow RFC 6749 §5.2.",
    response_model=TokenOut,
    responses={400: {"model": OAuthError}, 401: {"model": OAuthError}},
)
async def client_credentials_token(
    request: Request,
    state: State,
    address: Annotated[str, Depends(anonymous_client)],
    grant_type: Annotated[str, Form(max_length=64)] = "",
    client_id: Annotated[str, Form(max_length=64)] = "",
    client_secret: Annotated[str, Form(max_length=128)] = "",
    scope: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if grant_type != "client_credentials":
        return oauth_error(
            400, "unsupported_grant_type", "grant_type must be client_credentials / 仅支持客户端凭证模式"
        )
    basic = basic_credentials(request)
    if basic is not None:
        client_id, client_secret = basic
    if not client_id or not client_secret:
        return oauth_error(400, "invalid_request", "client_id and client_secret are required / 缺少客户端凭证")
    requested: frozenset[PartnerScope] | None = None
    if scope.strip():
        try:
            requested = frozenset(PartnerScope(name) for name in scope.split())
        except ValueError:
            return oauth_error(400, "invalid_scope", f"unknown scope in: {scope} / 未知的权限范围")
    try:
        async with state.sessions() as session, session.begin():
            identity, scopes = await service.issue_token(
                session,
                client_id=client_id,
                secret=client_secret,
                requested=requested,
                now=state.now(),
                address=address,
            )
    except Unauthenticated as refused:
        return oauth_error(401, "invalid_client", refused.message)
    except InvalidArgument as refused:
        return oauth_error(400, "invalid_scope", refused.message)
    token = state.signer.sign(identity, now=state.now(), ttl=service.PARTNER_TOKEN_TTL)
    answer = TokenOut(
        access_token=token, expires_in=int(service.PARTNER_TOKEN_TTL.total_seconds()), scope=service.scope_text(scopes)
    )
    # RFC 6749 §5.1: a token answer is never cached.
    return JSONResponse(answer.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
