"""/api/v1/auth: login (with its two-factor step), refresh (rotating), logout, who am I."""

from __future__ import annotations

import datetime as dt
from typing import cast

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway import problems
from crm_gateway.auth.browser import (
    SETS_COOKIE,
    RefreshCookie,
    WebClient,
    forget_refresh_token,
    is_web,
    keep_refresh_token,
    missing_refresh_token,
    presented_refresh_token,
)
from crm_gateway.auth.service import (
    RefreshTokenReused,
    TokenPair,
    authenticate,
    revoke_family_of,
    rotate_refresh_token,
    start_session,
)
from crm_gateway.directory.models import OrgUnitKind, User
from crm_gateway.directory.service import audit_own, get_user
from crm_gateway.inputs import ApiModel
from crm_gateway.login_protection.service import check_login_allowed, forget_account_failures, record_login_failure
from crm_gateway.two_factor.service import is_enrolled, must_enrol, passes_second_factor
from crm_gateway.web import AnonymousClient, Caller, GatewayState, State
from crmkit.errors import Unauthenticated
from crmkit.identity import Role

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
    # Absent for the browser, whose refresh token is its cookie (`X-Keyuan-Client: web`).
    refresh_token: str | None = Field(None, min_length=1, max_length=256)


class SecondFactorIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    mfa_token: str = Field(min_length=1, max_length=2000)
    # Six digits from the authenticator app, or a recovery code ("abcde-fghij").
    code: str = Field(min_length=6, max_length=32, pattern=r"^[0-9A-Za-z -]+$")


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str = Field(
        description="Empty for the browser (`X-Keyuan-Client: web`): its refresh token is the cookie "
        "`keyuan_refresh`. 浏览器客户端为空，刷新令牌在 Cookie 中。"
    )
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires 访问令牌剩余有效秒数")


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


def hand_over(tokens: TokensOut, *, web: bool, request: Request, response: Response, state: GatewayState) -> TokensOut:
    """The tokens as this client receives them: a browser gets the refresh token as its cookie
    and an empty `refresh_token`, every other client both in the body."""
    if not web:
        return tokens
    keep_refresh_token(response, tokens.refresh_token, request=request, settings=state.settings)
    return tokens.model_copy(update={"refresh_token": ""})


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
    responses={200: {"headers": SETS_COOKIE}},
)
async def login(
    body: LoginIn,
    address: AnonymousClient,
    state: State,
    request: Request,
    response: Response,
    client: WebClient = None,
) -> TokensOut | SecondStepOut:
    # The check, the password and the failure count run in one turn: an attempt that waited in
    # the queue sees the failures (and the lock) of those before it.
    async with state.passwords.turn(), state.sessions() as session, session.begin():
        now = state.now()
        await check_login_allowed(session, username=body.username, address=address, now=now)
        user, passed = await authenticate(
            session, username=body.username, password=body.password, passwords=state.passwords
        )
        if passed and user is not None:
            second_step = await _second_step(session, state, user)
            if second_step is not None:
                return second_step
            tokens = await complete_login(session, state, user=user, address=address, now=now)
            return hand_over(tokens, web=is_web(client), request=request, response=response, state=state)
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
    responses={200: {"headers": SETS_COOKIE}},
)
async def verify_second_factor(
    body: SecondFactorIn,
    address: AnonymousClient,
    state: State,
    request: Request,
    response: Response,
    client: WebClient = None,
) -> TokensOut:
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
            tokens = await complete_login(session, state, user=user, address=address, now=now)
            return hand_over(tokens, web=is_web(client), request=request, response=response, state=state)
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


async def _rotate(state: GatewayState, raw: str) -> TokenPair:
    reused: RefreshTokenReused | None = None
    async with state.sessions() as session:
        async with session.begin():
            try:
                pair = await rotate_refresh_token(
                    session, raw=raw, tokens=state.tokens, refresh_ttl=_refresh_ttl(state), now=state.now()
                )
            except RefreshTokenReused as error:
                # Keep the family revocation: commit, then report.
                reused = error
        if reused is not None:
            raise reused
    return pair


@router.post(
    "/refresh",
    summary="Trade a refresh token for new tokens 刷新令牌",
    description='Other clients send `{"refresh_token": ...}` and get a new pair; the browser sends `{}` with '
    "`X-Keyuan-Client: web` and its cookie, and gets the access token and a new cookie. Each refresh token "
    "works once: presenting a used one revokes every token of that login. A cookie without the header is "
    "ignored (401). 每个刷新令牌仅可使用一次，重复使用将注销该次登录的全部令牌。",
    dependencies=[Depends(not_stored)],
    response_model=TokensOut,
    responses={200: {"headers": SETS_COOKIE}, 401: {"headers": SETS_COOKIE}},
)
async def refresh(
    _address: AnonymousClient,
    state: State,
    request: Request,
    response: Response,
    client: WebClient = None,
    cookie: RefreshCookie = None,
    body: RefreshIn | None = None,
) -> TokensOut | Response:
    web = is_web(client)
    raw = presented_refresh_token(web=web, cookie=cookie, body_token=body.refresh_token if body else None)
    if raw is None:
        raise missing_refresh_token(web=web, cookie=cookie)
    try:
        pair = await _rotate(state, raw)
    except Unauthenticated as error:
        if not web:
            raise
        # The cookie is dead (used, revoked, expired): the browser may as well drop it.
        refused = problems.domain_problem(request, error)
        refused.headers.update(NOT_STORED)
        forget_refresh_token(refused, request=request, settings=state.settings)
        return refused
    return hand_over(_out(pair), web=web, request=request, response=response, state=state)


@router.post(
    "/logout",
    status_code=204,
    summary="Revoke this login's refresh tokens 退出登录",
    description="Other clients send their refresh token; the browser sends `X-Keyuan-Client: web` with its "
    "cookie, which is cleared. 浏览器客户端的 Cookie 将被清除。",
    responses={204: {"headers": SETS_COOKIE}},
)
async def logout(
    _address: AnonymousClient,
    state: State,
    request: Request,
    client: WebClient = None,
    cookie: RefreshCookie = None,
    body: RefreshIn | None = None,
) -> Response:
    web = is_web(client)
    raw = presented_refresh_token(web=web, cookie=cookie, body_token=body.refresh_token if body else None)
    if raw is None and not web:
        # A browser without its cookie is signed out already; anyone else must name the login.
        raise missing_refresh_token(web=web, cookie=cookie)
    if raw is not None:
        async with state.sessions() as session, session.begin():
            await revoke_family_of(session, raw=raw, now=state.now())
    response = Response(status_code=204, headers=NOT_STORED)
    if web:
        forget_refresh_token(response, request=request, settings=state.settings)
    return response


class OrgUnitRef(BaseModel):
    id: str
    name: str
    kind: OrgUnitKind


class MeOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: Role
    tenant_id: str
    org_unit: OrgUnitRef
    permissions: list[str] = Field(description="e.g. pii: sees contacts' phones in full")
    mfa_enabled: bool


@router.get("/me", summary="The logged-in user 当前用户")
async def me(identity: Caller, state: State) -> MeOut:
    async with state.sessions() as session:
        user, unit = await get_user(session, identity=identity, user_id=identity.principal_id)
        mfa_enabled = await is_enrolled(session, user.id)
    return MeOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        tenant_id=user.tenant_id,
        org_unit=OrgUnitRef(id=unit.id, name=unit.name, kind=cast(OrgUnitKind, unit.kind)),
        permissions=sorted(identity.permissions),
        mfa_enabled=mfa_enabled,
    )
