"""/api/v1/auth: login, refresh (rotating), logout, who am I."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from crm_gateway.auth.service import (
    RefreshTokenReused,
    TokenPair,
    authenticate,
    revoke_family_of,
    rotate_refresh_token,
    start_session,
)
from crm_gateway.directory.service import get_user
from crm_gateway.inputs import ApiModel
from crm_gateway.web import Caller, State

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=256)


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


def _out(pair: TokenPair) -> TokensOut:
    return TokensOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


def _refresh_ttl(state: State) -> dt.timedelta:
    return dt.timedelta(days=state.settings.refresh_token_days)


@router.post("/login", summary="Log in with username and password 登录")
async def login(body: LoginIn, state: State) -> TokensOut:
    async with state.sessions() as session, session.begin():
        user = await authenticate(session, username=body.username, password=body.password)
        pair = await start_session(
            session, user=user, tokens=state.tokens, refresh_ttl=_refresh_ttl(state), now=state.now()
        )
    return _out(pair)


@router.post("/refresh", summary="Trade a refresh token for new tokens 刷新令牌")
async def refresh(body: RefreshIn, state: State) -> TokensOut:
    reused: RefreshTokenReused | None = None
    async with state.sessions() as session:
        async with session.begin():
            try:
                pair = await rotate_refresh_token(
                    session,
                    raw=body.refresh_token,
                    tokens=state.tokens,
                    refresh_ttl=_refresh_ttl(state),
                    now=state.now(),
                )
            except RefreshTokenReused as error:
                # Keep the family revocation: commit, then report.
                reused = error
        if reused is not None:
            raise reused
    return _out(pair)


@router.post("/logout", status_code=204, summary="Revoke this login's refresh tokens 退出登录")
async def logout(body: RefreshIn, state: State) -> Response:
    async with state.sessions() as session, session.begin():
        await revoke_family_of(session, raw=body.refresh_token, now=state.now())
    return Response(status_code=204)


@router.get("/me", summary="The logged-in user 当前用户")
async def me(identity: Caller, state: State) -> dict[str, Any]:
    async with state.sessions() as session:
        user, unit = await get_user(session, identity=identity, user_id=identity.principal_id)
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "tenant_id": user.tenant_id,
        "org_unit": {"id": unit.id, "name": unit.name, "kind": unit.kind},
        "permissions": sorted(identity.permissions),
    }
