"""/api/v1/auth: login (with its two-factor step), refresh (rotating), logout, who am I."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.auth.service import (
    RefreshTokenReused,
    TokenPair,
    authenticate,
    revoke_family_of,
    rotate_refresh_token,
    start_session,
)
from crm_gateway.directory.models import User
from crm_gateway.directory.service import audit_own, get_user
from crm_gateway.inputs import ApiModel
from crm_gateway.login_protection.service import check_login_allowed, forget_account_failures, record_login_failure
from crm_gateway.two_factor.service import is_enrolled, must_enrol, passes_second_factor
from crm_gateway.web import AnonymousClient, Caller, GatewayState, State
from crmkit.errors import Unauthenticated

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
NOT_STORED = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def not_stored(response: Response) -> None:
    """Tokens and secrets are answers no cache may keep (browser, proxy or CDN)."""
    response.headers.update(NOT_STORED)


class LoginIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=256)


class SecondFactorIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    mfa_token: str = Field(min_length=1, max_length=2000)
    # Six digits from the authenticator app, or a recovery code ("abcde-fghij").
    code: str = Field(min_length=6, max_length=32, pattern=r"^[0-9A-Za-z -]+$")


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class SecondStepOut(BaseModel):
    """The password was right; the login needs a second step, with `mfa_token` as its ticket:
    a code (`POST /auth/mfa/verify`) when `mfa_required`, or enrolment (`/auth/mfa/enrolment`,
    the ticket as bearer token) when `mfa_enrolment_required`."""

    mfa_required: bool
    mfa_enrolment_required: bool
    mfa_token: str
    expires_in: int


class WrongSecondFactor(Unauthenticated):
    code = "mfa_code_invalid"


WRONG_CREDENTIALS = "wrong username or password / 用户名或密码错误"


def _out(pair: TokenPair) -> TokensOut:
    return TokensOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


def _refresh_ttl(state: GatewayState) -> dt.timedelta:
    return dt.timedelta(days=state.settings.refresh_token_days)


async def complete_login(
    session: AsyncSession, state: GatewayState, *, user: User, address: str, now: dt.datetime
) -> TokensOut:
    """Every factor passed: clear the account's failures, audit, and hand out the tokens."""
    await forget_account_failures(session, username=user.username)
    audit_own(session, user, "login.succeeded", client_address=address, now=now)
    pair = await start_session(session, user=user, tokens=state.tokens, refresh_ttl=_refresh_ttl(state), now=now)
    return _out(pair)


async def _second_step(session: AsyncSession, state: GatewayState, user: User) -> SecondStepOut | None:
    enrolled = await is_enrolled(session, user.id)
    if not enrolled and not await must_enrol(session, user):
        return None
    # The account's failures stay counted until the second step passes: knowing the password
    # must not reset the count of guessed codes.
    return SecondStepOut(
        mfa_required=enrolled,
        mfa_enrolment_required=not enrolled,
        mfa_token=state.mfa_tokens.issue(user.id),
        expires_in=int(state.mfa_tokens.ttl.total_seconds()),
    )


@router.post(
    "/login",
    summary="Log in with username and password 登录",
    description="Repeated failures delay and then lock the account and the client address: 429 with "
    "`Retry-After` and code `account_locked` or `login_throttled`, the same whether the username exists "
    "or not. Admins and bosses with two-factor login get `mfa_token` for the second step. "
    "连续失败将延迟并临时锁定账户及来源地址；已启用两步验证的用户需再提交验证码。",
    dependencies=[Depends(not_stored)],
)
async def login(body: LoginIn, address: AnonymousClient, state: State) -> TokensOut | SecondStepOut:
    # The check, the password and the failure count run in one turn: an attempt that waited in
    # the queue sees the failures (and the lock) of those before it.
    async with state.passwords.turn(), state.sessions() as session, session.begin():
        now = state.now()
        await check_login_allowed(session, username=body.username, address=address, now=now)
        user, passed = await authenticate(
            session, username=body.username, password=body.password, passwords=state.passwords
        )
        if passed and user is not None:
            return await _second_step(session, state, user) or await complete_login(
                session, state, user=user, address=address, now=now
            )
        await record_login_failure(
            session,
            policy=state.login_policy,
            username=body.username,
            address=address,
            user=user,
            reason="password" if user is not None else "unknown_user",
            now=now,
        )
    raise Unauthenticated(WRONG_CREDENTIALS)


@router.post(
    "/mfa/verify",
    summary="Second login step: authenticator code or recovery code 两步验证登录",
    description="A wrong code counts as a failed login (delays and lock as for passwords); each code "
    "and each recovery code works once. 验证码错误计为一次登录失败；每个验证码与恢复码仅可使用一次。",
    dependencies=[Depends(not_stored)],
)
async def verify_second_factor(body: SecondFactorIn, address: AnonymousClient, state: State) -> TokensOut:
    now = state.now()
    user_id = state.mfa_tokens.user_id_of(body.mfa_token)
    async with state.sessions() as session, session.begin():
        user = await session.get(User, user_id)
        if user is None or not user.active:
            raise Unauthenticated("invalid two-factor token / 二次验证令牌无效")
        await check_login_allowed(session, username=user.username, address=address, now=now)
        if await passes_second_factor(
            session, user=user, box=state.secret_box, code=body.code.strip(), address=address, now=now
        ):
            return await complete_login(session, state, user=user, address=address, now=now)
        await record_login_failure(
            session,
            policy=state.login_policy,
            username=user.username,
            address=address,
            user=user,
            reason="second_factor",
            now=now,
        )
    raise WrongSecondFactor("wrong or used code / 验证码错误或已使用")


@router.post("/refresh", summary="Trade a refresh token for new tokens 刷新令牌", dependencies=[Depends(not_stored)])
async def refresh(body: RefreshIn, _address: AnonymousClient, state: State) -> TokensOut:
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
async def logout(body: RefreshIn, _address: AnonymousClient, state: State) -> Response:
    async with state.sessions() as session, session.begin():
        await revoke_family_of(session, raw=body.refresh_token, now=state.now())
    return Response(status_code=204, headers=NOT_STORED)


@router.get("/me", summary="The logged-in user 当前用户")
async def me(identity: Caller, state: State) -> dict[str, Any]:
    async with state.sessions() as session:
        user, unit = await get_user(session, identity=identity, user_id=identity.principal_id)
        mfa_enabled = await is_enrolled(session, user.id)
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "tenant_id": user.tenant_id,
        "org_unit": {"id": unit.id, "name": unit.name, "kind": unit.kind},
        "permissions": sorted(identity.permissions),
        "mfa_enabled": mfa_enabled,
    }
